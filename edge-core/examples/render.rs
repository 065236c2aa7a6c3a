//! Renders one query over several inputs into a directory, natively, for quality
//! calibration (`bench/calibrate.mjs` scores the files against sharp's reference).
//!
//!   cargo run --release -p edge-core --example render -- OUTDIR QUERY INPUT...
//!
//! With `AVIF=speed:quantizer,speed:quantizer...` and an `fm=avif` query, each input is
//! rendered once up to the encode step and then AVIF-encoded with every setting given
//! (`speed:quantizer[:psnr|psy[:max partition px or empty[:lrf|nolrf]]]`; files named
//! `<input>.s<speed>q<quantizer><tune>[p<partition>].avif`).

use edge_core::encode::avif;
use edge_core::{decode, pipeline, plan, request, Config};

fn main() {
    let mut args = std::env::args().skip(1);
    let out_dir = args.next().expect("OUTDIR");
    let query = args.next().expect("QUERY");
    let cfg = Config::default();
    let sweep: Vec<avif::Settings> = std::env::var("AVIF")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            // speed:quantizer[:psnr|psy[:max partition px]]
            let f: Vec<&str> = s.split(':').collect();
            let mut settings = avif::Settings::for_quality(50);
            settings.speed = f[0].parse().expect("speed");
            settings.quantizer = f[1].parse().expect("quantizer");
            if let Some(t) = f.get(2) {
                settings.tune_psnr = *t == "psnr";
            }
            settings.max_partition = f
                .get(3)
                .filter(|p| !p.is_empty())
                .map(|p| p.parse().expect("partition"));
            settings.loop_restoration = f.get(4).map(|l| *l == "lrf");
            settings
        })
        .collect();
    std::fs::create_dir_all(&out_dir).expect("OUTDIR");
    for input_path in args {
        let input = std::fs::read(&input_path).unwrap_or_else(|e| panic!("{input_path}: {e}"));
        let name = std::path::Path::new(&input_path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        if sweep.is_empty() {
            let params = request::parse_query(&query).expect("query");
            let variant = plan::plan(&params, None, &cfg.policy).expect("plan");
            let out = pipeline::transform(&input, &variant, &cfg).expect("transform");
            let ext = format!("{:?}", out.format).to_lowercase();
            std::fs::write(format!("{out_dir}/{name}.{ext}"), &out.bytes).unwrap();
            println!("{name}: {}x{} {} B", out.width, out.height, out.bytes.len());
            continue;
        }
        // The pre-encode raster, losslessly: the same query as PNG.
        let png_query = query.replace("fm=avif", "fm=png");
        let params = request::parse_query(&png_query).expect("query");
        let variant = plan::plan(&params, None, &cfg.policy).expect("plan");
        let png = pipeline::transform(&input, &variant, &cfg).expect("transform");
        let raster = decode::decode(&png.bytes, &cfg.limits, None)
            .expect("png")
            .raster;
        for s in &sweep {
            let t = std::time::Instant::now();
            let bytes = avif::encode_with(&raster, *s).expect("avif");
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let file = format!(
                "{out_dir}/{name}.s{}q{}{}{}{}.avif",
                s.speed,
                s.quantizer,
                if s.tune_psnr { "psnr" } else { "psy" },
                s.max_partition.map_or(String::new(), |p| format!("p{p}")),
                match s.loop_restoration {
                    Some(true) => "lrf",
                    Some(false) => "nolrf",
                    None => "",
                }
            );
            std::fs::write(&file, &bytes).unwrap();
            println!("{file}\t{}\t{ms:.0}", bytes.len());
        }
    }
}
