//! The image pipeline in one place: original bytes + `Variant` → encoded output.
//!
//! [`transform`] lists the steps in order. Two of them run on the *small* image for
//! speed, which gives the same pixels: orientation is a pure permutation, so the
//! stored pixels are cropped and resampled to the (axis-swapped) target first and
//! turned upright afterwards; an RGB/gray ICC transform commutes with resampling up
//! to rounding. CMYK is converted before resampling (the resampler works on RGB).

use crate::colour;
use crate::config::{Config, Format, Policy};
use crate::cost;
use crate::decode;
use crate::encode;
use crate::error::{Error, Result};
use crate::orient;
use crate::plan::{OutputFormat, Rgba, Variant};
use crate::raster::Layout;
use crate::resize::{self, Geometry, Target};
use crate::sniff::{self, SourceFormat};

/// One encoded output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

/// Produces the variant `v` of the original image `input`.
pub fn transform(input: &[u8], v: &Variant, cfg: &Config) -> Result<Output> {
    // 1. Sniff the format, read the header and enforce the input limits before any
    //    pixel buffer exists (bombs stop here).
    let header = sniff::read_header(input, &cfg.limits)?;

    // 2. Plan the geometry. A JPEG's EXIF orientation is in its header (APP1 comes
    //    before the frame); for other formats it is only known after decoding, so
    //    refuse early only what is over the output limits either way up.
    let target = Target::new(v, &cfg.policy);
    let upright = resize::geometry(header.width, header.height, &target);
    let turned = resize::geometry(header.height, header.width, &target);
    match cost::orientation_from_header(input, header.format) {
        Some(5..=8) => check_output_size(&turned, &cfg.policy)?,
        Some(_) => check_output_size(&upright, &cfg.policy)?,
        None => check_output_size(&upright, &cfg.policy)
            .or_else(|e| check_output_size(&turned, &cfg.policy).map_err(|_| e))?,
    }
    // Memory for the whole transform, reserved before any codec runs (a failed
    // allocation inside a codec would abort the wasm instance).
    cost::reserve_memory(cost::estimate(input, v, cfg)?.memory_bytes)?;

    // 3. Decode, shrinking on load (JPEG) to no less than the scaled size.
    let min_size = resize::min_decode_size(header.width, header.height, &target);
    let decoded = decode::decode(input, &cfg.limits, min_size)?;
    let orientation = decoded.orientation;
    let (width, height) =
        orient::oriented_size(decoded.source_width, decoded.source_height, orientation);
    let geometry = resize::geometry(width, height, &target);
    check_output_size(&geometry, &cfg.policy)?;
    let icc = decoded.icc.as_deref();
    let mut raster = decoded.raster;
    let cmyk = raster.layout == Layout::Cmyk;
    if cmyk {
        raster = colour::to_srgb(raster, icc)?;
    }

    // 4. Resize: crop (cover) and resample the stored pixels to the target as the
    //    stored orientation sees it.
    raster = resize::resample_stored(raster, &geometry, orientation)?;

    // 5. Orient: upright, now on the small image.
    raster = orient::apply(raster, orientation);

    // 6. Colour: embedded ICC profile → sRGB (output is RGB or RGBA).
    if !cmyk {
        raster = colour::to_srgb(raster, icc)?;
    }

    // 7. Output format (legacy/source depend on actual transparency), letterbox
    //    (contain), encode without metadata.
    let background = v.background.unwrap_or(Rgba::WHITE);
    let transparent =
        resize::has_transparency(&raster) || (geometry.is_padded() && background.a != 255);
    let format = output_format(v.format, decoded.format, transparent, &cfg.policy);
    raster = resize::embed(raster, &geometry, background, format != Format::Jpeg)?;
    let quality = v
        .quality
        .or(cfg.policy.quality.for_format(format))
        .unwrap_or(80);
    let bytes = encode::encode(&raster, format, quality, background)?;
    Ok(Output {
        bytes,
        format,
        width: raster.width,
        height: raster.height,
    })
}

/// Settles `legacy` and `source` once the pixels are known: legacy is JPEG unless a
/// pixel is actually transparent (then PNG); source keeps the original's format when
/// the policy enables it (GIF → PNG), else falls back to legacy.
pub fn output_format(
    requested: OutputFormat,
    source: SourceFormat,
    transparent: bool,
    policy: &Policy,
) -> Format {
    let legacy = if transparent {
        Format::Png
    } else {
        Format::Jpeg
    };
    match requested {
        OutputFormat::Fixed(format) => format,
        OutputFormat::Legacy => legacy,
        OutputFormat::Source => {
            let same = if source == SourceFormat::Gif {
                Some(Format::Png)
            } else {
                source.as_output()
            };
            same.filter(|f| policy.formats.contains(f))
                .unwrap_or(legacy)
        }
    }
}

fn check_output_size(g: &Geometry, policy: &Policy) -> Result<()> {
    let pixels = u64::from(g.width) * u64::from(g.height);
    if g.width > policy.max_width
        || g.height > policy.max_height
        || pixels > policy.max_output_pixels
    {
        return Err(Error::limit_exceeded(format!(
            "output {}x{} is over the limits ({}x{}, {} pixels)",
            g.width, g.height, policy.max_width, policy.max_height, policy.max_output_pixels
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Fit;

    fn variant() -> Variant {
        Variant::new(OutputFormat::Source)
    }

    fn png_bytes(width: u32, height: u32, rgba: [u8; 4]) -> Vec<u8> {
        let raster = crate::raster::Raster::new(
            width,
            height,
            Layout::Rgba,
            rgba.repeat((width * height) as usize),
        );
        encode::png::encode(&raster).unwrap()
    }

    #[test]
    fn output_format_rules() {
        let p = Policy::default();
        let f = |r, s, t| output_format(r, s, t, &p);
        assert_eq!(
            f(OutputFormat::Legacy, SourceFormat::Png, false),
            Format::Jpeg
        );
        assert_eq!(
            f(OutputFormat::Legacy, SourceFormat::Jpeg, true),
            Format::Png
        );
        assert_eq!(
            f(OutputFormat::Source, SourceFormat::Gif, false),
            Format::Png
        );
        assert_eq!(
            f(OutputFormat::Source, SourceFormat::Webp, false),
            Format::Webp
        );
        assert_eq!(
            f(OutputFormat::Source, SourceFormat::Avif, true),
            Format::Avif
        );
        assert_eq!(
            f(OutputFormat::Fixed(Format::Avif), SourceFormat::Png, true),
            Format::Avif
        );
        let jpeg_png = Policy {
            formats: vec![Format::Jpeg, Format::Png],
            ..Policy::default()
        };
        assert_eq!(
            output_format(OutputFormat::Source, SourceFormat::Webp, true, &jpeg_png),
            Format::Png
        );
        assert_eq!(
            output_format(OutputFormat::Source, SourceFormat::Avif, false, &jpeg_png),
            Format::Jpeg
        );
    }

    #[test]
    fn source_png_stays_png_and_legacy_follows_alpha() {
        let cfg = Config::default();
        let opaque = png_bytes(40, 20, [1, 2, 3, 255]);
        let out = transform(&opaque, &variant(), &cfg).unwrap();
        assert_eq!((out.format, out.width, out.height), (Format::Png, 40, 20));
        let legacy = Variant {
            format: OutputFormat::Legacy,
            width: Some(10),
            ..variant()
        };
        let out = transform(&opaque, &legacy, &cfg).unwrap();
        assert_eq!((out.format, out.width, out.height), (Format::Jpeg, 10, 5));
        let clear = png_bytes(40, 20, [1, 2, 3, 100]);
        assert_eq!(
            transform(&clear, &legacy, &cfg).unwrap().format,
            Format::Png
        );
        // A translucent letterbox makes an opaque image transparent.
        let boxed = Variant {
            fit: Fit::Contain,
            width: Some(10),
            height: Some(10),
            background: Some(Rgba {
                r: 0,
                g: 0,
                b: 0,
                a: 0,
            }),
            ..legacy
        };
        let out = transform(&opaque, &boxed, &cfg).unwrap();
        assert_eq!((out.format, out.width, out.height), (Format::Png, 10, 10));
    }

    #[test]
    fn output_limits() {
        let cfg = Config::default();
        let img = png_bytes(10, 10, [9, 9, 9, 255]);
        let huge = Variant {
            width: Some(5000),
            enlarge: true,
            ..variant()
        };
        assert_eq!(
            transform(&img, &huge, &cfg).unwrap_err().code(),
            "limit_exceeded"
        );
        let small = Config {
            policy: Policy {
                max_output_pixels: 99,
                ..Policy::default()
            },
            ..Config::default()
        };
        assert_eq!(
            transform(&img, &variant(), &small).unwrap_err().code(),
            "limit_exceeded"
        );
        // No size asked: a source over the maximum box is fitted inside it.
        let boxed = Config {
            policy: Policy {
                max_width: 4,
                max_height: 8,
                ..Policy::default()
            },
            ..Config::default()
        };
        let out = transform(&img, &variant(), &boxed).unwrap();
        assert_eq!((out.width, out.height), (4, 4));
    }
}
