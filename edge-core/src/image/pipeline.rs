//! The image pipeline: original bytes + `Variant`s → encoded outputs, as an ordered
//! list of steps over one job context (imgproxy's `processing/` is the model).
//!
//! A [`Job`] reads the header once (format, size, limits: bombs stop here), plans the
//! geometry of each variant once, decodes once at no more resolution than the largest
//! variant needs, then runs [`STEPS`] for each variant on its own [`Frame`], timing
//! every step by its stage name. Two steps run on the *small* image for speed, which
//! gives the same pixels: orientation is a pure permutation, so the stored pixels are
//! cropped and resampled to the (axis-swapped) target first and turned upright
//! afterwards; an RGB/gray ICC transform commutes with resampling up to rounding.
//! CMYK is converted before resampling (the resampler works on RGB).

use crate::clock::{default_clock, Clock, Timings};
use crate::colour;
use crate::composite;
use crate::config::{Config, Policy};
use crate::cost;
use crate::decode::{self, Decoded};
use crate::encode;
use crate::error::{Error, Result};
use crate::geometry::{self, Geometry, Target};
use crate::orient;
use crate::raster::{Layout, Raster};
use crate::resize;
use crate::sniff::{self, Header, Probe};
use crate::types::{Format, Orientation, OutputFormat, Rgba, SourceFormat, Variant};

mod ops_steps;

/// One encoded output.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// Time per stage in ms (`header`, `decode`, `colour`, `resize`, `orient`,
    /// `compose`, `encode`); zeros when the job had no clock.
    pub timings: Timings,
}

/// Produces the variant `v` of the original image `input` (native clock).
pub fn transform(input: &[u8], v: &Variant, cfg: &Config) -> Result<Output> {
    transform_with_clock(input, v, cfg, default_clock())
}

/// [`transform`] with the caller's clock (wasm has none of its own).
pub fn transform_with_clock(
    input: &[u8],
    v: &Variant,
    cfg: &Config,
    clock: Clock,
) -> Result<Output> {
    // SVG and animations that stay animated have their own job (`media`).
    let mut media_timings = Timings::default();
    let special = media_timings.time(clock, "media", || {
        crate::media::transform_special(input, v, cfg)
    })?;
    if let Some(out) = special {
        return Ok(Output {
            bytes: out.bytes,
            format: out.format,
            width: out.width,
            height: out.height,
            timings: media_timings,
        });
    }
    let mut job = Job::start(input, cfg, clock)?;
    let plan = job.plan(v)?;
    let source = job.decode(plan.min_decode_size)?;
    let mut out = job.render(source, v, &plan)?;
    let mut timings = job.timings.clone();
    timings.merge(&out.timings);
    out.timings = timings;
    Ok(out)
}

/// The original as decoded once for a job, with its upright size.
#[derive(Debug, Clone)]
pub struct Source {
    pub decoded: Decoded,
    /// Upright (EXIF-oriented) size of the whole original.
    pub width: u32,
    pub height: u32,
}

/// One variant's plan, made from the header before anything is decoded.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub target: Target,
    /// The geometry when the image is upright as stored, and when the orientation
    /// (known only after decoding) swaps the axes.
    pub upright: Geometry,
    pub turned: Geometry,
    /// Smallest stored size the decoder may shrink to on load (None = full size).
    pub min_decode_size: Option<(u32, u32)>,
}

/// The job context: one original, its header read once, the shared stage timings.
pub struct Job<'a> {
    input: &'a [u8],
    cfg: &'a Config,
    clock: Clock,
    probe: Probe,
    /// `header` and `decode`: the stages shared by every output of the job.
    pub timings: Timings,
}

impl<'a> Job<'a> {
    /// Step `header`: sniff the format, read the header and enforce the input limits
    /// before any pixel buffer exists.
    pub fn start(input: &'a [u8], cfg: &'a Config, clock: Clock) -> Result<Job<'a>> {
        let mut timings = Timings::default();
        let probe = timings.time(clock, "header", || sniff::probe_checked(input, &cfg.limits))?;
        Ok(Job {
            input,
            cfg,
            clock,
            probe,
            timings,
        })
    }

    pub fn header(&self) -> Header {
        self.probe.header
    }

    /// Plans variant `v`: its geometry either way up (the EXIF orientation is only
    /// known after decoding), refusing early only what is over the output limits both
    /// ways, and how far the decoder may shrink on load.
    pub fn plan(&self, v: &Variant) -> Result<Plan> {
        let Header { width, height, .. } = self.probe.header;
        let target = Target::new(v, &self.cfg.policy);
        // The picture the resize sees: the region when `rect` cuts one (given upright,
        // so the same either way), turned by `rot`.
        let (as_stored, swapped) = match v.ops.rect {
            Some(r) => ((r.width, r.height), (r.width, r.height)),
            None => ((width, height), (height, width)),
        };
        let sideways = v.ops.turns_sideways();
        let turn = |(w, h): (u32, u32)| if sideways { (h, w) } else { (w, h) };
        let (uw, uh) = turn(as_stored);
        let (tw, th) = turn(swapped);
        let upright = geometry::geometry(uw, uh, &target);
        let turned = geometry::geometry(tw, th, &target);
        let policy = &self.cfg.policy;
        // A JPEG's EXIF orientation is in its header (APP1 comes before the frame), so
        // only the geometry it gives must fit; otherwise the orientation is only known
        // after decoding, and only what is over the output limits both ways is refused.
        match cost::orientation_from_header(self.input, self.probe.header.format) {
            Some(5..=8) => turned.check_within(policy)?,
            Some(_) => upright.check_within(policy)?,
            None => upright
                .check_within(policy)
                .or_else(|e| turned.check_within(policy).map_err(|_| e))?,
        }
        // Memory for the whole transform, reserved before any codec runs (a failed
        // allocation inside a codec would abort the wasm instance).
        cost::reserve_memory(
            cost::estimate_probed(&self.probe, self.input, v, self.cfg)?.memory_bytes,
        )?;
        // A region is decoded at full size (its share of a shrunk image would need
        // its own floor); `rot` swaps which geometry matches the stored axes.
        let min_decode_size = match (v.ops.rect, sideways) {
            (Some(_), _) => None,
            (None, false) => geometry::decode_floor(&upright, &turned, width, height),
            (None, true) => geometry::decode_floor(&turned, &upright, width, height),
        };
        Ok(Plan {
            target,
            upright,
            turned,
            min_decode_size,
        })
    }

    /// Step `decode`, once per job: at no less than `min_size` (the largest of the
    /// plans' floors; see [`largest_floor`]), with the header already read.
    pub fn decode(&mut self, min_size: Option<(u32, u32)>) -> Result<Source> {
        let (input, probe, limits) = (self.input, &self.probe, &self.cfg.limits);
        let decoded = self.timings.time(self.clock, "decode", || {
            decode::decode_probed(input, probe, limits, min_size)
        })?;
        let (width, height) = orient::oriented_size(
            decoded.source_width,
            decoded.source_height,
            decoded.orientation,
        );
        Ok(Source {
            decoded,
            width,
            height,
        })
    }

    /// Runs [`STEPS`] for variant `v` (planned by [`Job::plan`]) on `source`.
    pub fn render(&self, source: Source, v: &Variant, plan: &Plan) -> Result<Output> {
        let Decoded {
            raster,
            format: source_format,
            orientation,
            icc,
            source_width,
            source_height,
        } = source.decoded;
        // The planned geometry, unless the decoder reported another size (AVIF clean
        // aperture) than the header.
        let header = self.probe.header;
        let geometry = if v.ops.rect.is_some() {
            plan.upright
        } else if (source_width, source_height) == (header.width, header.height) {
            if orient::swaps_axes(orientation) {
                plan.turned
            } else {
                plan.upright
            }
        } else if v.ops.turns_sideways() {
            geometry::geometry(source.height, source.width, &plan.target)
        } else {
            geometry::geometry(source.width, source.height, &plan.target)
        };
        geometry.check_within(&self.cfg.policy)?;
        let mut frame = Frame {
            variant: v,
            policy: &self.cfg.policy,
            source_format,
            orientation: Orientation::from_tag(orientation),
            exif: Orientation::from_tag(orientation),
            stored_size: (source_width, source_height),
            marks: &self.cfg.watermarks,
            icc: icc.as_deref(),
            cmyk: raster.layout == Layout::Cmyk,
            geometry,
            raster,
            background: v.background.unwrap_or(Rgba::WHITE),
            format: Format::Jpeg,
            bytes: Vec::new(),
        };
        let mut timings = Timings::default();
        for (stage, step) in STEPS {
            timings.time(self.clock, stage, || step(&mut frame))?;
        }
        Ok(Output {
            width: frame.raster.width,
            height: frame.raster.height,
            bytes: frame.bytes,
            format: frame.format,
            timings,
        })
    }
}

/// The floor that serves every plan: the largest of their decode sizes, full size
/// as soon as one needs it.
pub fn largest_floor(plans: &[Plan]) -> Option<(u32, u32)> {
    let mut floor = (0, 0);
    for plan in plans {
        let (w, h) = plan.min_decode_size?;
        floor = (floor.0.max(w), floor.1.max(h));
    }
    (!plans.is_empty()).then_some(floor)
}

/// One output's working state: what the steps read and write.
pub struct Frame<'a> {
    pub variant: &'a Variant,
    pub policy: &'a Policy,
    pub source_format: SourceFormat,
    /// How the stored pixels are turned into the output: the EXIF orientation, then
    /// `rot` and `flip` once `region_and_turn` has run.
    pub orientation: Orientation,
    /// The EXIF orientation alone.
    pub exif: Orientation,
    /// Stored size of the whole original (before shrink-on-load and `rect`).
    pub stored_size: (u32, u32),
    /// The config's watermarks, for `wm`.
    pub marks: &'a std::collections::BTreeMap<String, crate::watermarks::WatermarkSpec>,
    pub icc: Option<&'a [u8]>,
    /// CMYK input: converted to sRGB before resampling, not after.
    pub cmyk: bool,
    pub geometry: Geometry,
    pub raster: Raster,
    /// Letterbox colour, and the colour alpha is flattened onto for JPEG.
    pub background: Rgba,
    /// The output format, settled by `compose`.
    pub format: Format,
    pub bytes: Vec<u8>,
}

/// One step of the pipeline: reads and updates the frame.
pub type Step = fn(&mut Frame<'_>) -> Result<()>;

/// The per-output steps, in order, each with the stage it is timed as. A new image
/// operation is one entry here (and its parameter in `request::params`).
pub const STEPS: &[(&str, Step)] = &[
    ("region", ops_steps::region_and_turn),
    ("colour", cmyk_to_srgb),
    ("focus", ops_steps::focus),
    ("resize", resample),
    ("orient", orient_upright),
    ("colour", icc_to_srgb),
    ("filter", ops_steps::filters),
    ("compose", compose),
    ("watermark", ops_steps::watermark),
    ("encode", encode_output),
];

/// CMYK → sRGB first: the resampler works on RGB.
fn cmyk_to_srgb(f: &mut Frame<'_>) -> Result<()> {
    if f.cmyk {
        f.raster = colour::to_srgb(take(&mut f.raster), f.icc)?;
    }
    Ok(())
}

/// Crop (cover) and resample the stored pixels to the target as the stored
/// orientation sees it.
fn resample(f: &mut Frame<'_>) -> Result<()> {
    f.raster = resize::resample_stored(take(&mut f.raster), &f.geometry, f.orientation)?;
    Ok(())
}

/// Upright, now on the small image.
fn orient_upright(f: &mut Frame<'_>) -> Result<()> {
    f.raster = orient::apply(take(&mut f.raster), f.orientation);
    Ok(())
}

/// Embedded ICC profile → sRGB (output is RGB or RGBA).
fn icc_to_srgb(f: &mut Frame<'_>) -> Result<()> {
    if !f.cmyk {
        f.raster = colour::to_srgb(take(&mut f.raster), f.icc)?;
    }
    Ok(())
}

/// Settle the output format (legacy/source depend on actual transparency) and
/// letterbox (`contain`).
fn compose(f: &mut Frame<'_>) -> Result<()> {
    let transparent =
        composite::has_transparency(&f.raster) || (f.geometry.is_padded() && f.background.a != 255);
    f.format = output_format(f.variant.format, f.source_format, transparent, f.policy);
    f.raster = composite::embed(
        take(&mut f.raster),
        &f.geometry,
        f.background,
        f.format != Format::Jpeg,
    )?;
    Ok(())
}

/// Encode without metadata.
fn encode_output(f: &mut Frame<'_>) -> Result<()> {
    let quality = f
        .variant
        .quality
        .or(f.policy.quality.for_format(f.format))
        .unwrap_or(80);
    f.bytes = encode::encode(&f.raster, f.format, quality, f.background)?;
    Ok(())
}

fn take(raster: &mut Raster) -> Raster {
    std::mem::replace(raster, Raster::new(0, 0, Layout::Rgb, Vec::new()))
}

/// What the original of a [`transform_many`] call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    pub format: SourceFormat,
    /// Upright size.
    pub width: u32,
    pub height: u32,
}

/// The result of [`transform_many`]: the original, the shared stages (`header`,
/// `decode`), and one result per variant in the order asked.
#[derive(Debug)]
pub struct Many {
    pub source: SourceInfo,
    pub timings: Timings,
    pub outputs: Vec<Result<Output>>,
}

/// Decodes `input` once (at no more resolution than the largest variant needs) and
/// makes every variant from it. Errors of one variant (output limits) are its own;
/// an unreadable original (sniff, limits, decode) fails the whole call.
pub fn transform_many(
    input: &[u8],
    variants: &[Variant],
    cfg: &Config,
    clock: Clock,
) -> Result<Many> {
    let mut job = Job::start(input, cfg, clock)?;
    let plans: Vec<Result<Plan>> = variants.iter().map(|v| job.plan(v)).collect();
    let ok: Vec<Plan> = plans
        .iter()
        .filter_map(|p| p.as_ref().ok().copied())
        .collect();
    // With no variant left, still decode (as small as possible) so that a broken
    // original fails the call as promised.
    let floor = if ok.is_empty() {
        Some((1, 1))
    } else {
        largest_floor(&ok)
    };
    let source = job.decode(floor)?;
    let info = SourceInfo {
        format: source.decoded.format,
        width: source.width,
        height: source.height,
    };
    let last = plans.iter().rposition(Result::is_ok);
    let mut source = Some(source);
    let mut outputs = Vec::with_capacity(variants.len());
    for (i, (v, plan)) in variants.iter().zip(plans).enumerate() {
        outputs.push(plan.and_then(|plan| {
            // The last user takes the decoded image, the others work on a copy.
            let src = if Some(i) == last {
                source.take()
            } else {
                source.clone()
            };
            let src = src.ok_or_else(|| Error::internal("decoded source used twice"))?;
            job.render(src, v, &plan)
        }));
    }
    Ok(Many {
        source: info,
        timings: job.timings,
        outputs,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Fit;

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
