//! The few C library functions libwebp needs on `wasm32-unknown-unknown`, which has
//! no libc. clang compiles libwebp against the wasi-libc *headers* only; the symbols
//! are provided here, over Rust's allocator, so the final module imports nothing.
//! `memcpy`/`memset`/`memmove`/`memcmp` and the math functions come from Rust's
//! `compiler_builtins`.

use std::alloc::{alloc, alloc_zeroed, dealloc, realloc as rust_realloc, Layout};
use std::ffi::{c_int, c_void};

/// `malloc` must return memory aligned for any type (`max_align_t`, 16 on wasm32).
/// The block size is kept in a header of that size in front of the pointer handed to C,
/// because `free` and `realloc` do not get told the size.
const ALIGN: usize = 16;
const HEADER: usize = ALIGN;

fn layout_for(size: usize) -> Option<Layout> {
    let total = size.checked_add(HEADER)?;
    Layout::from_size_align(total, ALIGN).ok()
}

/// # Safety
/// `block` is a fresh allocation of `layout`; writes the header, returns the user pointer.
unsafe fn finish(block: *mut u8, size: usize) -> *mut c_void {
    if block.is_null() {
        return std::ptr::null_mut();
    }
    unsafe {
        (block as *mut usize).write(size);
        block.add(HEADER).cast()
    }
}

/// # Safety
/// `ptr` came from this module's `malloc`/`calloc`/`realloc` and is not yet freed.
unsafe fn block_of(ptr: *mut c_void) -> (*mut u8, usize) {
    unsafe {
        let block = (ptr as *mut u8).sub(HEADER);
        (block, (block as *const usize).read())
    }
}

#[no_mangle]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    match layout_for(size) {
        // SAFETY: the layout is non-zero sized (it includes the header).
        Some(layout) => unsafe { finish(alloc(layout), size) },
        None => std::ptr::null_mut(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
    let Some(bytes) = count.checked_mul(size) else {
        return std::ptr::null_mut();
    };
    match layout_for(bytes) {
        // SAFETY: as in malloc.
        Some(layout) => unsafe { finish(alloc_zeroed(layout), bytes) },
        None => std::ptr::null_mut(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn free(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: C hands back a pointer from malloc/calloc/realloc (the C contract).
    unsafe {
        let (block, size) = block_of(ptr);
        dealloc(
            block,
            Layout::from_size_align_unchecked(size + HEADER, ALIGN),
        );
    }
}

#[no_mangle]
pub unsafe extern "C" fn realloc(ptr: *mut c_void, new_size: usize) -> *mut c_void {
    if ptr.is_null() {
        // SAFETY: plain malloc.
        return unsafe { malloc(new_size) };
    }
    let Some(new_layout) = layout_for(new_size) else {
        return std::ptr::null_mut();
    };
    // SAFETY: `ptr` came from this allocator; on failure the old block stays valid,
    // as C's realloc requires.
    unsafe {
        let (block, size) = block_of(ptr);
        let old_layout = Layout::from_size_align_unchecked(size + HEADER, ALIGN);
        finish(rust_realloc(block, old_layout, new_layout.size()), new_size)
    }
}

type Compare = unsafe extern "C" fn(*const c_void, *const c_void) -> c_int;

/// Heapsort: no allocation, O(n log n), and no panic even if the comparator is not a
/// total order (Rust's `sort_by` may panic on such comparators).
#[no_mangle]
pub unsafe extern "C" fn qsort(base: *mut c_void, count: usize, size: usize, compare: Compare) {
    if count < 2 || size == 0 || base.is_null() {
        return;
    }
    let base = base as *mut u8;
    // SAFETY: C guarantees `count` elements of `size` bytes at `base`; indices stay < count.
    unsafe {
        let at = |i: usize| base.add(i * size);
        let less = |i: usize, j: usize| compare(at(i).cast(), at(j).cast()) < 0;
        let swap = |i: usize, j: usize| std::ptr::swap_nonoverlapping(at(i), at(j), size);
        let sift_down = |mut root: usize, end: usize| loop {
            let mut child = 2 * root + 1;
            if child >= end {
                break;
            }
            if child + 1 < end && less(child, child + 1) {
                child += 1;
            }
            if !less(root, child) {
                break;
            }
            swap(root, child);
            root = child;
        };
        for start in (0..count / 2).rev() {
            sift_down(start, count);
        }
        for end in (1..count).rev() {
            swap(0, end);
            sift_down(0, end);
        }
    }
}
