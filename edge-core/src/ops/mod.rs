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
