//! The parameter table: the one place that defines every URL parameter. Query parsing
//! (`query`), derived-key render and parse (`key`), the canonical query (`plan::to_query`),
//! the "known parameters" message and the README's parameter table all read [`PARAMS`].
//!
//! Adding a parameter is one entry here (plus its field in `Params`/`Variant` and its
//! pipeline step); see ARCHITECTURE.md "Adding a parameter".

use crate::types::ops::{self, Flip, Focus, Ops, Rect, Rotation, Sigma};
use crate::types::{Fit, Format, FormatRequest, Gravity, OutputFormat, Rgba, Variant};

/// Sanity bound for `w`/`h` before the policy is applied: keeps `w * dpr` and
/// `w * h` far from overflow and rejects absurd values with a clear message.
pub const MAX_DIMENSION: u32 = 100_000;

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
    /// `preset=NAME` as given; expanded by `preset::expand` (only `fm` and `dpr` may
    /// accompany it, checked by `query::parse_query`).
    pub preset: Option<String>,
    /// Issue-12 operations as asked (`pos=entropy|attention|XxY` lands in `focus`).
    pub ops: Ops,
}

/// Names that are known but are not transform parameters: the signature and its
/// expiry (`signature`). Never part of a derived key; skipped by the query parser.
pub const SIGNING_NAMES: [&str; 2] = [
    crate::request::signature::SIGNATURE_PARAM,
    crate::request::signature::EXPIRY_PARAM,
];

/// Longest preset name, in bytes.
pub const MAX_PRESET_NAME_BYTES: usize = 64;

/// One URL parameter.
pub struct Param {
    /// Canonical query name (also the name errors use for policy checks).
    pub name: &'static str,
    /// Other spellings accepted in queries; giving two spellings counts as a repeat.
    pub aliases: &'static [&'static str],
    /// Name in derived keys (`w_600`), in the key's fixed order = table order. `None`:
    /// never in keys (folded into other parameters like `d`/`dpr`, or request-only
    /// like signatures).
    pub key_code: Option<&'static str>,
    /// Default, as documented.
    pub default: &'static str,
    /// The allowed values: error messages say "must be {values}".
    pub values: &'static str,
    /// One line for the README.
    pub meaning: &'static str,
    /// Other entries this one sets as well (`d` sets `w` and `h`): never both at once.
    pub sets: &'static [&'static str],
    /// Why such a pair is refused (the error message's explanation).
    pub sets_note: &'static str,
    /// Query value → `Params`; `false` = not one of `values`.
    pub parse: fn(&mut Params, &str) -> bool,
    /// `Variant` → the value in derived keys (None: default, left out).
    pub render: fn(&Variant) -> Option<String>,
    /// `Variant` → the value in the canonical query (None: default, left out).
    pub render_query: fn(&Variant) -> Option<String>,
    /// A derived key's value back into the variant (lenient: `key::parse` re-renders
    /// and compares, so spelling is checked there); `false` = not a value.
    pub read_key: fn(&mut Variant, &str) -> bool,
}

/// Every parameter. Order matters twice: it is the order of derived keys and of the
/// canonical query, and the order of the "known parameters" list.
pub const PARAMS: &[Param] = &[
    Param {
        name: "w",
        aliases: &["width"],
        key_code: Some("w"),
        default: "–",
        values: DIMENSION,
        meaning: "output width in CSS pixels (at most `maxWidth` after `dpr`)",
        sets: &[],
        sets_note: "",
        parse: |p, v| set(&mut p.width, parse_uint(v, 1, MAX_DIMENSION)),
        render: |v| v.width.map(|w| w.to_string()),
        render_query: |v| v.width.map(|w| w.to_string()),
        read_key: |v, s| set(&mut v.width, s.parse().ok()),
    },
    Param {
        name: "h",
        aliases: &["height"],
        key_code: Some("h"),
        default: "–",
        values: DIMENSION,
        meaning: "output height in CSS pixels (at most `maxHeight` after `dpr`)",
        sets: &[],
        sets_note: "",
        parse: |p, v| set(&mut p.height, parse_uint(v, 1, MAX_DIMENSION)),
        render: |v| v.height.map(|h| h.to_string()),
        render_query: |v| v.height.map(|h| h.to_string()),
        read_key: |v, s| set(&mut v.height, s.parse().ok()),
    },
    Param {
        name: "d",
        aliases: &[],
        key_code: None,
        default: "–",
        values: "WIDTHxHEIGHT, each an integer 1-100000, e.g. 300x200",
        meaning: "both at once (the AWS resize sample's syntax)",
        sets: &["w", "h"],
        sets_note: "d=WxH sets both width and height",
        parse: |p, v| {
            let size = v.split_once('x').and_then(|(w, h)| {
                Some((
                    parse_uint(w, 1, MAX_DIMENSION)?,
                    parse_uint(h, 1, MAX_DIMENSION)?,
                ))
            });
            size.map(|(w, h)| {
                p.width = Some(w);
                p.height = Some(h);
            })
            .is_some()
        },
        render: not_in_variant,
        render_query: not_in_variant,
        read_key: not_readable,
    },
    Param {
        name: "fit",
        aliases: &[],
        key_code: Some("fit"),
        default: "inside",
        values: "one of cover, contain, fill, inside, outside",
        meaning: "how the image fills the `w`×`h` box (sharp's meanings)",
        sets: &[],
        sets_note: "",
        parse: |p, v| {
            let fit = Fit::ALL
                .into_iter()
                .find(|f| v.eq_ignore_ascii_case(f.name()));
            set(&mut p.fit, fit)
        },
        render: |v| (v.fit != Fit::Inside).then(|| v.fit.name().to_string()),
        render_query: |v| (v.fit != Fit::Inside).then(|| v.fit.name().to_string()),
        read_key: |v, s| set_value(&mut v.fit, Fit::ALL.into_iter().find(|f| f.name() == s)),
    },
    Param {
        name: "pos",
        aliases: &["gravity"],
        key_code: Some("pos"),
        default: "centre",
        values: "one of centre (center), north, northeast, east, southeast, south, \
            southwest, west, northwest, their short forms c n ne e se s sw w nw, or top, \
            right top, right, right bottom, bottom, left bottom, left, left top; or \
            entropy, attention, or a focal point XxY of fractions 0-1 (e.g. 0.25x0.6)",
        meaning: "what `cover` keeps, where `contain` places; `entropy`/`attention`: smart \
            crop (`cover`); `XxY`: focal point of the upright original kept near the centre",
        sets: &[],
        sets_note: "",
        parse: |p, v| match parse_gravity(v) {
            Some(g) => set(&mut p.gravity, Some(g)),
            None => set(&mut p.ops.focus, Focus::from_code(v)),
        },
        render: |v| match v.ops.focus {
            Some(f) => Some(key_safe(&f.code())),
            None => (v.gravity != Gravity::Centre).then(|| v.gravity.code().to_string()),
        },
        render_query: |v| match v.ops.focus {
            Some(f) => Some(f.code()),
            None => (v.gravity != Gravity::Centre).then(|| v.gravity.code().to_string()),
        },
        read_key: |v, s| match Gravity::ALL.into_iter().find(|g| g.code() == s) {
            Some(g) => set_value(&mut v.gravity, Some(g)),
            None => set(&mut v.ops.focus, Focus::from_code(&from_key_safe(s))),
        },
    },
    Param {
        name: "enlarge",
        aliases: &[],
        key_code: Some("enlarge"),
        default: "0",
        values: "one of 1, 0, true, false",
        meaning: "allow output larger than the original",
        sets: &[],
        sets_note: "",
        parse: |p, v| {
            let flag = match v.to_ascii_lowercase().as_str() {
                "1" | "true" => Some(true),
                "0" | "false" => Some(false),
                _ => None,
            };
            set(&mut p.enlarge, flag)
        },
        render: |v| v.enlarge.then(|| "1".to_string()),
        render_query: |v| v.enlarge.then(|| "1".to_string()),
        read_key: |v, s| s == "1" && set_value(&mut v.enlarge, Some(true)),
    },
    Param {
        name: "q",
        aliases: &["quality"],
        key_code: Some("q"),
        default: "per format (`policy.quality`: JPEG 80, WebP 80, AVIF 50)",
        values: "an integer 1-100",
        meaning: "encoder quality",
        sets: &[],
        sets_note: "",
        // Bounded by 100, so the narrowing cannot truncate.
        parse: |p, v| set(&mut p.quality, parse_uint(v, 1, 100).map(|q| q as u8)),
        render: |v| v.quality.map(|q| q.to_string()),
        render_query: |v| v.quality.map(|q| q.to_string()),
        read_key: |v, s| set(&mut v.quality, s.parse().ok()),
    },
    Param {
        name: "bg",
        aliases: &["background"],
        key_code: Some("bg"),
        default: "white",
        values: "a hex colour rgb, rgba, rrggbb or rrggbbaa ('#' optional, sent as %23)",
        meaning: "`contain` padding, and the colour alpha is flattened onto for JPEG",
        sets: &[],
        sets_note: "",
        parse: |p, v| set(&mut p.background, parse_hex_colour(v)),
        render: |v| v.background.map(Rgba::to_hex),
        render_query: |v| v.background.map(Rgba::to_hex),
        read_key: |v, s| {
            (s.len() == 6 || s.len() == 8) && set(&mut v.background, parse_hex_colour(s))
        },
    },
    Param {
        name: "fm",
        aliases: &["format"],
        key_code: Some("fm"),
        default: "`auto` (`policy.autoFormatByDefault`; off: keep the source format)",
        values: "one of auto, source, jpeg, jpg, png, webp, avif",
        meaning: "`auto`: AVIF if accepted, else WebP, else JPEG (opaque) / PNG (alpha); `source`: the original's format",
        sets: &[],
        sets_note: "",
        parse: |p, v| {
            let format = match v.to_ascii_lowercase().as_str() {
                "auto" => Some(FormatRequest::Auto),
                "source" => Some(FormatRequest::Source),
                "jpeg" | "jpg" => Some(FormatRequest::Fixed(Format::Jpeg)),
                "png" => Some(FormatRequest::Fixed(Format::Png)),
                "webp" => Some(FormatRequest::Fixed(Format::Webp)),
                "avif" => Some(FormatRequest::Fixed(Format::Avif)),
                _ => None,
            };
            set(&mut p.format, format)
        },
        // In keys the format is the extension; only negotiation is a parameter.
        render: |v| v.negotiated.then(|| "auto".to_string()),
        render_query: |v| match (v.negotiated, v.format) {
            (true, _) => Some("auto".to_string()),
            (false, OutputFormat::Fixed(f)) => Some(f.name().to_string()),
            (false, OutputFormat::Source) => Some("source".to_string()),
            (false, OutputFormat::Legacy) => None,
        },
        read_key: |v, s| s == "auto" && set_value(&mut v.negotiated, Some(true)),
    },
    Param {
        name: "dpr",
        aliases: &[],
        key_code: None,
        default: "1",
        values: "a number 1-4 with at most 2 decimals, e.g. 1.5",
        meaning: "device pixel ratio; multiplies `w` and `h` (folded into them in keys)",
        sets: &[],
        sets_note: "",
        parse: |p, v| set(&mut p.dpr_hundredths, parse_dpr(v)),
        render: not_in_variant,
        render_query: not_in_variant,
        read_key: not_readable,
    },
    Param {
        name: "preset",
        aliases: &["p"],
        key_code: None,
        default: "–",
        values: "a preset name (config `presets`; defaults thumbnail, small, medium, large)",
        meaning: "the preset's query (expanded before planning, so the key is the expansion's); only `fm` and `dpr` may be added",
        sets: &[],
        sets_note: "",
        parse: |p, v| {
            let name = (v.len() <= MAX_PRESET_NAME_BYTES).then(|| v.to_string());
            set(&mut p.preset, name)
        },
        render: not_in_variant,
        render_query: not_in_variant,
        read_key: not_readable,
    },
    // --- ops (issue 12): region, rotate, flip, blur, sharpen, watermark ---
    Param {
        name: "rect",
        aliases: &[],
        key_code: Some("rect"),
        default: "–",
        values: ops::RECT_VALUES,
        meaning: "cut this region of the upright original before the resize (sharp's `extract`)",
        sets: &[],
        sets_note: "",
        parse: |p, v| set(&mut p.ops.rect, Rect::from_code(v)),
        render: |v| v.ops.rect.map(|r| r.code().replace(',', "-")),
        render_query: |v| v.ops.rect.map(Rect::code),
        read_key: |v, s| set(&mut v.ops.rect, Rect::from_code(&s.replace('-', ","))),
    },
    Param {
        name: "rot",
        aliases: &["rotate"],
        key_code: Some("rot"),
        default: "0",
        values: "one of 0, 90, 180, 270",
        meaning: "turn clockwise by this many degrees, after the EXIF orientation",
        sets: &[],
        sets_note: "",
        parse: |p, v| set_value(&mut p.ops.rotation, Rotation::from_degrees(v)),
        render: |v| {
            (v.ops.rotation != Rotation::None).then(|| v.ops.rotation.degrees().to_string())
        },
        render_query: |v| {
            (v.ops.rotation != Rotation::None).then(|| v.ops.rotation.degrees().to_string())
        },
        read_key: |v, s| s != "0" && set_value(&mut v.ops.rotation, Rotation::from_degrees(s)),
    },
    Param {
        name: "flip",
        aliases: &[],
        key_code: Some("flip"),
        default: "–",
        values: "one of h, v, hv",
        meaning: "mirror horizontally, vertically or both (after `rot`)",
        sets: &[],
        sets_note: "",
        parse: |p, v| set_value(&mut p.ops.flip, Flip::from_code(v)),
        render: |v| (v.ops.flip != Flip::None).then(|| v.ops.flip.code().to_string()),
        render_query: |v| (v.ops.flip != Flip::None).then(|| v.ops.flip.code().to_string()),
        read_key: |v, s| set_value(&mut v.ops.flip, Flip::from_code(s)),
    },
    Param {
        name: "blur",
        aliases: &[],
        key_code: Some("blur"),
        default: "–",
        values: ops::BLUR_VALUES,
        meaning: "Gaussian blur of the output (sigma in output pixels)",
        sets: &[],
        sets_note: "",
        parse: |p, v| set(&mut p.ops.blur, Sigma::parse(v, ops::BLUR_RANGE)),
        render: |v| v.ops.blur.map(|s| key_safe(&s.code())),
        render_query: |v| v.ops.blur.map(Sigma::code),
        read_key: |v, s| {
            set(
                &mut v.ops.blur,
                Sigma::parse(&from_key_safe(s), ops::BLUR_RANGE),
            )
        },
    },
    Param {
        name: "sharpen",
        aliases: &[],
        key_code: Some("sharpen"),
        default: "–",
        values: ops::SHARPEN_VALUES,
        meaning: "unsharp mask on luminance (sigma in output pixels)",
        sets: &[],
        sets_note: "",
        parse: |p, v| set(&mut p.ops.sharpen, Sigma::parse(v, ops::SHARPEN_RANGE)),
        render: |v| v.ops.sharpen.map(|s| key_safe(&s.code())),
        render_query: |v| v.ops.sharpen.map(Sigma::code),
        read_key: |v, s| {
            set(
                &mut v.ops.sharpen,
                Sigma::parse(&from_key_safe(s), ops::SHARPEN_RANGE),
            )
        },
    },
    Param {
        name: "wm",
        aliases: &["watermark"],
        key_code: Some("wm"),
        default: "–",
        values: "the name of a watermark of the config (`watermarks`)",
        meaning: "composite that watermark over the output (after resize)",
        sets: &[],
        sets_note: "",
        parse: |p, v| {
            set(
                &mut p.ops.watermark,
                crate::watermarks::valid_name(v).then(|| v.to_string()),
            )
        },
        render: |v| v.ops.watermark.clone(),
        render_query: |v| v.ops.watermark.clone(),
        read_key: |v, s| {
            set(
                &mut v.ops.watermark,
                crate::watermarks::valid_name(s).then(|| s.to_string()),
            )
        },
    },
];

const DIMENSION: &str = "an integer 1-100000";

/// Plain decimal digits only (no sign, no spaces), within `min..=max`.
pub(crate) fn parse_uint(s: &str, min: u32, max: u32) -> Option<u32> {
    // The length cap keeps the parse from overflowing; leading zeros are harmless.
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = s.parse().ok()?;
    (min..=max).contains(&n).then_some(n)
}

/// `1`, `1.5`, `1.25` … `4` → hundredths (100..=400).
pub(crate) fn parse_dpr(s: &str) -> Option<u16> {
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

pub(crate) fn parse_gravity(s: &str) -> Option<Gravity> {
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

/// Derived keys end at the first '.', so decimals are written with 'p' there
/// (`0.25x0.6` → `0p25x0p6`).
fn key_safe(code: &str) -> String {
    code.replace('.', "p")
}

fn from_key_safe(s: &str) -> String {
    // Only numbers were written with 'p'; words (`entropy`) are kept as they are.
    if s.bytes()
        .all(|b| b.is_ascii_digit() || b == b'p' || b == b'x')
    {
        s.replace('p', ".")
    } else if s.contains('.') {
        // Not what `key_safe` writes: make it unreadable.
        String::new()
    } else {
        s.to_string()
    }
}

/// Stores a parsed value; `false` when there is none.
fn set<T>(slot: &mut Option<T>, value: Option<T>) -> bool {
    let ok = value.is_some();
    if ok {
        *slot = value;
    }
    ok
}

/// Like [`set`] for a field without `Option`.
fn set_value<T>(slot: &mut T, value: Option<T>) -> bool {
    match value {
        Some(v) => {
            *slot = v;
            true
        }
        None => false,
    }
}

fn not_in_variant(_: &Variant) -> Option<String> {
    None
}

fn not_readable(_: &mut Variant, _: &str) -> bool {
    false
}

/// The entry a query name (canonical or alias) belongs to.
pub fn find(name: &str) -> Option<&'static Param> {
    PARAMS
        .iter()
        .find(|p| p.name == name || p.aliases.contains(&name))
}

/// The entry of a derived-key code.
pub fn find_key_code(code: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.key_code == Some(code))
}

/// Every accepted query name: canonical names in table order, then the aliases.
pub fn known_names() -> Vec<&'static str> {
    let names = PARAMS.iter().map(|p| p.name);
    names
        .chain(PARAMS.iter().flat_map(|p| p.aliases.iter().copied()))
        .collect()
}

/// The README's parameter table (between the `params-table` markers), generated here
/// so it cannot drift: `cargo test` fails when README.md differs.
pub fn readme_table() -> String {
    let mut out = String::from(
        "| parameter | in keys | values | default | meaning |\n| --- | --- | --- | --- | --- |\n",
    );
    for p in PARAMS {
        let names: Vec<String> = std::iter::once(p.name)
            .chain(p.aliases.iter().copied())
            .map(|n| format!("`{n}`"))
            .collect();
        let key = p.key_code.map_or("–".to_string(), |c| format!("`{c}_…`"));
        out.push_str(&format!(
            "| {} | {key} | {} | {} | {} |\n",
            names.join(", "),
            p.values,
            p.default,
            p.meaning
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_and_aliases_are_unique() {
        let names = known_names();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[..i].contains(n), "{n} twice");
        }
        let codes: Vec<&str> = PARAMS.iter().filter_map(|p| p.key_code).collect();
        for (i, c) in codes.iter().enumerate() {
            assert!(!codes[..i].contains(c), "key code {c} twice");
            // `_` separates code and value, `,` pairs, `.` the extension.
            assert!(!c.contains(['_', ',', '.']), "{c}");
        }
        for p in PARAMS {
            for s in p.sets {
                assert!(find(s).is_some(), "{} sets unknown {s}", p.name);
            }
        }
    }

    #[test]
    fn dimension_text_matches_the_bound() {
        assert_eq!(DIMENSION, format!("an integer 1-{MAX_DIMENSION}"));
    }

    #[test]
    fn readme_has_the_generated_table() {
        let readme = include_str!("../../../README.md");
        let table = readme_table();
        let start = "<!-- params-table: generated from edge-core/src/request/params.rs -->\n";
        let end = "<!-- /params-table -->";
        let inside = readme
            .split_once(start)
            .and_then(|(_, rest)| rest.split_once(end))
            .map(|(t, _)| t);
        assert_eq!(
            inside,
            Some(table.as_str()),
            "README.md parameter table differs; paste this between the markers:\n{table}"
        );
    }
}
