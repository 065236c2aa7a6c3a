//! edge-core: the request rules and the image pipeline of the CloudFront edge resizer.
//!
//! Read top-down: `request → plan → decode → orient → colour → resize → encode`.
//! The request half (`request`, `accept`, `plan`, `key`) is always built; the image
//! half sits behind the `codecs` feature so the viewer-request wasm stays small.

pub mod accept;
pub mod config;
pub mod error;
pub mod key;
pub mod plan;
pub mod request;
pub mod viewer;

// Image half, in pipeline order.
#[cfg(feature = "codecs")]
mod bounds;
#[cfg(feature = "codecs")]
pub mod colour;
#[cfg(feature = "codecs")]
pub mod cost;
#[cfg(feature = "codecs")]
pub mod decode;
#[cfg(feature = "codecs")]
pub mod encode;
#[cfg(feature = "codecs")]
pub mod orient;
#[cfg(feature = "codecs")]
pub mod pipeline;
#[cfg(feature = "codecs")]
pub mod raster;
#[cfg(feature = "codecs")]
pub mod resize;
#[cfg(feature = "codecs")]
pub mod sniff;

pub use config::{Config, Format, Limits, Policy};
pub use error::{Error, Result};
pub use plan::{Fit, Gravity, OutputFormat, Rgba, Variant};
pub use viewer::{viewer_request, Rewrite};
