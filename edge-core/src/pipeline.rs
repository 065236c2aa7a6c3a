//! The ordered image pipeline.
