//! The `watermarks` section of the config and `wm=NAME`:
//! `"watermarks": {"logo": {"key": "watermarks/logo.png", "gravity": "southeast",
//! "margin": 0.03, "opacity": 0.8, "width": 0.25}}`.
//!
//! Always built (the request half checks `wm` names against the same config); the
//! pixel work is in `image::watermark`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::types::Gravity;

/// Longest watermark name (names appear in derived keys).
pub const MAX_NAME_LEN: usize = 32;

/// One named watermark as written in the config.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatermarkSpec {
    /// Object key of the image (PNG/WebP with alpha, or any format the core
    /// decodes) in the originals bucket; for `scripts/transform --config FILE`, a
    /// path relative to FILE's folder.
    pub key: String,
    /// `centre`/`center`, `north`, `northeast`, … `northwest` or `c n ne e se s sw w nw`.
    pub gravity: String,
    /// Gap to the edges, as a fraction of the output width (0 … 0.5).
    pub margin: f32,
    /// Multiplies the mark's alpha (0 … 1).
    pub opacity: f32,
    /// Width of the mark as a fraction of the output width (0 … 1, not 0).
    pub width: f32,
}

impl Default for WatermarkSpec {
    fn default() -> Self {
        WatermarkSpec {
            key: String::new(),
            gravity: "southeast".into(),
            margin: 0.03,
            opacity: 1.0,
            width: 0.25,
        }
    }
}

/// Where and how a watermark goes: a validated [`WatermarkSpec`] without its key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub gravity: Gravity,
    pub margin: f32,
    pub opacity: f32,
    pub width: f32,
}

/// Long and short names of each gravity, as the config may write them.
const GRAVITY_NAMES: [(&str, &str, Gravity); 9] = [
    ("centre", "c", Gravity::Centre),
    ("north", "n", Gravity::North),
    ("northeast", "ne", Gravity::NorthEast),
    ("east", "e", Gravity::East),
    ("southeast", "se", Gravity::SouthEast),
    ("south", "s", Gravity::South),
    ("southwest", "sw", Gravity::SouthWest),
    ("west", "w", Gravity::West),
    ("northwest", "nw", Gravity::NorthWest),
];

fn parse_gravity(s: &str) -> Option<Gravity> {
    let s = s.to_ascii_lowercase();
    let s = if s == "center" { "centre" } else { s.as_str() };
    GRAVITY_NAMES
        .iter()
        .find(|(long, short, _)| s == *long || s == *short)
        .map(|&(_, _, g)| g)
}

impl WatermarkSpec {
    /// The placement, or an error naming the watermark and the field.
    pub fn placement(&self, name: &str) -> Result<Placement> {
        let bad = |field: &str, allowed: &str, got: String| {
            Err(Error::internal(format!(
                "invalid config: watermarks.{name}.{field} must be {allowed}, got {got}"
            )))
        };
        let Some(gravity) = parse_gravity(&self.gravity) else {
            return bad(
                "gravity",
                "one of centre (center), north, northeast, east, southeast, south, southwest, west, northwest or c n ne e se s sw w nw",
                format!("{:?}", self.gravity),
            );
        };
        if !(0.0..=0.5).contains(&self.margin) {
            return bad(
                "margin",
                "a fraction of the output width from 0 to 0.5",
                self.margin.to_string(),
            );
        }
        if !(0.0..=1.0).contains(&self.opacity) {
            return bad("opacity", "from 0 to 1", self.opacity.to_string());
        }
        if !(self.width > 0.0 && self.width <= 1.0) {
            return bad(
                "width",
                "a fraction of the output width above 0, at most 1",
                self.width.to_string(),
            );
        }
        Ok(Placement {
            gravity,
            margin: self.margin,
            opacity: self.opacity,
            width: self.width,
        })
    }
}

/// Checks every entry: a usable name, a safe key outside the derived prefix, a
/// valid placement. Errors say which watermark and which field.
pub fn validate(marks: &BTreeMap<String, WatermarkSpec>, derived_prefix: &str) -> Result<()> {
    for (name, spec) in marks {
        if !valid_name(name) {
            return Err(Error::internal(format!(
                "invalid config: watermark name {name:?} must be 1-{MAX_NAME_LEN} of a-z, 0-9, '-', '_'"
            )));
        }
        if spec.key.is_empty() {
            return Err(Error::internal(format!(
                "invalid config: watermarks.{name}.key is missing (the image's object key)"
            )));
        }
        if let Some(problem) = key_problem(&spec.key, derived_prefix) {
            return Err(Error::internal(format!(
                "invalid config: watermarks.{name}.key {:?}: {problem}",
                spec.key
            )));
        }
        spec.placement(name)?;
    }
    Ok(())
}

/// Why `key` cannot name a watermark object: the rules of original keys (no empty,
/// `.` or `..` segments, no backslash, `%` or control characters, not under the
/// derived prefix).
fn key_problem(key: &str, derived_prefix: &str) -> Option<&'static str> {
    if key
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Some("empty, '.' or '..' path segment");
    }
    if key.contains('\\') || key.contains('%') || key.chars().any(char::is_control) {
        return Some("backslash, '%' or control character");
    }
    if key.starts_with(derived_prefix) {
        return Some("under the derived prefix (derived objects are outputs)");
    }
    None
}

/// Names are lowercase ASCII letters, digits, `-` and `_`: they go into derived
/// keys as they are.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// `wm=NAME`: the name if the config defines it, else a 400 naming `wm` and the
/// defined names.
pub fn parse_name<'a>(
    param: &str,
    value: &str,
    marks: &'a BTreeMap<String, WatermarkSpec>,
) -> Result<&'a str> {
    match marks.get_key_value(value) {
        Some((name, _)) => Ok(name.as_str()),
        None if marks.is_empty() => Err(Error::invalid_parameter(
            param,
            format!("unknown watermark {value:?}: this service defines no watermarks"),
        )),
        None => {
            let names: Vec<&str> = marks.keys().map(String::as_str).collect();
            Err(Error::invalid_parameter(
                param,
                format!(
                    "unknown watermark {value:?}; defined watermarks are {}",
                    names.join(", ")
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(json: &str) -> serde_json::Result<BTreeMap<String, WatermarkSpec>> {
        serde_json::from_str(json)
    }

    #[test]
    fn the_issue_example_is_valid() {
        let m = marks(
            r#"{"logo": {"key": "watermarks/logo.png", "gravity": "southeast", "margin": 0.03, "opacity": 0.8, "width": 0.25}}"#,
        )
        .unwrap();
        validate(&m, "_derived/").unwrap();
        let p = m["logo"].placement("logo").unwrap();
        assert_eq!(
            p,
            Placement {
                gravity: Gravity::SouthEast,
                margin: 0.03,
                opacity: 0.8,
                width: 0.25
            }
        );
        // Defaults fill the rest; effective config round-trips.
        let m = marks(r#"{"a": {"key": "w/a.png", "gravity": "NW"}}"#).unwrap();
        validate(&m, "_derived/").unwrap();
        assert_eq!(m["a"].placement("a").unwrap().gravity, Gravity::NorthWest);
        assert_eq!(m["a"].opacity, 1.0);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(marks(&json).unwrap(), m);
    }

    #[test]
    fn bad_entries_name_the_watermark_and_field() {
        let p = "_derived/";
        for (json, needle) in [
            (r#"{"logo": {"gravity": "se"}}"#, "logo.key"),
            (r#"{"logo": {"key": "../x.png"}}"#, "logo.key"),
            (r#"{"logo": {"key": "_derived/x.png"}}"#, "logo.key"),
            (
                r#"{"logo": {"key": "x.png", "gravity": "up"}}"#,
                "logo.gravity",
            ),
            (
                r#"{"logo": {"key": "x.png", "margin": 0.6}}"#,
                "logo.margin",
            ),
            (
                r#"{"logo": {"key": "x.png", "opacity": 1.5}}"#,
                "logo.opacity",
            ),
            (r#"{"logo": {"key": "x.png", "width": 0}}"#, "logo.width"),
            (r#"{"Logo!": {"key": "x.png"}}"#, "Logo!"),
        ] {
            let e = validate(&marks(json).unwrap(), p).unwrap_err();
            assert!(e.message().contains(needle), "{json}: {}", e.message());
        }
        assert!(marks(r#"{"logo": {"key": "x.png", "size": 3}}"#).is_err());
    }

    #[test]
    fn wm_names_must_be_defined() {
        let m = marks(r#"{"logo": {"key": "x.png"}, "badge": {"key": "y.png"}}"#).unwrap();
        assert_eq!(parse_name("wm", "logo", &m).unwrap(), "logo");
        let e = parse_name("wm", "nope", &m).unwrap_err();
        assert_eq!((e.status(), e.code()), (400, "invalid_parameter"));
        assert!(
            e.message().starts_with("wm:") && e.message().contains("badge, logo"),
            "{}",
            e.message()
        );
        let e = parse_name("wm", "logo", &BTreeMap::new()).unwrap_err();
        assert!(e.message().contains("no watermarks"), "{}", e.message());
        assert!(
            valid_name("logo-2_x")
                && !valid_name("")
                && !valid_name("a,b")
                && !valid_name(&"a".repeat(33))
        );
    }
}
