//! Replays every committed fuzz regression (`fuzz/regressions/<target>/*`) through the
//! same check its fuzz target runs (fuzz/src/checks.rs, included here: the fuzz crate
//! is outside the workspace). A regression that panics or answers 5xx fails here.
#![cfg(feature = "codecs")]
// transform_as is only used by the fuzz targets themselves.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

include!("../../fuzz/src/checks.rs");

static PANICS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn fuzz_regressions_replay() {
    std::panic::set_hook(Box::new(|_| {
        PANICS.fetch_add(1, Ordering::SeqCst);
    }));
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/regressions");
    let mut replayed = 0;
    for target in std::fs::read_dir(root).expect("fuzz/regressions exists") {
        let target = target.unwrap().path();
        let name = target.file_name().unwrap().to_string_lossy().into_owned();
        let check: fn(&[u8]) = match name.as_str() {
            "query_plan" => query_plan,
            "derived_key" => derived_key,
            "accept" => accept_header,
            "signature" => signature,
            n if n.starts_with("transform_") => transform,
            other => panic!("fuzz/regressions/{other}: no such fuzz target"),
        };
        for file in std::fs::read_dir(&target).unwrap() {
            let path = file.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails its fuzz check", path.display());
            // A panic the decoders' guard turned into a 422 natively is a trap in
            // wasm (panic = abort there): count those too.
            assert_eq!(
                PANICS.swap(0, Ordering::SeqCst),
                0,
                "{} panicked inside a codec",
                path.display()
            );
            replayed += 1;
        }
    }
    assert!(replayed >= 5, "only {replayed} regressions");
}
