//! orient step (in progress).
