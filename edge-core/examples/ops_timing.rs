//! Time of the issue-12 operations, natively (wasm is slower by a small factor).
//!
//!   cargo run --release -p edge-core --example ops_timing -- [INPUT] [RUNS]
//!
//! INPUT defaults to the corpus' 12 MP photo (dog_exif_extended_xmp_icc.jpg,
//! 4032x3024). Prints the median of RUNS (default 7) for: entropy and attention on the
//! full decode and on the shrunk-on-load decode a 600x600 cover crop gets; blur at
//! sigma 1, 10 and 100 and sharpen at sigma 1 on a 1200 px wide image.

use std::time::Instant;

use edge_core::geometry::{self, Target};
use edge_core::{decode, orient, plan, request, Config};
use edge_core::{filter, resize, smartcrop};

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "../shared/corpus/photos/dog_exif_extended_xmp_icc.jpg".into());
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(7);
    let input = std::fs::read(&path).expect("read INPUT");
    let cfg = Config::default();

    let full = decode::decode(&input, &cfg.limits, None).expect("decode");
    let (w, h) = (full.raster.width, full.raster.height);
    let params = request::parse_query("w=600&h=600&fit=cover").unwrap();
    let variant = plan::plan(&params, None, &cfg.policy).unwrap();
    let target = Target::new(&variant, &cfg.policy);
    let min = geometry::min_decode_size(w, h, &target);
    let shrunk = decode::decode(&input, &cfg.limits, min).expect("decode shrunk");
    let (uw, uh) = orient::oriented_size(w, h, full.orientation);
    let geometry = geometry::geometry(uw, uh, &target);
    let scaled = (geometry.scaled_width, geometry.scaled_height);
    let crop = (geometry.width, geometry.height);
    println!(
        "{path}: {w}x{h} ({:.1} MP); shrunk on load to {}x{}; cover 600x600 of {}x{}",
        f64::from(w) * f64::from(h) / 1e6,
        shrunk.raster.width,
        shrunk.raster.height,
        scaled.0,
        scaled.1
    );
    for strategy in [smartcrop::Strategy::Entropy, smartcrop::Strategy::Attention] {
        for (name, raster) in [("full", &full.raster), ("shrunk", &shrunk.raster)] {
            let mut at = (0, 0);
            let ms = median_ms(runs, || {
                at = smartcrop::crop_offset(raster, full.orientation, scaled, crop, strategy);
            });
            println!(
                "{:<9} on {name:<6} decode: {ms:7.1} ms  (window at {at:?})",
                strategy.name()
            );
        }
    }

    let out_w = 1200;
    let out_h = (u64::from(h) * out_w as u64 / u64::from(w)) as u32;
    let whole = geometry::Rect {
        x: 0,
        y: 0,
        width: shrunk.raster.width,
        height: shrunk.raster.height,
    };
    let small = resize::resample(shrunk.raster.clone(), whole, out_w, out_h).unwrap();
    for sigma in [1.0, 10.0, 100.0] {
        let ms = median_ms(runs, || {
            filter::blur(small.clone(), sigma).unwrap();
        });
        println!("blur    sigma {sigma:>5} on {out_w}x{out_h}: {ms:7.1} ms");
    }
    let ms = median_ms(runs, || {
        filter::sharpen(small.clone(), 1.0).unwrap();
    });
    println!("sharpen sigma   1.0 on {out_w}x{out_h}: {ms:7.1} ms");
}
