//! JPEG header probe: SOFn frame facts and a model of jpeg-decoder's peak memory.

use super::{be16, truncated, Detail};
use crate::error::{Error, Result};

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

// ---------------------------------------------------------------------------------
// JPEG: walk the marker segments up to the first scan.

// Out of line: a cold start compiles only the format it meets (V8 compiles per function).
#[inline(never)]
pub(super) fn jpeg_header(bytes: &[u8]) -> Result<(u32, u32, Detail)> {
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
