//! Format detection from magic bytes and header parsing, with the resource limits
//! enforced *before* any pixel buffer exists. Every parser here is a bounds-checked
//! walk over the input slice: no decoder is involved and nothing large is allocated,
//! so a decompression bomb is refused in microseconds.

use crate::config::{Format, Limits};
use crate::error::{Error, Result};

/// A raster format recognised from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    Jpeg,
    Png,
    Gif,
    Webp,
    /// AVIF and the other HEIF brands (ISO-BMFF `ftyp` with an image brand).
    Avif,
}

impl SourceFormat {
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "jpeg",
            SourceFormat::Png => "png",
            SourceFormat::Gif => "gif",
            SourceFormat::Webp => "webp",
            SourceFormat::Avif => "avif",
        }
    }

    /// The output format with the same name, when the encoder can produce it
    /// (GIF cannot be written).
    pub fn as_output(self) -> Option<Format> {
        match self {
            SourceFormat::Jpeg => Some(Format::Jpeg),
            SourceFormat::Png => Some(Format::Png),
            SourceFormat::Webp => Some(Format::Webp),
            SourceFormat::Avif => Some(Format::Avif),
            SourceFormat::Gif => None,
        }
    }
}

/// Stored (not oriented) size of the image as declared by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub format: SourceFormat,
    pub width: u32,
    pub height: u32,
}

/// Detect the format from magic bytes only; the file name is never consulted.
pub fn sniff(bytes: &[u8]) -> Result<SourceFormat> {
    if bytes.is_empty() {
        return Err(Error::corrupt_image("input is empty"));
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(SourceFormat::Jpeg);
    }
    if bytes.starts_with(PNG_SIGNATURE) {
        return Ok(SourceFormat::Png);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Ok(SourceFormat::Gif);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" {
        if &bytes[8..12] == b"WEBP" {
            return Ok(SourceFormat::Webp);
        }
        return Err(Error::unsupported_format(
            "not an image: RIFF container that is not WebP",
        ));
    }
    if let Some(mut brands) = ftyp_brands(bytes) {
        if brands.any(|b| HEIF_BRANDS.contains(&b)) {
            return Ok(SourceFormat::Avif);
        }
        return Err(Error::unsupported_format(
            "ISO media file without an AVIF/HEIF image brand (video?) is not supported",
        ));
    }
    if looks_like_damaged_png(bytes) {
        return Err(Error::corrupt_image("PNG signature is damaged"));
    }
    Err(Error::unsupported_format(describe_unknown(bytes)))
}

/// Sniff and parse the header, then enforce `limits` (input bytes, declared pixels,
/// estimated decode memory at the smallest size the decoder could produce).
pub fn read_header(bytes: &[u8], limits: &Limits) -> Result<Header> {
    let probe = probe(bytes, limits)?;
    check_decode_bytes(probe.min_decode_bytes(), limits)?;
    Ok(probe.header)
}

// ---------------------------------------------------------------------------------
// Crate-internal probe: the header plus the format details decode needs.

pub(crate) const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// `ftyp` brands that announce a still image or image sequence in HEIF/AVIF.
const HEIF_BRANDS: &[[u8; 4]] = &[
    *b"avif", *b"avis", *b"avio", *b"mif1", *b"mif2", *b"msf1", *b"miaf", *b"heic", *b"heix",
    *b"heim", *b"heis", *b"hevc", *b"hevx", *b"heif",
];

/// Header facts beyond the size that decode uses to size its buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Detail {
    Jpeg(JpegFrame),
    Png { bit_depth: u8, color_type: u8 },
    Gif,
    Webp { lossy: bool, alpha: bool },
    Avif { heic: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    pub header: Header,
    pub detail: Detail,
}

/// Frame header (SOFn) facts of a JPEG, plus the Adobe APP14 marker if one came
/// before the first scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JpegFrame {
    pub progressive: bool,
    pub lossless: bool,
    pub precision: u8,
    /// (horizontal, vertical) sampling factors per component.
    pub sampling: Vec<(u8, u8)>,
    /// `Some(transform)` when an Adobe APP14 segment is present (0 = none/CMYK,
    /// 1 = YCbCr, 2 = YCCK).
    pub adobe_transform: Option<u8>,
}

impl JpegFrame {
    /// Peak bytes jpeg-decoder holds when decoding at `scale`/8 (1, 2, 4 or 8): the
    /// output, one plane per component and, for progressive files, the full-size
    /// coefficient store (which DCT scaling does not shrink).
    pub fn decode_bytes(&self, width: u32, height: u32, scale: u32) -> u64 {
        let h_max = self.sampling.iter().map(|s| s.0).max().unwrap_or(1).max(1) as u64;
        let v_max = self.sampling.iter().map(|s| s.1).max().unwrap_or(1).max(1) as u64;
        let mcus_x = (width as u64).div_ceil(8 * h_max);
        let mcus_y = (height as u64).div_ceil(8 * v_max);
        let mut planes = 0u64;
        let mut coefficients = 0u64;
        for &(h, v) in &self.sampling {
            let blocks = mcus_x * h as u64 * mcus_y * v as u64;
            planes += blocks * (scale as u64 * scale as u64);
            coefficients += blocks * 64 * 2;
        }
        let out_w = (width as u64 * scale as u64).div_ceil(8);
        let out_h = (height as u64 * scale as u64).div_ceil(8);
        let sample_bytes = if self.precision > 8 { 2 } else { 1 };
        let output = out_w * out_h * self.sampling.len() as u64 * sample_bytes;
        let lossless_extra = if self.lossless {
            // Lossless frames keep u16 planes plus a u16 interleave buffer.
            width as u64 * height as u64 * self.sampling.len() as u64 * 4
        } else {
            0
        };
        output + planes + if self.progressive { coefficients } else { 0 } + lossless_extra
    }
}

impl Probe {
    /// Estimated peak decode bytes at full size.
    pub fn full_decode_bytes(&self) -> u64 {
        self.decode_bytes_at(8)
    }

    /// Estimated peak decode bytes at the smallest size decode could choose.
    pub fn min_decode_bytes(&self) -> u64 {
        match &self.detail {
            Detail::Jpeg(f) if !f.lossless => self.decode_bytes_at(1),
            _ => self.full_decode_bytes(),
        }
    }

    /// Estimated peak decode bytes; `scale`/8 only matters for JPEG.
    pub fn decode_bytes_at(&self, scale: u32) -> u64 {
        let (w, h) = (self.header.width, self.header.height);
        let pixels = w as u64 * h as u64;
        match &self.detail {
            Detail::Jpeg(f) => f.decode_bytes(w, h, scale),
            Detail::Png {
                bit_depth,
                color_type,
            } => crate::bounds::png_decode_bytes(w, h, *bit_depth, *color_type),
            // RGBA canvas plus a possible RGBA frame buffer of the same size.
            Detail::Gif => pixels * 8,
            // Output plus YUV planes (lossy) or an ARGB scratch image (lossless).
            Detail::Webp { lossy, alpha } => {
                let out = if *alpha { 4 } else { 3 };
                pixels * out + if *lossy { pixels * 2 } else { pixels * 4 }
            }
            Detail::Avif { .. } => pixels * 4,
        }
    }
}

/// Sniff, parse the header and check the byte and pixel limits (not memory).
pub(crate) fn probe(bytes: &[u8], limits: &Limits) -> Result<Probe> {
    if bytes.len() as u64 > limits.max_input_bytes {
        return Err(Error::limit_exceeded(format!(
            "input is {} bytes, over the limit of {} bytes",
            bytes.len(),
            limits.max_input_bytes
        )));
    }
    let format = sniff(bytes)?;
    let (width, height, detail) = match format {
        SourceFormat::Jpeg => jpeg_header(bytes)?,
        SourceFormat::Png => png_header(bytes)?,
        SourceFormat::Gif => gif_header(bytes)?,
        SourceFormat::Webp => webp_header(bytes)?,
        SourceFormat::Avif => avif_header(bytes)?,
    };
    if width == 0 || height == 0 {
        return Err(Error::corrupt_image(format!(
            "{} header declares an empty image ({width}x{height})",
            format.name()
        )));
    }
    let pixels = width as u64 * height as u64;
    if pixels > limits.max_input_pixels {
        return Err(Error::limit_exceeded(format!(
            "image is {width}x{height} = {pixels} pixels, over the limit of {} pixels",
            limits.max_input_pixels
        )));
    }
    Ok(Probe {
        header: Header {
            format,
            width,
            height,
        },
        detail,
    })
}

pub(crate) fn check_decode_bytes(estimate: u64, limits: &Limits) -> Result<()> {
    if estimate > limits.max_decode_bytes {
        return Err(Error::limit_exceeded(format!(
            "decoding needs about {estimate} bytes, over the limit of {} bytes",
            limits.max_decode_bytes
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Byte helpers.

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}
fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(s[0] as u32 | (s[1] as u32) << 8 | (s[2] as u32) << 16)
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn truncated(format: &str) -> Error {
    Error::corrupt_image(format!("{format} header is truncated"))
}

// ---------------------------------------------------------------------------------
// Unknown input: say what it looks like.

/// A PNG whose 8-byte signature was mangled (bit flips, CR/LF translation) but which
/// still has its IHDR chunk where it belongs: a damaged PNG rather than "not an image".
fn looks_like_damaged_png(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(24)];
    let has_png_name = head.len() >= 4 && head[1..4].eq_ignore_ascii_case(b"PNG");
    let has_ihdr = head.windows(4).any(|w| w == b"IHDR");
    has_png_name && has_ihdr
}

fn describe_unknown(bytes: &[u8]) -> String {
    let starts = |m: &[u8]| bytes.starts_with(m);
    let named = if starts(b"BM") && bytes.len() >= 14 {
        Some("BMP")
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some("TIFF")
    } else if starts(b"8BPS") {
        Some("PSD")
    } else if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0CJXL ") {
        Some("JPEG XL")
    } else if starts(b"\0\0\0\x0CjP  ") || starts(&[0xFF, 0x4F, 0xFF, 0x51]) {
        Some("JPEG 2000")
    } else if starts(&[0, 0, 1, 0]) || starts(&[0, 0, 2, 0]) {
        Some("ICO/CUR")
    } else if starts(b"qoif") {
        Some("QOI")
    } else if starts(b"%PDF") {
        Some("PDF")
    } else {
        None
    };
    if let Some(name) = named {
        return format!("{name} input is not supported");
    }
    if starts(&[0x1F, 0x8B]) {
        return "not an image: gzip data (compressed SVG is not supported)".into();
    }
    if let Some(kind) = text_kind(bytes) {
        return kind.into();
    }
    "not an image: unrecognised format".into()
}

/// Recognise text input (SVG, HTML/XML, plain text); None for binary data.
fn text_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Some("not an image: UTF-16 text");
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let sample = &body[..body.len().min(1024)];
    // Text: no control bytes other than whitespace. UTF-8 multibyte sequences are
    // >= 0x80 and pass.
    let is_text = sample
        .iter()
        .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C));
    if !is_text {
        return None;
    }
    let trimmed = sample.trim_ascii_start();
    if trimmed.starts_with(b"<") {
        let lower = trimmed.to_ascii_lowercase();
        if lower.windows(4).any(|w| w == b"<svg") {
            return Some(
                "SVG is not supported: vector images are not resized (not a raster image)",
            );
        }
        return Some("not an image: XML/HTML text");
    }
    Some("not an image: text")
}

// ---------------------------------------------------------------------------------
// JPEG: walk the marker segments up to the first scan.

fn jpeg_header(bytes: &[u8]) -> Result<(u32, u32, Detail)> {
    let mut pos = 2; // after SOI
    let mut frame: Option<(u32, u32, JpegFrame)> = None;
    let mut adobe: Option<u8> = None;
    loop {
        // Markers are 0xFF + code; tolerate garbage and fill bytes between segments
        // like libjpeg does.
        while pos < bytes.len() && bytes[pos] != 0xFF {
            pos += 1;
        }
        while pos < bytes.len() && bytes[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else { break };
        pos += 1;
        match marker {
            // Standalone markers without a length.
            0x00 | 0x01 | 0xD0..=0xD8 => continue,
            0xD9 => break, // EOI
            _ => {}
        }
        let len = be16(bytes, pos).ok_or_else(|| truncated("JPEG"))? as usize;
        if len < 2 {
            return Err(Error::corrupt_image("JPEG segment has an invalid length"));
        }
        let seg = bytes
            .get(pos + 2..pos + len)
            .ok_or_else(|| truncated("JPEG"))?;
        match marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                if frame.is_some() {
                    return Err(Error::unsupported_format(
                        "hierarchical JPEG (several frames) is not supported",
                    ));
                }
                frame = Some(parse_sof(marker, seg)?);
            }
            0xEE if seg.starts_with(b"Adobe") && seg.len() >= 12 => adobe = Some(seg[11]),
            0xDA => {
                if frame.is_none() {
                    return Err(Error::corrupt_image("JPEG scan before frame header"));
                }
                break;
            }
            _ => {}
        }
        pos += len;
    }
    let (w, h, mut f) = frame.ok_or_else(|| Error::corrupt_image("JPEG has no frame header"))?;
    f.adobe_transform = adobe;
    Ok((w, h, Detail::Jpeg(f)))
}

fn parse_sof(marker: u8, seg: &[u8]) -> Result<(u32, u32, JpegFrame)> {
    let bad = || Error::corrupt_image("JPEG frame header is invalid");
    match marker {
        0xC5..=0xC7 | 0xCD..=0xCF => {
            return Err(Error::unsupported_format(
                "hierarchical JPEG is not supported",
            ))
        }
        0xC9..=0xCB => {
            return Err(Error::unsupported_format(
                "arithmetic-coded JPEG is not supported",
            ))
        }
        _ => {}
    }
    let precision = *seg.first().ok_or_else(bad)?;
    let height = be16(seg, 1).ok_or_else(bad)? as u32;
    let width = be16(seg, 3).ok_or_else(bad)? as u32;
    let count = *seg.get(5).ok_or_else(bad)? as usize;
    let lossless = marker == 0xC3;
    if !(count == 1 || count == 3 || count == 4) {
        return Err(Error::unsupported_format(format!(
            "JPEG with {count} components is not supported"
        )));
    }
    if (!lossless && precision != 8) || !(2..=16).contains(&precision) {
        return Err(Error::unsupported_format(format!(
            "{precision}-bit JPEG is not supported"
        )));
    }
    if height == 0 {
        return Err(Error::unsupported_format(
            "JPEG without a height (DNL) is not supported",
        ));
    }
    let mut sampling = Vec::with_capacity(count);
    for i in 0..count {
        let hv = *seg.get(6 + 3 * i + 1).ok_or_else(bad)?;
        let (h, v) = (hv >> 4, hv & 0x0F);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
            return Err(bad());
        }
        sampling.push((h, v));
    }
    let frame = JpegFrame {
        progressive: marker == 0xC2,
        lossless,
        precision,
        sampling,
        adobe_transform: None,
    };
    Ok((width, height, frame))
}

// ---------------------------------------------------------------------------------
// PNG: the IHDR chunk, which must come first.

fn png_header(bytes: &[u8]) -> Result<(u32, u32, Detail)> {
    let len = be32(bytes, 8).ok_or_else(|| truncated("PNG"))?;
    if bytes.get(12..16) != Some(b"IHDR") || len != 13 {
        return Err(Error::corrupt_image(
            "PNG does not start with a valid IHDR chunk",
        ));
    }
    let ihdr = bytes.get(16..29).ok_or_else(|| truncated("PNG"))?;
    let width = be32(ihdr, 0).unwrap_or(0);
    let height = be32(ihdr, 4).unwrap_or(0);
    let (bit_depth, color_type) = (ihdr[8], ihdr[9]);
    let depth_ok = match color_type {
        0 => matches!(bit_depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(bit_depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(bit_depth, 8 | 16),
        _ => false,
    };
    if !depth_ok {
        return Err(Error::corrupt_image(format!(
            "PNG declares an invalid colour type {color_type} / bit depth {bit_depth}"
        )));
    }
    if width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err(Error::corrupt_image("PNG dimensions are out of range"));
    }
    Ok((
        width,
        height,
        Detail::Png {
            bit_depth,
            color_type,
        },
    ))
}

// ---------------------------------------------------------------------------------
// GIF: logical screen descriptor.

fn gif_header(bytes: &[u8]) -> Result<(u32, u32, Detail)> {
    let w = le16(bytes, 6).ok_or_else(|| truncated("GIF"))?;
    let h = le16(bytes, 8).ok_or_else(|| truncated("GIF"))?;
    Ok((w as u32, h as u32, Detail::Gif))
}

// ---------------------------------------------------------------------------------
// WebP: the first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended).

fn webp_header(bytes: &[u8]) -> Result<(u32, u32, Detail)> {
    let fourcc = bytes.get(12..16).ok_or_else(|| truncated("WebP"))?;
    let data = bytes.get(20..).ok_or_else(|| truncated("WebP"))?;
    match fourcc {
        b"VP8 " => {
            // 3-byte frame tag, start code 9D 01 2A, then 14-bit sizes + 2-bit scale.
            if data.get(3..6) != Some(&[0x9D, 0x01, 0x2A]) {
                return Err(Error::corrupt_image("WebP VP8 frame has no start code"));
            }
            let w = le16(data, 6).ok_or_else(|| truncated("WebP"))? & 0x3FFF;
            let h = le16(data, 8).ok_or_else(|| truncated("WebP"))? & 0x3FFF;
            Ok((
                w as u32,
                h as u32,
                Detail::Webp {
                    lossy: true,
                    alpha: false,
                },
            ))
        }
        b"VP8L" => {
            if data.first() != Some(&0x2F) {
                return Err(Error::corrupt_image("WebP VP8L stream has no signature"));
            }
            let bits = le32(data, 1).ok_or_else(|| truncated("WebP"))?;
            let w = (bits & 0x3FFF) + 1;
            let h = ((bits >> 14) & 0x3FFF) + 1;
            let alpha = (bits >> 28) & 1 == 1;
            Ok((
                w,
                h,
                Detail::Webp {
                    lossy: false,
                    alpha,
                },
            ))
        }
        b"VP8X" => {
            let flags = *data.first().ok_or_else(|| truncated("WebP"))?;
            let w = le24(data, 4).ok_or_else(|| truncated("WebP"))? + 1;
            let h = le24(data, 7).ok_or_else(|| truncated("WebP"))? + 1;
            let alpha = flags & 0x10 != 0;
            // The extended header does not say lossy/lossless: assume the larger cost.
            Ok((
                w,
                h,
                Detail::Webp {
                    lossy: false,
                    alpha,
                },
            ))
        }
        _ => Err(Error::corrupt_image("WebP has no VP8/VP8L/VP8X chunk")),
    }
}

// ---------------------------------------------------------------------------------
// AVIF/HEIF: ISO-BMFF boxes; the size comes from the primary item's `ispe` property.

/// Iterate the boxes in `data` as (type, payload).
fn boxes(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let size = be32(data, pos)? as u64;
        let kind: [u8; 4] = data.get(pos + 4..pos + 8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8u64, (data.len() - pos) as u64),
            1 => (16, be64(data, pos + 8)?),
            n => (8, n),
        };
        if size < header {
            return None;
        }
        let end = pos.checked_add(usize::try_from(size).ok()?)?;
        let payload = data.get(pos + header as usize..end)?;
        pos = end;
        Some((kind, payload))
    })
}

fn find_box<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).find(|(k, _)| k == kind).map(|(_, p)| p)
}

/// The brands of a leading `ftyp` box (major and compatible), if there is one.
fn ftyp_brands(bytes: &[u8]) -> Option<impl Iterator<Item = [u8; 4]> + '_> {
    if bytes.get(4..8) != Some(b"ftyp") {
        return None;
    }
    let size = (be32(bytes, 0)? as usize).clamp(8, bytes.len());
    let payload = bytes.get(8..size)?;
    let major = payload.get(0..4).map(|b| [b[0], b[1], b[2], b[3]]);
    let compatible = payload
        .get(8..)
        .unwrap_or(&[])
        .chunks_exact(4)
        .map(|b| [b[0], b[1], b[2], b[3]]);
    Some(major.into_iter().chain(compatible))
}

fn avif_header(bytes: &[u8]) -> Result<(u32, u32, Detail)> {
    let brands: Vec<[u8; 4]> = ftyp_brands(bytes).map(|b| b.collect()).unwrap_or_default();
    let heic = brands.iter().any(|b| b.starts_with(b"he"))
        && !brands.iter().any(|b| b == b"avif" || b == b"avis");
    let (w, h) = avif_ispe(bytes).ok_or_else(|| {
        Error::unsupported_format(if heic {
            "HEIF input is not supported"
        } else {
            "AVIF input is not supported"
        })
    })?;
    Ok((w, h, Detail::Avif { heic }))
}

/// Size of the primary item from its `ispe` property; the largest `ispe` when the
/// item/property association cannot be followed.
fn avif_ispe(bytes: &[u8]) -> Option<(u32, u32)> {
    let meta = find_box(bytes, b"meta")?.get(4..)?; // full box
    let iprp = find_box(meta, b"iprp")?;
    let ipco = find_box(iprp, b"ipco")?;
    let props: Vec<([u8; 4], &[u8])> = boxes(ipco).collect();
    let ispe = |p: &[u8]| Some((be32(p, 4)?, be32(p, 8)?));

    let primary = find_box(meta, b"pitm").and_then(|p| match p.first()? {
        0 => be16(p, 4).map(u32::from),
        _ => be32(p, 4),
    });
    if let (Some(primary), Some(ipma)) = (primary, find_box(iprp, b"ipma")) {
        let version = *ipma.first()?;
        let wide_index = ipma.get(3)? & 1 == 1;
        let count = be32(ipma, 4)?;
        let mut pos = 8usize;
        for _ in 0..count.min(65_536) {
            let item = if version < 1 {
                pos += 2;
                be16(ipma, pos - 2)? as u32
            } else {
                pos += 4;
                be32(ipma, pos - 4)?
            };
            let n = *ipma.get(pos)? as usize;
            pos += 1;
            for _ in 0..n {
                let index = if wide_index {
                    pos += 2;
                    (be16(ipma, pos - 2)? & 0x7FFF) as usize
                } else {
                    pos += 1;
                    (ipma.get(pos - 1)? & 0x7F) as usize
                };
                if item == primary && index >= 1 {
                    if let Some((b"ispe", p)) = props.get(index - 1).map(|(k, p)| (k, *p)) {
                        return ispe(p);
                    }
                }
            }
        }
    }
    props
        .iter()
        .filter(|(k, _)| k == b"ispe")
        .filter_map(|(_, p)| ispe(p))
        .max_by_key(|&(w, h)| w as u64 * h as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<impl std::fmt::Debug>) -> &'static str {
        r.unwrap_err().code()
    }

    #[test]
    fn magic_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest").unwrap(), SourceFormat::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest").unwrap(), SourceFormat::Png);
        assert_eq!(sniff(b"GIF89a....").unwrap(), SourceFormat::Gif);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), SourceFormat::Webp);
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic").unwrap(),
            SourceFormat::Avif
        );
        assert_eq!(
            sniff(b"\0\0\0\x14ftypisom\0\0\0\0mp41")
                .unwrap_err()
                .status(),
            415
        );
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt ").unwrap_err().status(), 415);
    }

    #[test]
    fn unknown_inputs_are_named() {
        assert_eq!(
            sniff(b"").unwrap_err(),
            Error::corrupt_image("input is empty")
        );
        let msg = |b: &[u8]| sniff(b).unwrap_err().message();
        assert!(msg(b"BM\0\0\0\0\0\0\0\0\0\0\0\0\0\0").contains("BMP"));
        assert!(msg(b"II*\0\x08\0\0\0").contains("TIFF"));
        assert!(msg(b"\xEF\xBB\xBF  <?xml version='1.0'?>\n<svg xmlns=''/>").contains("SVG"));
        assert!(msg(b"<!DOCTYPE html><html></html>").contains("not an image"));
        assert!(msg(b"hello world").contains("not an image"));
        assert!(msg(&[0u8, 1, 2, 3, 200, 201]).contains("not an image"));
        assert_eq!(code(sniff(b"<svg/>")), "unsupported_format");
    }

    #[test]
    fn damaged_png_signature_is_corrupt() {
        let mut png = b"\x09PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        assert_eq!(code(sniff(&png)), "corrupt_image");
        png[0] = 0x89;
        png[3] = b'g';
        assert_eq!(code(sniff(&png)), "corrupt_image");
    }

    fn png_with(width: u32, height: u32, depth: u8, colour: u8) -> Vec<u8> {
        let mut v = PNG_SIGNATURE.to_vec();
        v.extend_from_slice(&13u32.to_be_bytes());
        v.extend_from_slice(b"IHDR");
        v.extend_from_slice(&width.to_be_bytes());
        v.extend_from_slice(&height.to_be_bytes());
        v.extend_from_slice(&[depth, colour, 0, 0, 0, 0, 0, 0, 0]);
        v
    }

    #[test]
    fn limits_are_checked_from_the_header() {
        let limits = Limits::default();
        let h = read_header(&png_with(640, 480, 8, 6), &limits).unwrap();
        assert_eq!((h.format, h.width, h.height), (SourceFormat::Png, 640, 480));
        assert_eq!(
            code(read_header(&png_with(100_000, 100_000, 8, 6), &limits)),
            "limit_exceeded"
        );
        assert_eq!(
            code(read_header(&png_with(0, 10, 8, 6), &limits)),
            "corrupt_image"
        );
        assert_eq!(
            code(read_header(&png_with(10, 10, 3, 2), &limits)),
            "corrupt_image"
        );
        let tight = Limits {
            max_decode_bytes: 1000,
            ..Limits::default()
        };
        assert_eq!(
            code(read_header(&png_with(640, 480, 8, 6), &tight)),
            "limit_exceeded"
        );
        let small_input = Limits {
            max_input_bytes: 10,
            ..Limits::default()
        };
        assert_eq!(
            code(read_header(&png_with(1, 1, 8, 6), &small_input)),
            "limit_exceeded"
        );
    }

    #[test]
    fn jpeg_header_walks_segments() {
        // SOI, APP0 (len 4), SOF0 8x6 3 components 4:2:0, SOS.
        let mut j = vec![
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 17, 8, 0, 6, 0, 8, 3,
        ];
        j.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        j.extend_from_slice(&[0xFF, 0xDA, 0, 2]);
        let h = read_header(&j, &Limits::default()).unwrap();
        assert_eq!((h.width, h.height), (8, 6));
        // Segment length running past the end of the file.
        let cut = [0xFF, 0xD8, 0xFF, 0xE1, 0x25, 0x48, b'E', b'x'];
        assert_eq!(code(read_header(&cut, &Limits::default())), "corrupt_image");
        assert_eq!(
            code(read_header(&[0xFF, 0xD8, 0xFF, 0xD9], &Limits::default())),
            "corrupt_image"
        );
    }

    #[test]
    fn malformed_boxes_do_not_panic() {
        let mut b = b"\0\0\0\x14ftypavif\0\0\0\0avif".to_vec();
        assert_eq!(
            code(read_header(&b, &Limits::default())),
            "unsupported_format"
        );
        b.extend_from_slice(&[0, 0, 0, 1, b'm', b'e', b't', b'a', 0xFF, 0xFF]);
        assert_eq!(
            code(read_header(&b, &Limits::default())),
            "unsupported_format"
        );
        for n in 0..b.len() {
            let _ = read_header(&b[..n], &Limits::default());
        }
    }
}
