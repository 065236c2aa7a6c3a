//! URL grammar: the query string of a viewer request → validated `Params`, driven by
//! the parameter table (`params::PARAMS`).
//!
//! Only syntax and policy-independent ranges are checked here; the policy (allowed
//! sizes, enabled formats) is applied by `plan`. Every error names the parameter as the
//! client wrote it and the values it may take.

use crate::error::{Error, Result};

use super::params::{self, Param};
pub use super::params::{Params, MAX_DIMENSION};
#[cfg(test)]
use crate::types::{Fit, Format, FormatRequest, Gravity, Rgba};

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
        Ok(pairs) => pairs.iter().any(|(name, _)| params::find(name).is_some()),
        // Unparseable: let `parse_query` report it rather than silently passing.
        Err(_) => true,
    }
}

/// Parse and validate a query string such as `w=600&fit=cover&fm=auto`.
pub fn parse_query(query: &str) -> Result<Params> {
    let mut out = Params::default();
    // (entry, name as written) of every parameter seen so far.
    let mut seen: Vec<(&'static Param, String)> = Vec::new();
    for (name, value) in pairs(query)? {
        if params::SIGNING_NAMES.contains(&name.as_str()) {
            continue;
        }
        let Some(param) = params::find(&name) else {
            return Err(Error::invalid_parameter(
                shorten(&name),
                format!(
                    "unknown parameter; known parameters are {}",
                    params::known_names().join(", ")
                ),
            ));
        };
        if let Some((_, first)) = seen.iter().find(|(p, _)| p.name == param.name) {
            let message = if *first == name {
                "given more than once".to_string()
            } else {
                format!("given more than once (as {first} and {name})")
            };
            return Err(Error::invalid_parameter(name, message));
        }
        // Entries that set others (`d` sets `w` and `h`) never combine with them.
        let conflict = seen
            .iter()
            .find(|(p, _)| p.sets.contains(&param.name) || param.sets.contains(&p.name));
        if let Some((other, other_name)) = conflict {
            let setter = if param.sets.is_empty() { other } else { &param };
            return Err(Error::invalid_parameter(
                name,
                format!(
                    "cannot be combined with {other_name} ({})",
                    setter.sets_note
                ),
            ));
        }
        seen.push((param, name.clone()));
        if value.is_empty() {
            return Err(Error::invalid_parameter(name, "must not be empty"));
        }
        if !(param.parse)(&mut out, &value) {
            return Err(Error::invalid_parameter(
                name,
                format!("must be {} (got {:?})", param.values, shorten(&value)),
            ));
        }
    }
    if let Some((_, preset)) = seen.iter().find(|(p, _)| p.name == "preset") {
        let extra = seen
            .iter()
            .find(|(p, _)| !matches!(p.name, "preset" | "fm" | "dpr"));
        if let Some((_, name)) = extra {
            return Err(Error::invalid_parameter(
                name,
                format!(
                    "cannot be combined with {preset}; only fm and dpr may be added to a preset"
                ),
            ));
        }
    }
    Ok(out)
}

/// Client text echoed in messages is capped so errors stay small.
pub(crate) fn shorten(s: &str) -> String {
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
                preset: None,
                ops: Default::default(),
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
        assert!(err("fm=gif")
            .starts_with("fm: must be one of auto, source, jpeg, jpg, png, webp, avif"));
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
