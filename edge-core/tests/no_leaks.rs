//! No heap grows across warm transforms: a counting global allocator reads the live
//! bytes before and after repeated transforms of one input. A leak of any size shows
//! up as a difference that grows with the repetitions (the first run is a warm-up, for
//! one-time tables). This caught rav1d's `dav1d_picture_unref` leaking 48 bytes per
//! AVIF decode (third_party/rav1d/VENDORED.md), which in a warm Lambda grows forever.
//! One test function: the counter is global.
#![cfg(feature = "codecs")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use edge_core::pipeline::transform;
use edge_core::{plan, request, Config};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/");

#[test]
fn warm_transforms_do_not_grow_the_heap() {
    let cfg = Config::default();
    let cases = [
        // AVIF: rav1d's picture release; and a damaged one (an error path).
        ("formats/kimono.rotate90.avif", "w=64&fm=jpeg"),
        ("fuzz:transform_avif-leak-0ec1ba90.avif", "w=64&fm=png"),
        ("photos/progressive_3.jpg", "w=64&fm=webp"),
        ("photos/progressive_3.jpg", "w=64&fm=avif"),
        ("pngsuite/basi2c16.png", "w=32&fm=png"),
        ("formats/rotating-squares.gif", "w=32&fm=webp"),
    ];
    let mut leaks = Vec::new();
    for (file, query) in cases {
        let input = match file.strip_prefix("fuzz:") {
            Some(name) => {
                let dir = concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../fuzz/regressions/transform_avif/"
                );
                std::fs::read(format!("{dir}{name}"))
            }
            None => std::fs::read(format!("{CORPUS}{file}")),
        };
        let Ok(input) = input else {
            panic!("{file}: missing");
        };
        let params = request::parse_query(query).unwrap();
        let variant = plan::plan(&params, None, &cfg.policy).unwrap();
        let run = || {
            let _ = transform(&input, &variant, &cfg);
        };
        run();
        let before = LIVE.load(Ordering::SeqCst);
        for _ in 0..5 {
            run();
        }
        let grown = LIVE.load(Ordering::SeqCst) - before;
        if grown != 0 {
            leaks.push(format!("{file} {query}: {grown} bytes over 5 runs"));
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}
