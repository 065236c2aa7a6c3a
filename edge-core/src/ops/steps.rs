//! The issue-12 pipeline steps over the pipeline's [`Frame`]; `pipeline::STEPS` lists
//! them in order. Each is a no-op when its parameter is absent, so variants without
//! them give exactly the bytes they gave before.

use super::params::Focus;
use super::region::{self, Rect};
use super::rotate::{self, Flip, Rotation};
use super::{filter, smartcrop, watermark, watermarks};
use crate::error::{Error, Result};
use crate::orient;
use crate::pipeline::Frame;
use crate::plan::Fit;
use crate::resize;

/// `rect`, then `rot`/`flip`: cut the region (given in the upright original) out of
/// the stored pixels, and fold the turn and mirror into the orientation the orient
/// step applies.
pub fn region_and_turn(f: &mut Frame<'_>) -> Result<()> {
    let ops = &f.variant.ops;
    let exif = f.orientation;
    if let Some(rect) = ops.rect {
        let (stored_w, stored_h) = f.stored_size;
        let (upright_w, upright_h) = orient::oriented_size(stored_w, stored_h, exif);
        region::check_region(rect, upright_w, upright_h)?;
        let in_stored = resize::stored_rect(to_resize(rect), stored_w, stored_h, exif);
        let in_decoded = region::scale_region(
            from_resize(in_stored),
            (stored_w, stored_h),
            (f.raster.width, f.raster.height),
        );
        f.raster = region::extract(&f.raster, in_decoded)?;
    }
    f.orientation = rotate::compose(exif, ops.rotation, ops.flip);
    Ok(())
}

fn to_resize(r: Rect) -> resize::Rect {
    resize::Rect {
        x: r.x,
        y: r.y,
        width: r.width,
        height: r.height,
    }
}

fn from_resize(r: resize::Rect) -> Rect {
    Rect {
        x: r.x,
        y: r.y,
        width: r.width,
        height: r.height,
    }
}

/// `pos=entropy|attention|XxY`: moves the `cover` crop window of the geometry.
pub fn focus(f: &mut Frame<'_>) -> Result<()> {
    let Some(focus) = f.variant.ops.focus else {
        return Ok(());
    };
    if f.variant.fit != Fit::Cover {
        return Ok(());
    }
    let g = &mut f.geometry;
    let scaled = (g.scaled_width, g.scaled_height);
    let crop = (g.crop.width, g.crop.height);
    let (x, y) = match focus {
        Focus::Entropy | Focus::Attention => {
            let strategy = if focus == Focus::Entropy {
                smartcrop::Strategy::Entropy
            } else {
                smartcrop::Strategy::Attention
            };
            smartcrop::crop_offset(&f.raster, f.orientation, scaled, crop, strategy)
        }
        Focus::Point(point) => {
            let ops = &f.variant.ops;
            // The point is a fraction of the upright original: relative to the
            // region when there is one, then carried through the turn and mirror.
            let (mut px, mut py) = (point.fx(), point.fy());
            if let Some(rect) = ops.rect {
                let (w, h) = orient::oriented_size(f.stored_size.0, f.stored_size.1, f.exif);
                px = ((px * f64::from(w) - f64::from(rect.x)) / f64::from(rect.width))
                    .clamp(0.0, 1.0);
                py = ((py * f64::from(h) - f64::from(rect.y)) / f64::from(rect.height))
                    .clamp(0.0, 1.0);
            }
            let (px, py) = turn_point(px, py, ops.rotation, ops.flip);
            centre_on(scaled, crop, px, py)
        }
    };
    g.crop.x = x;
    g.crop.y = y;
    Ok(())
}

/// Where a point given as fractions of the upright image lands after the turn and
/// the mirror.
pub fn turn_point(x: f64, y: f64, rotation: Rotation, flip: Flip) -> (f64, f64) {
    let (x, y) = match rotation {
        Rotation::None => (x, y),
        Rotation::Cw90 => (1.0 - y, x),
        Rotation::Cw180 => (1.0 - x, 1.0 - y),
        Rotation::Cw270 => (y, 1.0 - x),
    };
    match flip {
        Flip::None => (x, y),
        Flip::Horizontal => (1.0 - x, y),
        Flip::Vertical => (x, 1.0 - y),
        Flip::Both => (1.0 - x, 1.0 - y),
    }
}

/// Offset of a `crop` window in a `scaled` image that puts (x, y) (fractions) as
/// near the window's centre as the edges allow.
fn centre_on(scaled: (u32, u32), crop: (u32, u32), x: f64, y: f64) -> (u32, u32) {
    let place = |len: u32, win: u32, at: f64| -> u32 {
        let start = at * f64::from(len) - f64::from(win) / 2.0;
        (start.round().max(0.0) as u32).min(len.saturating_sub(win))
    };
    (place(scaled.0, crop.0, x), place(scaled.1, crop.1, y))
}

/// `blur`, then `sharpen`, on the resized sRGB image.
pub fn filters(f: &mut Frame<'_>) -> Result<()> {
    let ops = &f.variant.ops;
    if let Some(sigma) = ops.blur {
        f.raster = filter::blur(take(&mut f.raster), sigma.pixels())?;
    }
    if let Some(sigma) = ops.sharpen {
        f.raster = filter::sharpen(take(&mut f.raster), sigma.pixels())?;
    }
    Ok(())
}

/// `wm=NAME`: composites the decoded watermark over the output canvas.
pub fn watermark(f: &mut Frame<'_>) -> Result<()> {
    let Some(name) = f.variant.ops.watermark.as_deref() else {
        return Ok(());
    };
    let spec = f
        .marks
        .get(name)
        .ok_or_else(|| watermarks::parse_name("wm", name, f.marks).unwrap_err())?;
    let placement = spec.placement(name)?;
    let mark = watermark::get(name).ok_or_else(|| {
        Error::internal(format!(
            "watermark {name:?} ({}) is not loaded: the handler must load it before the transform",
            spec.key
        ))
    })?;
    f.raster = watermark::apply(take(&mut f.raster), &mark, &placement)?;
    Ok(())
}

fn take(raster: &mut crate::raster::Raster) -> crate::raster::Raster {
    std::mem::replace(
        raster,
        crate::raster::Raster::new(0, 0, crate::raster::Layout::Rgb, Vec::new()),
    )
}
