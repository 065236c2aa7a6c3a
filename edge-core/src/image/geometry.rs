//! Where the pixels of one output go (sharp's rules): fit modes, gravity,
//! enlargement, the `cover` crop and the `contain` letterbox, and how far a decoder
//! may shrink on load. Geometry is computed in the *oriented* (display) space, like
//! sharp does; `orient::stored_rect` maps a display rectangle back to stored pixels.

use crate::config::Policy;
use crate::error::{Error, Result};
use crate::types::{Fit, Gravity, Variant};

/// A rectangle of whole pixels: the same type as the `rect=` parameter's region.
pub use crate::types::ops::Rect;

/// What the resize step is asked to do, with the policy's size box already applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub gravity: Gravity,
    pub enlarge: bool,
}

impl Target {
    /// The variant's box; without width and height, the original size kept inside the
    /// policy's maximum box (a huge original is never served at full size).
    pub fn new(v: &Variant, policy: &Policy) -> Target {
        if v.width.is_none() && v.height.is_none() {
            return Target {
                width: Some(policy.max_width),
                height: Some(policy.max_height),
                fit: Fit::Inside,
                gravity: v.gravity,
                enlarge: false,
            };
        }
        Target {
            width: v.width,
            height: v.height,
            fit: v.fit,
            gravity: v.gravity,
            enlarge: v.enlarge,
        }
    }
}

/// Where the pixels of one output come from and where they land, in display space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Output (canvas) size.
    pub width: u32,
    pub height: u32,
    /// Size of the whole source image once scaled.
    pub scaled_width: u32,
    pub scaled_height: u32,
    /// The visible part of the scaled image (`cover` crops, everything else keeps all).
    pub crop: Rect,
    /// Position of `crop` on the canvas; non-zero only for `contain` letterboxing.
    pub left: u32,
    pub top: u32,
}

impl Geometry {
    /// True when the canvas is larger than the image (`contain` letterbox).
    pub fn is_padded(&self) -> bool {
        self.crop.width != self.width || self.crop.height != self.height
    }

    /// The rectangle of a source of `width`×`height` (display space; possibly shrunk on
    /// load, so not the size the geometry was planned for) that becomes `crop`.
    /// Cropping before resampling keeps `cover` cheap; rounding to whole source pixels
    /// changes the scale by less than one source pixel over the crop.
    pub fn source_rect(&self, width: u32, height: u32) -> Rect {
        let (x, w) = source_span(self.crop.x, self.crop.width, self.scaled_width, width);
        let (y, h) = source_span(self.crop.y, self.crop.height, self.scaled_height, height);
        Rect {
            x,
            y,
            width: w,
            height: h,
        }
    }
}

fn source_span(start: u32, len: u32, scaled: u32, source: u32) -> (u32, u32) {
    let source = source.max(1);
    let factor = f64::from(source) / f64::from(scaled.max(1));
    let from = ((f64::from(start) * factor).round() as u32).min(source - 1);
    let to = ((f64::from(start + len) * factor).round() as u32).clamp(from + 1, source);
    (from, to - from)
}

/// sharp's rounding of a scaled length (libvips `VIPS_ROUND_UINT`), never 0.
fn scaled_len(len: u32, shrink: f64) -> u32 {
    ((f64::from(len) / shrink + 0.5).floor() as u32).max(1)
}

/// Output geometry for a source of `src_width`×`src_height` display pixels.
///
/// Follows sharp's `resize()`: shrink factors per fit (`cover`/`outside` take the
/// smaller, `contain`/`inside` the larger, `fill` each axis on its own), no
/// enlargement unless asked (each factor clamped to ≥ 1, like `withoutEnlargement`),
/// never below 1 px, sizes rounded half up. Then `cover` crops the scaled image to the
/// box (never larger than the scaled image) with gravity, and `contain` pads it to the
/// box (never smaller than the scaled image). Deviation: with only one of width/height,
/// `fill` keeps the aspect ratio too (sharp would leave the other axis unscaled).
pub fn geometry(src_width: u32, src_height: u32, t: &Target) -> Geometry {
    let (sw, sh) = (f64::from(src_width.max(1)), f64::from(src_height.max(1)));
    let (mut hshrink, mut vshrink) = match (t.width, t.height) {
        (Some(w), Some(h)) => {
            let (hs, vs) = (sw / f64::from(w.max(1)), sh / f64::from(h.max(1)));
            match t.fit {
                Fit::Cover | Fit::Outside => (hs.min(vs), hs.min(vs)),
                Fit::Contain | Fit::Inside => (hs.max(vs), hs.max(vs)),
                Fit::Fill => (hs, vs),
            }
        }
        (Some(w), None) => (sw / f64::from(w.max(1)), sw / f64::from(w.max(1))),
        (None, Some(h)) => (sh / f64::from(h.max(1)), sh / f64::from(h.max(1))),
        (None, None) => (1.0, 1.0),
    };
    if !t.enlarge {
        hshrink = hshrink.max(1.0);
        vshrink = vshrink.max(1.0);
    }
    // Never shrink an axis below one pixel.
    hshrink = hshrink.min(sw);
    vshrink = vshrink.min(sh);

    let scaled_width = scaled_len(src_width.max(1), hshrink);
    let scaled_height = scaled_len(src_height.max(1), vshrink);
    let box_width = t.width.unwrap_or(scaled_width).max(1);
    let box_height = t.height.unwrap_or(scaled_height).max(1);
    let full = Rect {
        x: 0,
        y: 0,
        width: scaled_width,
        height: scaled_height,
    };

    match t.fit {
        Fit::Cover => {
            let width = box_width.min(scaled_width);
            let height = box_height.min(scaled_height);
            let (x, y) = crop_offset(scaled_width - width, scaled_height - height, t.gravity);
            Geometry {
                width,
                height,
                scaled_width,
                scaled_height,
                crop: Rect {
                    x,
                    y,
                    width,
                    height,
                },
                left: 0,
                top: 0,
            }
        }
        Fit::Contain => {
            let width = box_width.max(scaled_width);
            let height = box_height.max(scaled_height);
            let (left, top) = embed_offset(width - scaled_width, height - scaled_height, t.gravity);
            Geometry {
                width,
                height,
                scaled_width,
                scaled_height,
                crop: full,
                left,
                top,
            }
        }
        Fit::Fill | Fit::Inside | Fit::Outside => Geometry {
            width: scaled_width,
            height: scaled_height,
            scaled_width,
            scaled_height,
            crop: full,
            left: 0,
            top: 0,
        },
    }
}

/// Crop offset given the overflow on each axis (sharp rounds the centre up).
fn crop_offset(excess_x: u32, excess_y: u32, g: Gravity) -> (u32, u32) {
    let place = |excess: u32, anchor: u8| match anchor {
        0 => 0,
        1 => excess.div_ceil(2),
        _ => excess,
    };
    let (ax, ay) = g.anchors();
    (place(excess_x, ax), place(excess_y, ay))
}

/// Letterbox offset given the free space on each axis (sharp rounds the centre down).
fn embed_offset(free_x: u32, free_y: u32, g: Gravity) -> (u32, u32) {
    let place = |free: u32, anchor: u8| match anchor {
        0 => 0,
        1 => free / 2,
        _ => free,
    };
    let (ax, ay) = g.anchors();
    (place(free_x, ax), place(free_y, ay))
}

/// Smallest *stored* size a decoder may shrink to on load (JPEG DCT scaling) and
/// still cover the scaled image at full resolution, whatever the EXIF orientation
/// turns out to be: the orientation is only known after decoding, so this covers
/// both the upright and the axis-swapping cases (identical for square boxes).
/// `None` when no shrinking is possible.
pub fn min_decode_size(stored_width: u32, stored_height: u32, t: &Target) -> Option<(u32, u32)> {
    let upright = geometry(stored_width, stored_height, t);
    let turned = geometry(stored_height, stored_width, t);
    decode_floor(&upright, &turned, stored_width, stored_height)
}

/// [`min_decode_size`] from the two geometries already planned (`upright` for the
/// stored size, `turned` for the axes swapped).
pub fn decode_floor(
    upright: &Geometry,
    turned: &Geometry,
    stored_width: u32,
    stored_height: u32,
) -> Option<(u32, u32)> {
    let width = upright
        .scaled_width
        .max(turned.scaled_height)
        .min(stored_width);
    let height = upright
        .scaled_height
        .max(turned.scaled_width)
        .min(stored_height);
    (width < stored_width || height < stored_height).then_some((width, height))
}

impl Geometry {
    /// The output is within the policy's box and pixel count (one message for every
    /// caller: stills and animations).
    pub fn check_within(&self, policy: &Policy) -> Result<()> {
        let pixels = u64::from(self.width) * u64::from(self.height);
        if self.width > policy.max_width
            || self.height > policy.max_height
            || pixels > policy.max_output_pixels
        {
            return Err(Error::limit_exceeded(format!(
                "output {}x{} is over the limits ({}x{}, {} pixels)",
                self.width,
                self.height,
                policy.max_width,
                policy.max_height,
                policy.max_output_pixels
            )));
        }
        Ok(())
    }
}
