//! Format detection from magic bytes and header parsing (one probe per format in
//! `sniff/`), with the resource limits
//! enforced *before* any pixel buffer exists. Every parser here is a bounds-checked
//! walk over the input slice: no decoder is involved and nothing large is allocated,
//! so a decompression bomb is refused in microseconds.

mod avif;
mod gif;
mod jpeg;
mod png;
mod webp;

pub(crate) use self::jpeg::JpegFrame;
use crate::config::Limits;
use crate::error::{Error, Result};
pub use crate::types::SourceFormat;

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
    if let Some(mut brands) = avif::ftyp_brands(bytes) {
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
    probe_checked(bytes, limits).map(|p| p.header)
}

/// [`read_header`] keeping the details for [`crate::decode::decode_probed`].
pub fn probe_checked(bytes: &[u8], limits: &Limits) -> Result<Probe> {
    let probe = probe(bytes, limits)?;
    check_decode_bytes(probe.min_decode_bytes(), limits)?;
    Ok(probe)
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

/// What the header says: format, stored size and the details decode sizes its
/// buffers by. Read once per job and handed to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub header: Header,
    pub(crate) detail: Detail,
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
            } => png::decode_bytes(w, h, *bit_depth, *color_type),
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
    limits.check_input_bytes(bytes.len())?;
    let format = sniff(bytes)?;
    let (width, height, detail) = match format {
        SourceFormat::Jpeg => jpeg::jpeg_header(bytes)?,
        SourceFormat::Png => png::png_header(bytes)?,
        SourceFormat::Gif => gif::gif_header(bytes)?,
        SourceFormat::Webp => webp::webp_header(bytes)?,
        SourceFormat::Avif => avif::avif_header(bytes)?,
    };
    if width == 0 || height == 0 {
        return Err(Error::corrupt_image(format!(
            "{} header declares an empty image ({width}x{height})",
            format.name()
        )));
    }
    limits.check_dimensions(width, height)?;
    Ok(Probe {
        header: Header {
            format,
            width,
            height,
        },
        detail,
    })
}

/// [`Limits::reserve`] under the name the decoders use.
pub(crate) fn check_decode_bytes(estimate: u64, limits: &Limits) -> Result<()> {
    limits.reserve(estimate)
}

// ---------------------------------------------------------------------------------
// Byte helpers.

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
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
