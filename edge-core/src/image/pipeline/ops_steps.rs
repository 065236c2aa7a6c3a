//! The issue-12 pipeline steps over the pipeline's [`Frame`]; `pipeline::STEPS` lists
//! them in order. Each is a no-op when its parameter is absent, so variants without
//! them give exactly the bytes they gave before.

use super::Frame;
use crate::error::{Error, Result};
use crate::geometry;
use crate::raster::Raster;
use crate::types::ops::{Flip, Focus, Rect, Rotation};
use crate::types::Fit;
use crate::{filter, orient, rotate, smartcrop, watermark, watermarks};

/// `rect`, then `rot`/`flip`: cut the region (given in the upright original) out of
/// the stored pixels, and fold the turn and mirror into the orientation the orient
/// step applies.
pub fn region_and_turn(f: &mut Frame<'_>) -> Result<()> {
    let ops = &f.variant.ops;
    let exif = f.orientation;
    if let Some(rect) = ops.rect {
        let (stored_w, stored_h) = f.stored_size;
        let (upright_w, upright_h) = orient::oriented_size(stored_w, stored_h, exif);
        check_region(rect, upright_w, upright_h)?;
        let in_stored = orient::stored_rect(to_geometry(rect), stored_w, stored_h, exif);
        let in_decoded = scale_region(
            from_geometry(in_stored),
            (stored_w, stored_h),
            (f.raster.width, f.raster.height),
        );
        f.raster = extract(&f.raster, in_decoded)?;
    }
    f.orientation = rotate::compose(exif.tag(), ops.rotation, ops.flip).into();
    Ok(())
}

fn to_geometry(r: Rect) -> geometry::Rect {
    geometry::Rect {
        x: r.x,
        y: r.y,
        width: r.width,
        height: r.height,
    }
}

fn from_geometry(r: geometry::Rect) -> Rect {
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
            smartcrop::crop_offset(&f.raster, f.orientation.tag(), scaled, crop, strategy)
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

fn take(raster: &mut Raster) -> Raster {
    std::mem::replace(
        raster,
        Raster::new(0, 0, crate::raster::Layout::Rgb, Vec::new()),
    )
}

/// A region must lie inside the upright original of `width`×`height`: else 400
/// naming `rect`.
pub fn check_region(region: Rect, width: u32, height: u32) -> Result<()> {
    let right = u64::from(region.x) + u64::from(region.width);
    let bottom = u64::from(region.y) + u64::from(region.height);
    if region.width == 0
        || region.height == 0
        || right > u64::from(width)
        || bottom > u64::from(height)
    {
        return Err(Error::invalid_parameter(
            "rect",
            format!(
                "region {},{},{},{} is outside the {width}x{height} image (x + w must be ≤ {width}, y + h ≤ {height})",
                region.x, region.y, region.width, region.height
            ),
        ));
    }
    Ok(())
}

/// The region scaled to an image of `to_width`×`to_height` that shows the same
/// picture as the `from_width`×`from_height` original (shrunk on load), rounded out
/// to whole pixels and kept inside the image.
pub fn scale_region(region: Rect, from: (u32, u32), to: (u32, u32)) -> Rect {
    if from == to {
        return region;
    }
    let span = |start: u32, len: u32, from: u32, to: u32| {
        let f = f64::from(to) / f64::from(from.max(1));
        let a = ((f64::from(start) * f).floor() as u32).min(to.saturating_sub(1));
        let b = ((f64::from(start + len) * f).ceil() as u32).clamp(a + 1, to.max(1));
        (a, b - a)
    };
    let (x, width) = span(region.x, region.width, from.0, to.0);
    let (y, height) = span(region.y, region.height, from.1, to.1);
    Rect {
        x,
        y,
        width,
        height,
    }
}

/// Copies `region` out of an upright raster (400 naming `rect` when outside).
#[cfg(feature = "codecs")]
pub fn extract(raster: &Raster, region: Rect) -> Result<Raster> {
    check_region(region, raster.width, raster.height)?;
    raster.crop(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_outside_the_image_names_rect() {
        let r = |x, y, width, height| Rect {
            x,
            y,
            width,
            height,
        };
        assert!(check_region(r(0, 0, 100, 50), 100, 50).is_ok());
        assert!(check_region(r(99, 49, 1, 1), 100, 50).is_ok());
        for bad in [
            r(0, 0, 101, 50),
            r(0, 1, 100, 50),
            r(100, 0, 1, 1),
            r(u32::MAX, 0, 2, 1),
        ] {
            let e = check_region(bad, 100, 50).unwrap_err();
            assert_eq!((e.status(), e.code()), (400, "invalid_parameter"));
            assert!(e.message().starts_with("rect:"), "{}", e.message());
            assert!(e.message().contains("100x50"), "{}", e.message());
        }
    }

    #[test]
    fn extract_copies_the_region() {
        use crate::raster::Layout;
        // 4×3 gray, value = 10*y + x.
        let data = (0..3)
            .flat_map(|y| (0..4).map(move |x| 10 * y + x))
            .collect();
        let img = Raster::new(4, 3, Layout::Gray, data);
        let r = Rect {
            x: 1,
            y: 1,
            width: 2,
            height: 2,
        };
        let out = extract(&img, r).unwrap();
        assert_eq!((out.width, out.height), (2, 2));
        assert_eq!(out.data, [11, 12, 21, 22]);
        assert!(extract(
            &img,
            Rect {
                x: 3,
                y: 0,
                width: 2,
                height: 1
            }
        )
        .is_err());
    }

    #[test]
    fn region_scales_to_a_shrunk_image() {
        let r = Rect {
            x: 100,
            y: 50,
            width: 201,
            height: 99,
        };
        let s = scale_region(r, (1000, 500), (250, 125));
        assert_eq!(
            s,
            Rect {
                x: 25,
                y: 12,
                width: 51,
                height: 26
            }
        );
        assert_eq!(scale_region(r, (1000, 500), (1000, 500)), r);
        // Tiny regions keep at least one pixel, inside the image.
        let corner = Rect {
            x: 999,
            y: 499,
            width: 1,
            height: 1,
        };
        let s = scale_region(corner, (1000, 500), (125, 63));
        assert!(s.width >= 1 && s.x + s.width <= 125 && s.y + s.height <= 63);
    }

    #[test]
    fn focal_offset_centres_the_point_within_the_edges() {
        let p = |x: f64, y: f64| (x, y);
        let focal_offset = |w, h, cw, ch, (x, y): (f64, f64)| centre_on((w, h), (cw, ch), x, y);
        // 1000×500 image, 200×500 window: x centred on 250 → starts at 150.
        assert_eq!(focal_offset(1000, 500, 200, 500, p(0.25, 0.6)), (150, 0));
        // Near an edge: clamped.
        assert_eq!(focal_offset(1000, 500, 200, 500, p(0.02, 0.5)), (0, 0));
        assert_eq!(focal_offset(1000, 500, 200, 500, p(1.0, 0.5)), (800, 0));
        assert_eq!(focal_offset(1000, 500, 200, 100, p(0.5, 0.5)), (400, 200));
        // The window as large as the image: nothing to move.
        assert_eq!(focal_offset(10, 10, 10, 10, p(0.9, 0.1)), (0, 0));
    }
}
