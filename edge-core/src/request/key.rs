//! Derived S3 keys: `<prefix><original key>/<params>.<ext>`, and the safety rules for
//! object keys and CloudFront URIs.
//!
//! `params` is `code_value` pairs joined by `,` in the order of the parameter table
//! (`params::PARAMS`: `w, h, fit, pos, enlarge, q, bg, fm`), defaults dropped, `_`
//! when empty. There is
//! exactly one key per canonical variant: `parse` re-derives what it read and accepts
//! only a byte-identical key, so no alternative spelling can reach the origin.

use super::params::{self, PARAMS};
use super::plan;
use crate::config::Policy;
use crate::error::{Error, Result};
use crate::types::{Format, OutputFormat, Variant};

/// Longest original key we accept, leaving room for prefix and params under S3's limit.
pub const MAX_ORIGINAL_KEY_BYTES: usize = 900;
/// S3's limit on object key length (UTF-8 bytes).
pub const MAX_S3_KEY_BYTES: usize = 1024;

/// The derived key of variant `v` of `original_key`. `v` must come from `plan`
/// (a non-canonical variant is a caller bug: `internal`).
pub fn derive(original_key: &str, v: &Variant, policy: &Policy) -> Result<String> {
    validate_original_key(original_key, policy)?;
    if let Some(problem) = plan::non_canonical(v, policy) {
        return Err(Error::internal(format!("non-canonical variant: {problem}")));
    }
    render(original_key, v, policy)
}

fn render(original_key: &str, v: &Variant, policy: &Policy) -> Result<String> {
    // Table order is key order; defaults render as nothing.
    let params: Vec<String> = PARAMS
        .iter()
        .filter_map(|p| Some(format!("{}_{}", p.key_code?, (p.render)(v)?)))
        .collect();
    let params = if params.is_empty() {
        "_".to_string()
    } else {
        params.join(",")
    };
    let ext = match v.format {
        OutputFormat::Fixed(f) => f.extension(),
        OutputFormat::Legacy => "legacy",
        OutputFormat::Source => "source",
    };
    let key = format!("{}{original_key}/{params}.{ext}", policy.derived_prefix);
    if key.len() > MAX_S3_KEY_BYTES {
        return Err(Error::invalid_key(
            "derived key would exceed S3's 1024-byte limit",
        ));
    }
    Ok(key)
}

/// The exact inverse of `derive`: the original key and the variant. Anything that
/// `derive` would not have produced byte for byte is `invalid_key`.
pub fn parse(derived_key: &str, policy: &Policy) -> Result<(String, Variant)> {
    let malformed = |what: &str| Error::invalid_key(format!("malformed derived key: {what}"));
    let rest = derived_key
        .strip_prefix(policy.derived_prefix.as_str())
        .ok_or_else(|| malformed("not under the derived prefix"))?;
    let (original, last) = rest
        .rsplit_once('/')
        .ok_or_else(|| malformed("no parameter segment"))?;
    let (params, ext) = last
        .split_once('.')
        .ok_or_else(|| malformed("no extension"))?;
    let format = match ext {
        "jpg" => OutputFormat::Fixed(Format::Jpeg),
        "png" => OutputFormat::Fixed(Format::Png),
        "webp" => OutputFormat::Fixed(Format::Webp),
        "avif" => OutputFormat::Fixed(Format::Avif),
        "legacy" => OutputFormat::Legacy,
        "source" => OutputFormat::Source,
        _ => return Err(malformed("unknown extension")),
    };
    let mut v = Variant::new(format);
    // Lenient reading; order, duplicates and spelling are settled by the re-derive below.
    if params != "_" {
        for pair in params.split(',') {
            let (name, value) = pair
                .split_once('_')
                .ok_or_else(|| malformed("parameter without '_'"))?;
            let ok = params::find_key_code(name).is_some_and(|p| (p.read_key)(&mut v, value));
            if !ok {
                return Err(malformed("unknown parameter or value"));
            }
        }
    }
    validate_original_key(original, policy)?;
    if let Some(problem) = plan::non_canonical(&v, policy) {
        return Err(Error::invalid_key(format!(
            "derived key is not canonical: {problem}"
        )));
    }
    if render(original, &v, policy)? != derived_key {
        return Err(Error::invalid_key("derived key is not in canonical form"));
    }
    Ok((original.to_string(), v))
}

/// An S3 key we may read originals from and derive keys for.
pub fn validate_original_key(key: &str, policy: &Policy) -> Result<()> {
    if key.len() > MAX_ORIGINAL_KEY_BYTES {
        return Err(Error::invalid_key(format!(
            "key longer than {MAX_ORIGINAL_KEY_BYTES} bytes"
        )));
    }
    // Derived objects are outputs, never inputs: no variants of variants.
    if key.starts_with(policy.derived_prefix.as_str()) {
        return Err(Error::invalid_key("key is under the derived prefix"));
    }
    check_segments(key)
}

/// Rules every key (original or derived) obeys, so that `/`-joined paths cannot be
/// reinterpreted by S3 consoles, sync tools or file-system backends.
fn check_segments(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid_key("empty key"));
    }
    for segment in key.split('/') {
        match segment {
            "" => {
                return Err(Error::invalid_key(
                    "empty path segment (leading, trailing or double '/')",
                ))
            }
            "." | ".." => return Err(Error::invalid_key("'.' or '..' path segment")),
            _ => {}
        }
    }
    if key.contains('\\') {
        return Err(Error::invalid_key("backslash in key"));
    }
    // `uri_to_key` refuses `%25` (double-encoding tricks), so a key with a literal `%`
    // could never be addressed; refusing it here keeps the URI round trip total.
    if key.contains('%') {
        return Err(Error::invalid_key("'%' in key"));
    }
    // Cc: C0 controls, DEL and C1 controls.
    if key.chars().any(char::is_control) {
        return Err(Error::invalid_key("control character in key"));
    }
    Ok(())
}

/// CloudFront's percent-encoded URI (`/photos/caf%C3%A9.jpg`) → the S3 key
/// (`photos/café.jpg`), decoded exactly once.
pub fn uri_to_key(uri: &str) -> Result<String> {
    let rest = uri
        .strip_prefix('/')
        .ok_or_else(|| Error::invalid_key("URI must start with '/'"))?;
    let mut bytes = Vec::with_capacity(rest.len());
    let mut input = rest.bytes();
    while let Some(b) = input.next() {
        if b != b'%' {
            bytes.push(b);
            continue;
        }
        let hex = |b: Option<u8>| b.and_then(|b| (b as char).to_digit(16));
        let (Some(hi), Some(lo)) = (hex(input.next()), hex(input.next())) else {
            return Err(Error::invalid_key("malformed percent-escape in URI"));
        };
        // Both digits are < 16, so this fits a byte.
        let decoded = (hi * 16 + lo) as u8;
        // Encoded separators or '%' only exist to smuggle a second meaning past us.
        if matches!(decoded, b'/' | b'\\' | b'%') {
            return Err(Error::invalid_key(
                "percent-encoded '/', '\\' or '%' in URI",
            ));
        }
        bytes.push(decoded);
    }
    let key = String::from_utf8(bytes)
        .map_err(|_| Error::invalid_key("URI is not UTF-8 once decoded"))?;
    if key.len() > MAX_S3_KEY_BYTES {
        return Err(Error::invalid_key("key longer than S3's 1024-byte limit"));
    }
    check_segments(&key)?;
    Ok(key)
}

/// The URI CloudFront should request for `key`: everything but unreserved characters,
/// `/` and `,` percent-encoded with uppercase hex.
pub fn key_to_uri(key: &str) -> String {
    let mut uri = String::with_capacity(key.len() + 1);
    uri.push('/');
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b',') {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SizeMode;
    use crate::request::parse_query;
    use crate::request::plan::plan;
    use crate::types::Fit;

    fn variant(query: &str, accept: Option<&str>, policy: &Policy) -> Variant {
        plan(&parse_query(query).unwrap(), accept, policy).unwrap()
    }

    /// Keys under a policy that keeps the source format without `fm` (the default
    /// before negotiation became the default), so each example shows one parameter.
    fn key(original: &str, query: &str, accept: Option<&str>) -> String {
        let p = Policy {
            auto_format_by_default: false,
            ..Policy::default()
        };
        derive(original, &variant(query, accept, &p), &p).unwrap()
    }

    #[test]
    fn default_policy_negotiates_without_fm() {
        let p = Policy::default();
        let chrome = Some("image/avif,image/webp,image/*,*/*;q=0.8");
        let k = |q: &str, accept| derive("a.jpg", &variant(q, accept, &p), &p).unwrap();
        assert_eq!(k("w=600", chrome), "_derived/a.jpg/w_600,fm_auto.avif");
        assert_eq!(k("w=600", chrome), k("w=600&fm=auto", chrome));
        assert_eq!(k("w=600", None), "_derived/a.jpg/w_600,fm_auto.legacy");
        assert_eq!(k("w=600&fm=webp", chrome), "_derived/a.jpg/w_600.webp");
        assert_eq!(k("w=600&fm=source", chrome), "_derived/a.jpg/w_600.source");
        assert_eq!(
            parse("_derived/a.jpg/w_600.source", &p).unwrap().1,
            variant("w=600&fm=source", None, &p)
        );
    }

    #[test]
    fn derived_key_examples() {
        let chrome = Some("image/avif,image/webp,image/*,*/*;q=0.8");
        let firefox_old = Some("image/webp,*/*");
        assert_eq!(
            key("photos/cat.jpg", "", None),
            "_derived/photos/cat.jpg/_.source"
        );
        assert_eq!(
            key(
                "photos/cat.jpg",
                "w=600&h=400&fit=cover&q=70&fm=auto",
                firefox_old
            ),
            "_derived/photos/cat.jpg/w_600,h_400,fit_cover,q_70,fm_auto.webp"
        );
        assert_eq!(
            key("a.png", "w=600&fm=auto", chrome),
            "_derived/a.png/w_600,fm_auto.avif"
        );
        assert_eq!(
            key("a.png", "w=600&fm=auto", None),
            "_derived/a.png/w_600,fm_auto.legacy"
        );
        assert_eq!(
            key(
                "a",
                "fm=jpg&bg=%23ABCDEF80&pos=se&fit=contain&d=10x20&enlarge=1&q=12",
                None
            ),
            "_derived/a/w_10,h_20,fit_contain,pos_se,enlarge_1,q_12,bg_abcdef80.jpg"
        );
        assert_eq!(key("a", "fm=jpeg&bg=00f", None), "_derived/a/bg_0000ff.jpg");
        assert_eq!(key("a", "fm=png&pos=north", None), "_derived/a/_.png");
    }

    #[test]
    fn parse_inverts_derive() {
        let p = Policy::default();
        let v = variant(
            "w=10&h=20&fit=cover&pos=nw&enlarge=1&q=9&bg=1234&fm=auto",
            Some("image/avif"),
            &p,
        );
        let k = derive("dir/sub dir/x,y_z=1.v2.jpg", &v, &p).unwrap();
        assert_eq!(
            parse(&k, &p).unwrap(),
            ("dir/sub dir/x,y_z=1.v2.jpg".to_string(), v)
        );
    }

    #[test]
    fn parse_rejects_non_canonical_spellings() {
        let p = Policy::default();
        for bad in [
            "_derived/a/w_10,h_20.jpg_",
            "_derived/a/h_20,w_10.jpg",
            "_derived/a/w_10,w_10.jpg",
            "_derived/a/w_010.jpg",
            "_derived/a/w_+10.jpg",
            "_derived/a/fit_inside.jpg",
            "_derived/a/pos_c.jpg",
            "_derived/a/pos_north.jpg",
            "_derived/a/w_1,h_1,fit_cover,pos_c.jpg",
            "_derived/a/w_1,pos_n.jpg",
            "_derived/a/enlarge_0.jpg",
            "_derived/a/enlarge_1.jpg",
            "_derived/a/q_80.jpg",
            "_derived/a/q_50.png",
            "_derived/a/q_0.source",
            "_derived/a/bg_ffffff.jpg",
            "_derived/a/bg_ABCDEF.jpg",
            "_derived/a/bg_abcdefff.jpg",
            "_derived/a/bg_abc.jpg",
            "_derived/a/bg_000000.webp",
            "_derived/a/fm_auto.jpg",
            "_derived/a/fm_webp.webp",
            "_derived/a/_.legacy",
            "_derived/a/fm_auto.source",
            "_derived/a/w_5000.jpg",
            "_derived/a/w_4096,h_4097.jpg",
            "_derived/a/,.jpg",
            "_derived/a/w_1,.jpg",
            "_derived/a/w.jpg",
            "_derived/a/x_1.jpg",
            "_derived/a/.jpg",
            "_derived/a/_.JPG",
            "_derived/a/_.jpeg",
            "_derived/a/_.gif",
            "_derived/a/_",
            "_derived/_.jpg",
            "_derived//_.jpg",
            "_derived/../_.jpg",
            "_derived/a/../b/_.jpg",
            "_derived/_derived/a/_.jpg/_.jpg",
            "_derived/a\\b/_.jpg",
            "_derived/a\u{0}/_.jpg",
            "other/a/_.jpg",
            "",
        ] {
            let e = parse(bad, &p).unwrap_err();
            assert_eq!(e.code(), "invalid_key", "{bad}");
        }
    }

    #[test]
    fn parse_applies_the_policy() {
        let lists = Policy {
            widths: vec![100, 200],
            size_mode: SizeMode::Snap,
            ..Policy::default()
        };
        assert!(parse("_derived/a/w_200.jpg", &lists).is_ok());
        assert!(parse("_derived/a/w_150.jpg", &lists).is_err());
        let no_avif = Policy {
            formats: vec![Format::Jpeg, Format::Webp],
            ..Policy::default()
        };
        assert!(parse("_derived/a/_.avif", &no_avif).is_err());
        assert!(parse("_derived/a/fm_auto.webp", &no_avif).is_ok());
        let auto = Policy {
            auto_format_by_default: true,
            ..Policy::default()
        };
        // `fm=source` keeps the original's format under negotiation by default too.
        assert!(parse("_derived/a/_.source", &auto).is_ok());
        let prefix = Policy {
            derived_prefix: "cache/v1/".into(),
            ..Policy::default()
        };
        assert_eq!(parse("cache/v1/a/b/_.png", &prefix).unwrap().0, "a/b");
    }

    #[test]
    fn original_key_rules() {
        let p = Policy::default();
        for good in [
            "a",
            "a/b.jpg",
            "...",
            "a/.hidden",
            "é/日本/😀 x.png",
            "a..b",
            "_derivedx/a",
            "a+b,c=d_e~",
        ] {
            assert!(validate_original_key(good, &p).is_ok(), "{good}");
        }
        let long = "a".repeat(MAX_ORIGINAL_KEY_BYTES + 1);
        for bad in [
            "",
            "/a",
            "a/",
            "a//b",
            ".",
            "..",
            "a/./b",
            "a/../b",
            "../a",
            "a\\b",
            "a\u{0}",
            "a\u{1f}",
            "a\u{7f}",
            "a\u{85}",
            "a\nb",
            "_derived/a",
            "100%.jpg",
            "%41",
            long.as_str(),
        ] {
            assert_eq!(
                validate_original_key(bad, &p).unwrap_err().code(),
                "invalid_key",
                "{bad:?}"
            );
        }
        assert!(validate_original_key(&"a".repeat(MAX_ORIGINAL_KEY_BYTES), &p).is_ok());
    }

    #[test]
    fn longest_original_key_still_fits_s3() {
        let p = Policy::default();
        let v = variant(
            "w=4096&h=4096&fit=outside&enlarge=1&q=100&bg=01020304&fm=auto",
            None,
            &p,
        );
        let k = derive(&"é".repeat(MAX_ORIGINAL_KEY_BYTES / 2), &v, &p).unwrap();
        assert!(k.len() <= MAX_S3_KEY_BYTES);
        let huge_prefix = Policy {
            derived_prefix: format!("{}/", "p".repeat(200)),
            ..p
        };
        let e = derive(&"a".repeat(MAX_ORIGINAL_KEY_BYTES), &v, &huge_prefix).unwrap_err();
        assert_eq!(e.code(), "invalid_key");
    }

    #[test]
    fn derive_refuses_non_canonical_variants() {
        let p = Policy::default();
        let mut v = variant("w=5", None, &p);
        v.fit = Fit::Cover;
        assert_eq!(derive("a", &v, &p).unwrap_err().code(), "internal");
    }

    #[test]
    fn uris() {
        assert_eq!(
            uri_to_key("/photos/caf%C3%A9%20x.jpg").unwrap(),
            "photos/café x.jpg"
        );
        assert_eq!(uri_to_key("/a+b%2b,c").unwrap(), "a+b+,c");
        assert_eq!(
            uri_to_key("/_derived/a/w_1.jpg").unwrap(),
            "_derived/a/w_1.jpg"
        );
        assert_eq!(
            key_to_uri("photos/café x+,~.jpg"),
            "/photos/caf%C3%A9%20x%2B,~.jpg"
        );
        for bad in [
            "",
            "a",
            "/",
            "//a",
            "/a/",
            "/a//b",
            "/../a",
            "/a/../b",
            "/a/%2e%2e/b",
            "/%2E%2E",
            "/a/.",
            "/a%2Fb",
            "/a%2fb",
            "/..%2f",
            "/a%5Cb",
            "/a%5cb",
            "/a\\b",
            "/a%25",
            "/%252e%252e/a",
            "/a%00",
            "/a%0A",
            "/a%7F",
            "/a%C2%85",
            "/a%",
            "/a%4",
            "/a%zz",
            "/a%C3",
            "/a%FF",
            "/a%C3%28",
        ] {
            assert_eq!(
                uri_to_key(bad).unwrap_err().code(),
                "invalid_key",
                "{bad:?}"
            );
        }
    }
}
