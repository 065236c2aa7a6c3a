//! AVIF with `ravif` (pure-Rust rav1e; no asm, no threads, so it builds for
//! wasm32-unknown-unknown). 8-bit, alpha as an auxiliary image when present.
//!
//! ravif always encodes 4:4:4 (it has no chroma subsampling option), where sharp
//! uses libaom 4:2:0. Settings measured natively on the six benchmark photos, 600 px
//! inside, against sharp's q50 sizes (libaom speed 5, 4:2:0):
//!
//! | rav1e speed | ravif quality | size vs sharp q50 | native CPU (hato) |
//! | --- | --- | --- | --- |
//! | 8 | 55 | 0.97-0.99x | 355 ms |
//! | **9** | **55** | **0.97-1.04x (geomean 1.01)** | **203 ms** |
//! | 10 | 55 | ~1.08x | 195 ms |
//!
//! Speed 9 costs 1-5 % in size at equal PSNR against speed 8 but is 1.7x faster,
//! which keeps the wasm encode (~1.4x native) well under sharp's single-thread time.

use ravif::{BitDepth, Encoder, Img, MatrixCoefficients, PixelRange};
use rgb::FromSlice;

use crate::encode::{rgb_or_rgba, without_opaque_alpha};
use crate::error::{Error, Result};
use crate::raster::{Layout, Raster};

/// rav1e speed preset (1 slow … 10 fast).
pub const SPEED: u8 = 9;

/// Maps our `q` (1-100, sharp's scale, default 50) to ravif's quality: +5, so q50
/// gives sharp's q50 sizes. ravif switches on CDEF and loop restoration above 55,
/// which costs ~50 % more time: q ≤ 50 stays on the fast side.
pub fn ravif_quality(q: u8) -> f32 {
    f32::from(q.clamp(1, 100).saturating_add(5).min(100))
}

pub fn encode(raster: &Raster, quality: u8) -> Result<Vec<u8>> {
    let (width, height) = (raster.width as usize, raster.height as usize);
    if width == 0 || height == 0 {
        return Err(Error::internal(format!(
            "avif: empty image {width}x{height}"
        )));
    }
    let q = ravif_quality(quality);
    let encoder = Encoder::new()
        .with_quality(q)
        .with_alpha_quality(q)
        .with_speed(SPEED)
        .with_bit_depth(BitDepth::Eight)
        // Same output on every machine: one tile, no threads.
        .with_num_threads(Some(1));
    let raster = without_opaque_alpha(raster);
    let encoded = match raster.layout {
        Layout::Rgb => encoder.encode_rgb(Img::new(raster.data.as_rgb(), width, height)),
        Layout::Rgba => encoder.encode_rgba(Img::new(raster.data.as_rgba(), width, height)),
        // Gray is Y with neutral chroma: no RGB round trip.
        Layout::Gray => encoder.encode_raw_planes_8_bit(
            width,
            height,
            raster.data.iter().map(|&y| [y, 128, 128]),
            None::<[u8; 0]>,
            PixelRange::Full,
            MatrixCoefficients::BT601,
        ),
        Layout::GrayAlpha => {
            let rgba = rgb_or_rgba(&raster);
            encoder.encode_rgba(Img::new(rgba.data.as_rgba(), width, height))
        }
        Layout::Cmyk => return Err(Error::internal("avif: CMYK input")),
    };
    encoded
        .map(|e| e.avif_file)
        .map_err(|e| Error::internal(format!("avif encoder: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ispe(bytes: &[u8]) -> (u32, u32) {
        let at = bytes
            .windows(4)
            .position(|w| w == b"ispe")
            .expect("ispe box");
        let field = |i: usize| u32::from_be_bytes(bytes[at + i..at + i + 4].try_into().unwrap());
        (field(8), field(12))
    }

    fn has_alpha_item(bytes: &[u8]) -> bool {
        bytes.windows(10).any(|w| w == b"auxiliary:")
    }

    #[test]
    fn encodes_every_layout_at_odd_sizes() {
        let cases = [
            Raster::new(1, 1, Layout::Rgb, vec![255, 0, 0]),
            Raster::new(7, 3, Layout::Gray, vec![128; 21]),
            Raster::new(5, 9, Layout::GrayAlpha, [200, 255].repeat(45)),
            Raster::new(33, 17, Layout::Rgba, [10, 20, 30, 255].repeat(33 * 17)),
        ];
        for r in cases {
            let bytes = encode(&r, 50).unwrap();
            assert_eq!(&bytes[4..12], b"ftypavif", "{:?}", r.layout);
            assert_eq!(ispe(&bytes), (r.width, r.height), "{:?}", r.layout);
            // Opaque alpha is dropped.
            assert!(!has_alpha_item(&bytes), "{:?}", r.layout);
        }
    }

    #[test]
    fn keeps_real_alpha_and_quality_changes_size() {
        let mut data = Vec::new();
        for y in 0..32u32 {
            for x in 0..32u32 {
                data.extend_from_slice(&[(x * 8) as u8, (y * 8) as u8, 90, (x * 8) as u8]);
            }
        }
        let r = Raster::new(32, 32, Layout::Rgba, data);
        let low = encode(&r, 20).unwrap();
        let high = encode(&r, 90).unwrap();
        assert!(has_alpha_item(&low) && has_alpha_item(&high));
        assert!(high.len() > low.len(), "{} vs {}", high.len(), low.len());
        assert_eq!(ravif_quality(50), 55.0);
        assert_eq!(ravif_quality(100), 100.0);
        assert_eq!(ravif_quality(0), 6.0);
    }
}
