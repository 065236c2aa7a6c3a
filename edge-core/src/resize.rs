//! resize step (in progress).
