//! colour step (in progress).
