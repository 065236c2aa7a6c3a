//! `Accept` header parsing and output-format negotiation for `fm=auto`.
//!
//! Only an explicit `image/avif` / `image/webp` range counts: browsers send `image/*`
//! and `*/*` without being able to decode the newer formats, so wildcards never imply
//! them. Malformed input is skipped range by range, never an error.

use crate::types::{Format, OutputFormat};

/// One media range of an `Accept` header, type and subtype lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRange {
    pub media_type: String,
    pub subtype: String,
    /// Quality weight in thousandths (RFC 9110 `qvalue`: at most 3 decimals).
    pub q: u16,
}

/// Parse every well-formed media range. Ranges without `type/subtype` or with an
/// invalid `q` are skipped: a garbled weight must not enable a format by accident.
pub fn parse(header: &str) -> Vec<MediaRange> {
    header.split(',').filter_map(parse_range).collect()
}

fn parse_range(range: &str) -> Option<MediaRange> {
    let mut parts = range.split(';');
    let (media_type, subtype) = parts.next()?.trim().split_once('/')?;
    let (media_type, subtype) = (media_type.trim(), subtype.trim());
    if !is_token(media_type) || !is_token(subtype) {
        return None;
    }
    let mut q = 1000;
    for param in parts {
        let Some((name, value)) = param.split_once('=') else {
            continue; // a bare token parameter says nothing about q
        };
        if name.trim().eq_ignore_ascii_case("q") {
            q = parse_qvalue(value.trim())?;
            // Anything after q is an accept-extension, irrelevant here.
            break;
        }
    }
    Some(MediaRange {
        media_type: media_type.to_ascii_lowercase(),
        subtype: subtype.to_ascii_lowercase(),
        q,
    })
}

fn is_token(s: &str) -> bool {
    const SPECIALS: &[u8] = b"!#$%&'*+-.^_`|~";
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || SPECIALS.contains(&b))
}

/// RFC 9110 `qvalue`: `0[.ddd]` or `1[.000]`, in thousandths.
fn parse_qvalue(s: &str) -> Option<u16> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for i in 0..3 {
        let digit = frac.as_bytes().get(i).map_or(0, |b| u16::from(b - b'0'));
        thousandths = thousandths * 10 + digit;
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Whether the client explicitly accepts `format`: a listed exact range with q > 0 and
/// no exact range with q = 0 (a `q=0` exclusion wins over any other mention).
pub fn accepts(ranges: &[MediaRange], format: Format) -> bool {
    let (media_type, subtype) = format.media_type().split_once('/').unwrap_or(("", ""));
    let mut listed = false;
    for r in ranges
        .iter()
        .filter(|r| r.media_type == media_type && r.subtype == subtype)
    {
        if r.q == 0 {
            return false;
        }
        listed = true;
    }
    listed
}

/// `fm=auto`: AVIF when accepted and enabled, else WebP likewise, else `Legacy`
/// (JPEG or PNG, settled after decoding). Server preference, not the client's q order:
/// any q > 0 means the client can decode it.
pub fn negotiate(accept: Option<&str>, enabled: &[Format]) -> OutputFormat {
    let ranges = accept.map(parse).unwrap_or_default();
    [Format::Avif, Format::Webp]
        .into_iter()
        .find(|&f| enabled.contains(&f) && accepts(&ranges, f))
        .map_or(OutputFormat::Legacy, OutputFormat::Fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[Format] = &Format::ALL;
    const AVIF: OutputFormat = OutputFormat::Fixed(Format::Avif);
    const WEBP: OutputFormat = OutputFormat::Fixed(Format::Webp);

    #[test]
    fn real_browsers() {
        let cases = [
            (
                "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
                AVIF,
            ), // Chrome
            (
                "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
                AVIF,
            ), // Firefox
            (
                "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,\
                 image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
                AVIF,
            ), // Safari 17
            (
                "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5",
                WEBP,
            ), // Safari 14-15
            (
                "image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5",
                OutputFormat::Legacy,
            ), // old Safari
            (
                "image/png, image/svg+xml, image/*;q=0.8, */*;q=0.5",
                OutputFormat::Legacy,
            ), // old Edge / IE
            ("*/*", OutputFormat::Legacy), // curl
            ("", OutputFormat::Legacy),
        ];
        for (header, want) in cases {
            assert_eq!(negotiate(Some(header), ALL), want, "{header}");
        }
        assert_eq!(negotiate(None, ALL), OutputFormat::Legacy);
    }

    #[test]
    fn enabled_formats_limit_the_choice() {
        let chrome = Some("image/avif,image/webp,image/*,*/*;q=0.8");
        assert_eq!(negotiate(chrome, &[Format::Jpeg, Format::Webp]), WEBP);
        assert_eq!(
            negotiate(chrome, &[Format::Jpeg, Format::Png]),
            OutputFormat::Legacy
        );
        assert_eq!(negotiate(chrome, &[Format::Avif]), AVIF);
    }

    #[test]
    fn exclusions_and_weights() {
        assert_eq!(
            negotiate(Some("image/avif;q=0, image/*"), ALL),
            OutputFormat::Legacy
        );
        assert_eq!(negotiate(Some("image/avif;q=0.000,image/webp"), ALL), WEBP);
        assert_eq!(
            negotiate(Some("image/avif,image/avif;q=0"), ALL),
            OutputFormat::Legacy
        );
        assert_eq!(negotiate(Some("image/avif;q=0.001"), ALL), AVIF);
        assert_eq!(
            negotiate(Some("image/webp;q=0.1,image/avif;q=1.0"), ALL),
            AVIF
        );
        // Case and whitespace tolerant.
        assert_eq!(
            negotiate(Some("  IMAGE/AVIF ; Q=0.9 ,text/html"), ALL),
            AVIF
        );
        // Other media-range parameters do not matter.
        assert_eq!(negotiate(Some("image/avif;codecs=av01;q=0.5"), ALL), AVIF);
        assert_eq!(negotiate(Some("image/avif;foo;q=0.5"), ALL), AVIF);
    }

    #[test]
    fn malformed_ranges_are_skipped() {
        for header in [
            "image/avif;q=2",
            "image/avif;q=1.5",
            "image/avif;q=0.1234",
            "image/avif;q=-1",
            "image/avif;q=",
            "image/avif;q=abc",
            "image/avif;q=.5",
            "image /avif x",
            "imageavif",
            "image/",
            "/avif",
            "image/avif/x",
            ",,,;;;===",
            "image/av\u{0}if",
        ] {
            assert_eq!(
                negotiate(Some(header), &[Format::Avif]),
                OutputFormat::Legacy,
                "{header:?}"
            );
        }
        assert_eq!(
            parse("text/html;q=0.5,bad,image/avif;q=1.000"),
            vec![
                MediaRange {
                    media_type: "text".into(),
                    subtype: "html".into(),
                    q: 500
                },
                MediaRange {
                    media_type: "image".into(),
                    subtype: "avif".into(),
                    q: 1000
                },
            ]
        );
    }

    #[test]
    fn qvalues() {
        assert_eq!(parse_qvalue("0"), Some(0));
        assert_eq!(parse_qvalue("0."), Some(0));
        assert_eq!(parse_qvalue("0.5"), Some(500));
        assert_eq!(parse_qvalue("0.05"), Some(50));
        assert_eq!(parse_qvalue("0.999"), Some(999));
        assert_eq!(parse_qvalue("1"), Some(1000));
        assert_eq!(parse_qvalue("1.000"), Some(1000));
        assert_eq!(parse_qvalue("1.001"), None);
        assert_eq!(parse_qvalue("00.5"), None);
        assert_eq!(parse_qvalue("0.5 "), None);
    }
}
