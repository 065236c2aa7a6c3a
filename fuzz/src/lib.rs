//! Fuzz target bodies; see checks.rs.

include!("checks.rs");
