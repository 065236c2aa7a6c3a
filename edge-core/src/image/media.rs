//! The two inputs that do not follow the still-raster pipeline: animations and SVG.
//!
//! [`transform_special`] is the pipeline's first step: it answers for an SVG (always)
//! and for an animated GIF/WebP when the output keeps the animation, and returns
//! `None` for everything else (stills, `anim=0`, JPEG/PNG/AVIF outputs), which then
//! take the still pipeline and its first-frame decode.
//!
//! Animation job: probe (frames, canvas, loop) → limits (frames, total input and
//! output pixels) → for each composited frame: resize (crop + resample + letterbox)
//! → encode all frames (animated WebP or GIF). Frames are composited before the
//! resize (as sharp/libvips do), so each output frame is a full canvas that shows
//! what the source showed at that time, with the source's delay; the source's
//! disposal is applied while compositing, which is why the output looks the same.

use crate::composite;
use crate::config::{Config, Policy};
use crate::decode::animation::{self, AnimationInfo};
use crate::decode::svg;
use crate::encode;
use crate::encode::gif::AnimationFrame;
use crate::error::{Error, Result};
use crate::geometry::{self, Target};
use crate::resize;
use crate::sniff;
use crate::types::{Format, OutputFormat, Rgba, SourceFormat, Variant};

/// One encoded output of this step (the pipeline wraps it in its `Output`; this
/// module sits below the pipeline, so it does not use the pipeline's type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

/// Which job an input and variant take, decided from the header alone (the cost
/// estimate and [`transform_special`] share it, so both agree on the path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// An SVG document: rasterised at the output size.
    Svg,
    /// An animated GIF/WebP that stays animated, in `format`.
    Animated { info: AnimationInfo, format: Format },
}

/// The special job for `input`, or `None` for the still pipeline. Applies the byte and
/// header limits on the way, as the still pipeline does.
pub fn special_job(input: &[u8], v: &Variant, cfg: &Config) -> Result<Option<Special>> {
    if svg::looks_like_svg(input) {
        if input.len() as u64 > cfg.limits.max_input_bytes {
            return Err(Error::limit_exceeded(format!(
                "input is {} bytes, over the limit of {} bytes",
                input.len(),
                cfg.limits.max_input_bytes
            )));
        }
        return Ok(Some(Special::Svg));
    }
    if !v.animate {
        return Ok(None);
    }
    let Ok(source) = sniff::sniff(input) else {
        return Ok(None);
    };
    if !matches!(source, SourceFormat::Gif | SourceFormat::Webp) {
        return Ok(None);
    }
    sniff::read_header(input, &cfg.limits)?;
    let info = animation::probe(input)?.filter(AnimationInfo::is_animated);
    let Some(info) = info else { return Ok(None) };
    Ok(animated_format(v, source, &cfg.policy).map(|format| Special::Animated { info, format }))
}

/// Answers for SVG and animated inputs; `Ok(None)`: use the still pipeline.
pub fn transform_special(input: &[u8], v: &Variant, cfg: &Config) -> Result<Option<Output>> {
    match special_job(input, v, cfg)? {
        None => Ok(None),
        Some(Special::Svg) => transform_svg(input, v, cfg).map(Some),
        Some(Special::Animated { info, format }) => {
            transform_animated(input, &info, v, format, cfg).map(Some)
        }
    }
}

/// Output geometry of an animation (every frame is one canvas, resized alike).
pub fn animation_geometry(info: &AnimationInfo, v: &Variant, cfg: &Config) -> geometry::Geometry {
    geometry::geometry(info.width, info.height, &Target::new(v, &cfg.policy))
}

/// Output geometry of an SVG: a vector is scaled up as freely as down when a size is
/// asked for.
pub fn svg_geometry(image: &svg::Svg, v: &Variant, cfg: &Config) -> geometry::Geometry {
    let mut target = Target::new(v, &cfg.policy);
    target.enlarge = v.width.is_some() || v.height.is_some();
    geometry::geometry(image.width, image.height, &target)
}

/// The raster format an SVG is served as.
pub fn svg_format(v: &Variant) -> Format {
    match v.format {
        OutputFormat::Fixed(f) => f,
        // Legacy clients and "same format as the source" both get PNG: an SVG is
        // never served as SVG, and a vector drawing wants a lossless raster.
        OutputFormat::Legacy | OutputFormat::Source => Format::Png,
    }
}

/// The animated output for an animated source, or None when the output is a still.
pub fn animated_format(v: &Variant, source: SourceFormat, policy: &Policy) -> Option<Format> {
    let enabled = |f: Format| policy.formats.contains(&f).then_some(f);
    match v.format {
        OutputFormat::Fixed(f @ (Format::Webp | Format::Gif)) => Some(f),
        // Negotiated AVIF: no animated AVIF encoder; every browser that accepts AVIF
        // accepts WebP.
        OutputFormat::Fixed(Format::Avif) if v.negotiated => enabled(Format::Webp),
        OutputFormat::Fixed(_) => None,
        OutputFormat::Legacy => enabled(Format::Gif),
        // Source keeps WebP; a GIF source gives PNG (what it gave before GIF output
        // existed), so its first frame.
        OutputFormat::Source => match source {
            SourceFormat::Webp => enabled(Format::Webp),
            _ => None,
        },
    }
}

fn transform_animated(
    input: &[u8],
    info: &AnimationInfo,
    v: &Variant,
    format: Format,
    cfg: &Config,
) -> Result<Output> {
    info.check_limits(&cfg.limits)?;
    let geometry = animation_geometry(info, v, cfg);
    geometry.check_within(&cfg.policy)?;
    let output_pixels =
        u64::from(geometry.width) * u64::from(geometry.height) * u64::from(info.frames);
    if output_pixels > cfg.limits.max_animation_pixels {
        return Err(Error::limit_exceeded(format!(
            "{} output frames of {}x{} = {output_pixels} pixels, over the limit of {} pixels",
            info.frames, geometry.width, geometry.height, cfg.limits.max_animation_pixels
        )));
    }
    let background = v.background.unwrap_or(Rgba::WHITE);
    let mut frames: Vec<AnimationFrame> = Vec::with_capacity(info.frames as usize);
    animation::decode_frames(input, info, &cfg.limits, &mut |frame| {
        let raster = resize::resample_stored(
            frame.raster.clone(),
            &geometry,
            crate::types::Orientation::default(),
        )?;
        let raster = composite::embed(raster, &geometry, background, true)?;
        frames.push(AnimationFrame {
            raster,
            delay_ms: frame.delay_ms,
        });
        Ok(())
    })?;
    let bytes = match format {
        Format::Gif => encode::gif::encode_animation(&frames, info.loop_count)?,
        _ => {
            let quality = v
                .quality
                .or(cfg.policy.quality.for_format(Format::Webp))
                .unwrap_or(80);
            encode::webp_anim::encode_animation(&frames, info.loop_count, quality)?
        }
    };
    Ok(Output {
        bytes,
        format,
        width: geometry.width,
        height: geometry.height,
    })
}

/// SVG: rasterised at the output size (a vector has no resolution, so it is scaled
/// up as freely as down), always to a raster format (PNG unless a format was asked).
fn transform_svg(input: &[u8], v: &Variant, cfg: &Config) -> Result<Output> {
    let image = svg::parse(input, &cfg.limits)?;
    let geometry = svg_geometry(&image, v, cfg);
    geometry.check_within(&cfg.policy)?;
    let raster = svg::render(
        &image,
        geometry.scaled_width,
        geometry.scaled_height,
        geometry.crop,
        &cfg.limits,
    )?;
    let format = svg_format(v);
    let background = v.background.unwrap_or(Rgba::WHITE);
    let raster = composite::embed(raster, &geometry, background, format != Format::Jpeg)?;
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
