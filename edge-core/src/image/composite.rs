//! Compositing: the `contain` letterbox, the transparency test that settles
//! legacy/source formats, and flattening alpha onto a background (JPEG). The
//! encoders use `flatten` too.

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::raster::{try_zeroed, Layout, Raster};
use crate::types::Rgba;

/// True when some pixel is not fully opaque.
pub fn has_transparency(r: &Raster) -> bool {
    match r.layout {
        Layout::Rgba => r.data.chunks_exact(4).any(|p| p[3] != 255),
        Layout::GrayAlpha => r.data.chunks_exact(2).any(|p| p[1] != 255),
        Layout::Gray | Layout::Rgb | Layout::Cmyk => false,
    }
}

/// Places `image` on a `g.width`×`g.height` canvas of `background` at (`g.left`,
/// `g.top`) (`contain` letterbox); returns it untouched when there is no padding.
/// The canvas is RGBA when `keep_alpha` and the image or background is translucent,
/// else RGB with the image flattened onto the background.
pub fn embed(image: Raster, g: &Geometry, background: Rgba, keep_alpha: bool) -> Result<Raster> {
    if !g.is_padded() {
        return Ok(image);
    }
    if image.width > g.width.saturating_sub(g.left) || image.height > g.height.saturating_sub(g.top)
    {
        return Err(Error::internal("embed: image larger than the canvas"));
    }
    let translucent = background.a != 255 || has_transparency(&image);
    let layout = if keep_alpha && translucent {
        Layout::Rgba
    } else {
        Layout::Rgb
    };
    let channels = layout.channels();
    let bg = [background.r, background.g, background.b, background.a];
    let mut data = try_zeroed(g.width as usize * g.height as usize * channels)?;
    for px in data.chunks_exact_mut(channels) {
        px.copy_from_slice(&bg[..channels]);
    }
    let canvas_row = g.width as usize * channels;
    let in_channels = image.layout.channels();
    for (y, row) in image
        .data
        .chunks_exact(image.width as usize * in_channels)
        .enumerate()
    {
        let start = (g.top as usize + y) * canvas_row + g.left as usize * channels;
        let out = &mut data[start..start + image.width as usize * channels];
        for (o, p) in out
            .chunks_exact_mut(channels)
            .zip(row.chunks_exact(in_channels))
        {
            let rgba = to_rgba(image.layout, p);
            if channels == 4 {
                o.copy_from_slice(&rgba);
            } else {
                o.copy_from_slice(&flatten(rgba, background));
            }
        }
    }
    Ok(Raster::new(g.width, g.height, layout, data))
}

fn to_rgba(layout: Layout, p: &[u8]) -> [u8; 4] {
    match layout {
        Layout::Gray => [p[0], p[0], p[0], 255],
        Layout::GrayAlpha => [p[0], p[0], p[0], p[1]],
        Layout::Rgb => [p[0], p[1], p[2], 255],
        // CMYK never reaches here (converted by the colour step); treat as opaque.
        Layout::Rgba | Layout::Cmyk => [p[0], p[1], p[2], p[3]],
    }
}

/// Composites a straight-alpha pixel over an opaque background colour.
pub fn flatten(p: [u8; 4], bg: Rgba) -> [u8; 3] {
    let a = u32::from(p[3]);
    let mix = |c: u8, b: u8| ((u32::from(c) * a + u32::from(b) * (255 - a) + 127) / 255) as u8;
    [mix(p[0], bg.r), mix(p[1], bg.g), mix(p[2], bg.b)]
}
