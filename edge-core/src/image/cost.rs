//! What a transform will cost, known from the header and the variant before any pixel
//! is decoded: the work in milliseconds (so the origin can refuse a variant that cannot
//! finish before its deadline) and the memory (reserved up front, so running out of
//! wasm memory is a 413 and not a trap in the middle of a codec).
//!
//! The time model is linear in pixels per stage, calibrated on this repo's wasm build
//! (Node 20, one core of the benchmark machine; see `scripts/load` and docs/security.md)
//! and rounded up: it is a budget check, not a prediction.

use crate::config::Config;
use crate::decode::animation::AnimationInfo;
use crate::decode::svg;
use crate::error::{Error, Result};
use crate::geometry::{self, Target};
use crate::media::{self, Special};
use crate::sniff::{self, Detail};
use crate::types::{Format, OutputFormat, SourceFormat, Variant};

/// Cost of one transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// Estimated wall time of the whole transform in ms (decode to encode).
    pub work_ms: u64,
    /// Upper estimate of the transform's peak memory in bytes.
    pub memory_bytes: u64,
    /// Pixels decoded (after shrink-on-load) and written.
    pub decoded_pixels: u64,
    pub output_pixels: u64,
}

// Nanoseconds per pixel, per stage (decode per decoded pixel, encode per output pixel).
fn decode_ns(detail: &Detail) -> u64 {
    match detail {
        Detail::Jpeg(_) => 20,
        Detail::Png { .. } => 15,
        Detail::Gif => 15,
        Detail::Webp { lossy: true, .. } => 40,
        Detail::Webp { lossy: false, .. } => 30,
        Detail::Avif { .. } => 100,
    }
}

fn encode_ns(format: Format) -> u64 {
    match format {
        Format::Jpeg => 50,
        Format::Png => 400,
        Format::Webp => 450,
        Format::Avif => 1_500,
        // Palette quantisation per frame.
        Format::Gif => 300,
    }
}

/// Rasterising an SVG per output pixel (paths, gradients, filters; a busy drawing).
const SVG_RENDER_NS: u64 = 200;
/// Parsing an SVG per input byte (XML, CSS, the usvg tree).
const SVG_BYTE_NS: u64 = 200;
/// Bytes of the usvg tree per input byte (a generous upper bound).
const SVG_TREE_BYTES_PER_BYTE: u64 = 64;

/// Resampling and colour work per source pixel read and per output pixel written.
const RESIZE_NS: u64 = 30;
/// Entropy decoding per input byte (JPEG Huffman, PNG inflate, ...).
const INPUT_BYTE_NS: u64 = 25;
/// Fixed cost of a call (parsing, allocation, small images).
const BASE_MS: u64 = 5;

/// Estimate the cost of producing `v` from `input` (header only; the limits of
/// `cfg.limits` are checked like `transform` does, so an input it would refuse is an
/// error here too).
pub fn estimate(input: &[u8], v: &Variant, cfg: &Config) -> Result<Estimate> {
    match media::special_job(input, v, cfg)? {
        Some(Special::Svg) => estimate_svg(input, v, cfg),
        Some(Special::Animated { info, format }) => {
            Ok(estimate_animation(input, &info, format, v, cfg))
        }
        None => estimate_still(input, v, cfg),
    }
}

fn estimate_svg(input: &[u8], v: &Variant, cfg: &Config) -> Result<Estimate> {
    let image = svg::parse(input, &cfg.limits)?;
    let g = media::svg_geometry(&image, v, cfg);
    let rendered = u64::from(g.scaled_width) * u64::from(g.scaled_height);
    let output_pixels = u64::from(g.width) * u64::from(g.height);
    let ns = input.len() as u64 * SVG_BYTE_NS
        + rendered * SVG_RENDER_NS
        + output_pixels * encode_ns(media::svg_format(v));
    Ok(Estimate {
        work_ms: BASE_MS + ns.div_ceil(1_000_000),
        memory_bytes: input.len() as u64 * SVG_TREE_BYTES_PER_BYTE
            + rendered * 4 * 2
            + output_pixels * 4 * 3,
        decoded_pixels: rendered,
        output_pixels,
    })
}

fn estimate_animation(
    input: &[u8],
    info: &AnimationInfo,
    format: Format,
    v: &Variant,
    cfg: &Config,
) -> Estimate {
    let g = media::animation_geometry(info, v, cfg);
    let frames = u64::from(info.frames);
    let canvas = u64::from(info.width) * u64::from(info.height);
    let frame_out = u64::from(g.width) * u64::from(g.height);
    let decode = match info.format {
        SourceFormat::Webp => 40,
        _ => 15,
    };
    let ns = input.len() as u64 * INPUT_BYTE_NS
        + frames * (canvas * (decode + RESIZE_NS) + frame_out * (RESIZE_NS + encode_ns(format)));
    Estimate {
        work_ms: BASE_MS + ns.div_ceil(1_000_000),
        // Two canvases (previous and current), every output frame kept for the
        // encoder, and the encoder's buffers for one frame.
        memory_bytes: canvas * 4 * 2 + frames * frame_out * 4 + frame_out * 4 * 3,
        decoded_pixels: frames * canvas,
        output_pixels: frames * frame_out,
    }
}

fn estimate_still(input: &[u8], v: &Variant, cfg: &Config) -> Result<Estimate> {
    estimate_probed(&sniff::probe(input, &cfg.limits)?, input, v, cfg)
}

/// The still-pipeline estimate from a header already read: the pipeline's job reuses
/// its own probe (the special jobs have been ruled out by then).
pub(crate) fn estimate_probed(
    probe: &sniff::Probe,
    input: &[u8],
    v: &Variant,
    cfg: &Config,
) -> Result<Estimate> {
    let (w, h) = (probe.header.width, probe.header.height);
    if let Detail::Jpeg(frame) = &probe.detail {
        crate::image::bounds::check_jpeg_data(input, frame, w, h)?;
    }
    let target = Target::new(v, &cfg.policy);
    // Orientation is known from the header for JPEG (none there: upright, as the
    // decoder will find); otherwise assume the costlier way up.
    let upright = geometry::geometry(w, h, &target);
    let turned = geometry::geometry(h, w, &target);
    let out_px = |g: &geometry::Geometry| g.width as u64 * g.height as u64;
    let orientation = match probe.header.format {
        SourceFormat::Jpeg => Some(orientation_from_header(input, SourceFormat::Jpeg).unwrap_or(1)),
        _ => None,
    };
    let output_pixels = match orientation {
        Some(o) if (5..=8).contains(&o) => out_px(&turned),
        Some(_) => out_px(&upright),
        None => out_px(&upright).max(out_px(&turned)),
    };
    let scale = match &probe.detail {
        Detail::Jpeg(f) if !f.lossless => {
            crate::decode::jpeg_scale(w, h, geometry::min_decode_size(w, h, &target))
        }
        _ => 8,
    };
    let decoded_w = (w as u64 * scale as u64).div_ceil(8);
    let decoded_h = (h as u64 * scale as u64).div_ceil(8);
    let decoded_pixels = decoded_w * decoded_h;
    let format = output_format(v.format, probe.header.format);

    let ns = decoded_pixels * decode_ns(&probe.detail)
        + input.len() as u64 * INPUT_BYTE_NS
        + (decoded_pixels + output_pixels) * RESIZE_NS
        + output_pixels * encode_ns(format);
    // Decoder peak, then the resampled, oriented and embedded rasters (RGBA at most)
    // and the encoder's own buffers.
    let memory_bytes = probe.decode_bytes_at(scale) + decoded_pixels * 4 + output_pixels * 4 * 3;
    Ok(Estimate {
        work_ms: BASE_MS + ns.div_ceil(1_000_000),
        memory_bytes,
        decoded_pixels,
        output_pixels,
    })
}

/// Estimated peak bytes of decoding `input` at full size (the header estimate the
/// limits are checked against; an upper bound, see tests/limits_before_work.rs).
pub fn decode_bytes(input: &[u8], limits: &crate::config::Limits) -> Result<u64> {
    Ok(sniff::probe(input, limits)?.full_decode_bytes())
}

/// The format the encoder will run for `requested`; `legacy`/`source` are settled after
/// decoding, so take the costlier candidate.
fn output_format(requested: OutputFormat, source: SourceFormat) -> Format {
    match requested {
        OutputFormat::Fixed(f) => f,
        OutputFormat::Legacy => Format::Png,
        OutputFormat::Source => source.as_output().unwrap_or(Format::Png),
    }
}

/// EXIF orientation when the header tells it (a JPEG with an `Exif` APP1), else None.
pub(crate) fn orientation_from_header(input: &[u8], format: SourceFormat) -> Option<u8> {
    match format {
        SourceFormat::Jpeg => crate::image::bounds::jpeg_orientation(input),
        _ => None,
    }
}

/// Make sure `bytes` can be allocated now, before the codecs start: on wasm the linear
/// memory has a linked maximum, and an allocation failing inside a codec aborts (a
/// trap). Reserving and freeing the block up front grows the memory once; the codecs
/// then allocate from the freed space. Fails with 413 `limit_exceeded`.
pub fn reserve_memory(bytes: u64) -> Result<()> {
    let refused = || {
        Error::limit_exceeded(format!(
            "the transform needs about {bytes} bytes of memory, more than is free"
        ))
    };
    let size = usize::try_from(bytes).map_err(|_| refused())?;
    let mut block: Vec<u8> = Vec::new();
    block.try_reserve_exact(size).map_err(|_| refused())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Fit;

    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        v.extend_from_slice(&width.to_be_bytes());
        v.extend_from_slice(&height.to_be_bytes());
        v.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        v
    }

    #[test]
    fn bigger_outputs_and_costlier_formats_cost_more() {
        let cfg = Config::default();
        let input = png_header(4000, 3000);
        let v = |width, format| Variant {
            width: Some(width),
            format: OutputFormat::Fixed(format),
            ..Variant::new(OutputFormat::Source)
        };
        let small = estimate(&input, &v(300, Format::Jpeg), &cfg).unwrap();
        let large = estimate(&input, &v(3000, Format::Jpeg), &cfg).unwrap();
        let avif = estimate(&input, &v(3000, Format::Avif), &cfg).unwrap();
        assert!(small.work_ms < large.work_ms && large.work_ms < avif.work_ms);
        // PNG may carry an EXIF orientation: the costlier way up (3000x4000) counts.
        assert_eq!(large.output_pixels, 3000 * 4000);
        // The worst allowed variant: 4096x4096 AVIF, enlarged and stretched.
        let worst = Variant {
            width: Some(4096),
            height: Some(4096),
            fit: Fit::Fill,
            enlarge: true,
            ..v(4096, Format::Avif)
        };
        let worst = estimate(&input, &worst, &cfg).unwrap();
        assert_eq!(worst.output_pixels, 4096 * 4096);
        assert!(worst.work_ms > 20_000, "{worst:?}");
    }

    #[test]
    fn refused_inputs_are_errors() {
        let cfg = Config::default();
        let v = Variant::new(OutputFormat::Source);
        assert_eq!(
            estimate(&png_header(100_000, 100_000), &v, &cfg)
                .unwrap_err()
                .code(),
            "limit_exceeded"
        );
        assert_eq!(estimate(b"hello", &v, &cfg).unwrap_err().status(), 415);
    }

    #[test]
    fn memory_reservation_fails_cleanly() {
        assert!(reserve_memory(1 << 20).is_ok());
        assert_eq!(
            reserve_memory(u64::MAX).unwrap_err().code(),
            "limit_exceeded"
        );
    }
}
