//! edge-core: the request rules and the image pipeline of the CloudFront edge resizer.
//!
//! Three layers, each importing only the ones above it in this list (a test checks
//! that the module graph has no cycle):
//! - the bottom: `types` (the shared vocabulary), `error`, `clock`, `config`;
//! - the request half, `request/` (always built): parameter table, query, accept,
//!   plan, keys, the viewer and origin decisions;
//! - the image half, `image` (feature `codecs`, gated here once): header probes,
//!   decode, the pipeline of steps, geometry, resampling, orientation, colour,
//!   compositing, encode. Its rooms are listed in `src/image.rs`.

pub mod clock;
pub mod config;
pub mod error;
pub mod types;
pub mod watermarks;

pub mod api;
pub mod request;
pub mod uploads;

#[cfg(feature = "codecs")]
pub mod image;
// The image rooms by their short names (`crate::decode`, `edge_core::pipeline`), so
// paths stay as short as the request half's.
#[cfg(feature = "codecs")]
pub use image::{
    bmff, colour, composite, cost, decode, encode, filter, geometry, media, orient, pipeline,
    raster, resize, rotate, smartcrop, sniff, watermark,
};

pub use config::{Config, Limits, Policy};
pub use error::{Error, Result};
pub use request::decision::{origin_decision, viewer_request, OriginDecision, Rewrite};
// The request rooms by their short names, as before the re-cut.
pub use request::decision::load_config;
pub use request::{accept, key, plan, preset, signature};
pub use types::{Fit, Format, Gravity, Orientation, OutputFormat, Rgba, SourceFormat, Variant};
