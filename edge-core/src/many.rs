//! PROVISIONAL (branch `upload`): many derived keys from one decode, for the upload
//! pipeline, until branch `recut` lands its `transformMany` (same shim signature); then
//! this file goes. Steps 4-7 are those of `pipeline::transform`, run once per key on
//! a copy of the one decoded raster. The decode shrinks on load no further than the
//! largest output needs, so every output sees at least the resolution the edge's own
//! decode would give it.

use crate::colour;
use crate::config::{Config, Format};
use crate::decode;
use crate::encode;
use crate::error::{Error, Result};
use crate::key;
use crate::orient;
use crate::pipeline::{output_format, Output};
use crate::plan::{Rgba, Variant};
use crate::raster::Layout;
use crate::resize::{self, Target};
use crate::sniff::{self, SourceFormat};

/// The original as decoded, upright size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub format: SourceFormat,
    pub width: u32,
    pub height: u32,
}

/// Every key's output (or its own error), in the order asked. Errors that concern the
/// original itself (sniff, limits, decode) are returned as the outer `Err`.
pub fn transform_many(
    input: &[u8],
    keys: &[String],
    cfg: &Config,
) -> Result<(Source, Vec<Result<Output>>)> {
    let header = sniff::read_header(input, &cfg.limits)?;
    let variants: Vec<Result<Variant>> = keys
        .iter()
        .map(|k| key::parse(k, &cfg.policy).map(|(_, v)| v))
        .collect();

    // The least shrink any output allows; None (full size) wins.
    let mut min_size = Some((0u32, 0u32));
    for v in variants.iter().flatten() {
        let target = Target::new(v, &cfg.policy);
        min_size = match (
            min_size,
            resize::min_decode_size(header.width, header.height, &target),
        ) {
            (Some((w, h)), Some((vw, vh))) => Some((w.max(vw), h.max(vh))),
            _ => None,
        };
    }
    if min_size == Some((0, 0)) {
        min_size = None;
    }
    let decoded = decode::decode(input, &cfg.limits, min_size)?;
    let orientation = decoded.orientation;
    let (width, height) =
        orient::oriented_size(decoded.source_width, decoded.source_height, orientation);
    let source = Source {
        format: decoded.format,
        width,
        height,
    };
    let icc = decoded.icc.as_deref();
    let cmyk = decoded.raster.layout == Layout::Cmyk;
    // CMYK is converted before resampling, as the single-key pipeline does: once here.
    let base = if cmyk {
        colour::to_srgb(decoded.raster.clone(), icc)?
    } else {
        decoded.raster.clone()
    };

    let outputs = variants
        .into_iter()
        .map(|v| {
            let v = v?;
            let target = Target::new(&v, &cfg.policy);
            let geometry = resize::geometry(width, height, &target);
            check_output_size(geometry.width, geometry.height, cfg)?;
            let mut raster = resize::resample_stored(base.clone(), &geometry, orientation)?;
            raster = orient::apply(raster, orientation);
            if !cmyk {
                raster = colour::to_srgb(raster, icc)?;
            }
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
        })
        .collect();
    Ok((source, outputs))
}

fn check_output_size(width: u32, height: u32, cfg: &Config) -> Result<()> {
    let p = &cfg.policy;
    if width > p.max_width
        || height > p.max_height
        || u64::from(width) * u64::from(height) > p.max_output_pixels
    {
        return Err(Error::limit_exceeded(format!(
            "output {width}x{height} is over the limits ({}x{}, {} pixels)",
            p.max_width, p.max_height, p.max_output_pixels
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::transform;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut data = Vec::new();
        for y in 0..height {
            for x in 0..width {
                data.extend_from_slice(&[(x * 7) as u8, (y * 5) as u8, 90, 255]);
            }
        }
        let raster = crate::raster::Raster::new(width, height, Layout::Rgba, data);
        encode::png::encode(&raster).unwrap()
    }

    #[test]
    fn same_outputs_as_one_key_at_a_time() {
        let cfg = Config::default();
        let input = png(64, 48);
        let keys: Vec<String> = [
            "_derived/a.png/w_16,h_16,fit_cover.png",
            "_derived/a.png/w_32.webp",
            "_derived/a.png/w_20,fm_auto.legacy",
            "_derived/a.png/bad",
        ]
        .iter()
        .map(|k| k.to_string())
        .collect();
        let (source, outputs) = transform_many(&input, &keys, &cfg).unwrap();
        assert_eq!(
            (source.format, source.width, source.height),
            (SourceFormat::Png, 64, 48)
        );
        for (k, out) in keys.iter().zip(&outputs).take(3) {
            let (_, v) = key::parse(k, &cfg.policy).unwrap();
            assert_eq!(
                out.as_ref().unwrap(),
                &transform(&input, &v, &cfg).unwrap(),
                "{k}"
            );
        }
        assert_eq!(outputs[3].as_ref().unwrap_err().code(), "invalid_key");
        assert_eq!(
            transform_many(b"not an image", &keys, &cfg)
                .unwrap_err()
                .code(),
            "unsupported_format"
        );
    }
}
