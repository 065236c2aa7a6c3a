//! Canonical description of one output variant: what the derived key encodes and
//! what the pipeline produces. Built from request `Params` + `Accept` + `Policy`.

use super::accept;
use super::params::{Params, PARAMS};
use crate::config::{Policy, SizeMode};
use crate::error::{Error, Result};
pub use crate::types::{Fit, Gravity, OutputFormat, Rgba, Variant};
use crate::types::{Format, FormatRequest};

/// Canonicalise a request: `dpr` folded into the sizes, sizes checked or snapped
/// against the policy, irrelevant options reset to their defaults, the output format
/// settled as far as possible. Equal requests give equal variants.
pub fn plan(params: &Params, accept: Option<&str>, policy: &Policy) -> Result<Variant> {
    let dpr = params.dpr_hundredths.unwrap_or(100);
    let size = |param: &str, requested: Option<u32>, allowed: &[u32], max: u32| {
        requested
            .map(|n| policy_size(param, scale(n, dpr), dpr, allowed, max, policy.size_mode))
            .transpose()
    };
    let width = size("w", params.width, &policy.widths, policy.max_width)?;
    let height = size("h", params.height, &policy.heights, policy.max_height)?;
    if let (Some(w), Some(h)) = (width, height) {
        let pixels = u64::from(w) * u64::from(h);
        if pixels > policy.max_output_pixels {
            return Err(Error::invalid_parameter(
                "w",
                format!(
                    "output {w}x{h} = {pixels} pixels is over the maximum of {} pixels",
                    policy.max_output_pixels
                ),
            ));
        }
    }

    // With one side (or none) the aspect ratio decides the box: fit is moot.
    let fit = if width.is_some() && height.is_some() {
        params.fit.unwrap_or_default()
    } else {
        Fit::Inside
    };
    // A focus (`pos=entropy|attention|XxY`) replaces the gravity.
    let gravity = if uses_gravity(fit) && params.ops.focus.is_none() {
        params.gravity.unwrap_or_default()
    } else {
        Gravity::Centre
    };
    let enlarge = (width.is_some() || height.is_some()) && params.enlarge.unwrap_or(false);

    let (format, negotiated) = match params.format {
        Some(FormatRequest::Fixed(f)) => {
            if !policy.formats.contains(&f) {
                let enabled: Vec<&str> = policy.formats.iter().map(|f| f.name()).collect();
                return Err(Error::invalid_parameter(
                    "fm",
                    format!(
                        "must be one of auto, source, {} (got {:?})",
                        enabled.join(", "),
                        f.name()
                    ),
                ));
            }
            (OutputFormat::Fixed(f), false)
        }
        Some(FormatRequest::Auto) => (accept::negotiate(accept, &policy.formats), true),
        Some(FormatRequest::Source) => (OutputFormat::Source, false),
        None if policy.auto_format_by_default => (accept::negotiate(accept, &policy.formats), true),
        None => (OutputFormat::Source, false),
    };

    let quality = match format {
        // Lossless: no quality.
        OutputFormat::Fixed(Format::Png) => None,
        OutputFormat::Fixed(f) => params
            .quality
            .filter(|&q| Some(q) != policy.quality.for_format(f)),
        // The final format is only known after decoding; keep what was asked.
        OutputFormat::Legacy | OutputFormat::Source => params.quality,
    };
    let background = params
        .background
        .filter(|&c| c != Rgba::WHITE && uses_background(fit, format));

    Ok(Variant {
        width,
        height,
        fit,
        gravity,
        enlarge,
        quality,
        background,
        format,
        negotiated,
        ops: canonical_ops(&params.ops, fit),
    })
}

/// The operations as the variant keeps them: a smart crop or focal point only
/// matters to `cover` (for other fits it is dropped, like an unused gravity).
fn canonical_ops(ops: &crate::types::ops::Ops, fit: Fit) -> crate::types::ops::Ops {
    let mut ops = ops.clone();
    if fit != Fit::Cover {
        ops.focus = None;
    }
    ops
}

fn uses_gravity(fit: Fit) -> bool {
    matches!(fit, Fit::Cover | Fit::Contain)
}

/// The background shows only as `contain` padding or when alpha is flattened, which
/// can happen unless the output is a fixed format that keeps alpha.
fn uses_background(fit: Fit, format: OutputFormat) -> bool {
    fit == Fit::Contain
        || !matches!(
            format,
            OutputFormat::Fixed(Format::Png | Format::Webp | Format::Avif)
        )
}

/// `round(n * dpr)` with dpr in hundredths, half away from zero, in exact integers.
fn scale(n: u32, dpr_hundredths: u16) -> u32 {
    let scaled = (u64::from(n) * u64::from(dpr_hundredths) + 50) / 100;
    u32::try_from(scaled).unwrap_or(u32::MAX)
}

fn is_allowed_size(n: u32, allowed: &[u32], max: u32) -> bool {
    if allowed.is_empty() {
        (1..=max).contains(&n)
    } else {
        allowed.contains(&n)
    }
}

/// Apply the policy to one requested side (already multiplied by dpr).
fn policy_size(
    param: &str,
    n: u32,
    dpr: u16,
    allowed: &[u32],
    max: u32,
    mode: SizeMode,
) -> Result<u32> {
    if is_allowed_size(n, allowed, max) {
        return Ok(n);
    }
    if mode == SizeMode::Snap {
        // Round up to the next allowed size; above them all, take the largest.
        return Ok(if allowed.is_empty() {
            max
        } else {
            let next_up = allowed.iter().copied().filter(|&a| a >= n).min();
            next_up
                .or_else(|| allowed.iter().copied().max())
                .unwrap_or(max)
        });
    }
    let expected = if allowed.is_empty() {
        format!("1-{max}")
    } else {
        let mut sorted = allowed.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let list: Vec<String> = sorted.iter().map(u32::to_string).collect();
        format!("one of {}", list.join(", "))
    };
    let after_dpr = if dpr == 100 {
        String::new()
    } else {
        format!(" after dpr {}", format_dpr(dpr))
    };
    Err(Error::invalid_parameter(
        param,
        format!("must be {expected} (got {n}{after_dpr})"),
    ))
}

fn format_dpr(hundredths: u16) -> String {
    let (int, frac) = (hundredths / 100, hundredths % 100);
    match frac {
        0 => int.to_string(),
        f if f % 10 == 0 => format!("{int}.{}", f / 10),
        f => format!("{int}.{f:02}"),
    }
}

/// Why `v` is not a variant `plan` could have produced under `policy`, if it is not.
/// Keeps derived keys one-per-variant: `key::parse` rejects anything failing this.
pub(crate) fn non_canonical(v: &Variant, policy: &Policy) -> Option<String> {
    let both = v.width.is_some() && v.height.is_some();
    if let Some(w) = v
        .width
        .filter(|&w| !is_allowed_size(w, &policy.widths, policy.max_width))
    {
        return Some(format!("width {w} is not allowed by the policy"));
    }
    if let Some(h) = v
        .height
        .filter(|&h| !is_allowed_size(h, &policy.heights, policy.max_height))
    {
        return Some(format!("height {h} is not allowed by the policy"));
    }
    if let (Some(w), Some(h)) = (v.width, v.height) {
        if u64::from(w) * u64::from(h) > policy.max_output_pixels {
            return Some(format!("{w}x{h} is over the maximum output pixels"));
        }
    }
    if v.fit != Fit::Inside && !both {
        return Some("fit needs both width and height".into());
    }
    if v.gravity != Gravity::Centre && !uses_gravity(v.fit) {
        return Some("gravity only applies to cover and contain".into());
    }
    if v.ops.focus.is_some() && (v.fit != Fit::Cover || v.gravity != Gravity::Centre) {
        return Some("a smart crop or focal point only applies to cover, alone".into());
    }
    if v.enlarge && v.width.is_none() && v.height.is_none() {
        return Some("enlarge needs a width or height".into());
    }
    if let Some(q) = v.quality {
        let redundant = match v.format {
            OutputFormat::Fixed(Format::Png) => true,
            OutputFormat::Fixed(f) => Some(q) == policy.quality.for_format(f),
            OutputFormat::Legacy | OutputFormat::Source => false,
        };
        if redundant || !(1..=100).contains(&q) {
            return Some(format!("quality {q} is out of range or redundant"));
        }
    }
    if let Some(bg) = v.background {
        if bg == Rgba::WHITE || !uses_background(v.fit, v.format) {
            return Some("background is the default or unused".into());
        }
    }
    let format_ok = match (v.format, v.negotiated) {
        (OutputFormat::Fixed(f), negotiated) => {
            policy.formats.contains(&f) && (!negotiated || matches!(f, Format::Avif | Format::Webp))
        }
        (OutputFormat::Legacy, negotiated) => negotiated,
        // Reached by `fm=source`, and without `fm` when negotiation is not the default.
        (OutputFormat::Source, negotiated) => !negotiated,
    };
    if !format_ok {
        return Some("output format is not enabled or not reachable".into());
    }
    None
}

/// Canonical query form of a variant (`w=600&h=400&fit=cover&fm=webp`), for logs and
/// JS. `parse_query` + `plan` with the same `Accept` and policy give `v` back.
pub fn to_query(v: &Variant) -> String {
    let parts: Vec<String> = PARAMS
        .iter()
        .filter_map(|p| Some(format!("{}={}", p.name, (p.render_query)(v)?)))
        .collect();
    parts.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::parse_query;

    const CHROME: Option<&str> = Some("image/avif,image/webp,image/apng,image/*,*/*;q=0.8");

    fn plan_q(query: &str, accept: Option<&str>, policy: &Policy) -> Result<Variant> {
        plan(&parse_query(query).unwrap(), accept, policy)
    }

    fn variant(query: &str) -> Variant {
        plan_q(query, None, &Policy::default()).unwrap()
    }

    #[test]
    fn dpr_is_folded_in_and_rounded() {
        let v = variant("w=101&h=33&dpr=1.5");
        assert_eq!((v.width, v.height), (Some(152), Some(50))); // 151.5 → 152, 49.5 → 50
        assert_eq!(variant("w=100&dpr=1.25").width, Some(125));
        assert_eq!(variant("dpr=2"), variant(""));
        assert_eq!(variant("w=300&dpr=2"), variant("w=600"));
    }

    #[test]
    fn sizes_against_max_reject_and_snap() {
        let reject = Policy::default();
        let e = plan_q("w=4097", None, &reject).unwrap_err();
        assert_eq!(e.message(), "w: must be 1-4096 (got 4097)");
        let e = plan_q("h=3000&dpr=1.5", None, &reject).unwrap_err();
        assert_eq!(e.message(), "h: must be 1-4096 (got 4500 after dpr 1.5)");
        let snap = Policy {
            size_mode: SizeMode::Snap,
            ..Policy::default()
        };
        assert_eq!(plan_q("w=5000", None, &snap).unwrap().width, Some(4096));
    }

    #[test]
    fn sizes_against_allow_lists() {
        let lists = Policy {
            widths: vec![800, 200, 400],
            heights: vec![300],
            ..Policy::default()
        };
        let e = plan_q("w=300", None, &lists).unwrap_err();
        assert_eq!(e.message(), "w: must be one of 200, 400, 800 (got 300)");
        assert_eq!(
            plan_q("w=400&h=300", None, &lists).unwrap().width,
            Some(400)
        );
        let snap = Policy {
            size_mode: SizeMode::Snap,
            ..lists
        };
        let w = |q: &str| plan_q(q, None, &snap).unwrap().width;
        assert_eq!(w("w=1"), Some(200));
        assert_eq!(w("w=201"), Some(400));
        assert_eq!(w("w=400"), Some(400));
        assert_eq!(w("w=801"), Some(800));
        assert_eq!(w("w=300&dpr=2"), Some(800));
        assert_eq!(plan_q("h=1", None, &snap).unwrap().height, Some(300));
    }

    #[test]
    fn output_pixels_are_capped() {
        let e = plan_q("w=4096&h=4096&dpr=1", None, &Policy::default());
        assert!(e.is_ok()); // exactly the default maximum
        let small = Policy {
            max_output_pixels: 10_000,
            ..Policy::default()
        };
        let e = plan_q("w=100&h=101", None, &small).unwrap_err();
        assert_eq!(e.code(), "invalid_parameter");
        assert!(e
            .message()
            .starts_with("w: output 100x101 = 10100 pixels is over the maximum"));
        // One side only: the pipeline checks the real size after decoding.
        assert!(plan_q("w=4000", None, &small).is_ok());
    }

    #[test]
    fn irrelevant_options_are_dropped() {
        let v = variant("w=100&fit=cover&pos=n");
        assert_eq!((v.fit, v.gravity), (Fit::Inside, Gravity::Centre));
        let v = variant("w=100&h=100&fit=fill&pos=n");
        assert_eq!((v.fit, v.gravity), (Fit::Fill, Gravity::Centre));
        let v = variant("w=100&h=100&fit=contain&pos=sw");
        assert_eq!((v.fit, v.gravity), (Fit::Contain, Gravity::SouthWest));
        assert!(!variant("enlarge=1").enlarge);
        assert!(variant("h=5&enlarge=1").enlarge);
        assert_eq!(variant("bg=fff").background, None);
        assert_eq!(
            variant("bg=000").background,
            Some(Rgba {
                r: 0,
                g: 0,
                b: 0,
                a: 255
            })
        );
        // Alpha-capable fixed output without padding: the colour would never show.
        assert_eq!(variant("bg=000&fm=webp").background, None);
        assert!(variant("bg=000&fm=webp&w=5&h=5&fit=contain")
            .background
            .is_some());
        assert!(variant("bg=000&fm=jpeg").background.is_some());
    }

    #[test]
    fn quality_defaults_are_dropped() {
        assert_eq!(variant("q=80&fm=jpeg").quality, None);
        assert_eq!(variant("q=81&fm=jpeg").quality, Some(81));
        assert_eq!(variant("q=50&fm=avif").quality, None);
        assert_eq!(variant("q=80&fm=avif").quality, Some(80));
        assert_eq!(variant("q=10&fm=png").quality, None);
        assert_eq!(variant("q=80").quality, Some(80)); // source format: unknown default
        assert_eq!(
            plan_q("q=50&fm=auto", CHROME, &Policy::default())
                .unwrap()
                .quality,
            None
        );
        assert_eq!(
            plan_q("q=50&fm=auto", None, &Policy::default())
                .unwrap()
                .quality,
            Some(50)
        );
    }

    #[test]
    fn format_selection() {
        let p = Policy::default();
        let v = plan_q("fm=jpg", CHROME, &p).unwrap();
        assert_eq!(
            (v.format, v.negotiated),
            (OutputFormat::Fixed(Format::Jpeg), false)
        );
        let v = plan_q("fm=auto", CHROME, &p).unwrap();
        assert_eq!(
            (v.format, v.negotiated),
            (OutputFormat::Fixed(Format::Avif), true)
        );
        let v = plan_q("fm=auto", Some("*/*"), &p).unwrap();
        assert_eq!((v.format, v.negotiated), (OutputFormat::Legacy, true));
        // Negotiation is the default; `fm=source` keeps the original's format.
        let v = plan_q("w=5", CHROME, &p).unwrap();
        assert_eq!(
            (v.format, v.negotiated),
            (OutputFormat::Fixed(Format::Avif), true)
        );
        let v = plan_q("w=5&fm=source", CHROME, &p).unwrap();
        assert_eq!((v.format, v.negotiated), (OutputFormat::Source, false));
        let keep = Policy {
            auto_format_by_default: false,
            ..Policy::default()
        };
        let v = plan_q("w=5", CHROME, &keep).unwrap();
        assert_eq!((v.format, v.negotiated), (OutputFormat::Source, false));
        let auto = Policy {
            auto_format_by_default: true,
            formats: vec![Format::Jpeg, Format::Webp],
            ..p
        };
        let v = plan_q("w=5", CHROME, &auto).unwrap();
        assert_eq!(
            (v.format, v.negotiated),
            (OutputFormat::Fixed(Format::Webp), true)
        );
        let e = plan_q("fm=avif", CHROME, &auto).unwrap_err();
        assert_eq!(
            e.message(),
            "fm: must be one of auto, source, jpeg, webp (got \"avif\")"
        );
    }

    #[test]
    fn every_plan_is_canonical_and_round_trips_through_to_query() {
        let policies = [
            Policy::default(),
            Policy {
                auto_format_by_default: true,
                ..Policy::default()
            },
            Policy {
                widths: vec![100, 640],
                size_mode: SizeMode::Snap,
                ..Policy::default()
            },
        ];
        let queries = [
            "",
            "w=640",
            "w=100&h=100&fit=cover&pos=ne&enlarge=1&q=33&bg=0008&fm=auto",
            "w=100&h=100&fit=contain&bg=00ff00&fm=webp&q=80",
            "h=10&fit=outside&fm=png&q=5",
            "d=100x30&fit=fill&fm=jpeg&bg=f00&dpr=3.5",
        ];
        for policy in &policies {
            for query in queries {
                for accept in [None, CHROME] {
                    let v = plan_q(query, accept, policy).unwrap();
                    assert_eq!(non_canonical(&v, policy), None, "{query}");
                    assert_eq!(plan_q(&to_query(&v), accept, policy).unwrap(), v, "{query}");
                }
            }
        }
        assert_eq!(
            to_query(&variant("w=100&h=100&fit=cover&pos=ne&fm=jpg&q=1")),
            "w=100&h=100&fit=cover&pos=ne&q=1&fm=jpeg"
        );
    }

    #[test]
    fn non_canonical_variants_are_named() {
        let p = Policy::default();
        let base = variant("w=100&h=100&fm=source");
        let bad = [
            Variant {
                width: Some(5000),
                ..base.clone()
            },
            Variant {
                height: Some(0),
                ..base.clone()
            },
            Variant {
                fit: Fit::Cover,
                height: None,
                ..base.clone()
            },
            Variant {
                gravity: Gravity::North,
                ..base.clone()
            },
            Variant {
                enlarge: true,
                width: None,
                height: None,
                ..base.clone()
            },
            Variant {
                quality: Some(0),
                ..base.clone()
            },
            Variant {
                quality: Some(80),
                format: OutputFormat::Fixed(Format::Jpeg),
                ..base.clone()
            },
            Variant {
                background: Some(Rgba::WHITE),
                ..base.clone()
            },
            Variant {
                format: OutputFormat::Legacy,
                ..base.clone()
            },
            Variant {
                negotiated: true,
                ..base.clone()
            },
            Variant {
                format: OutputFormat::Fixed(Format::Png),
                negotiated: true,
                ..base.clone()
            },
        ];
        for v in bad {
            assert!(non_canonical(&v, &p).is_some(), "{v:?}");
        }
    }
}
