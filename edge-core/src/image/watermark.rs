//! Watermark composite: the last pixel step, after resize and filters, so the mark
//! is sized from the *output* and never scaled or blurred with the photo.
//!
//! `width` and `margin` are fractions of the output width (the same mark covers the
//! same share of a 300 px and a 3000 px output). The mark is resampled with the
//! premultiplied Lanczos3 of the resize step, then composited "over" with
//! premultiplied alpha in sRGB values, its alpha scaled by `opacity`.

use crate::error::{Error, Result};
use crate::geometry::Rect;
use crate::raster::{Layout, Raster};
use crate::resize;
use crate::watermarks::Placement;

/// Size and top-left position of the mark on an `out_width`×`out_height` output, for
/// a mark image of `mark_width`×`mark_height`. The mark keeps its aspect ratio and is
/// shrunk further when it would not fit inside the margins.
pub fn layout(out: (u32, u32), mark: (u32, u32), p: &Placement) -> Rect {
    let (ow, oh) = (f64::from(out.0.max(1)), f64::from(out.1.max(1)));
    let (mw, mh) = (f64::from(mark.0.max(1)), f64::from(mark.1.max(1)));
    let margin = (f64::from(p.margin) * ow).round();
    let room_w = (ow - 2.0 * margin).max(1.0);
    let room_h = (oh - 2.0 * margin).max(1.0);
    let mut width = (f64::from(p.width) * ow).min(room_w);
    let mut height = width * mh / mw;
    if height > room_h {
        height = room_h;
        width = height * mw / mh;
    }
    let width = (width.round() as u32).clamp(1, out.0.max(1));
    let height = (height.round() as u32).clamp(1, out.1.max(1));
    let margin = margin as u32;
    let place = |len: u32, size: u32, anchor: u8| -> u32 {
        let free = len.saturating_sub(size);
        match anchor {
            0 => margin.min(free),
            1 => free / 2,
            _ => free.saturating_sub(margin),
        }
    };
    let (ax, ay) = p.gravity.anchors();
    Rect {
        x: place(out.0, width, ax),
        y: place(out.1, height, ay),
        width,
        height,
    }
}

/// Composites `mark` (any layout, straight alpha) onto `base` (RGB or RGBA after the
/// colour step; gray is widened) at the placement. The result keeps `base`'s alpha
/// channel if it has one.
pub fn apply(base: Raster, mark: &Raster, p: &Placement) -> Result<Raster> {
    if mark.width == 0 || mark.height == 0 || base.width == 0 || base.height == 0 {
        return Ok(base);
    }
    let base = widen(base, false)?;
    let at = layout((base.width, base.height), (mark.width, mark.height), p);
    let mark = widen(mark.clone(), true)?;
    let whole = Rect {
        x: 0,
        y: 0,
        width: mark.width,
        height: mark.height,
    };
    let mark = resize::resample(mark, whole, at.width, at.height)?;
    Ok(composite(base, &mark, at.x, at.y, p.opacity))
}

/// Gray → RGB, gray+alpha → RGBA; RGB → RGBA too when `alpha` is asked for.
fn widen(r: Raster, alpha: bool) -> Result<Raster> {
    let data: Vec<u8> = match (r.layout, alpha) {
        (Layout::Rgba, _) | (Layout::Rgb, false) => return Ok(r),
        (Layout::Gray, false) => r.data.iter().flat_map(|&v| [v, v, v]).collect(),
        (Layout::Gray, true) => r.data.iter().flat_map(|&v| [v, v, v, 255]).collect(),
        (Layout::GrayAlpha, _) => r
            .data
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        (Layout::Rgb, true) => r
            .data
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        (Layout::Cmyk, _) => {
            return Err(Error::internal("watermark: CMYK must be converted first"))
        }
    };
    let layout = if alpha || r.layout == Layout::GrayAlpha {
        Layout::Rgba
    } else {
        Layout::Rgb
    };
    Ok(Raster::new(r.width, r.height, layout, data))
}

/// `mark` (RGBA, straight) over `base` (RGB or RGBA) at (`left`, `top`), clipped to
/// the base. Porter-Duff "over" on premultiplied values, in sRGB.
pub fn composite(mut base: Raster, mark: &Raster, left: u32, top: u32, opacity: f32) -> Raster {
    let bc = base.layout.channels();
    let opacity = opacity.clamp(0.0, 1.0);
    let (bw, bh) = (base.width as usize, base.height as usize);
    let (mw, mh) = (mark.width as usize, mark.height as usize);
    let (left, top) = (left as usize, top as usize);
    for my in 0..mh.min(bh.saturating_sub(top)) {
        for mx in 0..mw.min(bw.saturating_sub(left)) {
            let m = &mark.data[(my * mw + mx) * 4..][..4];
            let ma = f32::from(m[3]) / 255.0 * opacity;
            if ma <= 0.0 {
                continue;
            }
            let at = ((top + my) * bw + left + mx) * bc;
            let b = &mut base.data[at..at + bc];
            let ba = if bc == 4 {
                f32::from(b[3]) / 255.0
            } else {
                1.0
            };
            let out_a = ma + ba * (1.0 - ma);
            for c in 0..3 {
                let premultiplied = f32::from(m[c]) * ma + f32::from(b[c]) * ba * (1.0 - ma);
                let straight = if out_a > 0.0 {
                    premultiplied / out_a
                } else {
                    0.0
                };
                b[c] = straight.round().clamp(0.0, 255.0) as u8;
            }
            if bc == 4 {
                b[3] = (out_a * 255.0).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Gravity;

    fn placement(gravity: Gravity) -> Placement {
        Placement {
            gravity,
            margin: 0.03,
            opacity: 0.8,
            width: 0.25,
        }
    }

    #[test]
    fn layout_uses_fractions_of_the_output_width() {
        // 1000×600 output, 400×200 mark: 250×125, margin 30, south-east corner.
        let r = layout((1000, 600), (400, 200), &placement(Gravity::SouthEast));
        assert_eq!((r.x, r.y, r.width, r.height), (720, 445, 250, 125));
        let r = layout((1000, 600), (400, 200), &placement(Gravity::NorthWest));
        assert_eq!((r.x, r.y), (30, 30));
        let r = layout((1000, 600), (400, 200), &placement(Gravity::Centre));
        assert_eq!((r.x, r.y), (375, 237));
        // Twice the output, twice the mark.
        let r = layout((2000, 1200), (400, 200), &placement(Gravity::SouthEast));
        assert_eq!((r.width, r.height), (500, 250));
        // A tall mark on a wide, short output is shrunk to fit between the margins.
        let r = layout((1000, 100), (100, 400), &placement(Gravity::South));
        assert_eq!(r.height, 40);
        assert!(r.y + r.height <= 100 - 30);
        // Tiny outputs never overflow.
        for (w, h) in [(1, 1), (3, 200), (200, 3)] {
            let r = layout((w, h), (400, 200), &placement(Gravity::SouthEast));
            assert!(r.x + r.width <= w && r.y + r.height <= h, "{w}x{h}: {r:?}");
        }
    }

    #[test]
    fn composite_matches_the_over_formula() {
        // Opaque gray base, half-transparent red mark at opacity 0.8.
        let base = Raster::new(2, 1, Layout::Rgb, vec![100, 100, 100, 100, 100, 100]);
        let mark = Raster::new(1, 1, Layout::Rgba, vec![255, 0, 0, 128]);
        let out = composite(base, &mark, 1, 0, 0.8);
        let a = 128.0 / 255.0 * 0.8;
        let want = |m: f32| (m * a + 100.0 * (1.0 - a)).round() as u8;
        assert_eq!(out.data, [100, 100, 100, want(255.0), want(0.0), want(0.0)]);
        // A transparent base takes the mark's colour and alpha.
        let clear = Raster::new(1, 1, Layout::Rgba, vec![0, 0, 0, 0]);
        let out = composite(clear, &mark, 0, 0, 1.0);
        assert_eq!(out.data, [255, 0, 0, 128]);
        // Off the canvas: clipped, no panic.
        let base = Raster::new(2, 2, Layout::Rgb, vec![7; 12]);
        let big = Raster::new(3, 3, Layout::Rgba, vec![255; 36]);
        let out = composite(base, &big, 1, 1, 1.0);
        assert_eq!(out.data[..9], [7; 9]);
        assert_eq!(out.data[9..], [255; 3]);
    }

    #[test]
    fn only_the_chosen_corner_changes() {
        let (w, h) = (200u32, 120u32);
        let base: Vec<u8> = (0..w * h)
            .flat_map(|i| [(i % 200) as u8, 80, (i / 200) as u8])
            .collect();
        let base = Raster::new(w, h, Layout::Rgb, base);
        // A white disc on transparent, gray+alpha to exercise widening.
        let (mw, mh) = (64u32, 32u32);
        let mark: Vec<u8> = (0..mw * mh)
            .flat_map(|i| {
                let (x, y) = ((i % mw) as i32 - 32, (i / mw) as i32 - 16);
                [255, if x * x + 4 * y * y < 900 { 255 } else { 0 }]
            })
            .collect();
        let mark = Raster::new(mw, mh, Layout::GrayAlpha, mark);
        for g in [
            Gravity::SouthEast,
            Gravity::NorthWest,
            Gravity::NorthEast,
            Gravity::SouthWest,
        ] {
            let p = placement(g);
            let out = apply(base.clone(), &mark, &p).unwrap();
            assert_eq!((out.width, out.height, out.layout), (w, h, Layout::Rgb));
            let r = layout((w, h), (mw, mh), &p);
            let mut changed = 0;
            for y in 0..h {
                for x in 0..w {
                    let i = ((y * w + x) * 3) as usize;
                    let inside = x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
                    if out.data[i..i + 3] != base.data[i..i + 3] {
                        assert!(inside, "{g:?}: ({x},{y}) changed outside {r:?}");
                        changed += 1;
                    }
                }
            }
            assert!(changed > 50, "{g:?}: only {changed} pixels changed");
        }
        // Opacity 0 changes nothing.
        let none = Placement {
            opacity: 0.0,
            ..placement(Gravity::Centre)
        };
        assert_eq!(apply(base.clone(), &mark, &none).unwrap(), base);
    }
}

/// Decoded watermarks of this container (wasm: one per Lambda container), by name,
/// each with the ETag of the object it was decoded from. The handler revalidates the
/// ETag; the pipeline's watermark step reads from here.
mod store {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::rc::Rc;

    use crate::raster::Raster;

    thread_local! {
        pub(super) static MARKS: RefCell<BTreeMap<String, (String, Rc<Raster>)>> =
            const { RefCell::new(BTreeMap::new()) };
    }
}

/// Largest watermark image accepted, in pixels (a mark is at most the output's width).
pub const MAX_MARK_PIXELS: u64 = 4096 * 4096;

/// Decodes `bytes` (any input format the core reads; EXIF orientation and ICC
/// applied) and keeps it as watermark `name`, tagged with `etag`.
pub fn load(name: &str, etag: &str, bytes: &[u8], limits: &crate::config::Limits) -> Result<()> {
    let limits = crate::config::Limits {
        max_input_pixels: limits.max_input_pixels.min(MAX_MARK_PIXELS),
        ..limits.clone()
    };
    let decoded = crate::decode::decode(bytes, &limits, None)?;
    let raster = crate::colour::to_srgb(decoded.raster, decoded.icc.as_deref())?;
    let raster = crate::orient::apply(raster, decoded.orientation);
    store::MARKS.with(|m| {
        m.borrow_mut().insert(
            name.to_string(),
            (etag.to_string(), std::rc::Rc::new(raster)),
        )
    });
    Ok(())
}

/// The ETag watermark `name` was loaded from, if it is loaded.
pub fn etag(name: &str) -> Option<String> {
    store::MARKS.with(|m| m.borrow().get(name).map(|(etag, _)| etag.clone()))
}

/// The decoded watermark `name`, if loaded.
pub fn get(name: &str) -> Option<std::rc::Rc<Raster>> {
    store::MARKS.with(|m| m.borrow().get(name).map(|(_, r)| r.clone()))
}

#[cfg(test)]
mod store_tests {
    use super::*;

    #[test]
    fn loaded_marks_are_kept_by_name_with_their_etag() {
        let png =
            crate::encode::png::encode(&Raster::new(4, 2, Layout::Rgba, vec![9; 32])).unwrap();
        let limits = crate::config::Limits::default();
        assert_eq!(etag("t-logo"), None);
        load("t-logo", "\"abc\"", &png, &limits).unwrap();
        assert_eq!(etag("t-logo").as_deref(), Some("\"abc\""));
        let r = get("t-logo").unwrap();
        assert_eq!((r.width, r.height), (4, 2));
        load("t-logo", "\"def\"", &png, &limits).unwrap();
        assert_eq!(etag("t-logo").as_deref(), Some("\"def\""));
        assert_eq!(
            load("t-bad", "x", b"not an image", &limits)
                .unwrap_err()
                .status(),
            415
        );
        assert!(get("t-bad").is_none());
    }
}
