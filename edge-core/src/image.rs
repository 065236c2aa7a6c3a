//! The image half (feature `codecs`): original bytes → encoded outputs. Everything
//! that touches pixels. The rooms, in the order a job meets them:
//!
//! | room | job |
//! | --- | --- |
//! | `sniff` | magic bytes, per-format header probes (`sniff/`), limit checks before any pixel buffer |
//! | `bounds` | header facts that bound the work before a decoder runs: JPEG header orientation and least scan data, WebP metadata chunks bounded by the bytes present |
//! | `cost` | work (ms) and memory of a transform from the header; memory reserved before any codec runs |
//! | `bmff` | the one ISO-BMFF box walker and HEIF item tables (AVIF probe and decoder) |
//! | `decode` | JPEG (shrink-on-load), PNG, GIF, WebP, AVIF → `Raster` + orientation + ICC |
//! | `pipeline` | the job context and the ordered list of steps (`pipeline::STEPS`) |
//! | `geometry` | where the pixels go: fit modes, gravity, crop, letterbox, decode floor |
//! | `orient` | EXIF orientation: reading the tag, display ⇄ stored rectangles, applying it |
//! | `resize` | resampling: Lanczos3 (fixed point for gray/RGB, premultiplied f32 for RGBA) |
//! | `colour` | embedded ICC (RGB, gray, CMYK) → sRGB |
//! | `composite` | letterbox (embed), transparency test, flattening alpha onto a colour |
//! | `encode` | JPEG, PNG, WebP (libwebp; animated in `webp_anim`), AVIF (ravif), GIF |
//! | `media` | the first step for SVG (`decode/svg`) and animations (`decode/animation`) |
//! | `raster` | the pixel buffer every room passes on |
//!
//! `decode/`, `encode/` and `resize/` sit at the top of `src/` (paths kept for the
//! branches that tune them); they belong to this half all the same.

pub mod bmff;
mod bounds;
pub mod colour;
pub mod composite;
pub mod cost;
#[path = "decode/mod.rs"]
pub mod decode;
#[path = "encode/mod.rs"]
pub mod encode;
// Issue-12 operations (the steps that use them: pipeline/ops_steps.rs).
pub mod filter;
pub mod geometry;
pub mod media;
pub mod orient;
pub mod pipeline;
pub mod raster;
#[path = "resize/mod.rs"]
pub mod resize;
pub mod rotate;
pub mod smartcrop;
pub mod sniff;
pub mod watermark;
