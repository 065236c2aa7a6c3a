//! The viewer-request decision: which object a viewer URL maps to. The same rules
//! (`request`, `plan`, `key`) are used by the origin side to parse the key back.

use super::{key, plan, query};
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
fn canonical_derived(uri: &str, policy: &Policy) -> Result<(String, String, Variant)> {
    let key = key::uri_to_key(uri)?;
    if key::key_to_uri(&key) != uri {
        return Err(Error::invalid_key(
            "derived URI is not in canonical percent-encoding",
        ));
    }
    let (original, variant) = key::parse(&key, policy)?;
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
    let (key, original, variant) = canonical_derived(uri, policy)?;
    Ok(OriginDecision::Generate {
        key,
        original,
        format: variant.format,
        negotiated: variant.negotiated,
    })
}

/// Map a viewer request (`uri` as CloudFront gives it, query without `?`) to its object.
pub fn viewer_request(
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
        canonical_derived(uri, policy)?;
        return Ok(Rewrite::PassThrough);
    }
    if !query::has_transform_params(querystring) {
        return Ok(Rewrite::PassThrough);
    }
    let params = query::parse_query(querystring)?;
    let variant = plan::plan(&params, accept, policy)?;
    let original = key::uri_to_key(uri)?;
    let derived = key::derive(&original, &variant, policy)?;
    Ok(Rewrite::Derived {
        uri: key::key_to_uri(&derived),
        key: derived,
        negotiated: variant.negotiated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
    const OLD_SAFARI: &str = "image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";

    fn rewrite(uri: &str, q: &str, accept: Option<&str>) -> Result<Rewrite> {
        viewer_request(uri, q, accept, &Config::default())
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
}
