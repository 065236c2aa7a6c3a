//! Named presets: `preset=NAME` (alias `p`) stands for a query kept in the config
//! (`"presets": {"thumbnail": "w=150&h=150&fit=cover"}`). A preset request is expanded
//! before planning, so its derived key is that of its expansion: one object, one cache
//! entry, whichever way it was asked for. Only `fm` and `dpr` may be added (checked by
//! `request::parse_query`); they override the preset's own.

use crate::config::{Config, Policy};
use crate::error::{Error, Result};
use crate::request::params::{Params, MAX_PRESET_NAME_BYTES as MAX_NAME_BYTES, SIGNING_NAMES};
use crate::request::{plan, query as request};
use crate::types::{Format, FormatRequest, OutputFormat, Variant};

pub use crate::config::{default_presets as defaults, DEFAULT_PRESETS as DEFAULTS};

/// The request with its preset replaced by the preset's parameters (the request's `fm`
/// and `dpr` win). Without a preset: the request itself, unless the policy serves
/// presets only.
pub fn expand(params: Params, config: &Config) -> Result<Params> {
    let Some(name) = params.preset.as_deref() else {
        if config.policy.presets_only {
            return Err(Error::invalid_parameter(
                "preset",
                format!(
                    "required: this service serves only presets (policy.presetsOnly); one of {}",
                    names(config)
                ),
            ));
        }
        return Ok(params);
    };
    let query = config.presets.get(name).ok_or_else(|| {
        let shown: String = name.chars().take(40).collect();
        Error::invalid_parameter(
            "preset",
            format!("must be one of {} (got {shown:?})", names(config)),
        )
    })?;
    // Checked when the config was loaded; a failure here would be a bug.
    let mut expanded = request::parse_query(query)
        .map_err(|e| Error::internal(format!("preset {name} does not parse: {}", e.message())))?;
    if params.format.is_some() {
        expanded.format = params.format;
    }
    if params.dpr_hundredths.is_some() {
        expanded.dpr_hundredths = params.dpr_hundredths;
    }
    Ok(expanded)
}

fn names(config: &Config) -> String {
    let names: Vec<&str> = config.presets.keys().map(String::as_str).collect();
    names.join(", ")
}

/// Config check at load: every preset has a plain name and a query that parses, names
/// no other preset and no signing parameter, and plans under the policy (defaults left
/// unchanged only need to parse).
pub fn validate(config: &Config) -> std::result::Result<(), String> {
    for (name, query) in &config.presets {
        let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
        if name.is_empty() || name.len() > MAX_NAME_BYTES || !name.bytes().all(plain) {
            return Err(format!(
                "presets: name {name:?} must be 1-{MAX_NAME_BYTES} letters, digits, '_', '-' or '.'"
            ));
        }
        let fail = |why: String| Err(format!("presets.{name}: {why} (query {query:?})"));
        if !request::has_transform_params(query) {
            return fail("names no resize parameter".into());
        }
        let params = match request::parse_query(query) {
            Ok(params) => params,
            Err(e) => return fail(e.message()),
        };
        if params.preset.is_some() {
            return fail("a preset cannot name another preset".into());
        }
        let signing = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .unwrap_or_default()
            .into_iter()
            .find(|(n, _)| SIGNING_NAMES.contains(&n.as_str()));
        if let Some((n, _)) = signing {
            return fail(format!("{n} belongs to a signed URL, not to a preset"));
        }
        // A default preset left as it is may not fit a policy with size lists; it then
        // answers 400 when asked for, but must not stop a config that never uses it.
        let untouched_default = DEFAULTS.contains(&(name.as_str(), query.as_str()));
        if let Err(e) = plan::plan(&params, None, &config.policy) {
            if !untouched_default {
                return fail(e.message());
            }
        }
    }
    Ok(())
}

/// Origin side of `policy.presetsOnly`: a derived key is served only when some preset
/// (with some `fm` and `dpr`) plans to exactly its variant, so asking S3 for a derived
/// key directly cannot reach any other variant.
pub fn check_derived(v: &Variant, config: &Config) -> Result<()> {
    if !config.policy.presets_only
        || config
            .presets
            .values()
            .any(|query| preset_reaches(query, v, &config.policy))
    {
        return Ok(());
    }
    Err(Error::invalid_key(
        "derived key is not a preset's (policy.presetsOnly)",
    ))
}

fn preset_reaches(query: &str, v: &Variant, policy: &Policy) -> bool {
    let Ok(base) = request::parse_query(query) else {
        return false;
    };
    // The `fm` (and for `fm=auto` an `Accept`) that plans to the key's format.
    let (format, accept) = match (v.format, v.negotiated) {
        (OutputFormat::Fixed(Format::Avif), true) => (FormatRequest::Auto, Some("image/avif")),
        (OutputFormat::Fixed(Format::Webp), true) => (FormatRequest::Auto, Some("image/webp")),
        (OutputFormat::Legacy, true) => (FormatRequest::Auto, None),
        (OutputFormat::Fixed(f), false) => (FormatRequest::Fixed(f), None),
        (OutputFormat::Source, false) => (FormatRequest::Source, None),
        _ => return false,
    };
    // dpr only scales sizes: one value is enough for a preset without any.
    let last_dpr = if base.width.is_some() || base.height.is_some() {
        400
    } else {
        100
    };
    (100..=last_dpr).any(|dpr| {
        let params = Params {
            format: Some(format),
            dpr_hundredths: Some(dpr),
            ..base.clone()
        };
        plan::plan(&params, accept, policy).is_ok_and(|planned| planned == *v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::key;

    fn config(json: &str) -> std::result::Result<Config, String> {
        crate::load_config(json).map_err(|e| e.message())
    }

    fn derived(query: &str, accept: Option<&str>, config: &Config) -> Result<String> {
        let params = expand(request::parse_query(query)?, config)?;
        let v = plan::plan(&params, accept, &config.policy)?;
        key::derive("a/b.jpg", &v, &config.policy)
    }

    #[test]
    fn presets_derive_the_key_of_their_expansion() {
        let c = Config::default();
        let chrome = Some("image/avif,image/webp,*/*");
        for (name, query) in DEFAULTS {
            for extra in ["", "&fm=webp", "&dpr=2", "&fm=auto&dpr=1.5", "&fm=source"] {
                for accept in [None, chrome] {
                    let by_name = derived(&format!("preset={name}{extra}"), accept, &c).unwrap();
                    let alias = derived(&format!("p={name}{extra}"), accept, &c).unwrap();
                    let explicit = derived(&format!("{query}{extra}"), accept, &c).unwrap();
                    assert_eq!(by_name, explicit);
                    assert_eq!(alias, explicit);
                }
            }
        }
        assert_eq!(
            derived("p=thumbnail", chrome, &c).unwrap(),
            "_derived/a/b.jpg/w_150,h_150,fit_cover,fm_auto.avif"
        );
    }

    #[test]
    fn only_fm_and_dpr_may_accompany_a_preset() {
        let c = Config::default();
        for (query, param) in [
            ("p=small&w=10", "w"),
            ("q=5&preset=small", "q"),
            ("p=small&fit=cover&fm=webp", "fit"),
            ("preset=small&d=5x5", "d"),
        ] {
            let e = derived(query, None, &c).unwrap_err();
            assert_eq!(e.code(), "invalid_parameter");
            assert!(
                e.message()
                    .starts_with(&format!("{param}: cannot be combined")),
                "{}",
                e.message()
            );
        }
        let e = derived("p=small&preset=large", None, &c).unwrap_err();
        assert!(
            e.message().starts_with("preset: given more than once"),
            "{}",
            e.message()
        );
        let e = derived("p=huge", None, &c).unwrap_err();
        assert_eq!(
            e.message(),
            "preset: must be one of large, medium, small, thumbnail (got \"huge\")"
        );
        // Signature parameters are not transform parameters.
        assert!(derived("p=small&s=x&exp=1", None, &c).is_ok());
    }

    #[test]
    fn config_presets_add_to_and_override_the_defaults() {
        let c = config(r#"{"presets":{"hero":"w=1600&h=600&fit=cover","small":"w=320"}}"#).unwrap();
        assert_eq!(c.presets.len(), 5);
        assert_eq!(c.presets["small"], "w=320");
        assert_eq!(
            derived("p=hero&fm=jpeg", None, &c).unwrap(),
            "_derived/a/b.jpg/w_1600,h_600,fit_cover.jpg"
        );
    }

    #[test]
    fn bad_presets_stop_the_config_naming_them() {
        for (json, needle) in [
            (
                r#"{"presets":{"broken":"w=abc"}}"#,
                "presets.broken: w: must be",
            ),
            (r#"{"presets":{"typo":"wdth=5"}}"#, "presets.typo:"),
            (
                r#"{"presets":{"big":"w=5000"}}"#,
                "presets.big: w: must be 1-4096",
            ),
            (
                r#"{"presets":{"loop":"p=small"}}"#,
                "presets.loop: a preset cannot name another",
            ),
            (
                r#"{"presets":{"empty":""}}"#,
                "presets.empty: names no resize parameter",
            ),
            (
                r#"{"presets":{"signed":"w=5&s=abc"}}"#,
                "presets.signed: s belongs to a signed URL",
            ),
            (
                r#"{"presets":{"bad name":"w=5"}}"#,
                "presets: name \"bad name\"",
            ),
            (r#"{"presets":{"x":5}}"#, "invalid config"),
        ] {
            let e = config(json).unwrap_err();
            assert!(e.contains(needle), "{json}: {e}");
        }
        // Validated against the policy it is used with; untouched defaults are not.
        let e = config(r#"{"policy":{"widths":[100]},"presets":{"a":"w=200"}}"#).unwrap_err();
        assert!(
            e.contains("presets.a: w: must be one of 100 (got 200)"),
            "{e}"
        );
        assert!(config(r#"{"policy":{"widths":[100]},"presets":{"a":"w=100"}}"#).is_ok());
    }

    #[test]
    fn presets_only_refuses_other_requests_and_keys() {
        let c = config(
            r#"{"policy":{"presetsOnly":true},"presets":{"hero":"w=800&h=300&fit=cover&q=70"}}"#,
        )
        .unwrap();
        let e = derived("w=150&h=150&fit=cover", None, &c).unwrap_err();
        assert!(
            e.message().starts_with("preset: required"),
            "{}",
            e.message()
        );
        let chrome = Some("image/avif,image/webp,*/*");
        for query in [
            "p=thumbnail",
            "p=hero&dpr=1.75",
            "p=small&fm=png",
            "p=large&fm=source",
            "p=medium&dpr=3",
        ] {
            for accept in [None, chrome, Some("image/webp")] {
                let k = derived(query, accept, &c).unwrap();
                let (_, v) = key::parse(&k, &c.policy).unwrap();
                assert!(check_derived(&v, &c).is_ok(), "{query}: {k}");
            }
        }
        for k in [
            "_derived/a/b.jpg/w_151,h_150,fit_cover,fm_auto.avif",
            "_derived/a/b.jpg/w_300,fm_auto.webp",
            "_derived/a/b.jpg/w_300,h_300,q_5.jpg",
            "_derived/a/b.jpg/fm_auto.legacy",
        ] {
            let (_, v) = key::parse(k, &c.policy).unwrap();
            assert_eq!(
                check_derived(&v, &c).unwrap_err().code(),
                "invalid_key",
                "{k}"
            );
        }
        // Without presetsOnly every canonical key is fine.
        let (_, v) = key::parse(
            "_derived/a/b.jpg/w_300,fm_auto.webp",
            &Config::default().policy,
        )
        .unwrap();
        assert!(check_derived(&v, &Config::default()).is_ok());
    }
}
