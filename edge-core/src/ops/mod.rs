//! Image operations beyond the resize (issue 12), as pure functions over [`Raster`]:
//! each pipeline step calls one of these.
//!
//! Where each runs in `request → plan → decode → geometry → resize → orient → colour
//! → composite → encode`:
//! - [`region`]: `rect` (a region of the upright original) and `pos=XxY` (focal point)
//!   are geometry: they only change which source pixels the resize reads.
//! - [`smartcrop`]: `pos=entropy|attention` choose the `cover` crop from a small
//!   analysis grid of the shrunk-on-load image, before the resize.
//! - [`rotate`]: `rot` and `flip` are permutations of the pixels, folded into the EXIF
//!   orientation so the orient step turns the small image once.
//! - [`filter`]: `blur` and `sharpen` run on the resized, sRGB image (sigma in output
//!   pixels, as in sharp).
//! - [`watermarks`] (config, `wm=NAME`) and [`watermark`]: composited last, after resize and filters, so a watermark is never
//!   scaled or blurred with the photo.
//!
//! [`Raster`]: crate::raster::Raster

// Parameter types and geometry: always built (the viewer parses these too).
pub mod params;
pub mod region;
pub mod rotate;
pub mod watermarks;

// Pixel work.
#[cfg(feature = "codecs")]
pub mod filter;
#[cfg(feature = "codecs")]
pub mod smartcrop;
#[cfg(feature = "codecs")]
pub mod watermark;

use params::{Focus, Sigma};
use region::Rect;
use rotate::{Flip, Rotation};

/// The operations of one variant, all off by default (a variant without them is
/// exactly today's).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Ops {
    /// `rect=x,y,w,h`: region of the upright original, cut before the resize.
    pub rect: Option<Rect>,
    /// `pos=entropy|attention|XxY`: what a `cover` crop keeps (overrides the gravity).
    pub focus: Option<Focus>,
    /// `rot`: clockwise turn after the EXIF orientation.
    pub rotation: Rotation,
    /// `flip`: mirror after the turn.
    pub flip: Flip,
    pub blur: Option<Sigma>,
    pub sharpen: Option<Sigma>,
    /// `wm=NAME`: a watermark of the config.
    pub watermark: Option<String>,
}

impl Ops {
    /// True when `rot` swaps width and height.
    pub fn turns_sideways(&self) -> bool {
        matches!(self.rotation, Rotation::Cw90 | Rotation::Cw270)
    }
}

#[cfg(feature = "codecs")]
pub mod steps;
