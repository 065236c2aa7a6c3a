//! The request half (always built, also into the small viewer-request wasm): URL
//! parameters → canonical variant → derived key, and the viewer and origin decisions.
//!
//! `params` (the parameter table) → `query` (query string → `Params`) → `accept`
//! (negotiation) → `plan` (`Params` + `Accept` + policy → `Variant`) → `key`
//! (`Variant` ⇄ derived S3 key) → `decision` (viewer rewrite, origin generate).

pub mod accept;
pub mod decision;
pub mod key;
pub mod params;
pub mod plan;
pub mod preset;
pub mod query;
pub mod signature;

pub use crate::types::FormatRequest;
pub use decision::{origin_decision, viewer_request, OriginDecision, Rewrite};
pub use params::{Params, MAX_DIMENSION, PARAMS};
pub use query::{has_transform_params, parse_query};
