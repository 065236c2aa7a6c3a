//! Colour management: convert decoded pixels to sRGB using the embedded ICC profile
//! (RGB matrix/LUT, gray, CMYK) with `moxcms`. The output is always `Rgb` or `Rgba`.
//!
//! A profile we cannot use (malformed, unsupported, wrong colour space for the
//! pixels) is ignored and the pixels are taken as sRGB: a missing colour correction
//! is better than a failed request.

use std::panic::{catch_unwind, AssertUnwindSafe};

use moxcms::{ColorProfile, DataColorSpace, Layout as CmsLayout, TransformOptions};

use crate::error::{Error, Result};
use crate::raster::{Layout, Raster};

/// Pixels per call into the transform: large enough to amortise the call, small
/// enough that the scratch buffer stays in cache.
const CHUNK_PIXELS: usize = 16 * 1024;

/// Convert to sRGB using the embedded ICC profile (RGB, Gray, CMYK). Output layout
/// is always Rgb or Rgba (Gray→Rgb, GrayAlpha→Rgba, Cmyk→Rgb). No profile: assume
/// sRGB (CMYK without a profile: a plain naive conversion). An invalid or
/// unsupported profile is ignored, never an error.
pub fn to_srgb(raster: Raster, icc: Option<&[u8]>) -> Result<Raster> {
    if icc.is_none() && matches!(raster.layout, Layout::Rgb | Layout::Rgba) {
        return Ok(raster); // sRGB assumed: nothing to do, nothing to compile
    }
    convert(raster, icc)
}

#[inline(never)]
fn convert(raster: Raster, icc: Option<&[u8]>) -> Result<Raster> {
    let profile = icc.and_then(parse_profile);
    let profile = profile.as_ref();
    match raster.layout {
        Layout::Rgb | Layout::Rgba => rgb_to_srgb(raster, profile),
        Layout::Gray | Layout::GrayAlpha => Ok(gray_to_srgb(raster, profile)),
        Layout::Cmyk => cmyk_to_srgb(raster, profile),
    }
}

fn parse_profile(icc: &[u8]) -> Option<ColorProfile> {
    // moxcms validates its input, but a panic on hostile bytes must not take the
    // request down (in wasm it would abort the instance).
    catch_unwind(|| ColorProfile::new_from_slice(icc).ok())
        .ok()
        .flatten()
}

fn options() -> TransformOptions {
    // Perceptual is what browsers use for LUT profiles (CMYK); matrix/shaper
    // profiles give the same result for every intent.
    TransformOptions {
        rendering_intent: moxcms::RenderingIntent::Perceptual,
        ..Default::default()
    }
}

type Transform = std::sync::Arc<moxcms::Transform8BitExecutor>;

fn make_transform(profile: &ColorProfile, src: CmsLayout, dst: CmsLayout) -> Option<Transform> {
    let srgb = ColorProfile::new_srgb();
    catch_unwind(AssertUnwindSafe(|| {
        profile.create_transform_8bit(src, &srgb, dst, options())
    }))
    .ok()?
    .ok()
}

fn transform_failed(e: moxcms::CmsError) -> Error {
    Error::internal(format!("colour transform failed: {e:?}"))
}

// ---------------------------------------------------------------------------------
// RGB

fn rgb_to_srgb(mut raster: Raster, profile: Option<&ColorProfile>) -> Result<Raster> {
    let Some(profile) = profile.filter(|p| p.color_space == DataColorSpace::Rgb) else {
        return Ok(raster);
    };
    let layout = if raster.layout == Layout::Rgba {
        CmsLayout::Rgba
    } else {
        CmsLayout::Rgb
    };
    let Some(transform) = make_transform(profile, layout, layout) else {
        return Ok(raster);
    };
    let channels = raster.layout.channels();
    if is_identity(&transform, channels)? {
        // sRGB or equivalent: skip a transform that would cost a pass over every pixel.
        return Ok(raster);
    }
    let mut scratch = vec![0u8; CHUNK_PIXELS * channels];
    for chunk in raster.data.chunks_mut(CHUNK_PIXELS * channels) {
        let out = &mut scratch[..chunk.len()];
        transform.transform(chunk, out).map_err(transform_failed)?;
        chunk.copy_from_slice(out);
    }
    Ok(raster)
}

/// True when the transform maps every colour of a 9×9×9 grid to itself within one
/// level: the profile is sRGB in all but name.
fn is_identity(transform: &Transform, channels: usize) -> Result<bool> {
    const STEPS: [u8; 9] = [0, 16, 32, 64, 96, 128, 176, 224, 255];
    let mut grid = Vec::with_capacity(STEPS.len().pow(3) * channels);
    for r in STEPS {
        for g in STEPS {
            for b in STEPS {
                grid.extend_from_slice(&[r, g, b, 255][..channels]);
            }
        }
    }
    let mut out = vec![0u8; grid.len()];
    transform
        .transform(&grid, &mut out)
        .map_err(transform_failed)?;
    Ok(grid.iter().zip(&out).all(|(a, b)| a.abs_diff(*b) <= 1))
}

// ---------------------------------------------------------------------------------
// Gray: a 256-entry table gives the colour-managed RGB for every gray level, then
// one expanding pass.

fn gray_to_srgb(raster: Raster, profile: Option<&ColorProfile>) -> Raster {
    let table = profile
        .filter(|p| p.color_space == DataColorSpace::Gray)
        .and_then(gray_table)
        .unwrap_or_else(|| std::array::from_fn(|i| [i as u8; 3]));
    let Raster {
        width,
        height,
        layout,
        data,
    } = raster;
    if layout == Layout::GrayAlpha {
        let mut out = Vec::with_capacity(data.len() * 2);
        for px in data.chunks_exact(2) {
            let [r, g, b] = table[px[0] as usize];
            out.extend_from_slice(&[r, g, b, px[1]]);
        }
        Raster::new(width, height, Layout::Rgba, out)
    } else {
        let mut out = Vec::with_capacity(data.len() * 3);
        for &v in &data {
            out.extend_from_slice(&table[v as usize]);
        }
        Raster::new(width, height, Layout::Rgb, out)
    }
}

fn gray_table(profile: &ColorProfile) -> Option<[[u8; 3]; 256]> {
    let transform = make_transform(profile, CmsLayout::Gray, CmsLayout::Rgb)?;
    let src: Vec<u8> = (0..=255).collect();
    let mut out = vec![0u8; 256 * 3];
    transform.transform(&src, &mut out).ok()?;
    Some(std::array::from_fn(|i| {
        [out[3 * i], out[3 * i + 1], out[3 * i + 2]]
    }))
}

// ---------------------------------------------------------------------------------
// CMYK (plain, 0 = no ink) → RGB, compacted in place: chunk i is read from
// `[4a, 4b)` and written to `[3a, 3b)`, which never reaches unread input.

fn cmyk_to_srgb(raster: Raster, profile: Option<&ColorProfile>) -> Result<Raster> {
    let transform = profile
        .filter(|p| p.color_space == DataColorSpace::Cmyk)
        .and_then(|p| make_transform(p, CmsLayout::Rgba, CmsLayout::Rgb));
    let Raster {
        width,
        height,
        mut data,
        ..
    } = raster;
    let pixels = data.len() / 4;
    match transform {
        Some(transform) => {
            let mut scratch = vec![0u8; CHUNK_PIXELS * 3];
            let mut start = 0;
            while start < pixels {
                let end = (start + CHUNK_PIXELS).min(pixels);
                let out = &mut scratch[..(end - start) * 3];
                transform
                    .transform(&data[start * 4..end * 4], out)
                    .map_err(transform_failed)?;
                data[start * 3..end * 3].copy_from_slice(out);
                start = end;
            }
        }
        None => {
            for i in 0..pixels {
                let [c, m, y, k] = [
                    data[4 * i],
                    data[4 * i + 1],
                    data[4 * i + 2],
                    data[4 * i + 3],
                ];
                let white = 255 - k as u32;
                let ink = |v: u8| (((255 - v as u32) * white + 127) / 255) as u8;
                data[3 * i] = ink(c);
                data[3 * i + 1] = ink(m);
                data[3 * i + 2] = ink(y);
            }
        }
    }
    data.truncate(pixels * 3);
    Ok(Raster::new(width, height, Layout::Rgb, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(pixels: &[[u8; 3]]) -> Raster {
        Raster::new(pixels.len() as u32, 1, Layout::Rgb, pixels.concat())
    }

    fn encode(profile: &ColorProfile) -> Vec<u8> {
        profile.encode().expect("moxcms can write its own profiles")
    }

    #[test]
    fn no_profile_or_junk_profile_leaves_rgb_alone() {
        let r = rgb(&[[10, 200, 30], [255, 0, 0]]);
        assert_eq!(to_srgb(r.clone(), None).unwrap(), r);
        assert_eq!(to_srgb(r.clone(), Some(b"not a profile")).unwrap(), r);
        assert_eq!(to_srgb(r.clone(), Some(&[])).unwrap(), r);
        let srgb = encode(&ColorProfile::new_srgb());
        assert_eq!(to_srgb(r.clone(), Some(&srgb)).unwrap(), r);
    }

    #[test]
    fn wide_gamut_primaries_become_more_saturated_in_srgb() {
        for profile in [
            ColorProfile::new_display_p3(),
            ColorProfile::new_adobe_rgb(),
        ] {
            let icc = encode(&profile);
            let out = to_srgb(rgb(&[[200, 40, 40], [128, 128, 128]]), Some(&icc)).unwrap();
            let red = &out.data[0..3];
            // The same numbers mean a more saturated colour in the wider space.
            assert!(red[0] > 200 && red[1] < 40 && red[2] < 40, "{red:?}");
            // Neutral stays neutral.
            let gray = &out.data[3..6];
            assert!(gray.iter().all(|v| v.abs_diff(gray[0]) <= 1), "{gray:?}");
        }
    }

    #[test]
    fn rgba_keeps_alpha() {
        let icc = encode(&ColorProfile::new_display_p3());
        let r = Raster::new(1, 1, Layout::Rgba, vec![200, 40, 40, 77]);
        let out = to_srgb(r, Some(&icc)).unwrap();
        assert_eq!(out.layout, Layout::Rgba);
        assert_eq!(out.data[3], 77);
        assert!(out.data[0] > 200);
    }

    #[test]
    fn gray_expands_to_rgb() {
        let r = Raster::new(3, 1, Layout::Gray, vec![0, 128, 255]);
        let out = to_srgb(r.clone(), None).unwrap();
        assert_eq!(
            (out.layout, out.data),
            (Layout::Rgb, vec![0, 0, 0, 128, 128, 128, 255, 255, 255])
        );
        let ga = Raster::new(1, 1, Layout::GrayAlpha, vec![9, 8]);
        assert_eq!(to_srgb(ga, None).unwrap().data, [9, 9, 9, 8]);
        // Gamma 2.2 gray is close to sRGB but not equal in the shadows; still neutral.
        let icc = encode(&ColorProfile::new_gray_with_gamma(2.2));
        let out = to_srgb(r, Some(&icc)).unwrap();
        assert_eq!(&out.data[0..3], [0, 0, 0]);
        assert_eq!(&out.data[6..9], [255, 255, 255]);
        let mid = &out.data[3..6];
        assert!(
            mid.iter().all(|&v| v == mid[0] && v.abs_diff(128) <= 4),
            "{mid:?}"
        );
    }

    #[test]
    fn cmyk_without_profile_is_naive() {
        let r = Raster::new(
            3,
            1,
            Layout::Cmyk,
            vec![0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255],
        );
        let out = to_srgb(r, None).unwrap();
        assert_eq!(out.layout, Layout::Rgb);
        assert_eq!(out.data, [255, 255, 255, 0, 255, 255, 0, 0, 0]);
    }

    #[test]
    fn profile_for_another_colour_space_is_ignored() {
        let gray_icc = encode(&ColorProfile::new_gray_with_gamma(2.2));
        let r = rgb(&[[10, 20, 30]]);
        assert_eq!(to_srgb(r.clone(), Some(&gray_icc)).unwrap(), r);
        let p3 = encode(&ColorProfile::new_display_p3());
        let g = Raster::new(1, 1, Layout::Gray, vec![50]);
        assert_eq!(to_srgb(g, Some(&p3)).unwrap().data, [50, 50, 50]);
    }
}
