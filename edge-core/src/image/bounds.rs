//! Header facts that bound the work *before* a decoder runs, beyond what `sniff`
//! reads for the size: a JPEG's EXIF orientation (APP1 comes before the frame), the
//! least entropy-coded data a JPEG frame needs, and WebP metadata chunks bounded by
//! the bytes actually present. Each is a bounds-checked walk over the input slice
//! that allocates nothing.

use crate::config::Limits;
use crate::error::{Error, Result};
use crate::orient;
use crate::sniff::JpegFrame;

/// Marker segments of a JPEG up to the first scan, as (marker, payload).
fn jpeg_segments(bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut pos = 2usize; // after SOI
    std::iter::from_fn(move || loop {
        while pos < bytes.len() && bytes[pos] != 0xFF {
            pos += 1;
        }
        while pos < bytes.len() && bytes[pos] == 0xFF {
            pos += 1;
        }
        let marker = *bytes.get(pos)?;
        pos += 1;
        match marker {
            0x00 | 0x01 | 0xD0..=0xD8 => continue,
            0xD9 => return None,
            _ => {}
        }
        let len = u16::from_be_bytes(bytes.get(pos..pos + 2)?.try_into().ok()?) as usize;
        let segment = bytes.get(pos + 2..pos + len.max(2))?;
        // After the scan header comes entropy-coded data, not segments.
        pos = if marker == 0xDA {
            bytes.len()
        } else {
            pos + len.max(2)
        };
        return Some((marker, segment));
    })
}

/// EXIF orientation (1..=8) from the first `Exif` APP1 segment before the first scan;
/// None when there is none. (A decoder may still find an APP1 placed between scans;
/// the pipeline checks the decoded orientation again.)
pub(crate) fn jpeg_orientation(bytes: &[u8]) -> Option<u8> {
    jpeg_segments(bytes)
        .take_while(|&(marker, _)| marker != 0xDA)
        .find(|&(marker, seg)| marker == 0xE1 && seg.starts_with(b"Exif\0\0"))
        .map(|(_, seg)| orient::from_exif(seg))
}

/// Offset where the entropy-coded data of the first scan starts.
fn jpeg_scan_start(bytes: &[u8]) -> Option<usize> {
    let mut end = None;
    for (marker, seg) in jpeg_segments(bytes) {
        if marker == 0xDA {
            let offset = seg.as_ptr() as usize - bytes.as_ptr() as usize;
            end = Some(offset + seg.len());
            break;
        }
    }
    end
}

/// The fewest bytes of entropy-coded data a complete JPEG frame of `width`×`height`
/// can have: every 8×8 block of every component is coded in the first (DC) scan with
/// at least one bit (a Huffman code is never shorter), whatever the later scans do.
pub(crate) fn jpeg_min_scan_bytes(frame: &JpegFrame, width: u32, height: u32) -> u64 {
    let h_max = frame.sampling.iter().map(|s| s.0).max().unwrap_or(1).max(1) as u64;
    let v_max = frame.sampling.iter().map(|s| s.1).max().unwrap_or(1).max(1) as u64;
    let blocks: u64 = frame
        .sampling
        .iter()
        .map(|&(h, v)| {
            let w = (width as u64 * h as u64).div_ceil(h_max);
            let hgt = (height as u64 * v as u64).div_ceil(v_max);
            w.div_ceil(8) * hgt.div_ceil(8)
        })
        .sum();
    blocks / 8
}

/// Refuse a JPEG whose frame declares far more blocks than its data could code: the
/// decoder would fill the missing blocks itself and spend seconds on an empty frame
/// (an 80 KB file declaring 6103×16383). Lossless frames have no blocks.
pub(crate) fn check_jpeg_data(
    bytes: &[u8],
    frame: &JpegFrame,
    width: u32,
    height: u32,
) -> Result<()> {
    if frame.lossless {
        return Ok(());
    }
    let Some(scan) = jpeg_scan_start(bytes) else {
        return Ok(()); // the decoder reports the missing scan itself
    };
    let present = (bytes.len() - scan.min(bytes.len())) as u64;
    let needed = jpeg_min_scan_bytes(frame, width, height);
    if present < needed {
        return Err(Error::corrupt_image(format!(
            "JPEG data is truncated: a {width}x{height} frame needs at least {needed} bytes of \
             image data, the file has {present}"
        )));
    }
    Ok(())
}

/// Metadata of a WebP file, each chunk bounded by the bytes present.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct WebpMetadata<'a> {
    pub exif: Option<&'a [u8]>,
    pub icc: Option<&'a [u8]>,
}

/// The `EXIF` and `ICCP` chunks of a WebP file. A chunk whose size field runs past the
/// end of the file, or over `limits.max_decode_bytes`, is ignored (broken metadata must
/// not cost the image, nor allocate what its size field claims).
pub(crate) fn webp_metadata<'a>(bytes: &'a [u8], limits: &Limits) -> WebpMetadata<'a> {
    let mut meta = WebpMetadata::default();
    let mut pos = 12usize; // after "RIFF" size "WEBP"
    while let Some(header) = bytes.get(pos..pos + 8) {
        let fourcc = &header[0..4];
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as u64;
        let start = pos + 8;
        let present = (bytes.len() - start) as u64;
        if size > present {
            break; // truncated chunk: nothing after it can be trusted either
        }
        let chunk = &bytes[start..start + size as usize];
        if size <= limits.max_decode_bytes {
            match fourcc {
                b"EXIF" if meta.exif.is_none() => meta.exif = Some(chunk),
                b"ICCP" if meta.icc.is_none() => meta.icc = Some(chunk),
                _ => {}
            }
        }
        // Chunks are padded to an even size.
        pos = start + size as usize + (size as usize & 1);
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(sampling: Vec<(u8, u8)>) -> JpegFrame {
        JpegFrame {
            progressive: false,
            lossless: false,
            precision: 8,
            sampling,
            adobe_transform: None,
        }
    }

    #[test]
    fn jpeg_scan_bytes_lower_bound() {
        // 4:2:0: luma 8x8 blocks plus two quarter-size chroma planes.
        let f = frame(vec![(2, 2), (1, 1), (1, 1)]);
        assert_eq!(jpeg_min_scan_bytes(&f, 16, 16), (4 + 1 + 1) / 8);
        let big = jpeg_min_scan_bytes(&f, 6103, 16383);
        assert!(big > 250_000, "{big}");
    }

    #[test]
    fn orientation_comes_from_the_first_exif_segment() {
        let exif = b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE1];
        j.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
        j.extend_from_slice(exif);
        j.extend_from_slice(&[0xFF, 0xDA, 0, 2]);
        assert_eq!(jpeg_orientation(&j), Some(6));
        assert_eq!(jpeg_orientation(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2]), None);
        for n in 0..j.len() {
            let _ = jpeg_orientation(&j[..n]);
        }
    }

    #[test]
    fn webp_chunks_are_bounded_by_the_bytes_present() {
        let mut w = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0".to_vec();
        w.extend_from_slice(&[0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        w.extend_from_slice(b"EXIF\x04\0\0\0abcd");
        w.extend_from_slice(b"ICCP\xff\xff\xff\x7fxyz");
        let meta = webp_metadata(&w, &Limits::default());
        assert_eq!(meta.exif, Some(&b"abcd"[..]));
        assert_eq!(meta.icc, None);
        let tight = Limits {
            max_decode_bytes: 2,
            ..Limits::default()
        };
        assert_eq!(webp_metadata(&w, &tight).exif, None);
    }
}
