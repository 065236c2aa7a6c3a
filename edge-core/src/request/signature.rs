//! Signed URLs: only the site's backend, which holds a key, can mint resize URLs.
//!
//! The rule (README "Signed URLs"; the Node signer is `lambda-common/sign.mjs`):
//! - string to sign: the request path exactly as CloudFront passes it in `request.uri`
//!   (still percent-encoded), then `?`, then the raw query string as sent with the `s`
//!   pair removed: every other pair stays, spelled and ordered as sent;
//! - `s = base64url(HMAC-SHA256(key, string))`, all 32 bytes, no padding (43 chars);
//! - any configured key verifies (rotation); comparison is constant time;
//! - optional `exp`: integer Unix seconds, covered by the signature; in the past →
//!   403 `signature_expired`.
//!
//! Keys never reach an error message or a `Debug` string.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// Query name of the signature.
pub const SIGNATURE_PARAM: &str = "s";
/// Query name of the expiry (Unix seconds).
pub const EXPIRY_PARAM: &str = "exp";
/// Length of `s`: 32 bytes in base64url without padding.
pub const SIGNATURE_CHARS: usize = 43;

type HmacSha256 = Hmac<Sha256>;

/// One `&`-separated piece of the raw query: its text as sent and its decoded name.
struct RawPair<'a> {
    raw: &'a str,
    name: String,
    value: String,
}

/// Split the raw query as sent. Names are decoded the way `request::parse_query` decodes
/// them, so `s`/`exp` mean the same here and there.
fn raw_pairs(querystring: &str) -> Vec<RawPair<'_>> {
    querystring
        .split('&')
        .map(|raw| {
            let (name, value) = serde_urlencoded::from_str::<Vec<(String, String)>>(raw)
                .ok()
                .and_then(|v| v.into_iter().next())
                .unwrap_or_default();
            RawPair { raw, name, value }
        })
        .collect()
}

/// `uri` + `?` + the query without its `s` pair(s).
pub fn string_to_sign(uri: &str, querystring: &str) -> String {
    let kept: Vec<&str> = raw_pairs(querystring)
        .into_iter()
        .filter(|p| p.name != SIGNATURE_PARAM)
        .map(|p| p.raw)
        .collect();
    format!("{uri}?{}", kept.join("&"))
}

/// The `s` value for `message` under `key`.
pub fn signature(key: &[u8], message: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(key, message).finalize().into_bytes())
}

fn mac(key: &[u8], message: &str) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message.as_bytes());
    mac
}

/// Sign a request: the query to send, with `s` appended (and any old `s` dropped).
pub fn sign_query(key: &[u8], uri: &str, querystring: &str) -> String {
    let message = string_to_sign(uri, querystring);
    let rest = &message[uri.len() + 1..];
    let s = signature(key, &message);
    if rest.is_empty() {
        format!("{SIGNATURE_PARAM}={s}")
    } else {
        format!("{rest}&{SIGNATURE_PARAM}={s}")
    }
}

/// Check the signature and expiry of a viewer request. `now` is Unix seconds (the core
/// has no clock in wasm; the handler passes it).
///
/// Order: `exp` syntax (400, whatever the signature), then the signature (403
/// `invalid_signature`), then the expiry (403 `signature_expired`), so an expired URL
/// says so only when it was genuinely signed.
pub fn verify(uri: &str, querystring: &str, keys: &[String], now: i64) -> Result<()> {
    let pairs = raw_pairs(querystring);
    let expiry = expiry(&pairs)?;
    let signatures: Vec<&RawPair> = pairs.iter().filter(|p| p.name == SIGNATURE_PARAM).collect();
    let given = match signatures.as_slice() {
        [] => {
            return Err(Error::invalid_signature(
                "s: missing; this URL must be signed",
            ))
        }
        [one] => one.value.as_str(),
        _ => return Err(Error::invalid_signature("s: given more than once")),
    };
    let given = decode_signature(given).ok_or_else(|| {
        Error::invalid_signature(format!(
            "s: must be {SIGNATURE_CHARS} base64url characters (HMAC-SHA256, no padding)"
        ))
    })?;
    let message = string_to_sign(uri, querystring);
    // An empty remaining query may be signed with or without the trailing `?`.
    let bare = message.strip_suffix('?').filter(|_| message.ends_with('?'));
    // Try every key (no early exit), each compared in constant time by `verify_slice`.
    let mut valid = false;
    for key in keys {
        valid |= mac(key.as_bytes(), &message).verify_slice(&given).is_ok();
        if let Some(bare) = bare {
            valid |= mac(key.as_bytes(), bare).verify_slice(&given).is_ok();
        }
    }
    if !valid {
        return Err(Error::invalid_signature(
            "s: signature does not match this URL",
        ));
    }
    if let Some(exp) = expiry {
        if exp < now {
            return Err(Error::signature_expired(format!(
                "exp: URL expired at {exp} (Unix seconds); sign it again"
            )));
        }
    }
    Ok(())
}

fn decode_signature(s: &str) -> Option<Vec<u8>> {
    if s.len() != SIGNATURE_CHARS {
        return None;
    }
    // The engine refuses non-canonical trailing bits, so each signature has one spelling.
    URL_SAFE_NO_PAD.decode(s).ok().filter(|b| b.len() == 32)
}

/// `exp` as an integer number of Unix seconds, if given.
fn expiry(pairs: &[RawPair]) -> Result<Option<i64>> {
    let mut found = None;
    for p in pairs.iter().filter(|p| p.name == EXPIRY_PARAM) {
        if found.is_some() {
            return Err(Error::invalid_parameter(
                EXPIRY_PARAM,
                "given more than once",
            ));
        }
        found = Some(parse_unix_seconds(&p.value).ok_or_else(|| {
            let shown: String = p.value.chars().take(40).collect();
            Error::invalid_parameter(
                EXPIRY_PARAM,
                format!(
                    "must be an integer number of Unix seconds, e.g. 1767225600 (got {shown:?})"
                ),
            )
        })?);
    }
    Ok(found)
}

/// Optional `-`, then 1-18 decimal digits (fits an i64; ~3e10 years either way).
fn parse_unix_seconds(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Signing;

    const NOW: i64 = 1_767_000_000;

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn string_to_sign_drops_only_the_s_pair() {
        assert_eq!(
            string_to_sign("/photos/cat.jpg", "w=600&fm=auto&exp=1767225600"),
            "/photos/cat.jpg?w=600&fm=auto&exp=1767225600"
        );
        assert_eq!(
            string_to_sign("/a%20b.jpg", "w=1&s=abc&fm=WEBP&x=%41"),
            "/a%20b.jpg?w=1&fm=WEBP&x=%41"
        );
        assert_eq!(string_to_sign("/a", "s=abc"), "/a?");
        assert_eq!(string_to_sign("/a", ""), "/a?");
        // `ss`, `s2` and `xs` are other pairs.
        assert_eq!(
            string_to_sign("/a", "ss=1&s2=2&xs=3&s=4"),
            "/a?ss=1&s2=2&xs=3"
        );
    }

    #[test]
    fn known_vector() {
        // Computed independently: printf '%s' '/photos/cat.jpg?w=600&fm=auto&exp=1767225600'
        //   | openssl dgst -sha256 -hmac secret-1 -binary | basenc --base64url | tr -d =
        let s = signature(b"secret-1", "/photos/cat.jpg?w=600&fm=auto&exp=1767225600");
        assert_eq!(s.len(), SIGNATURE_CHARS);
        assert_eq!(s, KNOWN_SIGNATURE);
    }
    const KNOWN_SIGNATURE: &str = "pja8KAggzb-J7zB61WL10l8Hbs2-BjeIjj2LkZrdsNU";

    #[test]
    fn rotation_expiry_and_errors() {
        let q = sign_query(b"old", "/a.jpg", "w=600&exp=1767225600");
        assert!(q.starts_with("w=600&exp=1767225600&s="), "{q}");
        assert!(verify("/a.jpg", &q, &keys(&["new", "old"]), NOW).is_ok());
        let code = |r: Result<()>| r.unwrap_err().code();
        assert_eq!(
            code(verify("/a.jpg", &q, &keys(&["new"]), NOW)),
            "invalid_signature"
        );
        assert_eq!(
            code(verify("/b.jpg", &q, &keys(&["old"]), NOW)),
            "invalid_signature"
        );
        let tampered = q.replace("w=600", "w=601");
        assert_eq!(
            code(verify("/a.jpg", &tampered, &keys(&["old"]), NOW)),
            "invalid_signature"
        );
        let later = NOW + 300_000_000;
        let e = verify("/a.jpg", &q, &keys(&["old"]), later).unwrap_err();
        assert_eq!((e.status(), e.code()), (403, "signature_expired"));
        assert!(e.message().starts_with("exp:"));
        // Missing, malformed, doubled.
        assert_eq!(
            code(verify("/a.jpg", "w=600", &keys(&["old"]), NOW)),
            "invalid_signature"
        );
        assert_eq!(
            code(verify("/a.jpg", "w=600&s=", &keys(&["old"]), NOW)),
            "invalid_signature"
        );
        assert_eq!(
            code(verify("/a.jpg", "w=600&s=!!", &keys(&["old"]), NOW)),
            "invalid_signature"
        );
        let doubled = format!("{q}&{}", &q[q.find("s=").unwrap()..]);
        assert_eq!(
            code(verify("/a.jpg", &doubled, &keys(&["old"]), NOW)),
            "invalid_signature"
        );
        // `exp` syntax is a 400 naming it, signed or not.
        for bad in [
            "abc",
            "",
            "1.5",
            "+5",
            "1e9",
            "0x10",
            "9999999999999999999999",
        ] {
            let q = sign_query(b"old", "/a.jpg", &format!("w=1&exp={bad}"));
            let e = verify("/a.jpg", &q, &keys(&["old"]), NOW).unwrap_err();
            assert_eq!((e.status(), e.code()), (400, "invalid_parameter"), "{bad}");
            assert!(e.message().starts_with("exp:"), "{}", e.message());
        }
        let q = sign_query(b"old", "/a.jpg", "exp=1&exp=2");
        assert_eq!(
            code(verify("/a.jpg", &q, &keys(&["old"]), NOW)),
            "invalid_parameter"
        );
        // A negative expiry is an integer in the past.
        let q = sign_query(b"old", "/a.jpg", "w=1&exp=-5");
        assert_eq!(
            code(verify("/a.jpg", &q, &keys(&["old"]), NOW)),
            "signature_expired"
        );
        // No keys at all: nothing verifies.
        assert_eq!(
            code(verify(
                "/a.jpg",
                &sign_query(b"k", "/a.jpg", "w=1"),
                &[],
                NOW
            )),
            "invalid_signature"
        );
    }

    #[test]
    fn empty_query_verifies_with_or_without_the_question_mark() {
        let with = signature(b"k", "/a.jpg?");
        let without = signature(b"k", "/a.jpg");
        for s in [with, without] {
            assert!(verify("/a.jpg", &format!("s={s}"), &keys(&["k"]), NOW).is_ok());
        }
        // Without `?` only when nothing is left: `/a.jpgw=1` is not `/a.jpg?w=1`.
        let s = signature(b"k", "/a.jpgw=1");
        assert!(verify("/a.jpg", &format!("w=1&s={s}"), &keys(&["k"]), NOW).is_err());
    }

    #[test]
    fn non_canonical_base64_is_refused() {
        let s = signature(b"k", "/a?w=1");
        // The last character carries 4 padding bits that must be zero; flip them.
        let last = s.chars().last().unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.find(last).unwrap();
        let sibling = alphabet.chars().nth(idx ^ 1).unwrap();
        let forged = format!("{}{sibling}", &s[..s.len() - 1]);
        let e = verify("/a", &format!("w=1&s={forged}"), &keys(&["k"]), NOW).unwrap_err();
        assert_eq!(e.code(), "invalid_signature");
    }

    #[test]
    fn keys_never_show() {
        let signing = Signing {
            required: true,
            keys: keys(&["hunter2-secret"]),
            sign_originals: false,
        };
        assert!(!format!("{signing:?}").contains("hunter2"));
        for bad in [
            r#""hunter2-secret""#,
            r#"["ok", 7, "hunter2-secret"]"#,
            r#"{"k":"hunter2-secret"}"#,
        ] {
            let json = format!(r#"{{"signing":{{"keys":{bad}}}}}"#);
            let e = crate::Config::from_json(&json).unwrap_err();
            assert!(
                e.message()
                    .contains("signing.keys must be a list of strings"),
                "{}",
                e.message()
            );
            assert!(!e.message().contains("hunter2"), "{}", e.message());
        }
        let q = sign_query(b"hunter2-secret", "/a", "w=1&exp=1");
        for query in ["w=1", "w=1&s=x", &q, &q.replace("w=1", "w=2")] {
            let e = verify("/a", query, &keys(&["hunter2-secret"]), NOW).unwrap_err();
            assert!(!e.message().contains("hunter2"), "{}", e.message());
        }
        assert!(Signing {
            required: true,
            ..Signing::default()
        }
        .validate()
        .is_err());
        let empty_key = Signing {
            keys: keys(&["a", ""]),
            ..Signing::default()
        };
        assert_eq!(
            empty_key.validate().unwrap_err(),
            "signing.keys[1] must not be empty"
        );
    }
}
