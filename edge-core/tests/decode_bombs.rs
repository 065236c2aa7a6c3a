//! Decompression bombs are refused without allocating their declared size. A
//! counting global allocator records the largest single allocation made while
//! each input is processed. One test function only: the counter is global.
#![cfg(feature = "codecs")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use edge_core::decode::decode;
use edge_core::sniff::read_header;
use edge_core::Limits;

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

mod common;

use common::CORPUS;

/// GIF with a 100×100 screen whose only frame claims 65535×65535 (the frame buffer
/// is sized from the frame, not the screen).
fn gif_with_huge_frame() -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&[100, 0, 100, 0, 0, 0, 0]);
    g.extend_from_slice(&[0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x80]);
    g.extend_from_slice(&[0, 0, 0, 255, 255, 255]); // 2-entry local colour table
    g.extend_from_slice(&[2, 2, 0x4C, 0x01, 0, 0x3B]);
    g
}

/// Baseline JPEG frame header declaring 65535×65535, three components.
fn jpeg_declaring_65535_square() -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0xFF, 0xFF, 0xFF, 0xFF, 3];
    j.extend_from_slice(&[1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]);
    j.extend_from_slice(&[0xFF, 0xD9]);
    j
}

/// Lossless WebP header declaring 16384×16384.
fn webp_declaring_16384_square() -> Vec<u8> {
    let bits: u32 = 16383 | (16383 << 14);
    let mut w = b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f".to_vec();
    w.extend_from_slice(&bits.to_le_bytes());
    w.extend_from_slice(&[0; 8]);
    w
}

#[test]
fn bombs_are_refused_without_large_allocations() {
    let limits = Limits::default();
    let mut inputs: Vec<(String, Vec<u8>, u16)> = [
        "formats/png_declared_2097168x65534.png",
        "formats/65536-uint32-limit.png",
        "formats/17000x17000.avif",
    ]
    .iter()
    .map(|f| {
        (
            f.to_string(),
            std::fs::read(format!("{CORPUS}/{f}")).unwrap(),
            413,
        )
    })
    .collect();
    inputs.push((
        "jpeg 65535x65535".into(),
        jpeg_declaring_65535_square(),
        413,
    ));
    inputs.push((
        "webp 16384x16384".into(),
        webp_declaring_16384_square(),
        413,
    ));
    // The screen is small, so this one passes the header check; the codec's own
    // allocation limit must stop it.
    inputs.push((
        "gif with a 65535x65535 frame".into(),
        gif_with_huge_frame(),
        0,
    ));

    for (name, bytes, status) in inputs {
        LARGEST.store(0, Ordering::SeqCst);
        let started = std::time::Instant::now();
        let header = read_header(&bytes, &limits);
        let decoded = decode(&bytes, &limits, None);
        let largest = LARGEST.load(Ordering::SeqCst);
        let e = decoded.expect_err(&name);
        assert!((400..500).contains(&e.status()), "{name}: {e}");
        if status != 0 {
            assert_eq!(e.status(), status, "{name}: {e}");
            assert_eq!(header.unwrap_err().status(), status, "{name}");
        }
        // Far below any declared size (the smallest bomb declares 289 MP).
        assert!(
            largest < 16 << 20,
            "{name}: allocated {largest} bytes at once"
        );
        assert!(
            started.elapsed().as_secs() < 2,
            "{name}: took {:?}",
            started.elapsed()
        );
    }
}
