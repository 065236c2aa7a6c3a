//! Encode step: one sRGB raster → the bytes of one output format.
//!
//! No metadata is written (no EXIF/XMP/GPS/ICC): the colour step already converted
//! the pixels to sRGB, which every viewer assumes for untagged images.

pub mod avif;
pub mod jpeg;
pub mod png;
pub mod webp;

// The libc functions C libwebp needs on wasm32-unknown-unknown (no libc there).
#[cfg(target_arch = "wasm32")]
mod libc_shim;

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::raster::{Layout, Raster};
use crate::types::Format;
use crate::types::Rgba;

/// Encodes `raster` (any layout but CMYK) as `format`. `quality` is 1-100 (ignored by
/// lossless PNG); `background` is the colour alpha is flattened onto for JPEG.
pub fn encode(raster: &Raster, format: Format, quality: u8, background: Rgba) -> Result<Vec<u8>> {
    if raster.layout == Layout::Cmyk {
        return Err(Error::internal(
            "encode: CMYK must be converted to sRGB first",
        ));
    }
    let quality = quality.clamp(1, 100);
    match format {
        Format::Jpeg => jpeg::encode(raster, quality, background),
        Format::Png => png::encode(raster),
        Format::Webp => {
            let rgb = rgb_or_rgba(raster);
            webp::encode(
                &rgb.data,
                rgb.width,
                rgb.height,
                rgb.layout.has_alpha(),
                quality,
            )
        }
        Format::Avif => avif::encode(raster, quality),
    }
}

/// The raster as RGB8 or RGBA8 (straight alpha), borrowing when it already is.
pub fn rgb_or_rgba(raster: &Raster) -> Cow<'_, Raster> {
    let data: Vec<u8> = match raster.layout {
        Layout::Rgb | Layout::Rgba | Layout::Cmyk => return Cow::Borrowed(raster),
        Layout::Gray => raster.data.iter().flat_map(|&g| [g, g, g]).collect(),
        Layout::GrayAlpha => raster
            .data
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
    };
    let layout = if raster.layout.has_alpha() {
        Layout::Rgba
    } else {
        Layout::Rgb
    };
    Cow::Owned(Raster::new(raster.width, raster.height, layout, data))
}

/// Drops an alpha channel that is fully opaque (smaller files, faster encodes).
pub fn without_opaque_alpha(raster: &Raster) -> Cow<'_, Raster> {
    let (layout, channels) = match raster.layout {
        Layout::Rgba => (Layout::Rgb, 4),
        Layout::GrayAlpha => (Layout::Gray, 2),
        _ => return Cow::Borrowed(raster),
    };
    if crate::composite::has_transparency(raster) {
        return Cow::Borrowed(raster);
    }
    let data = raster
        .data
        .chunks_exact(channels)
        .flat_map(|p| p[..channels - 1].to_vec())
        .collect();
    Cow::Owned(Raster::new(raster.width, raster.height, layout, data))
}
