//! The shared vocabulary of both halves: what a variant is (fit, gravity, colour,
//! formats) and the EXIF orientation. The bottom of the module graph: this file
//! imports nothing from the crate, every other module may import it.

pub mod ops;

use serde::{Deserialize, Serialize};

/// Output formats the encoder can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Avif,
    /// Still or animated (`fm=gif`); never chosen by `fm=auto` for a still image.
    Gif,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Jpeg,
        Format::Png,
        Format::Webp,
        Format::Avif,
        Format::Gif,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Avif => "avif",
            Format::Gif => "gif",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Avif => "avif",
            Format::Gif => "gif",
        }
    }
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Avif => "image/avif",
            Format::Gif => "image/gif",
        }
    }
}

/// A raster format recognised from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    Jpeg,
    Png,
    Gif,
    Webp,
    /// AVIF and the other HEIF brands (ISO-BMFF `ftyp` with an image brand).
    Avif,
}

impl SourceFormat {
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "jpeg",
            SourceFormat::Png => "png",
            SourceFormat::Gif => "gif",
            SourceFormat::Webp => "webp",
            SourceFormat::Avif => "avif",
        }
    }

    /// The output format with the same name, when the encoder can produce it
    /// (GIF cannot be written).
    pub fn as_output(self) -> Option<Format> {
        match self {
            SourceFormat::Jpeg => Some(Format::Jpeg),
            SourceFormat::Png => Some(Format::Png),
            SourceFormat::Webp => Some(Format::Webp),
            SourceFormat::Avif => Some(Format::Avif),
            SourceFormat::Gif => None,
        }
    }
}

/// What `fm` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatRequest {
    /// Negotiate from `Accept`.
    Auto,
    /// `fm=source`: keep the original's format (also when negotiation is the default).
    Source,
    Fixed(Format),
}

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

impl Fit {
    pub const ALL: [Fit; 5] = [
        Fit::Cover,
        Fit::Contain,
        Fit::Fill,
        Fit::Inside,
        Fit::Outside,
    ];

    /// The name used in queries and derived keys.
    pub fn name(self) -> &'static str {
        match self {
            Fit::Cover => "cover",
            Fit::Contain => "contain",
            Fit::Fill => "fill",
            Fit::Inside => "inside",
            Fit::Outside => "outside",
        }
    }
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

impl Gravity {
    /// Horizontal and vertical anchors: 0 = start, 1 = centre, 2 = end (where `cover`
    /// crops, `contain` places, and a watermark sits).
    pub fn anchors(self) -> (u8, u8) {
        match self {
            Gravity::Centre => (1, 1),
            Gravity::North => (1, 0),
            Gravity::NorthEast => (2, 0),
            Gravity::East => (2, 1),
            Gravity::SouthEast => (2, 2),
            Gravity::South => (1, 2),
            Gravity::SouthWest => (0, 2),
            Gravity::West => (0, 1),
            Gravity::NorthWest => (0, 0),
        }
    }

    pub const ALL: [Gravity; 9] = [
        Gravity::Centre,
        Gravity::North,
        Gravity::NorthEast,
        Gravity::East,
        Gravity::SouthEast,
        Gravity::South,
        Gravity::SouthWest,
        Gravity::West,
        Gravity::NorthWest,
    ];

    /// Short compass code used in derived keys and canonical queries.
    pub fn code(self) -> &'static str {
        match self {
            Gravity::Centre => "c",
            Gravity::North => "n",
            Gravity::NorthEast => "ne",
            Gravity::East => "e",
            Gravity::SouthEast => "se",
            Gravity::South => "s",
            Gravity::SouthWest => "sw",
            Gravity::West => "w",
            Gravity::NorthWest => "nw",
        }
    }
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
    pub const WHITE: Rgba = Rgba {
        r: 255,
        g: 255,
        b: 255,
        a: 255,
    };

    /// Lowercase hex: `rrggbb`, or `rrggbbaa` when not opaque.
    pub fn to_hex(self) -> String {
        if self.a == 255 {
            format!("{:02x}{:02x}{:02x}", self.r, self.g, self.b)
        } else {
            format!("{:02x}{:02x}{:02x}{:02x}", self.r, self.g, self.b, self.a)
        }
    }
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
#[derive(Clone, PartialEq, Eq, Hash)]
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
    /// Keep an animated input animated (`anim=0` sets false: first frame only).
    /// Always true when the output cannot hold animation (canonical form).
    pub animate: bool,
    /// Issue-12 operations (region, focus, rotate, flip, blur, sharpen, watermark);
    /// all off by default.
    pub ops: ops::Ops,
}

/// Field by field, with `ops` only when some operation is asked: the debug form of
/// a variant without them stays what it was before the operations existed (the
/// recorded fixtures compare it).
impl std::fmt::Debug for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Variant");
        d.field("width", &self.width)
            .field("height", &self.height)
            .field("fit", &self.fit)
            .field("gravity", &self.gravity)
            .field("enlarge", &self.enlarge)
            .field("quality", &self.quality)
            .field("background", &self.background)
            .field("format", &self.format)
            .field("negotiated", &self.negotiated);
        // Like `ops`: shown only when off, so the debug form of a variant that keeps
        // animation (the default) stays what the fixtures recorded before `anim`.
        if !self.animate {
            d.field("animate", &self.animate);
        }
        if self.ops != ops::Ops::default() {
            d.field("ops", &self.ops);
        }
        d.finish()
    }
}

impl Variant {
    /// The variant with every default: original size (within the policy box), `inside`,
    /// centre, no enlargement, default quality and background, not negotiated.
    pub fn new(format: OutputFormat) -> Variant {
        Variant {
            width: None,
            height: None,
            fit: Fit::Inside,
            gravity: Gravity::Centre,
            enlarge: false,
            quality: None,
            background: None,
            format,
            negotiated: false,
            animate: true,
            ops: ops::Ops::default(),
        }
    }
}

/// EXIF orientation: how the stored pixels are turned and mirrored relative to the
/// upright image (tag values 1-8; absent, 0 or junk read as `Normal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Orientation {
    /// 1: stored upright.
    #[default]
    Normal,
    /// 2: mirrored left-right.
    FlipHorizontal,
    /// 3: turned 180°.
    Rotate180,
    /// 4: mirrored top-bottom.
    FlipVertical,
    /// 5: mirrored along the main diagonal.
    Transpose,
    /// 6: needs a 90° clockwise turn to be upright.
    Rotate90,
    /// 7: mirrored along the anti-diagonal.
    Transverse,
    /// 8: needs a 90° counter-clockwise turn to be upright.
    Rotate270,
}

impl Orientation {
    pub const ALL: [Orientation; 8] = [
        Orientation::Normal,
        Orientation::FlipHorizontal,
        Orientation::Rotate180,
        Orientation::FlipVertical,
        Orientation::Transpose,
        Orientation::Rotate90,
        Orientation::Transverse,
        Orientation::Rotate270,
    ];

    /// From the EXIF tag value; anything outside 1-8 is `Normal`.
    pub fn from_tag(tag: u8) -> Orientation {
        match tag {
            1..=8 => Orientation::ALL[usize::from(tag - 1)],
            _ => Orientation::Normal,
        }
    }

    /// The EXIF tag value, 1-8.
    pub fn tag(self) -> u8 {
        self as u8 + 1
    }

    /// 5-8 turn the image by a quarter: width and height trade places.
    pub fn swaps_axes(self) -> bool {
        self.tag() >= 5
    }

    /// Size after applying the orientation to a `width`×`height` stored image.
    pub fn oriented_size(self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_axes() {
            (height, width)
        } else {
            (width, height)
        }
    }
}

impl From<u8> for Orientation {
    fn from(tag: u8) -> Orientation {
        Orientation::from_tag(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_tags_round_trip_and_junk_is_normal() {
        for o in Orientation::ALL {
            assert_eq!(Orientation::from_tag(o.tag()), o);
        }
        assert_eq!(Orientation::from_tag(0), Orientation::Normal);
        assert_eq!(Orientation::from_tag(9), Orientation::Normal);
        assert!(Orientation::from(6).swaps_axes());
        assert_eq!(Orientation::Rotate270.oriented_size(4, 3), (3, 4));
    }
}
