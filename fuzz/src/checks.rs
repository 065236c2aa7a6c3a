// The checks each fuzz target runs. Shared with edge-core/tests/fuzz_regressions.rs,
// which `include!`s this file to replay fuzz/regressions/ in the normal test run
// (this crate is outside the workspace, so it cannot be a dependency there).

use edge_core::{accept, key, plan, request, Policy};
#[cfg(feature = "codecs")]
use edge_core::{Config, Limits};

#[cfg(feature = "codecs")]
/// Limits small enough that an out-of-memory report under `-rss_limit_mb=1024` is a
/// real bug (the header checks must refuse anything bigger before allocating).
pub fn small_config() -> Config {
    Config {
        limits: Limits {
            max_input_bytes: 4 << 20,
            max_input_pixels: 4_000_000,
            max_decode_bytes: 64 << 20,
            max_frames: 100,
            max_animation_pixels: 16_000_000,
            max_svg_elements: 5_000,
            max_svg_depth: 64,
        },
        policy: Policy {
            max_width: 512,
            max_height: 512,
            max_output_pixels: 512 * 512,
            ..Policy::default()
        },
        ..Config::default()
    }
}

/// Query grammar + plan: never panics; a planned variant's derived key parses back to
/// the same variant and stays inside the prefix.
pub fn query_plan(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (query, accept) = text.split_once('\n').unwrap_or((text, ""));
    let policy = Policy::default();
    let Ok(params) = request::parse_query(query) else { return };
    let Ok(variant) = plan::plan(&params, Some(accept), &policy) else { return };
    let _ = plan::to_query(&variant);
    if let Ok(derived) = key::derive("photos/cat.jpg", &variant, &policy) {
        assert!(derived.starts_with(&policy.derived_prefix));
        let (original, back) = key::parse(&derived, &policy).expect("a derived key parses");
        assert_eq!(original, "photos/cat.jpg");
        assert_eq!(back, variant);
    }
}

/// Derived-key parsing: whatever parses re-derives to a key inside the prefix whose
/// original is a valid key, and derive(parse(k)) parses to the same thing again.
pub fn derived_key(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let policy = Policy::default();
    let Ok((original, variant)) = key::parse(text, &policy) else { return };
    assert!(!original.split('/').any(|s| s == ".." || s == "." || s.is_empty()), "{original:?}");
    let derived = key::derive(&original, &variant, &policy).expect("a parsed key re-derives");
    assert!(derived.starts_with(&policy.derived_prefix));
    let again = key::parse(&derived, &policy).expect("a derived key parses");
    assert_eq!(again, (original, variant));
}

/// Accept parsing: never panics, and negotiation always picks an enabled format.
pub fn accept_header(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ranges = accept::parse(&text);
    for format in edge_core::Format::ALL {
        let _ = accept::accepts(&ranges, format);
    }
    let _ = accept::negotiate(Some(&text), &edge_core::Format::ALL);
}

/// Signature check: never panics; a query signed with a key verifies with it (and
/// with it among others), and not with another key, nor for another URI.
pub fn signature(data: &[u8]) {
    use edge_core::request::signature::{sign_query, verify};
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(3, '\n');
    let (key, uri, query) = match (parts.next(), parts.next(), parts.next()) {
        (Some(k), Some(u), Some(q)) => (k, u, q),
        _ => ("k", "/a.jpg", text),
    };
    let keys = [key.to_string()];
    // Whatever was given, signed or not, is checked without a panic.
    let _ = verify(uri, query, &keys, 0);
    let signed = sign_query(key.as_bytes(), uri, query);
    match verify(uri, &signed, &keys, i64::MIN) {
        Ok(()) => {}
        // `exp` that is not an integer is refused whatever the signature.
        Err(e) if e.code() == "invalid_parameter" => return,
        Err(e) => panic!("{uri:?}?{signed:?} signed with {key:?} does not verify: {e:?}"),
    }
    let rotated = ["old".to_string(), key.to_string()];
    assert!(verify(uri, &signed, &rotated, i64::MIN).is_ok());
    let other = [format!("{key}x")];
    assert!(verify(uri, &signed, &other, i64::MIN).is_err());
    assert!(verify(&format!("{uri}x"), &signed, &keys, i64::MIN).is_err());
}

#[cfg(feature = "codecs")]
/// SVG documents through `pipeline::transform` (SVG is sniffed from the text).
pub fn transform_svg(data: &[u8]) {
    if edge_core::decode::svg::looks_like_svg(data) {
        transform(data);
    }
}

#[cfg(feature = "codecs")]
/// One decoder through `pipeline::transform`: inputs sniffed as another format are
/// skipped, so each target's time goes to its own decoder.
pub fn transform_as(format: edge_core::sniff::SourceFormat, data: &[u8]) {
    if edge_core::sniff::sniff(data).ok() == Some(format) {
        transform(data);
    }
}

#[cfg(feature = "codecs")]
/// `pipeline::transform` with small limits: never panics, never a 5xx.
pub fn transform(data: &[u8]) {
    let cfg = small_config();
    let queries = [
        "w=64",
        "w=96&h=96&fit=cover&fm=webp",
        "w=48&fm=png",
        "w=32&fm=avif&q=30",
        "w=40&fm=gif",
    ];
    let query = queries[data.len() % queries.len()];
    let params = request::parse_query(query).unwrap();
    let variant = plan::plan(&params, None, &cfg.policy).unwrap();
    // The origin's cost estimate reads the same header: never a panic or a 5xx, and
    // never a refusal of what the transform serves.
    let estimate = edge_core::cost::estimate(data, &variant, &cfg);
    if let Err(e) = &estimate {
        assert!((400..500).contains(&e.status()), "estimate: {e:?}");
    }
    match edge_core::pipeline::transform(data, &variant, &cfg) {
        Ok(_) => assert!(estimate.is_ok(), "served, but the estimate refuses: {estimate:?}"),
        Err(e) => assert!((400..500).contains(&e.status()), "{e:?}"),
    }
}
