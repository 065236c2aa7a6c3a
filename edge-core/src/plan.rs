//! Canonical description of one output variant: what the derived key encodes and
//! what the pipeline produces. Built from request `Params` + `Accept` + `Policy`.

use crate::config::Format;

/// How the image is fitted into the `width` × `height` box (sharp's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Fit {
    /// Fill the box, crop the overflow (uses `Gravity`).
    Cover,
    /// Fit inside the box, pad with `background` to exactly the box.
    Contain,
    /// Stretch to exactly the box, ignoring the aspect ratio.
    Fill,
    /// Fit inside the box, keep aspect ratio, no padding (the default).
    #[default]
    Inside,
    /// Cover the box, keep aspect ratio, no cropping.
    Outside,
}

/// Which part of the image `Fit::Cover` keeps (and where `Contain` places it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Gravity {
    #[default]
    Centre,
    North,
    NorthEast,
    East,
    SouthEast,
    South,
    SouthWest,
    West,
    NorthWest,
}

/// Straight (not premultiplied) sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgba {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

impl Rgba {
    pub const WHITE: Rgba = Rgba { r: 255, g: 255, b: 255, a: 255 };
}

/// The output format as far as it can be settled before the original is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    Fixed(Format),
    /// `fm=auto` for a client without AVIF/WebP: JPEG when opaque, PNG with alpha.
    Legacy,
    /// No `fm` (and auto not the default): the original's format when we can encode
    /// it, else as `Legacy`.
    Source,
}

/// One canonical output variant. Equal requests give equal variants.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Variant {
    /// Target box in output pixels (`dpr` already applied, sizes snapped).
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub gravity: Gravity,
    /// Allow output larger than the (oriented) input; off by default, like sharp's
    /// `withoutEnlargement`.
    pub enlarge: bool,
    /// None = the policy's default for the final format.
    pub quality: Option<u8>,
    /// Letterbox colour for `contain`, and the flattening colour for alpha into JPEG.
    /// None = white.
    pub background: Option<Rgba>,
    pub format: OutputFormat,
    /// The format was chosen from `Accept` (responses carry `vary: accept`).
    pub negotiated: bool,
}
