//! Configuration baked into the bundles (`config/default.json`). Lambda@Edge has no
//! environment variables, so this struct is the only knob. Every field has a default,
//! so `{}` is a valid config.

use serde::{Deserialize, Serialize};

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
    /// When true a request without `fm` negotiates like `fm=auto`; otherwise it keeps
    /// the source format.
    pub auto_format_by_default: bool,
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
            auto_format_by_default: false,
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
    /// Default for a format; PNG and GIF have no quality (None).
    pub fn for_format(&self, format: Format) -> Option<u8> {
        match format {
            Format::Jpeg => Some(self.jpeg),
            Format::Webp => Some(self.webp),
            Format::Avif => Some(self.avif),
            Format::Png | Format::Gif => None,
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
    /// Frames of an animated GIF/WebP, counted from the container before decoding.
    pub max_frames: u32,
    /// Canvas pixels summed over all frames of an animation.
    pub max_animation_pixels: u64,
    /// SVG elements, counted after `<use>` references are expanded.
    pub max_svg_elements: u64,
    /// SVG element nesting depth (usvg/resvg recurse per level).
    pub max_svg_depth: u32,
}

impl Limits {
    /// No limit at all: for header walks whose caller checks the limits itself.
    pub fn unlimited() -> Limits {
        Limits {
            max_input_bytes: u64::MAX,
            max_input_pixels: u64::MAX,
            max_decode_bytes: u64::MAX,
            max_frames: u32::MAX,
            max_animation_pixels: u64::MAX,
            max_svg_elements: u64::MAX,
            max_svg_depth: u32::MAX,
        }
    }
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
            max_frames: 1000,
            // 200 MP: 1000 frames of 500x400, or 50 frames of a 2000x2000 canvas.
            max_animation_pixels: 200_000_000,
            max_svg_elements: 50_000,
            max_svg_depth: 128,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    pub policy: Policy,
    pub limits: Limits,
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
        Ok(())
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
