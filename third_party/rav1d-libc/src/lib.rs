//! rav1d only uses libc for C type aliases and errno values. The `libc` crate defines
//! nothing for wasm32-unknown-unknown, so provide those items here and re-export the
//! real crate everywhere else.
#![no_std]

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use libc::*;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod wasm {
    use core::ffi::c_int;

    pub type ptrdiff_t = isize;
    pub type intptr_t = isize;
    pub type uintptr_t = usize;
    pub type size_t = usize;
    pub type off_t = i64;

    // Linux values; rav1d only needs them distinct, non-zero and below 256.
    pub const ENOENT: c_int = 2;
    pub const EIO: c_int = 5;
    pub const EAGAIN: c_int = 11;
    pub const ENOMEM: c_int = 12;
    pub const EINVAL: c_int = 22;
    pub const ERANGE: c_int = 34;
    pub const ENOPROTOOPT: c_int = 92;
}
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub use wasm::*;
