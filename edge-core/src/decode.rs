//! decode step (in progress).
