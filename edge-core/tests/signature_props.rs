//! Property tests for signed URLs: a URL signed with any configured key verifies over
//! arbitrary paths and queries, wherever `s` sits, and any change to the signed text,
//! the signature or the key is refused.

use edge_core::signature::{signature, string_to_sign, verify, SIGNATURE_CHARS};
use proptest::collection::vec;
use proptest::prelude::*;

const NOW: i64 = 1_767_000_000;

/// A path as CloudFront passes it: `/`, then percent-encoded or plain URI characters.
fn path() -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            "[a-zA-Z0-9._~!$'()*+,;=:@-]{1,10}",
            "\\PC{1,6}"
                .prop_map(|s| { s.bytes().map(|b| format!("%{b:02X}")).collect::<String>() }),
        ],
        1..5,
    )
    .prop_map(|segments| format!("/{}", segments.join("/")))
}

/// Query pairs other than `s` (and `exp`, which has its own rules): names and values as
/// a client may send them, including `+`, `%XX`, `=` in values and empty values.
fn pairs() -> impl Strategy<Value = Vec<String>> {
    vec(
        ("[a-z]{1,6}", "[a-zA-Z0-9%+=._~-]{0,12}", any::<bool>()).prop_filter_map(
            "not s or exp",
            |(name, value, with_eq)| {
                if name == "s" || name == "exp" {
                    return None;
                }
                Some(if with_eq || !value.is_empty() {
                    format!("{name}={value}")
                } else {
                    name
                })
            },
        ),
        0..8,
    )
}

fn keys() -> impl Strategy<Value = Vec<String>> {
    vec("\\PC{1,40}", 1..4)
}

/// Insert `s=<sig>` at `at` (mod len+1) among `pairs`.
fn with_signature(pairs: &[String], sig: &str, at: usize) -> String {
    let mut all = pairs.to_vec();
    let at = at % (all.len() + 1);
    all.insert(at, format!("s={sig}"));
    all.join("&")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn signed_urls_verify_with_any_listed_key(
        uri in path(),
        pairs in pairs(),
        keys in keys(),
        which in any::<usize>(),
        at in any::<usize>(),
        exp in proptest::option::of(NOW..NOW + 10_000_000),
    ) {
        let mut pairs = pairs;
        if let Some(exp) = exp {
            pairs.push(format!("exp={exp}"));
        }
        let key = &keys[which % keys.len()];
        let message = format!("{uri}?{}", pairs.join("&"));
        let sig = signature(key.as_bytes(), &message);
        prop_assert_eq!(sig.len(), SIGNATURE_CHARS);
        let query = with_signature(&pairs, &sig, at);
        prop_assert_eq!(string_to_sign(&uri, &query), message);
        prop_assert!(verify(&uri, &query, &keys, NOW).is_ok(), "{}?{}", uri, query);
    }

    #[test]
    fn any_change_is_refused(
        uri in path(),
        pairs in pairs(),
        key in "\\PC{1,40}",
        other_key in "\\PC{1,40}",
        at in any::<usize>(),
        flip in any::<usize>(),
    ) {
        let message = format!("{uri}?{}", pairs.join("&"));
        let sig = signature(key.as_bytes(), &message);
        let query = with_signature(&pairs, &sig, at);
        let code = |uri: &str, query: &str, keys: &[String]| {
            verify(uri, query, keys, NOW).err().map(|e| e.code())
        };
        let keys = vec![key.clone()];
        // Another key.
        if other_key != key {
            prop_assert_eq!(code(&uri, &query, &[other_key]), Some("invalid_signature"));
        }
        // Another path.
        prop_assert_eq!(code(&format!("{uri}x"), &query, &keys), Some("invalid_signature"));
        // An added pair.
        prop_assert_eq!(code(&uri, &format!("{query}&w=1"), &keys), Some("invalid_signature"));
        // One character of the signature changed.
        let i = flip % SIGNATURE_CHARS;
        let c = sig.as_bytes()[i];
        let replacement = if c == b'A' { 'B' } else { 'A' };
        let mut forged = sig.clone();
        forged.replace_range(i..=i, &replacement.to_string());
        let forged_query = with_signature(&pairs, &forged, at);
        prop_assert_eq!(code(&uri, &forged_query, &keys), Some("invalid_signature"));
        // Unsigned.
        prop_assert_eq!(code(&uri, &pairs.join("&"), &keys), Some("invalid_signature"));
    }

    #[test]
    fn past_expiry_is_refused_only_when_signed(
        uri in path(),
        pairs in pairs(),
        key in "\\PC{1,40}",
        age in 1i64..1_000_000_000,
    ) {
        let mut pairs = pairs;
        pairs.push(format!("exp={}", NOW - age));
        let sig = signature(key.as_bytes(), &format!("{uri}?{}", pairs.join("&")));
        let query = with_signature(&pairs, &sig, usize::MAX);
        let keys = vec![key];
        let e = verify(&uri, &query, &keys, NOW).unwrap_err();
        prop_assert_eq!((e.status(), e.code()), (403, "signature_expired"));
        let tampered = query.replace(&format!("exp={}", NOW - age), &format!("exp={}", NOW + age));
        let e = verify(&uri, &tampered, &keys, NOW).unwrap_err();
        prop_assert_eq!(e.code(), "invalid_signature");
    }
}
