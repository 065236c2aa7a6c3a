//! The upload pipeline's part of the config (`uploads` in the baked JSON) and its one
//! rule: which derived objects an upload gets eagerly. Each `uploads.eager` entry is a
//! query exactly as the site's pages request it; it is mapped to derived keys by the
//! same viewer rules the edge runs ([`trusted_rewrite`]: all but the signature), so an eager variant is the object the edge
//! would have made. A negotiated entry (`fm=auto`, or any entry with
//! `policy.autoFormatByDefault`) is made once per `uploads.autoFormats` format, each
//! keyed as for a browser whose `Accept` picks that format.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::key;
use crate::request::decision::{trusted_rewrite, Rewrite};

pub use crate::config::{AutoFormat, Uploads};

/// One derived object to make for an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EagerVariant {
    /// The `uploads.eager` entry it comes from.
    pub entry: String,
    /// The entry's query, as pages request it.
    pub query: String,
    /// The `Accept` it was keyed for (the first auto format for non-negotiated entries).
    pub accept: String,
    /// For negotiated entries, the auto format it stands for.
    pub auto_format: Option<AutoFormat>,
    pub negotiated: bool,
    /// The derived S3 key the viewer-request handler computes.
    pub key: String,
    /// The derived object's URI (percent-encoded, as CloudFront requests it).
    pub uri: String,
    /// The original's URI; pages request `<source_uri>?<query>`.
    pub source_uri: String,
}

/// The derived objects for the upload `original_key`, by entry name (two entries may
/// name the same key; the caller makes each key once).
/// Errors: `invalid_key` for a key the edge could not serve; an entry whose query the
/// core refuses is a config error (500 `internal`, naming the entry).
pub fn eager_variants(original_key: &str, config: &Config) -> Result<Vec<EagerVariant>> {
    let uploads = &config.uploads;
    let uri = key::key_to_uri(original_key);
    let mut out: Vec<EagerVariant> = Vec::new();
    for (entry, query) in &uploads.eager {
        let keyed = |accept: &str| -> Result<Option<(String, String, bool)>> {
            // The processor is a trusted producer: no signature to check.
            match trusted_rewrite(&uri, query, Some(accept), config) {
                Ok(Rewrite::Derived {
                    key,
                    uri: derived_uri,
                    negotiated,
                }) => Ok(Some((key, derived_uri, negotiated))),
                Ok(Rewrite::PassThrough) => Ok(None),
                Err(e) if e.code() == "invalid_key" => Err(e),
                Err(e) => Err(Error::internal(format!(
                    "invalid config: uploads.eager.{entry} ({query}): {}",
                    e.message()
                ))),
            }
        };
        let first = uploads.auto_formats[0];
        let Some((key, derived_uri, negotiated)) = keyed(first.accept())? else {
            return Err(Error::internal(format!(
                "invalid config: uploads.eager.{entry} ({query}) has no resize parameters"
            )));
        };
        let mut push = |key: String, derived_uri: String, accept: &str, auto_format| {
            if !out.iter().any(|v| v.entry == *entry && v.key == key) {
                out.push(EagerVariant {
                    entry: entry.clone(),
                    query: query.clone(),
                    accept: accept.to_string(),
                    auto_format,
                    negotiated,
                    key,
                    uri: derived_uri,
                    source_uri: uri.clone(),
                });
            }
        };
        if !negotiated {
            push(key, derived_uri, first.accept(), None);
            continue;
        }
        for &format in &uploads.auto_formats {
            if let Some((key, derived_uri, _)) = keyed(format.accept())? {
                push(key, derived_uri, format.accept(), Some(format));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Policy;

    fn config(uploads: &str) -> Config {
        Config::from_json(&format!(r#"{{"uploads":{uploads}}}"#)).unwrap()
    }

    #[test]
    fn defaults_and_validation() {
        let d = Uploads::default();
        assert_eq!(d.prefix, "uploads/");
        assert_eq!(d.eager["compressed"], "w=1200&h=1200&fm=webp&q=80");
        assert!(d.validate(&Policy::default()).is_ok());
        for bad in [
            r#"{"prefix":"up"}"#,
            r#"{"prefix":"_derived/x/"}"#,
            r#"{"errorPrefix":"uploads/errors/"}"#,
            r#"{"autoFormats":[]}"#,
            r#"{"compressed":"nope"}"#,
            r#"{"autoFormats":["gif"]}"#,
            r#"{"unknown":1}"#,
        ] {
            assert!(
                Config::from_json(&format!(r#"{{"uploads":{bad}}}"#)).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn plain_entries_are_keyed_once_negotiated_ones_per_auto_format() {
        let cfg = config(
            r#"{"eager":{"small":"w=150&h=150&fit=cover&fm=source","page":"w=600&fm=auto","same":"fit=cover&fm=source&h=150&w=150"},"compressed":""}"#,
        );
        let v = eager_variants("uploads/u1/my cat.jpg", &cfg).unwrap();
        let keys: Vec<_> = v
            .iter()
            .map(|v| (v.entry.as_str(), v.key.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("page", "_derived/uploads/u1/my cat.jpg/w_600,fm_auto.webp"),
                (
                    "page",
                    "_derived/uploads/u1/my cat.jpg/w_600,fm_auto.legacy"
                ),
                (
                    "same",
                    "_derived/uploads/u1/my cat.jpg/w_150,h_150,fit_cover.source"
                ),
                (
                    "small",
                    "_derived/uploads/u1/my cat.jpg/w_150,h_150,fit_cover.source"
                ),
            ]
        );
        assert_eq!(v[1].auto_format, Some(AutoFormat::Legacy));
        assert!(v[0].negotiated && !v[2].negotiated && !v[3].negotiated);
        assert_eq!(v[0].source_uri, "/uploads/u1/my%20cat.jpg");
        assert_eq!(
            v[0].uri,
            "/_derived/uploads/u1/my%20cat.jpg/w_600,fm_auto.webp"
        );
        // Each key is exactly what the viewer computes for that Accept.
        for x in &v {
            let Rewrite::Derived { key, .. } =
                trusted_rewrite("/uploads/u1/my%20cat.jpg", &x.query, Some(&x.accept), &cfg)
                    .unwrap()
            else {
                panic!()
            };
            assert_eq!(key, x.key);
        }
    }

    #[test]
    fn bad_entries_are_config_errors_bad_keys_are_invalid_key() {
        let cfg = config(r#"{"eager":{"x":"w=0"},"compressed":""}"#);
        let e = eager_variants("uploads/a.jpg", &cfg).unwrap_err();
        assert_eq!(e.code(), "internal");
        assert!(e.message().contains("uploads.eager.x"), "{}", e.message());
        let cfg = config(r#"{"eager":{"x":"w=10"},"compressed":""}"#);
        assert_eq!(
            eager_variants("uploads/../a.jpg", &cfg).unwrap_err().code(),
            "invalid_key"
        );
    }
}
