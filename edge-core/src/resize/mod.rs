//! Resampling: Lanczos3 with premultiplied alpha, on the stored pixels (the pipeline
//! orients afterwards, on the small image). Where the pixels go is `geometry`; how a
//! display rectangle maps to stored pixels is `orient::stored_rect`; letterboxing and
//! flattening are `composite`.

mod lanczos;

use resize::Pixel;
use resize::Type::Lanczos3;
use rgb::FromSlice;

use crate::error::{Error, Result};
use crate::geometry::{Geometry, Rect};
use crate::orient::stored_rect;
use crate::raster::{try_zeroed, Layout, Raster};
use crate::types::Orientation;

/// Crops and resamples the *stored* pixels of an image with EXIF `orientation` to
/// the crop box of `geometry` (which is in upright coordinates), so that turning the
/// result upright afterwards gives the planned output. Resampling before orienting
/// does the permutation on the small image.
pub fn resample_stored(
    raster: Raster,
    geometry: &Geometry,
    orientation: impl Into<Orientation>,
) -> Result<Raster> {
    let orientation = orientation.into();
    let (shown_width, shown_height) =
        crate::orient::oriented_size(raster.width, raster.height, orientation);
    let source = geometry.source_rect(shown_width, shown_height);
    let source = stored_rect(source, raster.width, raster.height, orientation);
    let (crop_width, crop_height) =
        crate::orient::oriented_size(geometry.crop.width, geometry.crop.height, orientation);
    resample(raster, source, crop_width, crop_height)
}

/// Resamples `rect` of `src` to `width`×`height` with Lanczos3: gray/RGB in fixed
/// point (see [`lanczos`]), RGBA premultiplied in f32 by the `resize` crate.
/// Returns `src` untouched when nothing changes and a plain copy of the rectangle
/// when only cropping. Gray+alpha is widened to RGBA first (neither resampler has a
/// two-channel format); CMYK must be colour-converted before.
pub fn resample(src: Raster, rect: Rect, width: u32, height: u32) -> Result<Raster> {
    if rect.width == 0
        || rect.height == 0
        || rect.x.checked_add(rect.width).is_none_or(|r| r > src.width)
        || rect
            .y
            .checked_add(rect.height)
            .is_none_or(|b| b > src.height)
        || width == 0
        || height == 0
    {
        return Err(Error::internal(format!(
            "resample {rect:?} of {}x{} to {width}x{height}",
            src.width, src.height
        )));
    }
    let whole = rect.x == 0 && rect.y == 0 && rect.width == src.width && rect.height == src.height;
    if (rect.width, rect.height) == (width, height) {
        return if whole { Ok(src) } else { src.crop(rect) };
    }
    let src = if src.layout == Layout::GrayAlpha {
        gray_alpha_to_rgba(&src)
    } else {
        src
    };

    let channels = src.layout.channels();
    // Both resamplers read `rect` in place (first pixel, then `stride` per row).
    let stride = src.width as usize;
    let (sw, sh, dw, dh) = (
        rect.width as usize,
        rect.height as usize,
        width as usize,
        height as usize,
    );
    let mut out = try_zeroed(dw * dh * channels)?;
    let map_err = |e: resize::Error| match e {
        resize::Error::OutOfMemory => Error::limit_exceeded("out of memory while resizing"),
        resize::Error::InvalidParameters => Error::internal("resize: invalid parameters"),
    };
    let block = (rect.x as usize, rect.y as usize, sw, sh);
    match src.layout {
        Layout::Gray => lanczos::resample::<1>(&src.data, stride, block, &mut out, dw, dh),
        Layout::Rgb => lanczos::resample::<3>(&src.data, stride, block, &mut out, dw, dh),
        // Premultiplied alpha needs more than 8 bits between the passes: f32 path.
        Layout::Rgba => {
            let input = &src.data[(rect.y as usize * stride + rect.x as usize) * 4..];
            resize::new(sw, sh, dw, dh, Pixel::RGBA8P, Lanczos3)
                .and_then(|mut r| r.resize_stride(input.as_rgba(), stride, out.as_rgba_mut()))
                .map_err(map_err)?
        }
        Layout::GrayAlpha | Layout::Cmyk => {
            return Err(Error::internal(format!(
                "resample: {:?} not supported",
                src.layout
            )))
        }
    }
    Ok(Raster::new(width, height, src.layout, out))
}

fn gray_alpha_to_rgba(src: &Raster) -> Raster {
    let data = src
        .data
        .chunks_exact(2)
        .flat_map(|p| [p[0], p[0], p[0], p[1]])
        .collect();
    Raster::new(src.width, src.height, Layout::Rgba, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::composite::embed;
    use crate::geometry::{geometry, min_decode_size, Target};
    use crate::types::{Fit, Gravity, Rgba};

    fn target(w: Option<u32>, h: Option<u32>, fit: Fit) -> Target {
        Target {
            width: w,
            height: h,
            fit,
            gravity: Gravity::Centre,
            enlarge: false,
        }
    }

    fn out(src: (u32, u32), t: &Target) -> (u32, u32) {
        let g = geometry(src.0, src.1, t);
        (g.width, g.height)
    }

    #[test]
    fn no_box_keeps_the_original_size() {
        let t = target(None, None, Fit::Inside);
        assert_eq!(out((3082, 2048), &t), (3082, 2048));
        assert_eq!(out((1, 1), &t), (1, 1));
    }

    #[test]
    fn one_side_keeps_the_aspect_ratio_for_every_fit() {
        for fit in [
            Fit::Inside,
            Fit::Outside,
            Fit::Cover,
            Fit::Contain,
            Fit::Fill,
        ] {
            assert_eq!(
                out((3082, 2048), &target(Some(600), None, fit)),
                (600, 399),
                "{fit:?}"
            );
            assert_eq!(
                out((3082, 2048), &target(None, Some(600), fit)),
                (903, 600),
                "{fit:?}"
            );
        }
        // 2048 * 1200 / 3082 = 797.4
        assert_eq!(
            out((3082, 2048), &target(Some(1200), None, Fit::Inside)),
            (1200, 797)
        );
    }

    #[test]
    fn inside_and_outside() {
        let inside = target(Some(1200), Some(1200), Fit::Inside);
        assert_eq!(out((3082, 2048), &inside), (1200, 797));
        assert_eq!(out((2048, 3082), &inside), (797, 1200));
        let outside = target(Some(600), Some(600), Fit::Outside);
        assert_eq!(out((3082, 2048), &outside), (903, 600));
        assert_eq!(
            out((4608, 1976), &target(Some(600), Some(600), Fit::Inside)),
            (600, 257)
        );
    }

    #[test]
    fn cover_crops_to_the_box_with_gravity() {
        let mut t = target(Some(150), Some(150), Fit::Cover);
        let g = geometry(3082, 2048, &t);
        assert_eq!((g.width, g.height), (150, 150));
        assert_eq!((g.scaled_width, g.scaled_height), (226, 150));
        // Centre rounds up like sharp: (226 - 150 + 1) / 2 = 38.
        assert_eq!(
            g.crop,
            Rect {
                x: 38,
                y: 0,
                width: 150,
                height: 150
            }
        );
        t.gravity = Gravity::West;
        assert_eq!(geometry(3082, 2048, &t).crop.x, 0);
        t.gravity = Gravity::NorthEast;
        assert_eq!(
            geometry(3082, 2048, &t).crop,
            Rect {
                x: 76,
                y: 0,
                width: 150,
                height: 150
            }
        );
        t.gravity = Gravity::South;
        let g = geometry(2048, 3082, &t);
        assert_eq!(
            g.crop,
            Rect {
                x: 0,
                y: 76,
                width: 150,
                height: 150
            }
        );
    }

    #[test]
    fn contain_pads_to_the_box() {
        let mut t = target(Some(600), Some(600), Fit::Contain);
        let g = geometry(3082, 2048, &t);
        assert_eq!((g.width, g.height), (600, 600));
        assert_eq!(
            g.crop,
            Rect {
                x: 0,
                y: 0,
                width: 600,
                height: 399
            }
        );
        // Centre rounds down: (600 - 399) / 2 = 100.
        assert_eq!((g.left, g.top), (0, 100));
        assert!(g.is_padded());
        t.gravity = Gravity::South;
        let g = geometry(3082, 2048, &t);
        assert_eq!((g.left, g.top), (0, 201));
        t.gravity = Gravity::NorthWest;
        assert_eq!(geometry(3082, 2048, &t).top, 0);
    }

    #[test]
    fn fill_stretches_each_axis() {
        let t = target(Some(300), Some(100), Fit::Fill);
        assert_eq!(out((3082, 2048), &t), (300, 100));
    }

    #[test]
    fn without_enlargement_like_sharp() {
        // inside/outside: a small image stays as it is.
        assert_eq!(
            out((100, 50), &target(Some(200), Some(200), Fit::Inside)),
            (100, 50)
        );
        assert_eq!(
            out((100, 50), &target(Some(200), None, Fit::Outside)),
            (100, 50)
        );
        // cover: no scaling, crop to what exists of the box.
        assert_eq!(
            out((100, 50), &target(Some(200), Some(200), Fit::Cover)),
            (100, 50)
        );
        assert_eq!(
            out((300, 50), &target(Some(200), Some(200), Fit::Cover)),
            (200, 50)
        );
        // contain: still padded to the full box, image at its own size.
        let g = geometry(100, 50, &target(Some(200), Some(200), Fit::Contain));
        assert_eq!((g.width, g.height, g.left, g.top), (200, 200, 50, 75));
        assert_eq!((g.crop.width, g.crop.height), (100, 50));
        // fill: each axis clamped on its own.
        assert_eq!(
            out((100, 100), &target(Some(200), Some(50), Fit::Fill)),
            (100, 50)
        );
    }

    #[test]
    fn enlargement_when_asked() {
        let mut t = target(Some(200), Some(200), Fit::Inside);
        t.enlarge = true;
        assert_eq!(out((100, 50), &t), (200, 100));
        t.fit = Fit::Cover;
        let g = geometry(100, 50, &t);
        assert_eq!(
            (g.width, g.height, g.scaled_width, g.scaled_height),
            (200, 200, 400, 200)
        );
        assert_eq!(g.crop.x, 100);
        t.fit = Fit::Fill;
        assert_eq!(out((1, 1), &t), (200, 200));
    }

    #[test]
    fn extreme_aspect_ratios_never_reach_zero() {
        let inside = target(Some(100), Some(100), Fit::Inside);
        assert_eq!(out((1, 1000), &inside), (1, 100));
        assert_eq!(out((1000, 1), &inside), (100, 1));
        assert_eq!(out((11158, 2156), &inside), (100, 19));
        assert_eq!(
            out((11158, 2156), &target(Some(64), None, Fit::Inside)),
            (64, 12)
        );
        assert_eq!(
            out((1920, 96), &target(Some(10), None, Fit::Inside)),
            (10, 1)
        );
        assert_eq!(
            out((1, 1000), &target(Some(1), Some(1), Fit::Inside)),
            (1, 1)
        );
        assert_eq!(out((1, 1), &target(Some(64), Some(64), Fit::Cover)), (1, 1));
        // cover on a 1 px wide strip: the narrow axis decides, then the crop.
        let g = geometry(1, 1000, &target(Some(50), Some(50), Fit::Cover));
        assert_eq!((g.width, g.height), (1, 50));
        assert_eq!(
            g.crop,
            Rect {
                x: 0,
                y: 475,
                width: 1,
                height: 50
            }
        );
        let g = geometry(11158, 2156, &target(Some(150), Some(150), Fit::Cover));
        assert_eq!((g.width, g.height, g.scaled_height), (150, 150, 150));
        assert_eq!(g.scaled_width, 776);
        // 1x1 with enlargement to a wide box
        let mut t = target(Some(4096), Some(1), Fit::Inside);
        t.enlarge = true;
        assert_eq!(out((1, 1000), &t), (1, 1));
        let g = geometry(1, 1, &target(Some(1), Some(4096), Fit::Contain));
        assert_eq!((g.width, g.height, g.top), (1, 4096, 2047));
    }

    #[test]
    fn every_geometry_is_consistent() {
        let sizes = [
            (1, 1),
            (1, 1000),
            (1000, 1),
            (49, 500),
            (11158, 2156),
            (3082, 2048),
            (7, 3),
        ];
        let boxes = [
            None,
            Some(1),
            Some(2),
            Some(64),
            Some(150),
            Some(599),
            Some(4096),
        ];
        let fits = [
            Fit::Cover,
            Fit::Contain,
            Fit::Fill,
            Fit::Inside,
            Fit::Outside,
        ];
        for &(sw, sh) in &sizes {
            for &w in &boxes {
                for &h in &boxes {
                    for &fit in &fits {
                        for enlarge in [false, true] {
                            let t = Target {
                                width: w,
                                height: h,
                                fit,
                                gravity: Gravity::SouthEast,
                                enlarge,
                            };
                            let g = geometry(sw, sh, &t);
                            let ctx = format!("{sw}x{sh} {w:?}x{h:?} {fit:?} {enlarge} → {g:?}");
                            assert!(g.width >= 1 && g.height >= 1, "{ctx}");
                            assert!(g.crop.x + g.crop.width <= g.scaled_width, "{ctx}");
                            assert!(g.crop.y + g.crop.height <= g.scaled_height, "{ctx}");
                            assert!(g.left + g.crop.width <= g.width, "{ctx}");
                            assert!(g.top + g.crop.height <= g.height, "{ctx}");
                            if !enlarge {
                                assert!(g.scaled_width <= sw && g.scaled_height <= sh, "{ctx}");
                            }
                            let r = g.source_rect(sw, sh);
                            assert!(r.width >= 1 && r.x + r.width <= sw, "{ctx} {r:?}");
                            assert!(r.height >= 1 && r.y + r.height <= sh, "{ctx} {r:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn source_rect_follows_a_shrunk_source() {
        let t = target(Some(150), Some(150), Fit::Cover);
        let g = geometry(3082, 2048, &t);
        assert_eq!(
            g.source_rect(3082, 2048),
            Rect {
                x: 518,
                y: 0,
                width: 2046,
                height: 2048
            }
        );
        // Decoded at 1/8 (ceil): 386x256.
        assert_eq!(
            g.source_rect(386, 256),
            Rect {
                x: 65,
                y: 0,
                width: 256,
                height: 256
            }
        );
        let inside = geometry(3082, 2048, &target(Some(600), None, Fit::Inside));
        assert_eq!(
            inside.source_rect(771, 512),
            Rect {
                x: 0,
                y: 0,
                width: 771,
                height: 512
            }
        );
    }

    #[test]
    fn min_decode_size_covers_both_orientations() {
        let square = target(Some(1200), Some(1200), Fit::Inside);
        assert_eq!(min_decode_size(3082, 2048, &square), Some((1200, 797)));
        let cover = target(Some(150), Some(150), Fit::Cover);
        assert_eq!(min_decode_size(3082, 2048, &cover), Some((226, 150)));
        // Width only: a 90° turn would need the long side at 600.
        let w = target(Some(600), None, Fit::Inside);
        assert_eq!(min_decode_size(3082, 2048, &w), Some((903, 600)));
        // Enlarging or same size: nothing to shrink.
        assert_eq!(min_decode_size(100, 50, &square), None);
        assert_eq!(
            min_decode_size(1, 1000, &target(Some(1), None, Fit::Inside)),
            None
        );
    }

    /// Reference orientation (display pixel → stored pixel), written independently.
    fn stored_pixel(x: u32, y: u32, w: u32, h: u32, o: u8) -> (u32, u32) {
        match o {
            2 => (w - 1 - x, y),
            3 => (w - 1 - x, h - 1 - y),
            4 => (x, h - 1 - y),
            5 => (y, x),
            6 => (y, h - 1 - x),
            7 => (w - 1 - y, h - 1 - x),
            8 => (w - 1 - y, x),
            _ => (x, y),
        }
    }

    #[test]
    fn stored_rect_matches_pixel_mapping() {
        let (w, h) = (7u32, 4u32);
        for o in 0..=9u8 {
            let (dw, dh) = if crate::orient::swaps_axes(o) {
                (h, w)
            } else {
                (w, h)
            };
            let r = Rect {
                x: 1,
                y: 2,
                width: 2,
                height: 1,
            };
            if r.x + r.width > dw || r.y + r.height > dh {
                continue;
            }
            let s = stored_rect(r, w, h, o);
            for y in r.y..r.y + r.height {
                for x in r.x..r.x + r.width {
                    let (sx, sy) = stored_pixel(x, y, w, h, o);
                    assert!(
                        sx >= s.x && sx < s.x + s.width && sy >= s.y && sy < s.y + s.height,
                        "o={o}"
                    );
                }
            }
            assert_eq!(s.width * s.height, r.width * r.height);
        }
    }

    fn solid(width: u32, height: u32, layout: Layout, px: &[u8]) -> Raster {
        let data = px
            .iter()
            .copied()
            .cycle()
            .take(width as usize * height as usize * px.len())
            .collect();
        Raster::new(width, height, layout, data)
    }

    #[test]
    fn resample_keeps_flat_colours_and_skips_no_ops() {
        let rgb = solid(40, 30, Layout::Rgb, &[10, 200, 30]);
        let copy = rgb.clone();
        let same = resample(
            rgb,
            Rect {
                x: 0,
                y: 0,
                width: 40,
                height: 30,
            },
            40,
            30,
        )
        .unwrap();
        assert_eq!(same, copy);
        let small = resample(
            copy,
            Rect {
                x: 5,
                y: 3,
                width: 30,
                height: 20,
            },
            9,
            6,
        )
        .unwrap();
        assert_eq!(
            (small.width, small.height, small.layout),
            (9, 6, Layout::Rgb)
        );
        assert!(small.data.chunks_exact(3).all(|p| p == [10, 200, 30]));
        let gray = resample(
            solid(3, 1000, Layout::Gray, &[77]),
            Rect {
                x: 0,
                y: 0,
                width: 3,
                height: 1000,
            },
            1,
            100,
        )
        .unwrap();
        assert!(gray.data.iter().all(|&v| v == 77));
        let up = resample(
            solid(1, 1, Layout::Rgb, &[1, 2, 3]),
            Rect {
                x: 0,
                y: 0,
                width: 1,
                height: 1,
            },
            5,
            2,
        )
        .unwrap();
        assert!(up.data.chunks_exact(3).all(|p| p == [1, 2, 3]));
    }

    #[test]
    fn resample_premultiplies_alpha() {
        // Left half transparent red, right half opaque blue: no red may bleed in.
        let mut img = solid(8, 2, Layout::Rgba, &[0, 0, 255, 255]);
        for y in 0..2 {
            for x in 0..4 {
                let i = (y * 8 + x) * 4;
                img.data[i..i + 4].copy_from_slice(&[255, 0, 0, 0]);
            }
        }
        let out = resample(
            img,
            Rect {
                x: 0,
                y: 0,
                width: 8,
                height: 2,
            },
            3,
            1,
        )
        .unwrap();
        for p in out.data.chunks_exact(4) {
            if p[3] > 0 {
                assert!(p[0] < 3 && p[2] > 250, "{p:?}");
            }
        }
        let ga = resample(
            solid(4, 4, Layout::GrayAlpha, &[9, 255]),
            Rect {
                x: 0,
                y: 0,
                width: 4,
                height: 4,
            },
            2,
            2,
        )
        .unwrap();
        assert_eq!(ga.layout, Layout::Rgba);
        assert!(ga.data.chunks_exact(4).all(|p| p == [9, 9, 9, 255]));
    }

    #[test]
    fn resample_rejects_bad_rectangles() {
        let r = solid(4, 4, Layout::Rgb, &[0, 0, 0]);
        assert!(resample(
            r.clone(),
            Rect {
                x: 3,
                y: 0,
                width: 2,
                height: 1
            },
            1,
            1
        )
        .is_err());
        assert!(resample(
            r.clone(),
            Rect {
                x: 0,
                y: 0,
                width: 0,
                height: 1
            },
            1,
            1
        )
        .is_err());
        assert!(resample(
            r,
            Rect {
                x: 0,
                y: 0,
                width: 4,
                height: 4
            },
            0,
            1
        )
        .is_err());
    }

    #[test]
    fn embed_letterboxes_and_flattens() {
        let t = target(Some(4), Some(4), Fit::Contain);
        let g = geometry(4, 2, &t);
        assert_eq!((g.left, g.top), (0, 1));
        let red = solid(4, 2, Layout::Rgba, &[255, 0, 0, 128]);
        let bg = Rgba {
            r: 0,
            g: 0,
            b: 255,
            a: 255,
        };
        let flat = embed(red.clone(), &g, bg, false).unwrap();
        assert_eq!((flat.layout, flat.width, flat.height), (Layout::Rgb, 4, 4));
        assert_eq!(&flat.data[..3], &[0, 0, 255]);
        assert_eq!(&flat.data[4 * 3..4 * 3 + 3], &[128, 0, 127]);
        let keep = embed(red, &g, Rgba { a: 0, ..bg }, true).unwrap();
        assert_eq!(keep.layout, Layout::Rgba);
        assert_eq!(&keep.data[..4], &[0, 0, 255, 0]);
        assert_eq!(&keep.data[16..20], &[255, 0, 0, 128]);
        // Opaque image, opaque background: RGB even if alpha could be kept.
        let gray = solid(4, 2, Layout::Gray, &[50]);
        let boxed = embed(gray, &g, Rgba::WHITE, true).unwrap();
        assert_eq!(boxed.layout, Layout::Rgb);
        assert_eq!(&boxed.data[12..15], &[50, 50, 50]);
    }
}
