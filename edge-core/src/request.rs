//! URL grammar: the query string of a viewer request → validated `Params`.
//!
//! Only syntax and policy-independent ranges are checked here; the policy (allowed
//! sizes, enabled formats) is applied by `plan`. Every error names the parameter as the
//! client wrote it and the values it may take.

use crate::config::Format;
use crate::error::{Error, Result};
use crate::plan::{Fit, Gravity, Rgba};

/// Sanity bound for `w`/`h` before the policy is applied: keeps `w * dpr` and
/// `w * h` far from overflow and rejects absurd values with a clear message.
pub const MAX_DIMENSION: u32 = 100_000;

/// What `fm` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatRequest {
    /// Negotiate from `Accept`.
    Auto,
    Fixed(Format),
}

/// The validated raw request; `None` = not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Params {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Option<Fit>,
    pub gravity: Option<Gravity>,
    pub enlarge: Option<bool>,
    pub quality: Option<u8>,
    pub background: Option<Rgba>,
    pub format: Option<FormatRequest>,
    /// Device pixel ratio in hundredths (150 = 1.5): integers keep `round(w * dpr)`
    /// exact and identical on every platform.
    pub dpr_hundredths: Option<u16>,
    /// `anim=0`: first frame only (animated inputs).
    pub animate: Option<bool>,
}

/// Which `Params` field a query name sets; aliases share a field so that giving
/// both `w` and `width` counts as a repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Width,
    Height,
    Size,
    Fit,
    Gravity,
    Enlarge,
    Quality,
    Background,
    Format,
    Dpr,
    Anim,
}

/// Short names first, then the long aliases (Cloudflare's spelling).
const NAMES: [(&str, Field); 17] = [
    ("w", Field::Width),
    ("h", Field::Height),
    ("d", Field::Size),
    ("fit", Field::Fit),
    ("pos", Field::Gravity),
    ("enlarge", Field::Enlarge),
    ("q", Field::Quality),
    ("bg", Field::Background),
    ("fm", Field::Format),
    ("dpr", Field::Dpr),
    ("width", Field::Width),
    ("height", Field::Height),
    ("gravity", Field::Gravity),
    ("quality", Field::Quality),
    ("background", Field::Background),
    ("format", Field::Format),
    ("anim", Field::Anim),
];

fn field_of(name: &str) -> Option<Field> {
    NAMES.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
}

fn pairs(query: &str) -> Result<Vec<(String, String)>> {
    // CloudFront hands over the query without `?`; tolerate one for direct callers.
    let query = query.strip_prefix('?').unwrap_or(query);
    serde_urlencoded::from_str(query)
        .map_err(|e| Error::invalid_parameter("query", format!("malformed query string: {e}")))
}

/// True when the query names at least one transform parameter. Requests without any
/// (e.g. `?v=3` cache busters) are passed through untouched.
pub fn has_transform_params(query: &str) -> bool {
    match pairs(query) {
        Ok(pairs) => pairs.iter().any(|(name, _)| field_of(name).is_some()),
        // Unparseable: let `parse_query` report it rather than silently passing.
        Err(_) => true,
    }
}

/// Parse and validate a query string such as `w=600&fit=cover&fm=auto`.
pub fn parse_query(query: &str) -> Result<Params> {
    let mut params = Params::default();
    // (field, name as written) of every parameter seen so far.
    let mut seen: Vec<(Field, String)> = Vec::new();
    for (name, value) in pairs(query)? {
        let Some(field) = field_of(&name) else {
            let known: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
            return Err(Error::invalid_parameter(
                shorten(&name),
                format!(
                    "unknown parameter; known parameters are {}",
                    known.join(", ")
                ),
            ));
        };
        if let Some((_, first)) = seen.iter().find(|(f, _)| *f == field) {
            let message = if *first == name {
                "given more than once".to_string()
            } else {
                format!("given more than once (as {first} and {name})")
            };
            return Err(Error::invalid_parameter(name, message));
        }
        let size_conflict = match field {
            Field::Size => seen
                .iter()
                .find(|(f, _)| matches!(f, Field::Width | Field::Height)),
            Field::Width | Field::Height => seen.iter().find(|(f, _)| *f == Field::Size),
            _ => None,
        };
        if let Some((_, other)) = size_conflict {
            return Err(Error::invalid_parameter(
                name,
                format!("cannot be combined with {other} (d=WxH sets both width and height)"),
            ));
        }
        seen.push((field, name.clone()));
        if value.is_empty() {
            return Err(Error::invalid_parameter(name, "must not be empty"));
        }
        set_field(&mut params, field, &name, &value)?;
    }
    Ok(params)
}

const GRAVITY_VALUES: &str = "one of centre (center), north, northeast, east, southeast, \
    south, southwest, west, northwest, their short forms c n ne e se s sw w nw, or top, \
    right top, right, right bottom, bottom, left bottom, left, left top";

fn set_field(p: &mut Params, field: Field, name: &str, value: &str) -> Result<()> {
    let bad = |allowed: &str| {
        Error::invalid_parameter(
            name,
            format!("must be {allowed} (got {:?})", shorten(value)),
        )
    };
    let dimension = &format!("an integer 1-{MAX_DIMENSION}");
    match field {
        Field::Width => {
            p.width = Some(parse_uint(value, 1, MAX_DIMENSION).ok_or_else(|| bad(dimension))?)
        }
        Field::Height => {
            p.height = Some(parse_uint(value, 1, MAX_DIMENSION).ok_or_else(|| bad(dimension))?)
        }
        Field::Size => {
            let (w, h) = value
                .split_once('x')
                .and_then(|(w, h)| {
                    Some((
                        parse_uint(w, 1, MAX_DIMENSION)?,
                        parse_uint(h, 1, MAX_DIMENSION)?,
                    ))
                })
                .ok_or_else(|| bad(&format!("WIDTHxHEIGHT, each {dimension}, e.g. 300x200")))?;
            p.width = Some(w);
            p.height = Some(h);
        }
        Field::Fit => {
            p.fit = Some(
                Fit::ALL
                    .into_iter()
                    .find(|f| value.eq_ignore_ascii_case(f.name()))
                    .ok_or_else(|| bad("one of cover, contain, fill, inside, outside"))?,
            )
        }
        Field::Gravity => {
            p.gravity = Some(parse_gravity(value).ok_or_else(|| bad(GRAVITY_VALUES))?)
        }
        Field::Enlarge => {
            p.enlarge = Some(match value.to_ascii_lowercase().as_str() {
                "1" | "true" => true,
                "0" | "false" => false,
                _ => return Err(bad("one of 1, 0, true, false")),
            })
        }
        Field::Quality => {
            // Bounded by 100, so the narrowing cannot truncate.
            p.quality =
                Some(parse_uint(value, 1, 100).ok_or_else(|| bad("an integer 1-100"))? as u8)
        }
        Field::Background => {
            p.background = Some(parse_hex_colour(value).ok_or_else(|| {
                bad("a hex colour rgb, rgba, rrggbb or rrggbbaa ('#' optional, sent as %23)")
            })?)
        }
        Field::Anim => {
            p.animate = Some(match value.to_ascii_lowercase().as_str() {
                "1" | "true" => true,
                "0" | "false" => false,
                _ => return Err(bad("one of 1, 0, true, false (0: first frame only)")),
            })
        }
        Field::Format => {
            p.format = Some(match value.to_ascii_lowercase().as_str() {
                "auto" => FormatRequest::Auto,
                "jpeg" | "jpg" => FormatRequest::Fixed(Format::Jpeg),
                "png" => FormatRequest::Fixed(Format::Png),
                "webp" => FormatRequest::Fixed(Format::Webp),
                "avif" => FormatRequest::Fixed(Format::Avif),
                "gif" => FormatRequest::Fixed(Format::Gif),
                _ => return Err(bad("one of auto, jpeg, jpg, png, webp, avif, gif")),
            })
        }
        Field::Dpr => {
            p.dpr_hundredths = Some(
                parse_dpr(value)
                    .ok_or_else(|| bad("a number 1-4 with at most 2 decimals, e.g. 1.5"))?,
            )
        }
    }
    Ok(())
}

/// Plain decimal digits only (no sign, no spaces), within `min..=max`.
fn parse_uint(s: &str, min: u32, max: u32) -> Option<u32> {
    // The length cap keeps the parse from overflowing; leading zeros are harmless.
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = s.parse().ok()?;
    (min..=max).contains(&n).then_some(n)
}

/// `1`, `1.5`, `1.25` … `4` → hundredths (100..=400).
fn parse_dpr(s: &str) -> Option<u16> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if s.contains('.') && frac.is_empty() {
        return None;
    }
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int = parse_uint(int, 0, 4)?;
    let frac_hundredths = match frac.len() {
        0 => 0,
        1 => u32::from(frac.as_bytes()[0] - b'0') * 10,
        _ => frac.parse::<u32>().ok()?,
    };
    let dpr = int * 100 + frac_hundredths;
    (100..=400).contains(&dpr).then_some(dpr as u16)
}

fn parse_gravity(s: &str) -> Option<Gravity> {
    // `right+top` arrives as "right top"; tolerate any run of whitespace and case.
    let words: Vec<String> = s.split_whitespace().map(str::to_ascii_lowercase).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    Some(match words.as_slice() {
        ["centre" | "center" | "c"] => Gravity::Centre,
        ["north" | "n" | "top"] => Gravity::North,
        ["northeast" | "ne"] | ["right", "top"] | ["top", "right"] => Gravity::NorthEast,
        ["east" | "e" | "right"] => Gravity::East,
        ["southeast" | "se"] | ["right", "bottom"] | ["bottom", "right"] => Gravity::SouthEast,
        ["south" | "s" | "bottom"] => Gravity::South,
        ["southwest" | "sw"] | ["left", "bottom"] | ["bottom", "left"] => Gravity::SouthWest,
        ["west" | "w" | "left"] => Gravity::West,
        ["northwest" | "nw"] | ["left", "top"] | ["top", "left"] => Gravity::NorthWest,
        _ => return None,
    })
}

/// `#`? then 3, 4, 6 or 8 hex digits; short forms repeat each digit (`f80` = `ff8800`).
pub(crate) fn parse_hex_colour(s: &str) -> Option<Rgba> {
    let hex = s.strip_prefix('#').unwrap_or(s);
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digit = |i: usize| u8::from_str_radix(&hex[i..i + 1], 16).ok();
    let pair = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    let [r, g, b, a] = match hex.len() {
        3 | 4 => {
            let short = |i: usize| {
                if i < hex.len() {
                    digit(i).map(|d| d * 17)
                } else {
                    Some(255)
                }
            };
            [short(0)?, short(1)?, short(2)?, short(3)?]
        }
        6 | 8 => [
            pair(0)?,
            pair(2)?,
            pair(4)?,
            if hex.len() == 8 { pair(6)? } else { 255 },
        ],
        _ => return None,
    };
    Some(Rgba { r, g, b, a })
}

/// Client text echoed in messages is capped so errors stay small.
fn shorten(s: &str) -> String {
    const MAX_CHARS: usize = 40;
    if s.chars().count() <= MAX_CHARS {
        s.to_string()
    } else {
        s.chars().take(MAX_CHARS).chain("…".chars()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(query: &str) -> String {
        parse_query(query).unwrap_err().message()
    }

    #[test]
    fn full_query_parses() {
        let p = parse_query(
            "w=600&h=400&fit=cover&pos=ne&q=70&fm=webp&dpr=1.5&bg=%23ff8800&enlarge=true",
        )
        .unwrap();
        assert_eq!(
            p,
            Params {
                width: Some(600),
                height: Some(400),
                fit: Some(Fit::Cover),
                gravity: Some(Gravity::NorthEast),
                enlarge: Some(true),
                quality: Some(70),
                background: Some(Rgba {
                    r: 255,
                    g: 136,
                    b: 0,
                    a: 255
                }),
                format: Some(FormatRequest::Fixed(Format::Webp)),
                dpr_hundredths: Some(150),
                animate: None,
            }
        );
        assert_eq!(parse_query("").unwrap(), Params::default());
        assert_eq!(parse_query("?w=5").unwrap().width, Some(5));
    }

    #[test]
    fn long_aliases_and_d() {
        let a =
            parse_query("width=10&height=20&quality=5&format=avif&background=000&gravity=left+top")
                .unwrap();
        let b = parse_query("w=10&h=20&q=5&fm=avif&bg=000000&pos=nw").unwrap();
        assert_eq!(a, b);
        let d = parse_query("d=100x50").unwrap();
        assert_eq!((d.width, d.height), (Some(100), Some(50)));
        assert!(err("d=100x50&w=3").starts_with("w: cannot be combined with d"));
        assert!(err("h=3&d=100x50").starts_with("d: cannot be combined with h"));
        for bad in [
            "d=100", "d=x5", "d=0x5", "d=5x", "d=5X5", "d=5x5x5", "d=-1x5",
        ] {
            assert!(err(bad).starts_with("d: must be WIDTHxHEIGHT"), "{bad}");
        }
    }

    #[test]
    fn errors_name_parameter_and_allowed_values() {
        assert_eq!(
            err("fit=crop"),
            "fit: must be one of cover, contain, fill, inside, outside (got \"crop\")"
        );
        assert_eq!(err("w=0"), "w: must be an integer 1-100000 (got \"0\")");
        assert!(err("width=100001").starts_with("width: must be an integer 1-100000"));
        assert!(err("q=101").starts_with("q: must be an integer 1-100"));
        assert!(
            err("fm=bmp").starts_with("fm: must be one of auto, jpeg, jpg, png, webp, avif, gif")
        );
        assert!(err("anim=2").starts_with("anim: must be one of 1, 0, true, false"));
        assert!(err("pos=middle").starts_with("pos: must be one of centre"));
        assert!(err("enlarge=yes").starts_with("enlarge: must be one of 1, 0, true, false"));
        let unknown = err("v=3");
        assert!(unknown.starts_with("v: unknown parameter; known parameters are w, h, d, fit"));
        assert!(unknown.contains("background"));
        assert_eq!(err("w="), "w: must not be empty");
        assert_eq!(err("w"), "w: must not be empty");
        assert_eq!(err("w=1&w=1"), "w: given more than once");
        assert_eq!(
            err("w=1&width=2"),
            "width: given more than once (as w and width)"
        );
        // Long client values are truncated in the echo.
        assert!(err(&format!("fit={}", "x".repeat(500))).len() < 150);
    }

    #[test]
    fn numbers_are_strict() {
        for bad in [
            "+5",
            "-5",
            "5.0",
            " 5",
            "5 ",
            "1e3",
            "0x10",
            "4294967296",
            "99999999999999999999",
        ] {
            assert!(
                parse_query(&format!("w={}", bad.replace(' ', "%20"))).is_err(),
                "{bad}"
            );
        }
        assert_eq!(parse_query("w=0100").unwrap().width, Some(100));
        assert_eq!(parse_query("h=100000").unwrap().height, Some(100000));
    }

    #[test]
    fn dpr_forms() {
        for (s, want) in [
            ("1", 100),
            ("1.5", 150),
            ("1.25", 125),
            ("2.0", 200),
            ("4", 400),
            ("4.00", 400),
            ("3.05", 305),
        ] {
            assert_eq!(
                parse_query(&format!("dpr={s}")).unwrap().dpr_hundredths,
                Some(want),
                "{s}"
            );
        }
        for s in [
            "0.5", "4.01", "5", "1.", ".5", "1.255", "1,5", "abc", "1.-5", "1.+5",
        ] {
            assert!(
                err(&format!("dpr={s}")).starts_with("dpr: must be a number 1-4"),
                "{s}"
            );
        }
    }

    #[test]
    fn colours() {
        let c = |s: &str| parse_query(&format!("bg={s}")).map(|p| p.background.unwrap());
        assert_eq!(c("fff").unwrap(), Rgba::WHITE);
        assert_eq!(c("%23FFF").unwrap(), Rgba::WHITE);
        assert_eq!(
            c("1234").unwrap(),
            Rgba {
                r: 0x11,
                g: 0x22,
                b: 0x33,
                a: 0x44
            }
        );
        assert_eq!(
            c("a1B2c3").unwrap(),
            Rgba {
                r: 0xa1,
                g: 0xb2,
                b: 0xc3,
                a: 255
            }
        );
        assert_eq!(
            c("a1b2c3d4").unwrap(),
            Rgba {
                r: 0xa1,
                g: 0xb2,
                b: 0xc3,
                a: 0xd4
            }
        );
        for bad in [
            "ff",
            "fffff",
            "ggg",
            "%23%23fff",
            "red",
            "fffffffff",
            "+fff",
            "%C3%A9ff",
        ] {
            assert!(c(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn gravity_forms() {
        let g = |s: &str| parse_query(&format!("pos={s}")).unwrap().gravity.unwrap();
        assert_eq!(g("center"), Gravity::Centre);
        assert_eq!(g("CENTRE"), Gravity::Centre);
        assert_eq!(g("top"), Gravity::North);
        assert_eq!(g("right+top"), Gravity::NorthEast);
        assert_eq!(g("top%20right"), Gravity::NorthEast);
        assert_eq!(g("right"), Gravity::East);
        assert_eq!(g("right+bottom"), Gravity::SouthEast);
        assert_eq!(g("bottom"), Gravity::South);
        assert_eq!(g("left+bottom"), Gravity::SouthWest);
        assert_eq!(g("left"), Gravity::West);
        assert_eq!(g("left+top"), Gravity::NorthWest);
        for (long, short) in [
            ("north", "n"),
            ("southeast", "se"),
            ("west", "w"),
            ("northwest", "nw"),
        ] {
            assert_eq!(g(long), g(short));
        }
        assert!(parse_query("pos=top+top").is_err());
    }

    #[test]
    fn case_of_values_but_not_names() {
        let p = parse_query("fit=COVER&fm=JPG&enlarge=TRUE").unwrap();
        assert_eq!(p.fit, Some(Fit::Cover));
        assert_eq!(p.format, Some(FormatRequest::Fixed(Format::Jpeg)));
        assert!(parse_query("W=5").is_err());
    }

    #[test]
    fn transform_params_detection() {
        assert!(!has_transform_params(""));
        assert!(!has_transform_params("v=3"));
        assert!(!has_transform_params("utm_source=x&v=3"));
        assert!(has_transform_params("v=3&w=100"));
        assert!(has_transform_params("width"));
        assert!(has_transform_params("format=webp"));
    }
}
