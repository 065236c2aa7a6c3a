//! Limits act before the work (issue 15, defects 1 and 5): a counting global allocator
//! records the peak of live heap bytes while each input is processed, so an estimate
//! that is not an upper bound, or a size field that is trusted, shows up here.
//! One test function: the counter is global.
#![cfg(feature = "codecs")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use edge_core::cost;
use edge_core::decode::decode;
use edge_core::pipeline::transform;
use edge_core::{Config, Limits, OutputFormat, Variant};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak live bytes above the level at the start, and the wall time, of `f`.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, Duration) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let started = Instant::now();
    let out = f();
    let elapsed = started.elapsed();
    (out, PEAK.load(Ordering::SeqCst) - base, elapsed)
}

fn png(width: u32, height: u32, color: png::ColorType, depth: png::BitDepth) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(color);
    enc.set_depth(depth);
    if color == png::ColorType::Indexed {
        enc.set_palette(vec![0u8, 0, 0, 255, 255, 255]);
        enc.set_trns(vec![0u8, 255]);
    }
    let mut writer = enc.write_header().unwrap();
    let channels = match color {
        png::ColorType::Grayscale | png::ColorType::Indexed => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
    };
    let bits = channels * depth as usize;
    let row = (width as usize * bits).div_ceil(8);
    writer
        .write_image_data(&vec![0x55; row * height as usize])
        .unwrap();
    writer.finish().unwrap();
    out
}

/// WebP (VP8X + a tiny VP8L image) whose `chunk` chunk declares `declared` bytes.
fn webp_with_huge_chunk(chunk: &[u8; 4], declared: u32) -> Vec<u8> {
    // A 1x1 lossless image: signature, 14+14 bits of size - 1 (0), alpha 0, version 0,
    // then a minimal bitstream.
    let vp8l: &[u8] = &[0x2F, 0, 0, 0, 0, 0x07, 0x10, 0x11, 0x48, 0x00];
    let mut w = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0".to_vec();
    w.extend_from_slice(&[0x08 | 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // EXIF + ICC flags, 1x1
    w.extend_from_slice(b"VP8L");
    w.extend_from_slice(&(vp8l.len() as u32).to_le_bytes());
    w.extend_from_slice(vp8l);
    w.extend_from_slice(chunk);
    w.extend_from_slice(&declared.to_le_bytes());
    w.extend_from_slice(&[0u8; 8000]);
    let riff = (w.len() - 8) as u32;
    w[4..8].copy_from_slice(&riff.to_le_bytes());
    w
}

/// Baseline JPEG header (APP1 orientation `orientation`, SOF0 `width`x`height`,
/// 4:2:0) followed by `data` bytes of entropy-coded data and EOI.
fn jpeg(width: u16, height: u16, orientation: u8, data: usize) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    let exif = [
        b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0".as_slice(),
        &[orientation, 0, 0, 0, 0, 0, 0],
    ]
    .concat();
    j.extend_from_slice(&[0xFF, 0xE1]);
    j.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    j.extend_from_slice(&exif);
    // Quantisation table 0, all ones.
    j.extend_from_slice(&[0xFF, 0xDB, 0, 67, 0]);
    j.extend_from_slice(&[1; 64]);
    j.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8]);
    j.extend_from_slice(&height.to_be_bytes());
    j.extend_from_slice(&width.to_be_bytes());
    j.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]);
    // Huffman tables: DC 0 and AC 0 with one 1-bit code each (symbol 0).
    for class in [0x00u8, 0x10] {
        j.extend_from_slice(&[0xFF, 0xC4, 0, 20, class]);
        let mut counts = [0u8; 16];
        counts[0] = 1;
        j.extend_from_slice(&counts);
        j.push(0);
    }
    j.extend_from_slice(&[0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0, 3, 0, 0, 63, 0]);
    j.extend(std::iter::repeat_n(0u8, data));
    j.extend_from_slice(&[0xFF, 0xD9]);
    j
}

#[test]
fn limits_act_before_the_work() {
    let limits = Limits::default();

    // PNG: the header estimate is a true upper bound of the decode's peak memory,
    // including single-row images whose row buffers are as large as the image.
    use png::{BitDepth as D, ColorType as C};
    let cases = [
        (2000, 1500, C::Rgb, D::Eight),
        (1000, 800, C::Rgba, D::Sixteen),
        (1_000_000, 1, C::Rgb, D::Eight),
        (500_000, 1, C::Rgba, D::Sixteen),
        (800_000, 1, C::Indexed, D::Eight),
        (800_000, 1, C::Grayscale, D::Sixteen),
        (1, 500_000, C::GrayscaleAlpha, D::Eight),
    ];
    for (w, h, color, depth) in cases {
        let bytes = png(w, h, color, depth);
        let estimate = cost::decode_bytes(&bytes, &limits).unwrap();
        let (decoded, peak, _) = measure(|| decode(&bytes, &limits, None));
        decoded.unwrap();
        assert!(
            peak as u64 <= estimate,
            "{w}x{h} {color:?} {depth:?}: peak {peak} bytes over the estimate {estimate}"
        );
    }

    // The 361-byte PNG declaring 100000000x1 is refused from its header.
    let mut bomb = png(1000, 1, C::Rgb, D::Eight);
    bomb[16..20].copy_from_slice(&100_000_000u32.to_be_bytes());
    let (r, peak, _) = measure(|| decode(&bomb, &limits, None));
    assert_eq!(r.unwrap_err().code(), "limit_exceeded");
    assert!(peak < 1 << 20, "PNG bomb: peak {peak}");

    // WebP metadata chunks claiming 2 GiB or 4 GiB allocate nothing of it.
    for (chunk, declared) in [(b"EXIF", 0x8000_0000u32), (b"ICCP", 0xFFFF_FFF0)] {
        let bytes = webp_with_huge_chunk(chunk, declared);
        let (r, peak, _) = measure(|| decode(&bytes, &limits, None));
        assert!(
            peak < 4 << 20,
            "{chunk:?} {declared}: peak {peak} bytes ({r:?})"
        );
        if let Err(e) = r {
            assert!((400..500).contains(&e.status()), "{e}");
        }
    }

    // JPEG 65535x1525 with orientation 6: the upright output is over the maximum box
    // for this request; the 413 comes from the header, before decoding.
    let cfg = Config::default();
    let tall = Variant {
        width: Some(4096),
        ..Variant::new(OutputFormat::Source)
    };
    let bytes = jpeg(65535, 1525, 6, 100_000);
    let (r, _, elapsed) = measure(|| transform(&bytes, &tall, &cfg));
    assert_eq!(r.unwrap_err().code(), "limit_exceeded");
    assert!(elapsed < Duration::from_millis(200), "took {elapsed:?}");

    // An 80 KB JPEG whose frame says 6103x16383 cannot hold the data of that frame.
    let bytes = jpeg(6103, 16383, 1, 80_000);
    let v = Variant {
        width: Some(600),
        ..Variant::new(OutputFormat::Source)
    };
    let (r, peak, elapsed) = measure(|| transform(&bytes, &v, &cfg));
    assert_eq!(r.unwrap_err().code(), "corrupt_image");
    assert!(elapsed < Duration::from_millis(200), "took {elapsed:?}");
    assert!(peak < 1 << 20, "peak {peak}");
}
