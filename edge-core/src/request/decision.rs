//! The viewer-request decision: which object a viewer URL maps to. The same rules
//! (`request`, `plan`, `key`) are used by the origin side to parse the key back.

use super::{key, plan, preset, query, signature};
use crate::config::{Config, Policy};
use crate::error::{Error, Result};
use crate::types::{OutputFormat, Variant};

/// What the viewer-request handler does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewrite {
    /// Serve the URI as it is (no transform parameters, or a canonical derived key).
    PassThrough,
    /// Replace the URI with the derived one and clear the query string.
    Derived {
        /// Percent-encoded URI, starting with `/`.
        uri: String,
        /// The S3 key the URI names.
        key: String,
        /// The format was chosen from `Accept` (responses carry `vary: accept`).
        negotiated: bool,
    },
}

/// What the origin-response handler does after S3 answered 404/403 for a URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginDecision {
    /// Not a derived key: hand S3's answer back unchanged.
    PassThrough,
    /// A canonical derived key: make it from `original`.
    Generate {
        /// The derived S3 key (decoded, without the leading `/`).
        key: String,
        /// The original's S3 key.
        original: String,
        /// The key's output format: a fixed one, or legacy/source (settled after decoding).
        format: OutputFormat,
        /// The format was chosen from `Accept` (responses carry `vary: accept`).
        negotiated: bool,
    },
}

/// Whether `uri` names something under the derived prefix once percent-decoded
/// (leniently: a broken escape is compared as written). The strict decode follows.
fn names_derived(uri: &str, policy: &Policy) -> bool {
    decodes_to_prefix(uri, &format!("/{}", policy.derived_prefix))
}

fn decodes_to_prefix(uri: &str, prefix_uri: &str) -> bool {
    let raw = uri.as_bytes();
    let mut decoded = Vec::with_capacity(prefix_uri.len());
    let mut i = 0;
    while i < raw.len() && decoded.len() < prefix_uri.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            raw[i],
            raw.get(i + 1).copied().and_then(hex),
            raw.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                decoded.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    decoded == prefix_uri.as_bytes()
}

/// The rules for a URI under the derived prefix, the same for viewer and origin:
/// strict decode (`key::uri_to_key`), the one canonical percent-encoding of the key
/// (so no second spelling — `%5F` for `_`, lowercase hex — makes a second cache key),
/// and a canonical derived key.
fn canonical_derived(uri: &str, config: &Config) -> Result<(String, String, Variant)> {
    let key = key::uri_to_key(uri)?;
    if key::key_to_uri(&key) != uri {
        return Err(Error::invalid_key(
            "derived URI is not in canonical percent-encoding",
        ));
    }
    // The whole policy (presetsOnly too): S3 may be asked for any derived key.
    let (original, variant) = parse_derived_key(&key, config)?;
    Ok((key, original, variant))
}

/// Origin side, after S3 reported the object of `uri` (raw, still percent-encoded, as
/// CloudFront gives it) missing: generate it when it is a canonical derived key.
/// Decodes the URI with the viewer's rules (`key::uri_to_key`) and tests the prefix on
/// the decoded key, so no spelling of a derived key reaches S3 that the viewer refuses.
pub fn origin_decision(uri: &str, config: &Config) -> Result<OriginDecision> {
    let policy = &config.policy;
    if !names_derived(uri, policy) {
        return Ok(OriginDecision::PassThrough);
    }
    let (key, original, variant) = canonical_derived(uri, config)?;
    Ok(OriginDecision::Generate {
        key,
        original,
        format: variant.format,
        negotiated: variant.negotiated,
    })
}

/// Map a viewer request (`uri` as CloudFront gives it, query without `?`) to its object.
/// `now` (Unix seconds) is compared with a signed URL's `exp`.
pub fn viewer_request(
    uri: &str,
    querystring: &str,
    accept: Option<&str>,
    config: &Config,
    now: i64,
) -> Result<Rewrite> {
    if config.signing.required {
        check_signature(uri, querystring, config, now)?;
    }
    trusted_rewrite(uri, querystring, accept, config)
}

/// `viewer_request` without the signature check, for trusted producers inside the
/// stack (the upload pipeline makes the variants its own config names). Every other
/// rule (key safety, presets, policy, canonical derived keys) is the same.
pub fn trusted_rewrite(
    uri: &str,
    querystring: &str,
    accept: Option<&str>,
    config: &Config,
) -> Result<Rewrite> {
    let policy = &config.policy;
    if names_derived(uri, policy) {
        // Direct requests for derived keys would otherwise let anyone make the origin
        // generate arbitrary variants; only the one canonical spelling is served.
        if query::has_transform_params(querystring) {
            return Err(Error::invalid_key(
                "derived keys cannot be transformed again",
            ));
        }
        canonical_derived(uri, config)?;
        return Ok(Rewrite::PassThrough);
    }
    if !query::has_transform_params(querystring) {
        return Ok(Rewrite::PassThrough);
    }
    let params = preset::expand(query::parse_query(querystring)?, config)?;
    let variant = plan::plan(&params, accept, policy)?;
    let original = key::uri_to_key(uri)?;
    let derived = key::derive(&original, &variant, policy)?;
    Ok(Rewrite::Derived {
        uri: key::key_to_uri(&derived),
        key: derived,
        negotiated: variant.negotiated,
    })
}

/// Signing is required: the side door is shut, then the signature (and `exp`) of every
/// resize request, and with `signOriginals` of every request, is checked. Runs before any
/// other work, so an unsigned request learns nothing about keys or parameters.
fn check_signature(uri: &str, querystring: &str, config: &Config, now: i64) -> Result<()> {
    let prefix = config.policy.derived_prefix.as_str();
    // Compared decoded, as the origin does (`/%5Fderived/...` is the same object).
    if names_derived(uri, &config.policy) {
        return Err(Error::invalid_signature(format!(
            "derived objects (/{prefix}...) cannot be requested directly while signing is required; \
             sign the resize URL instead"
        )));
    }
    if config.signing.sign_originals || query::has_transform_params(querystring) {
        signature::verify(uri, querystring, &config.signing.keys, now)?;
    }
    Ok(())
}

/// The baked config as the handlers load it: `Config::from_json` (structure, bounds,
/// signing) and the preset queries, which need the URL grammar of this half.
pub fn load_config(json: &str) -> Result<Config> {
    let config = Config::from_json(json)?;
    preset::validate(&config).map_err(|m| Error::internal(format!("invalid config: {m}")))?;
    Ok(config)
}

/// Origin side (and viewer pass-through): the original and variant of a derived key,
/// which must be canonical and allowed by the whole config (`policy.presetsOnly`).
pub fn parse_derived_key(derived_key: &str, config: &Config) -> Result<(String, Variant)> {
    let (original, variant) = key::parse(derived_key, &config.policy)?;
    preset::check_derived(&variant, config)?;
    Ok((original, variant))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_000_000;
    const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
    const OLD_SAFARI: &str = "image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";

    fn rewrite(uri: &str, q: &str, accept: Option<&str>) -> Result<Rewrite> {
        viewer_request(uri, q, accept, &Config::default(), NOW)
    }

    fn derived_uri(r: Rewrite) -> String {
        match r {
            Rewrite::Derived { uri, .. } => uri,
            other => panic!("expected a rewrite, got {other:?}"),
        }
    }

    #[test]
    fn requests_without_transform_parameters_pass_through() {
        assert_eq!(
            rewrite("/a/b.jpg", "", Some(CHROME)).unwrap(),
            Rewrite::PassThrough
        );
        assert_eq!(
            rewrite("/a/b.jpg", "v=3", Some(CHROME)).unwrap(),
            Rewrite::PassThrough
        );
    }

    #[test]
    fn auto_format_follows_accept_and_parameter_order_does_not_matter() {
        let a = derived_uri(rewrite("/a/b.jpg", "w=600&fm=auto", Some(CHROME)).unwrap());
        let b = derived_uri(rewrite("/a/b.jpg", "fm=auto&w=600", Some(CHROME)).unwrap());
        assert_eq!(a, b);
        assert!(
            a.starts_with("/_derived/a/b.jpg/") && a.ends_with(".avif"),
            "{a}"
        );
        let old = derived_uri(rewrite("/a/b.jpg", "w=600&fm=auto", Some(OLD_SAFARI)).unwrap());
        assert!(old.ends_with(".legacy"), "{old}");
    }

    #[test]
    fn derived_uris_round_trip_and_only_canonical_ones_pass() {
        let r = rewrite("/a/b%20c.jpg", "w=300&fm=webp", None).unwrap();
        let Rewrite::Derived {
            uri,
            key,
            negotiated,
        } = r
        else {
            panic!("no rewrite")
        };
        assert!(!negotiated);
        assert_eq!(key::uri_to_key(&uri).unwrap(), key);
        assert_eq!(rewrite(&uri, "", None).unwrap(), Rewrite::PassThrough);
        assert!(rewrite(&uri, "w=10", None).is_err());
        let tampered = uri.replace("w_300", "w_0300");
        assert_eq!(
            rewrite(&tampered, "", None).unwrap_err().code(),
            "invalid_key"
        );
    }

    #[test]
    fn origin_generates_only_canonical_derived_uris() {
        let cfg = Config::default();
        let Rewrite::Derived { uri, key, .. } =
            rewrite("/a/b%20c.jpg", "w=300&fm=auto", Some(CHROME)).unwrap()
        else {
            panic!("no rewrite")
        };
        assert_eq!(
            origin_decision(&uri, &cfg).unwrap(),
            OriginDecision::Generate {
                key,
                original: "a/b c.jpg".into(),
                format: OutputFormat::Fixed(crate::types::Format::Avif),
                negotiated: true,
            }
        );
        for pass in ["/a/b.jpg", "/_derivedx/a.jpg", "/a%2Fb.jpg", "/%zz", "/"] {
            assert_eq!(
                origin_decision(pass, &cfg).unwrap(),
                OriginDecision::PassThrough,
                "{pass}"
            );
        }
        // The two probe findings of issue 10: an encoded '/' inside, an encoded prefix.
        for bad in [
            "/_derived/photos%2FWood.jpg/w_130.jpg",
            "/%5Fderived/photos/Wood.jpg/w_120.jpg",
            "/%5fderived/photos/Wood.jpg/w_120.jpg",
            "/_derived/a/w_0130.jpg",
            "/_derived/../a/_.jpg",
            "/_derived/caf%c3%a9.jpg/w_10.jpg",
        ] {
            assert_eq!(
                origin_decision(bad, &cfg).unwrap_err().code(),
                "invalid_key",
                "{bad}"
            );
        }
        assert!(decodes_to_prefix("/%5F%64erived/x", "/_derived/"));
        assert!(!decodes_to_prefix("/_derive", "/_derived/"));
    }

    #[test]
    fn viewer_refuses_encoded_spellings_of_derived_uris() {
        // Issue 10's probe: `%5Fderived` passed the raw prefix test and made a second
        // cache key for one object; `%2F` inside a derived key is refused on both sides.
        for bad in [
            "/%5Fderived/photos/Wood.jpg/w_120.jpg",
            "/%5fderived/photos/Wood.jpg/w_120.jpg",
            "/_derived/photos%2FWood.jpg/w_130.jpg",
            "/_derived/caf%c3%a9.jpg/w_10.jpg",
        ] {
            assert_eq!(
                rewrite(bad, "", None).unwrap_err().code(),
                "invalid_key",
                "{bad}"
            );
        }
        assert_eq!(
            rewrite("/_derived/caf%C3%A9.jpg/w_10.jpg", "", None).unwrap(),
            Rewrite::PassThrough
        );
    }

    #[test]
    fn traversal_and_bad_parameters_are_rejected() {
        for uri in [
            "/a/../b.jpg",
            "/a/%2e%2e/b.jpg",
            "/a%2Fb.jpg",
            "/a//b.jpg",
            "/a/%00.jpg",
        ] {
            let e = rewrite(uri, "w=100", None).unwrap_err();
            assert_eq!(e.status(), 400, "{uri}: {e}");
        }
        let e = rewrite("/a.jpg", "w=abc", None).unwrap_err();
        assert_eq!(e.code(), "invalid_parameter");
        assert!(e.message().starts_with("w:"), "{}", e.message());
    }

    fn signed_config(extra: &str) -> Config {
        Config::from_json(&format!(
            r#"{{"signing":{{"required":true,"keys":["new-key","old-key"]{extra}}}}}"#
        ))
        .unwrap()
    }

    fn signed(key: &str, uri: &str, query: &str) -> String {
        signature::sign_query(key.as_bytes(), uri, query)
    }

    #[test]
    fn signing_required_checks_every_resize_request_first() {
        let c = signed_config("");
        let run = |uri: &str, q: &str| viewer_request(uri, q, Some(CHROME), &c, NOW);
        let code = |r: Result<Rewrite>| r.unwrap_err().code();
        // Accepted with either key; the derived key ignores s and exp.
        let exp = NOW + 60;
        let q = signed("old-key", "/a.jpg", &format!("w=600&exp={exp}"));
        let plain = viewer_request("/a.jpg", "w=600", Some(CHROME), &Config::default(), NOW);
        assert_eq!(run("/a.jpg", &q).unwrap(), plain.unwrap());
        assert!(run("/a.jpg", &signed("new-key", "/a.jpg", "p=small")).is_ok());
        // Refused before the parameters are even read.
        assert_eq!(code(run("/a.jpg", "w=600")), "invalid_signature");
        assert_eq!(code(run("/a.jpg", "w=abc")), "invalid_signature");
        assert_eq!(
            code(run("/a.jpg", &signed("other", "/a.jpg", "w=600"))),
            "invalid_signature"
        );
        assert_eq!(
            code(run("/a.jpg", &q.replace("w=600", "w=601"))),
            "invalid_signature"
        );
        assert_eq!(code(run("/b.jpg", &q)), "invalid_signature");
        let old = signed("new-key", "/a.jpg", &format!("w=600&exp={}", NOW - 1));
        assert_eq!(code(run("/a.jpg", &old)), "signature_expired");
        let e = run("/a.jpg", &signed("new-key", "/a.jpg", "w=600&exp=soon")).unwrap_err();
        assert_eq!((e.status(), e.code()), (400, "invalid_parameter"));
        assert!(e.message().starts_with("exp:"));
        // A valid signature does not make bad parameters good.
        assert_eq!(
            code(run("/a.jpg", &signed("new-key", "/a.jpg", "w=abc"))),
            "invalid_parameter"
        );
        // Originals stay open.
        assert_eq!(run("/a.jpg", "").unwrap(), Rewrite::PassThrough);
        assert_eq!(run("/a.jpg", "v=3").unwrap(), Rewrite::PassThrough);
    }

    #[test]
    fn the_side_door_is_shut_while_signing_is_required() {
        let Rewrite::Derived { uri, .. } = rewrite("/a.jpg", "w=600", Some(CHROME)).unwrap() else {
            panic!("no rewrite")
        };
        assert_eq!(rewrite(&uri, "", None).unwrap(), Rewrite::PassThrough);
        let c = signed_config("");
        for side_door in [uri.clone(), uri.replacen("/_derived", "/%5Fderived", 1)] {
            for q in [String::new(), signed("new-key", &side_door, "")] {
                let e = viewer_request(&side_door, &q, None, &c, NOW).unwrap_err();
                assert_eq!(
                    (e.status(), e.code()),
                    (403, "invalid_signature"),
                    "{side_door}"
                );
            }
        }
    }

    #[test]
    fn sign_originals_and_signing_off() {
        let c = signed_config(r#","signOriginals":true"#);
        let e = viewer_request("/a.jpg", "", None, &c, NOW).unwrap_err();
        assert_eq!(e.code(), "invalid_signature");
        let q = signed("new-key", "/a.jpg", "");
        assert_eq!(
            viewer_request("/a.jpg", &q, None, &c, NOW).unwrap(),
            Rewrite::PassThrough
        );
        // Signing off: s and exp are ignored, even garbage.
        let off = Config::default();
        let with = viewer_request("/a.jpg", "w=5&s=junk&exp=never", None, &off, NOW).unwrap();
        assert_eq!(
            with,
            viewer_request("/a.jpg", "w=5", None, &off, NOW).unwrap()
        );
        assert_eq!(
            viewer_request("/a.jpg", "s=x", None, &off, NOW).unwrap(),
            Rewrite::PassThrough
        );
    }

    #[test]
    fn presets_only_applies_to_derived_uris_too() {
        let c = Config::from_json(r#"{"policy":{"presetsOnly":true}}"#).unwrap();
        let run = |uri: &str, q: &str| viewer_request(uri, q, None, &c, NOW);
        let Rewrite::Derived { uri, .. } = run("/a.jpg", "p=small&dpr=2").unwrap() else {
            panic!("no rewrite")
        };
        assert_eq!(uri, "/_derived/a.jpg/w_600,h_600,fm_auto.legacy");
        assert_eq!(run(&uri, "").unwrap(), Rewrite::PassThrough);
        assert_eq!(
            run("/a.jpg", "w=600&h=600").unwrap_err().code(),
            "invalid_parameter"
        );
        let e = run("/_derived/a.jpg/w_601,h_600,fm_auto.legacy", "").unwrap_err();
        assert_eq!(e.code(), "invalid_key");
    }
}
