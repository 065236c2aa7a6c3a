//! Configuration baked into the bundles (`config/default.json`). Lambda@Edge has no
//! environment variables, so this struct is the only knob. Every field has a default,
//! so `{}` is a valid config.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// The output formats (defined with the other shared types).
pub use crate::types::Format;

/// What to do with a width/height that is not allowed by the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeMode {
    /// Round up to the nearest allowed size (down to the maximum when above it).
    Snap,
    /// Answer 400 `invalid_parameter`.
    Reject,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    /// Prefix of every derived key in the bucket. Must end with `/`.
    pub derived_prefix: String,
    /// Allowed output widths (after `dpr`); empty = any width up to `max_width`.
    pub widths: Vec<u32>,
    /// Allowed output heights (after `dpr`); empty = any height up to `max_height`.
    pub heights: Vec<u32>,
    pub max_width: u32,
    pub max_height: u32,
    /// Upper bound for width × height of the output.
    pub max_output_pixels: u64,
    pub size_mode: SizeMode,
    pub quality: Quality,
    /// Formats the service may produce (explicitly or by negotiation).
    pub formats: Vec<Format>,
    /// When true (the default) a request without `fm` negotiates like `fm=auto`;
    /// otherwise it keeps the source format. `fm=source` keeps it either way.
    pub auto_format_by_default: bool,
    /// Refuse every resize request (and derived key) that is not a preset's.
    pub presets_only: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            derived_prefix: "_derived/".into(),
            widths: Vec::new(),
            heights: Vec::new(),
            max_width: 4096,
            max_height: 4096,
            max_output_pixels: 16_777_216,
            size_mode: SizeMode::Reject,
            quality: Quality::default(),
            formats: Format::ALL.to_vec(),
            auto_format_by_default: true,
            presets_only: false,
        }
    }
}

/// Default quality per output format, used when the request has no `q`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quality {
    pub jpeg: u8,
    pub webp: u8,
    pub avif: u8,
}

impl Default for Quality {
    fn default() -> Self {
        // sharp's defaults for JPEG/WebP (80) and AVIF (50).
        Quality {
            jpeg: 80,
            webp: 80,
            avif: 50,
        }
    }
}

impl Quality {
    /// Default for a format; PNG is lossless and has no quality (None).
    pub fn for_format(&self, format: Format) -> Option<u8> {
        match format {
            Format::Jpeg => Some(self.jpeg),
            Format::Webp => Some(self.webp),
            Format::Avif => Some(self.avif),
            Format::Png => None,
        }
    }
}

/// Resource limits, checked from the header before any pixel buffer is allocated.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Limits {
    pub max_input_bytes: u64,
    /// Declared width × height of the input.
    pub max_input_pixels: u64,
    /// Largest single decode allocation in bytes.
    pub max_decode_bytes: u64,
}

impl Limits {
    /// The input file size (`maxInputBytes`).
    pub fn check_input_bytes(&self, len: usize) -> Result<()> {
        if len as u64 > self.max_input_bytes {
            return Err(Error::limit_exceeded(format!(
                "input is {len} bytes, over the limit of {} bytes",
                self.max_input_bytes
            )));
        }
        Ok(())
    }

    /// Declared image dimensions (`maxInputPixels`), before any pixel buffer exists.
    pub fn check_dimensions(&self, width: u32, height: u32) -> Result<()> {
        let pixels = width as u64 * height as u64;
        if pixels > self.max_input_pixels {
            return Err(Error::limit_exceeded(format!(
                "image is {width}x{height} = {pixels} pixels, over the limit of {} pixels",
                self.max_input_pixels
            )));
        }
        Ok(())
    }

    /// An estimated decode allocation (`maxDecodeBytes`), before it is made.
    pub fn reserve(&self, estimate: u64) -> Result<()> {
        if estimate > self.max_decode_bytes {
            return Err(Error::limit_exceeded(format!(
                "decoding needs about {estimate} bytes, over the limit of {} bytes",
                self.max_decode_bytes
            )));
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 40 * 1024 * 1024,
            // 100 MP: a 12 000 × 8 333 photo. A JPEG that large decodes shrunk on load.
            max_input_pixels: 100_000_000,
            max_decode_bytes: 512 * 1024 * 1024,
        }
    }
}

/// The sizes of the two upload pipelines this service replaces (`preset=NAME`).
pub const DEFAULT_PRESETS: [(&str, &str); 4] = [
    ("thumbnail", "w=150&h=150&fit=cover"),
    ("small", "w=300&h=300"),
    ("medium", "w=600&h=600"),
    ("large", "w=1200&h=1200"),
];

pub fn default_presets() -> BTreeMap<String, String> {
    DEFAULT_PRESETS
        .iter()
        .map(|&(name, query)| (name.to_string(), query.to_string()))
        .collect()
}

/// `signing` in the config.
// Serialize: the effective config handed back to the handlers (`configure()`) is the
// one baked config, keys included; it is never logged.
#[derive(Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Signing {
    /// Every resize request (and with `sign_originals` every request) must carry a
    /// valid `s`. When false, `s` and `exp` are ignored.
    pub required: bool,
    /// Secrets (their UTF-8 bytes are the HMAC keys); any one of them verifies.
    #[serde(deserialize_with = "keys_without_echo")]
    pub keys: Vec<String>,
    /// Requests without resize parameters need a signature too.
    pub sign_originals: bool,
}

// Hand-written so that a `{:?}` of the config can never print a secret.
impl fmt::Debug for Signing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signing")
            .field("required", &self.required)
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .field("sign_originals", &self.sign_originals)
            .finish()
    }
}

/// serde's own type errors quote the value they got (`invalid type: string "s3cret"`);
/// a mistyped key list must not put a secret into the error.
fn keys_without_echo<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    let keys = value.as_array().and_then(|list| {
        list.iter()
            .map(|k| k.as_str().map(str::to_string))
            .collect::<Option<Vec<String>>>()
    });
    keys.ok_or_else(|| serde::de::Error::custom("signing.keys must be a list of strings"))
}

impl Signing {
    /// Config checks; messages name the field, never a key's value.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.required && self.keys.is_empty() {
            return Err(
                "signing.keys must hold at least one key when signing.required is true".into(),
            );
        }
        if let Some(i) = self.keys.iter().position(|k| k.is_empty()) {
            return Err(format!("signing.keys[{i}] must not be empty"));
        }
        if self.sign_originals && !self.required {
            return Err("signing.signOriginals needs signing.required: true".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    pub policy: Policy,
    pub limits: Limits,
    /// Named queries (`preset=NAME`): the defaults plus the config's, which may override
    /// a default's query (see `preset`).
    #[serde(deserialize_with = "presets_over_defaults")]
    pub presets: BTreeMap<String, String>,
    pub signing: Signing,
    /// The regional API's own settings (`api/`).
    pub api: ApiConfig,
    /// The upload pipeline (upload-processor); see `crate::uploads`.
    pub uploads: Uploads,
    /// Named watermarks for `wm=NAME` (issue 12; see `ops::watermarks`).
    pub watermarks: BTreeMap<String, crate::watermarks::WatermarkSpec>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            policy: Policy::default(),
            limits: Limits::default(),
            presets: default_presets(),
            signing: Signing::default(),
            api: ApiConfig::default(),
            uploads: Uploads::default(),
            watermarks: BTreeMap::new(),
        }
    }
}

fn presets_over_defaults<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let mut presets = default_presets();
    presets.extend(BTreeMap::<String, String>::deserialize(d)?);
    Ok(presets)
}

impl Config {
    /// Parse and validate the baked JSON config.
    pub fn from_json(json: &str) -> Result<Config> {
        let config: Config = serde_json::from_str(json)
            .map_err(|e| Error::internal(format!("invalid config: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// The effective config as JSON: every field, defaults filled in (what
    /// `configure()` returns to the handlers, so they never repeat a default).
    pub fn to_json(&self) -> String {
        // Plain structs of numbers, strings and lists: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn validate(&self) -> Result<()> {
        let p = &self.policy;
        let bad = |m: String| Err(Error::internal(format!("invalid config: {m}")));
        if !p.derived_prefix.ends_with('/')
            || p.derived_prefix.starts_with('/')
            || p.derived_prefix.len() < 2
        {
            return bad("policy.derivedPrefix must be like \"_derived/\"".into());
        }
        if p.max_width == 0 || p.max_height == 0 || p.max_output_pixels == 0 {
            return bad("policy.maxWidth, maxHeight and maxOutputPixels must be > 0".into());
        }
        if p.widths.iter().any(|&w| w == 0 || w > p.max_width) {
            return bad("policy.widths must be within 1..=maxWidth".into());
        }
        if p.heights.iter().any(|&h| h == 0 || h > p.max_height) {
            return bad("policy.heights must be within 1..=maxHeight".into());
        }
        if p.formats.is_empty() {
            return bad("policy.formats must not be empty".into());
        }
        let q = &p.quality;
        if [q.jpeg, q.webp, q.avif]
            .iter()
            .any(|&v| !(1..=100).contains(&v))
        {
            return bad("policy.quality values must be 1-100".into());
        }
        // Preset queries are checked by `request::preset::validate`, which
        // `load_config` runs after this (they need the URL grammar, above this room).
        self.signing.validate().or_else(bad)?;
        crate::watermarks::validate(&self.watermarks, &p.derived_prefix)?;
        self.uploads.validate(p)
    }
}

/// The `api` section of the config.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiConfig {
    /// `POST /transform` answers 401 without a caller (default: open, like the edge).
    pub transform_requires_auth: bool,
}

// --- uploads (the upload pipeline's section; its rule is `crate::uploads`) ---

/// A format an `fm=auto` entry is pre-generated in. `legacy` is what a browser without
/// AVIF/WebP gets (JPEG, or PNG for transparent images).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoFormat {
    Avif,
    Webp,
    Legacy,
}

impl AutoFormat {
    pub fn name(self) -> &'static str {
        match self {
            AutoFormat::Avif => "avif",
            AutoFormat::Webp => "webp",
            AutoFormat::Legacy => "legacy",
        }
    }

    /// An `Accept` header of a browser that negotiates to this format.
    pub fn accept(self) -> &'static str {
        match self {
            AutoFormat::Avif => "image/avif,image/webp,image/*,*/*;q=0.8",
            AutoFormat::Webp => "image/webp,image/*,*/*;q=0.8",
            AutoFormat::Legacy => "image/jpeg,image/png,image/*;q=0.8",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Uploads {
    /// Only keys under this prefix are processed (`uploads/<userId>/<name>`).
    pub prefix: String,
    /// Entry name → query, e.g. `"thumbnail": "preset=thumbnail"`.
    pub eager: BTreeMap<String, String>,
    /// Formats a negotiated entry is made in, preferred first.
    pub auto_formats: Vec<AutoFormat>,
    /// The entry whose size the savings figure uses.
    pub compressed: String,
    /// Where originals the core refuses are copied.
    pub error_prefix: String,
}

impl Default for Uploads {
    fn default() -> Self {
        let eager = [
            ("thumbnail", "preset=thumbnail"),
            ("medium", "preset=medium"),
            ("large", "preset=large"),
            ("compressed", "w=1200&h=1200&fm=webp&q=80"),
        ];
        Uploads {
            prefix: "uploads/".into(),
            eager: eager
                .iter()
                .map(|(n, q)| (n.to_string(), q.to_string()))
                .collect(),
            auto_formats: vec![AutoFormat::Webp, AutoFormat::Legacy],
            compressed: "compressed".into(),
            error_prefix: "errors/".into(),
        }
    }
}

impl Uploads {
    /// Structural checks; the entry queries themselves are checked when planned (they
    /// may use presets that only the policy defines).
    pub fn validate(&self, policy: &Policy) -> Result<()> {
        let bad = |m: &str| Err(Error::internal(format!("invalid config: uploads.{m}")));
        let is_prefix = |p: &str| p.len() >= 2 && p.ends_with('/') && !p.starts_with('/');
        if !is_prefix(&self.prefix) {
            return bad("prefix must be like \"uploads/\"");
        }
        if !is_prefix(&self.error_prefix) {
            return bad("errorPrefix must be like \"errors/\"");
        }
        // Loop guard: the processor's own writes must never be under the watched prefix.
        for other in [&self.error_prefix, &policy.derived_prefix] {
            if other.starts_with(&self.prefix) || self.prefix.starts_with(other.as_str()) {
                return bad("prefix must not overlap errorPrefix or policy.derivedPrefix");
            }
        }
        if self.eager.keys().any(|n| n.is_empty() || n.len() > 64) {
            return bad("eager entry names must be 1-64 characters");
        }
        if self.auto_formats.is_empty() {
            return bad("autoFormats must not be empty (allowed: avif, webp, legacy)");
        }
        if !self.compressed.is_empty() && !self.eager.contains_key(&self.compressed) {
            return bad("compressed must name an eager entry (or be empty)");
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        // Plain strings and lists: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_is_the_default() {
        assert_eq!(Config::from_json("{}").unwrap(), Config::default());
    }

    #[test]
    fn unknown_fields_and_bad_values_are_rejected() {
        assert!(Config::from_json(r#"{"policy":{"maxWidht":10}}"#).is_err());
        assert!(Config::from_json(r#"{"policy":{"derivedPrefix":"x"}}"#).is_err());
        assert!(Config::from_json(r#"{"policy":{"formats":[]}}"#).is_err());
        assert!(Config::from_json(r#"{"policy":{"quality":{"jpeg":0}}}"#).is_err());
    }

    #[test]
    fn effective_config_round_trips_with_every_default() {
        let c = Config::from_json(r#"{"policy":{"widths":[100],"sizeMode":"snap"}}"#).unwrap();
        let json = c.to_json();
        assert_eq!(Config::from_json(&json).unwrap(), c);
        for field in [
            "derivedPrefix",
            "maxInputBytes",
            "autoFormatByDefault",
            "\"snap\"",
            "\"avif\"",
        ] {
            assert!(json.contains(field), "{field} in {json}");
        }
    }
}
