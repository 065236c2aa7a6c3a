//! sniff step (in progress).
