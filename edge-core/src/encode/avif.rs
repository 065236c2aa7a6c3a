//! AVIF with `ravif` (pure-Rust rav1e; no asm, no threads, so it builds for
//! wasm32-unknown-unknown). 8-bit, alpha as an auxiliary image when present.
//!
//! ravif always encodes 4:4:4 (it has no chroma subsampling option); the speed and
//! quality mapping below were measured to land near libaom/sharp sizes (see
//! [`ravif_quality`]).

use ravif::{BitDepth, Encoder, Img, MatrixCoefficients, PixelRange};
use rgb::FromSlice;

use crate::encode::{rgb_or_rgba, without_opaque_alpha};
use crate::error::{Error, Result};
use crate::raster::{Layout, Raster};

/// rav1e speed preset (1 slow … 10 fast).
pub const SPEED: u8 = 8;

/// Maps our `q` (1-100, sharp's scale, default 50) to ravif's quality.
pub fn ravif_quality(q: u8) -> f32 {
    f32::from(q.clamp(1, 100))
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
