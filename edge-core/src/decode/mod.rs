//! Decode a sniffed input into a `Raster` plus the metadata later steps need
//! (orientation, ICC profile). Limits are enforced from the header before any pixel
//! buffer is allocated (see `sniff`), and every codec call runs behind
//! `catch_unwind` so a decoder bug on hostile input becomes a 422, not a crash.

pub mod animation;
pub mod avif;
mod image_rs;
mod jpeg;
mod png;
pub mod svg;

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::config::Limits;
use crate::error::{Error, Result};
use crate::raster::Raster;
use crate::sniff::{self, Detail, SourceFormat};

/// A decoded image, still in its stored orientation and colour space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub raster: Raster,
    pub format: SourceFormat,
    /// EXIF orientation 1..=8 (1 when absent or invalid).
    pub orientation: u8,
    /// Embedded ICC profile, if any.
    pub icc: Option<Vec<u8>>,
    /// Stored size before shrink-on-load (`raster` may be smaller for JPEG).
    pub source_width: u32,
    pub source_height: u32,
}

/// Decode `bytes`. `min_size`: the decoder may shrink on load (JPEG DCT scaling 1/2,
/// 1/4, 1/8) as long as the decoded stored width/height stay >= these (None = full
/// size). The caller accounts for orientation.
pub fn decode(bytes: &[u8], limits: &Limits, min_size: Option<(u32, u32)>) -> Result<Decoded> {
    decode_probed(bytes, &sniff::probe(bytes, limits)?, limits, min_size)
}

/// [`decode`] with the header already read (`sniff::probe_checked` of these `bytes`).
pub fn decode_probed(
    bytes: &[u8],
    probe: &sniff::Probe,
    limits: &Limits,
    min_size: Option<(u32, u32)>,
) -> Result<Decoded> {
    let header = probe.header;
    let decoded = match &probe.detail {
        Detail::Jpeg(frame) => {
            crate::image::bounds::check_jpeg_data(bytes, frame, header.width, header.height)?;
            guarded(|| jpeg::decode(bytes, header, frame, limits, min_size))?
        }
        Detail::Png { .. } => {
            sniff::check_decode_bytes(probe.full_decode_bytes(), limits)?;
            guarded(|| png::decode(bytes, header, limits))?
        }
        Detail::Gif | Detail::Webp { .. } => {
            sniff::check_decode_bytes(probe.full_decode_bytes(), limits)?;
            guarded(|| image_rs::decode(bytes, header, limits))?
        }
        Detail::Avif { heic } => {
            if *heic {
                return Err(Error::unsupported_format("HEIF input is not supported"));
            }
            // decode_avif checks pixels and memory (canvas, AV1 planes, alpha) itself.
            let img = guarded(|| avif::decode_avif(bytes, limits))?;
            Decoded {
                source_width: img.raster.width,
                source_height: img.raster.height,
                raster: img.raster,
                format: SourceFormat::Avif,
                orientation: img.orientation,
                icc: img.icc,
            }
        }
    };
    let r = &decoded.raster;
    if r.data.len() != r.width as usize * r.height as usize * r.layout.channels()
        || r.width == 0
        || r.height == 0
    {
        return Err(Error::internal(
            "decoder returned a buffer of the wrong size",
        ));
    }
    Ok(decoded)
}

/// The JPEG IDCT scale (1, 2, 4 or 8 eighths) `decode` picks for `min_size`.
pub(crate) fn jpeg_scale(width: u32, height: u32, min_size: Option<(u32, u32)>) -> u32 {
    jpeg::choose_scale(width, height, min_size)
}

/// Run a codec, turning a panic into `corrupt_image` (native builds unwind; in wasm
/// a panic aborts, so the header checks before this are the real defence).
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(Error::corrupt_image("the decoder failed on malformed data")))
}

/// `usize` view of a byte limit for codec APIs.
fn limit_usize(bytes: u64) -> usize {
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

/// Round 16-bit big-endian samples to 8 bits in place and shrink the buffer.
fn be16_to_8(mut data: Vec<u8>) -> Vec<u8> {
    let n = data.len() / 2;
    for i in 0..n {
        let v = u16::from_be_bytes([data[2 * i], data[2 * i + 1]]) as u32;
        data[i] = ((v * 255 + 32_895) >> 16) as u8;
    }
    data.truncate(n);
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bit_rounding() {
        let samples: Vec<u8> = [0u16, 128, 129, 257, 32_767, 32_896, 65_278, 65_535]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        assert_eq!(be16_to_8(samples), [0, 0, 1, 1, 127, 128, 254, 255]);
    }

    #[test]
    fn tiny_inputs_never_panic() {
        let limits = Limits::default();
        let prefixes: [&[u8]; 6] = [
            b"\xFF\xD8\xFF",
            b"\x89PNG\r\n\x1a\n",
            b"GIF89a",
            b"RIFF\0\0\0\0WEBP",
            b"\0\0\0\x14ftypavif\0\0\0\0avif",
            b"",
        ];
        for p in prefixes {
            for extra in 0..40u8 {
                let mut v = p.to_vec();
                v.extend((0..extra).map(|i| i.wrapping_mul(37)));
                let e = decode(&v, &limits, None).unwrap_err();
                assert!((400..500).contains(&e.status()), "{e}");
            }
        }
    }
}
