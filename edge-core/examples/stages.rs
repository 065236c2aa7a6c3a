//! Where the time of one transform goes, stage by stage, natively.
//!
//!   cargo run --release -p edge-core --example stages -- [INPUT] [RUNS]
//!
//! Runs the benchmark's four tasks (scripts/bench: T1 cover 150x150 JPEG q85, T2 inside
//! 600x600 WebP q80, T3 inside 1200x1200 JPEG q85, T4 inside 600x600 AVIF q50) on INPUT
//! (default: the corpus' hato.jpg) and prints the median time of each pipeline stage.
//! The stage times are the ones the pipeline itself records in its job context
//! (`Output::timings`), so there is no second copy of the step order here; the last
//! column is the wall time of the whole call as a cross-check of the sum.

use std::time::Instant;

use edge_core::clock::monotonic_ms;
use edge_core::{pipeline, plan, request, Config};

const TASKS: [(&str, &str); 4] = [
    ("T1", "w=150&h=150&fit=cover&fm=jpeg&q=85"),
    ("T2", "w=600&h=600&fit=inside&fm=webp&q=80"),
    ("T3", "w=1200&h=1200&fit=inside&fm=jpeg&q=85"),
    ("T4", "w=600&h=600&fit=inside&fm=avif&q=50"),
];

const STAGES: [&str; 7] = [
    "header", "decode", "colour", "resize", "orient", "compose", "encode",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let input_path = args.next().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/corpus/photos/hato.jpg"
        )
        .to_string()
    });
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(7);
    let input = std::fs::read(&input_path).unwrap_or_else(|e| panic!("read {input_path}: {e}"));
    let cfg = Config::default();

    println!("{input_path}: {runs} runs after 1 warm-up; per stage median (min) ms");
    print!("{:<4}", "task");
    for s in STAGES {
        print!("{s:>13}");
    }
    println!("{:>13}{:>13}  output", "sum", "transform");
    for (task, query) in TASKS {
        let params = request::parse_query(query).expect("query");
        let variant = plan::plan(&params, None, &cfg.policy).expect("plan");
        let mut samples: Vec<[f64; STAGES.len()]> = Vec::new();
        let mut whole = Vec::new();
        let mut sizes = String::new();
        for run in 0..=runs {
            let t = Instant::now();
            let out = pipeline::transform_with_clock(&input, &variant, &cfg, monotonic_ms)
                .expect("transform");
            let transform_ms = t.elapsed().as_secs_f64() * 1000.0;
            if run == 0 {
                let (w, h, n) = (out.width, out.height, out.bytes.len());
                sizes = format!("{w}x{h} {n} B");
                continue; // warm-up
            }
            let mut times = [0.0; STAGES.len()];
            for (stage, ms) in out.timings.iter() {
                let i = STAGES.iter().position(|s| *s == stage);
                times[i.unwrap_or_else(|| panic!("stage {stage} missing from STAGES"))] += ms;
            }
            samples.push(times);
            whole.push(transform_ms);
        }
        // The minimum is shown too: on a shared machine it is the least disturbed run.
        let stat = |xs: Vec<f64>| format!("{:.1} ({:.1})", median(xs.clone()), min(&xs));
        print!("{task:<4}");
        for i in 0..STAGES.len() {
            print!("{:>13}", stat(samples.iter().map(|s| s[i]).collect()));
        }
        let sums = samples.iter().map(|s| s.iter().sum()).collect();
        println!("{:>13}{:>13}  {sizes}", stat(sums), stat(whole));
    }
}

fn min(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::INFINITY, f64::min)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    }
}
