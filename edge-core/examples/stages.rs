//! Where the time of one transform goes, stage by stage, natively.
//!
//!   cargo run --release -p edge-core --example stages -- [INPUT] [RUNS]
//!
//! Runs the benchmark's four tasks (scripts/bench: T1 cover 150x150 JPEG q85, T2 inside
//! 600x600 WebP q80, T3 inside 1200x1200 JPEG q85, T4 inside 600x600 AVIF q50) on INPUT
//! (default: the corpus' hato.jpg) and prints the median time of each pipeline step.
//! The steps are the ones `pipeline::transform` runs, called in the same order; the
//! last column times `pipeline::transform` itself as a cross-check of the sum.

use std::time::Instant;

use edge_core::config::Format;
use edge_core::plan::{OutputFormat, Rgba};
use edge_core::raster::Layout;
use edge_core::resize::{self, Target};
use edge_core::{colour, decode, encode, orient, pipeline, plan, request, sniff, Config};

const TASKS: [(&str, &str); 4] = [
    ("T1", "w=150&h=150&fit=cover&fm=jpeg&q=85"),
    ("T2", "w=600&h=600&fit=inside&fm=webp&q=80"),
    ("T3", "w=1200&h=1200&fit=inside&fm=jpeg&q=85"),
    ("T4", "w=600&h=600&fit=inside&fm=avif&q=50"),
];

const STAGES: [&str; 7] = [
    "header", "decode", "resample", "orient", "colour", "encode", "other",
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
        print!("{s:>15}");
    }
    println!("{:>15}{:>15}  decoded -> output", "sum", "transform");
    for (task, query) in TASKS {
        let params = request::parse_query(query).expect("query");
        let variant = plan::plan(&params, None, &cfg.policy).expect("plan");
        let mut samples: Vec<[f64; STAGES.len()]> = Vec::new();
        let mut whole = Vec::new();
        let mut sizes = String::new();
        for run in 0..=runs {
            let (times, info) = staged(&input, &variant, &cfg);
            let t = Instant::now();
            let out = pipeline::transform(&input, &variant, &cfg).expect("transform");
            let transform_ms = ms(t);
            if run == 0 {
                let (w, h, n) = (out.width, out.height, out.bytes.len());
                sizes = format!("{info} -> {w}x{h} {n} B");
                continue; // warm-up
            }
            samples.push(times);
            whole.push(transform_ms);
        }
        // The minimum is shown too: on a shared machine it is the least disturbed run.
        let stat = |xs: Vec<f64>| format!("{:.1} ({:.1})", median(xs.clone()), min(&xs));
        print!("{task:<4}");
        for i in 0..STAGES.len() {
            print!("{:>15}", stat(samples.iter().map(|s| s[i]).collect()));
        }
        let sums = samples.iter().map(|s| s.iter().sum()).collect();
        println!("{:>15}{:>15}  {sizes}", stat(sums), stat(whole));
    }
}

/// One transform with a clock around each step; mirrors `pipeline::transform`.
fn staged(input: &[u8], v: &plan::Variant, cfg: &Config) -> ([f64; STAGES.len()], String) {
    let mut t = [0.0; STAGES.len()];
    let clock = Instant::now();
    let header = sniff::read_header(input, &cfg.limits).expect("header");
    let target = Target::new(v, &cfg.policy);
    let min_size = resize::min_decode_size(header.width, header.height, &target);
    t[0] = ms(clock);

    let clock = Instant::now();
    let decoded = decode::decode(input, &cfg.limits, min_size).expect("decode");
    t[1] = ms(clock);
    let info = format!(
        "{}x{} (stored {}x{}, EXIF {})",
        decoded.raster.width,
        decoded.raster.height,
        decoded.source_width,
        decoded.source_height,
        decoded.orientation
    );

    let clock = Instant::now();
    let orientation = decoded.orientation;
    let (width, height) =
        orient::oriented_size(decoded.source_width, decoded.source_height, orientation);
    let geometry = resize::geometry(width, height, &target);
    let icc = decoded.icc.as_deref();
    let mut raster = decoded.raster;
    let cmyk = raster.layout == Layout::Cmyk;
    t[6] += ms(clock);
    if cmyk {
        let clock = Instant::now();
        raster = colour::to_srgb(raster, icc).expect("colour");
        t[4] += ms(clock);
    }

    let clock = Instant::now();
    raster = resize::resample_stored(raster, &geometry, orientation).expect("resample");
    t[2] = ms(clock);

    let clock = Instant::now();
    raster = orient::apply(raster, orientation);
    t[3] = ms(clock);

    if !cmyk {
        let clock = Instant::now();
        raster = colour::to_srgb(raster, icc).expect("colour");
        t[4] += ms(clock);
    }

    let clock = Instant::now();
    let format = match v.format {
        OutputFormat::Fixed(f) => f,
        _ => Format::Jpeg,
    };
    let background = v.background.unwrap_or(Rgba::WHITE);
    raster = resize::embed(raster, &geometry, background, format != Format::Jpeg).expect("embed");
    let quality = v
        .quality
        .or(cfg.policy.quality.for_format(format))
        .unwrap_or(80);
    t[6] += ms(clock);

    let clock = Instant::now();
    let bytes = encode::encode(&raster, format, quality, background).expect("encode");
    t[5] = ms(clock);
    std::hint::black_box(bytes);
    (t, info)
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
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
