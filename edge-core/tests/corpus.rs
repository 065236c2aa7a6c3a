//! The whole pipeline (`pipeline::transform`) over the shared corpus, driven by its
//! MANIFEST.tsv: every decodable image gives the right output size (after EXIF
//! orientation) in every output format, fit modes give sharp's sizes, orientations
//! 2-8 give the pixels of orientation 1, ICC-tagged photos come out with the colours
//! of a trusted conversion, and broken files give their documented 4xx.
//!
//! Outputs are checked with independent decoders (`jpeg-decoder`, `png`, `image` for
//! WebP); AVIF outputs with our own decoder when it handles AVIF, else by their
//! `ispe` (image size) box. Run with `--release` for speed.
#![cfg(feature = "codecs")]

use std::time::{Duration, Instant};

use edge_core::pipeline::{transform, Output};
use edge_core::{Config, Error, Fit, Format, Gravity, OutputFormat, Rgba, Variant};

mod common;

use common::{manifest, read, Row};

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Decodable; stored size and EXIF orientation (0/absent = 1).
    Image {
        width: u32,
        height: u32,
        orientation: u8,
    },
    /// A vector image (SVG): rendered at any requested size.
    Vector,
    /// A 4xx with one of these statuses; `partial_ok`: a (partial) image is fine too.
    Fails {
        statuses: &'static [u16],
        partial_ok: bool,
    },
}

/// What the manifest documents for a file (its description columns only).
fn expectation(row: &Row) -> Expect {
    let what = row.what.to_uppercase();
    let format = row.format.to_uppercase();
    if what.contains("DECOMPRESSION-BOMB") || what.contains("LARGE-DIMENSION") {
        return Expect::Fails {
            statuses: &[413],
            partial_ok: false,
        };
    }
    if format.starts_with("SVG") {
        return Expect::Vector;
    }
    if what.contains("NOT AN IMAGE") {
        return Expect::Fails {
            statuses: &[415],
            partial_ok: false,
        };
    }
    if what.contains("TRUNCATED") {
        return Expect::Fails {
            statuses: &[422],
            partial_ok: true,
        };
    }
    let malformed = what.contains("MALFORMED") && !what.contains("MALFORMED EXIF");
    if what.contains("CORRUPT")
        || what.contains("FUZZER")
        || malformed
        || format.contains("DECODE FAILS")
    {
        return Expect::Fails {
            statuses: &[422],
            partial_ok: false,
        };
    }
    let (w, h) = row
        .size
        .split_once('x')
        .unwrap_or_else(|| panic!("{}: size {:?}", row.file, row.size));
    let width = w
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{}: width {w:?}", row.file));
    let height = h
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{}: height {h:?}", row.file));
    let orientation = orientation_of(&format);
    Expect::Image {
        width,
        height,
        orientation,
    }
}

/// "EXIF orientation 6" / "irot/imir as orientation 6" in the format column.
fn orientation_of(format_upper: &str) -> u8 {
    format_upper
        .split("ORIENTATION ")
        .nth(1)
        .and_then(|rest| rest.chars().next())
        .and_then(|c| c.to_digit(10))
        .map_or(1, |d| d as u8)
        .clamp(1, 8)
}

fn display_size(width: u32, height: u32, orientation: u8) -> (u32, u32) {
    if (5..=8).contains(&orientation) {
        (height, width)
    } else {
        (width, height)
    }
}

fn variant(width: Option<u32>, height: Option<u32>, fit: Fit, format: Format) -> Variant {
    Variant {
        width,
        height,
        fit,
        gravity: Gravity::Centre,
        enlarge: false,
        quality: None,
        background: None,
        format: OutputFormat::Fixed(format),
        negotiated: false,
        animate: true,
        ops: Default::default(),
    }
}

/// sharp's size for `inside` with only a width and no enlargement.
fn inside_width(target: u32, (w, h): (u32, u32)) -> (u32, u32) {
    if w <= target {
        return (w, h);
    }
    let shrink = f64::from(w) / f64::from(target);
    (
        target,
        ((f64::from(h) / shrink + 0.5).floor() as u32).max(1),
    )
}

/// Decoded output pixels as RGB(A).
struct Pixels {
    width: u32,
    height: u32,
    channels: usize,
    data: Vec<u8>,
}

impl Pixels {
    fn rgb(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * self.channels;
        if self.channels < 3 {
            [self.data[i]; 3]
        } else {
            [self.data[i], self.data[i + 1], self.data[i + 2]]
        }
    }

    /// Mean RGB of the pixels with x in [x0, x1) and y in [y0, y1), as fractions.
    fn mean(&self, x0: f64, y0: f64, x1: f64, y1: f64) -> [f64; 3] {
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        let (xa, xb) = ((x0 * w) as u32, ((x1 * w) as u32).max((x0 * w) as u32 + 1));
        let (ya, yb) = ((y0 * h) as u32, ((y1 * h) as u32).max((y0 * h) as u32 + 1));
        let mut sum = [0.0; 3];
        for y in ya..yb.min(self.height) {
            for x in xa..xb.min(self.width) {
                let p = self.rgb(x, y);
                for c in 0..3 {
                    sum[c] += f64::from(p[c]);
                }
            }
        }
        let n = f64::from((xb.min(self.width) - xa) * (yb.min(self.height) - ya));
        sum.map(|s| s / n)
    }
}

fn decode_jpeg(bytes: &[u8]) -> Result<Pixels, String> {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    let data = d.decode().map_err(|e| format!("jpeg: {e}"))?;
    let info = d.info().ok_or("jpeg: no info")?;
    let channels = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        other => return Err(format!("jpeg: unexpected {other:?}")),
    };
    Ok(Pixels {
        width: info.width.into(),
        height: info.height.into(),
        channels,
        data,
    })
}

fn decode_png(bytes: &[u8]) -> Result<Pixels, String> {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .map_err(|e| format!("png: {e}"))?;
    let mut data = vec![0; reader.output_buffer_size().ok_or("png: size")?];
    let info = reader
        .next_frame(&mut data)
        .map_err(|e| format!("png: {e}"))?;
    if info.bit_depth != png::BitDepth::Eight {
        return Err(format!("png: {:?} bits", info.bit_depth));
    }
    data.truncate(info.buffer_size());
    Ok(Pixels {
        width: info.width,
        height: info.height,
        channels: info.color_type.samples(),
        data,
    })
}

/// WebP and GIF outputs through image-rs, as RGBA.
fn decode_rgba(bytes: &[u8], format: image::ImageFormat) -> Result<Pixels, String> {
    let img = image::load_from_memory_with_format(bytes, format)
        .map_err(|e| format!("{format:?}: {e}"))?;
    let rgba = img.to_rgba8();
    Ok(Pixels {
        width: rgba.width(),
        height: rgba.height(),
        channels: 4,
        data: rgba.into_raw(),
    })
}

/// Size of an AVIF output, decoded by our own AVIF decoder (rav1d), which is
/// independent of the encoder (rav1e).
fn avif_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    if bytes.get(4..8) != Some(b"ftyp") || bytes.get(8..12) != Some(b"avif") {
        return Err("avif: no ftyp avif".into());
    }
    let d = edge_core::decode::decode(bytes, &edge_core::Limits::default(), None)
        .map_err(|e| format!("avif: {e}"))?;
    Ok((d.raster.width, d.raster.height))
}

/// Decodes `out` with an independent decoder and returns its size; checks that the
/// bytes really are the reported format and size.
fn check_output(out: &Output) -> Result<(u32, u32), String> {
    let size = match out.format {
        Format::Jpeg => decode_jpeg(&out.bytes).map(|p| (p.width, p.height))?,
        Format::Png => decode_png(&out.bytes).map(|p| (p.width, p.height))?,
        Format::Webp => {
            decode_rgba(&out.bytes, image::ImageFormat::WebP).map(|p| (p.width, p.height))?
        }
        Format::Avif => avif_size(&out.bytes)?,
        Format::Gif => {
            decode_rgba(&out.bytes, image::ImageFormat::Gif).map(|p| (p.width, p.height))?
        }
    };
    if size != (out.width, out.height) {
        return Err(format!(
            "decodes as {size:?}, reported {}x{}",
            out.width, out.height
        ));
    }
    Ok(size)
}

fn pixels(out: &Output) -> Pixels {
    match out.format {
        Format::Jpeg => decode_jpeg(&out.bytes),
        Format::Png => decode_png(&out.bytes),
        Format::Webp => decode_rgba(&out.bytes, image::ImageFormat::WebP),
        Format::Avif => Err("no pixel decoder for AVIF here".into()),
        Format::Gif => decode_rgba(&out.bytes, image::ImageFormat::Gif),
    }
    .unwrap()
}

fn run(file: &str, v: &Variant) -> Output {
    transform(&read(file), v, &Config::default()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} failure(s):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

#[test]
fn every_image_has_the_right_size_in_every_format() {
    let cfg = Config::default();
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in manifest() {
        let (width, height, orientation) = match expectation(&row) {
            Expect::Image {
                width,
                height,
                orientation,
            } => (width, height, orientation),
            Expect::Fails { .. } | Expect::Vector => continue,
        };
        let bytes = read(&row.file);
        let want = inside_width(64, display_size(width, height, orientation));
        for format in Format::ALL {
            let result = transform(&bytes, &variant(Some(64), None, Fit::Inside, format), &cfg);
            match result {
                Ok(out) => match check_output(&out) {
                    Ok(got) if got == want && out.format == format => checked += 1,
                    Ok(got) => {
                        failures.push(format!("{} → {format:?}: {got:?}, want {want:?}", row.file))
                    }
                    Err(e) => failures.push(format!("{} → {format:?}: {e}", row.file)),
                },
                Err(e) => failures.push(format!("{} → {format:?}: {e}", row.file)),
            }
        }
    }
    assert_no_failures("sizes", &failures);
    assert!(checked > 200, "only {checked} outputs checked");
}

/// SVG inputs (415 before SVG support) render at the requested width, as a raster.
#[test]
fn every_svg_renders_at_the_requested_size() {
    let cfg = Config::default();
    let mut seen = 0;
    for row in manifest() {
        if !matches!(expectation(&row), Expect::Vector) {
            continue;
        }
        seen += 1;
        for format in Format::ALL {
            let out = transform(
                &read(&row.file),
                &variant(Some(64), None, Fit::Inside, format),
                &cfg,
            )
            .unwrap_or_else(|e| panic!("{} → {format:?}: {e}", row.file));
            assert_eq!(out.format, format, "{}", row.file);
            assert_eq!(out.width, 64, "{} → {format:?}", row.file);
            check_output(&out).unwrap_or_else(|e| panic!("{} → {format:?}: {e}", row.file));
        }
    }
    assert!(seen >= 2, "only {seen} SVG files in the manifest");
}

/// File, width, height, fit, enlarge, expected output size.
type FitCase = (
    &'static str,
    Option<u32>,
    Option<u32>,
    Fit,
    bool,
    (u32, u32),
);

#[test]
fn fit_modes_give_sharps_sizes() {
    use Fit::*;
    let hato = "photos/hato.jpg"; // 3082x2048
    let tall = "edge/tall_49x500.jpg";
    let strip = "edge/grayscale_long_1x1000.jpg";
    let wide = "edge/vp80-05-sharpness-1443_1920x96.webp";
    let dot = "edge/small_1x1.webp";
    #[rustfmt::skip]
    let cases: &[FitCase] = &[
        (hato, Some(150), Some(150), Cover, false, (150, 150)),
        (hato, Some(600), Some(600), Contain, false, (600, 600)),
        (hato, Some(300), Some(100), Fill, false, (300, 100)),
        (hato, Some(600), Some(600), Inside, false, (600, 399)),
        (hato, Some(600), Some(600), Outside, false, (903, 600)),
        (hato, Some(1200), None, Inside, false, (1200, 797)),
        (hato, None, Some(100), Cover, false, (150, 100)),
        (tall, Some(40), Some(40), Cover, false, (40, 40)),
        (tall, Some(100), Some(100), Inside, false, (10, 100)),
        (tall, Some(100), Some(100), Outside, false, (49, 500)),
        (tall, Some(200), Some(100), Contain, false, (200, 100)),
        (tall, Some(10), Some(10), Fill, false, (10, 10)),
        (tall, Some(1000), Some(1000), Inside, true, (98, 1000)),
        (strip, Some(50), Some(50), Inside, false, (1, 50)),
        (strip, Some(50), Some(50), Cover, false, (1, 50)),
        (strip, Some(10), None, Inside, false, (1, 1000)),
        (wide, Some(100), Some(100), Inside, false, (100, 5)),
        (wide, Some(100), Some(100), Cover, false, (100, 96)),
        (wide, None, Some(10), Inside, false, (200, 10)),
        (dot, Some(64), Some(64), Cover, false, (1, 1)),
        (dot, Some(64), Some(64), Contain, false, (64, 64)),
        (dot, Some(64), Some(64), Fill, true, (64, 64)),
        (dot, None, None, Inside, false, (1, 1)),
    ];
    let mut failures = Vec::new();
    for &(file, w, h, fit, enlarge, want) in cases {
        let v = Variant {
            enlarge,
            ..variant(w, h, fit, Format::Png)
        };
        let out = run(file, &v);
        match check_output(&out) {
            Ok(got) if got == want => {}
            Ok(got) => failures.push(format!(
                "{file} {w:?}x{h:?} {fit:?} enlarge={enlarge}: {got:?}, want {want:?}"
            )),
            Err(e) => failures.push(format!("{file} {w:?}x{h:?} {fit:?}: {e}")),
        }
    }
    assert_no_failures("fit modes", &failures);
}

#[test]
fn contain_letterboxes_with_the_background_and_cover_follows_gravity() {
    let magenta = Rgba {
        r: 255,
        g: 0,
        b: 255,
        a: 255,
    };
    let boxed = Variant {
        background: Some(magenta),
        ..variant(Some(300), Some(300), Fit::Contain, Format::Png)
    };
    let px = pixels(&run("photos/hato.jpg", &boxed));
    assert_eq!((px.width, px.height), (300, 300));
    // 3082x2048 → 300x199 centred: 50 rows above, 51 below.
    assert_eq!(px.rgb(150, 0), [255, 0, 255]);
    assert_eq!(px.rgb(0, 49), [255, 0, 255]);
    assert_eq!(px.rgb(299, 299), [255, 0, 255]);
    assert_ne!(px.rgb(150, 150), [255, 0, 255]);
    // Default background is white; JPEG letterbox too.
    let white = pixels(&run(
        "photos/hato.jpg",
        &variant(Some(200), Some(200), Fit::Contain, Format::Jpeg),
    ));
    assert!(
        white.rgb(100, 2).iter().all(|&c| c > 250),
        "{:?}",
        white.rgb(100, 2)
    );

    // Cover north/south on a portrait picture keep its top/bottom: compare with the
    // matching band of the uncropped image.
    let file = "edge/tall_49x500.jpg";
    let full = pixels(&run(
        file,
        &variant(Some(49), None, Fit::Inside, Format::Png),
    ));
    for (gravity, y0) in [(Gravity::North, 0.0), (Gravity::South, 451.0 / 500.0)] {
        let v = Variant {
            gravity,
            ..variant(Some(49), Some(49), Fit::Cover, Format::Png)
        };
        let crop = pixels(&run(file, &v));
        let band = full.mean(0.0, y0, 1.0, y0 + 49.0 / 500.0);
        let got = crop.mean(0.0, 0.0, 1.0, 1.0);
        let diff: f64 = (0..3).map(|c| (band[c] - got[c]).abs()).sum::<f64>() / 3.0;
        assert!(
            diff < 2.0,
            "{gravity:?}: crop mean {got:?} vs band {band:?}"
        );
    }
}

/// Mean absolute difference of two equally sized outputs (RGB).
fn mean_abs_diff(a: &Pixels, b: &Pixels) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let mut sum = 0.0;
    for y in 0..a.height {
        for x in 0..a.width {
            let (p, q) = (a.rgb(x, y), b.rgb(x, y));
            sum += (0..3).map(|c| f64::from(p[c].abs_diff(q[c]))).sum::<f64>();
        }
    }
    sum / f64::from(a.width * a.height * 3)
}

#[test]
fn orientations_2_to_8_match_orientation_1() {
    let west = |fit, w, h| Variant {
        gravity: Gravity::West,
        ..variant(w, h, fit, Format::Png)
    };
    let south = |fit, w, h| Variant {
        gravity: Gravity::South,
        ..variant(w, h, fit, Format::Png)
    };
    let ops = [
        (
            "inside 96",
            variant(Some(96), None, Fit::Inside, Format::Png),
            (96, 64),
        ),
        (
            "cover west 40x60",
            west(Fit::Cover, Some(40), Some(60)),
            (40, 60),
        ),
        (
            "cover south 90x30",
            south(Fit::Cover, Some(90), Some(30)),
            (90, 30),
        ),
        (
            "contain south 80x80",
            south(Fit::Contain, Some(80), Some(80)),
            (80, 80),
        ),
        (
            "fill 50x50",
            variant(Some(50), Some(50), Fit::Fill, Format::Png),
            (50, 50),
        ),
    ];
    let mut failures = Vec::new();
    for (name, v, size) in &ops {
        let reference = pixels(&run("exif-orientation/Landscape_1.jpg", v));
        assert_eq!((reference.width, reference.height), *size, "{name}");
        for o in [0, 2, 3, 4, 5, 6, 7, 8] {
            let file = format!("exif-orientation/Landscape_{o}.jpg");
            let got = pixels(&run(&file, v));
            if (got.width, got.height) != *size {
                failures.push(format!("{file} {name}: {}x{}", got.width, got.height));
                continue;
            }
            let diff = mean_abs_diff(&got, &reference);
            if diff >= 6.0 {
                failures.push(format!("{file} {name}: mean abs diff {diff:.1}"));
            }
        }
    }
    // A real phone photo stored sideways (EXIF 6): 4032x3024 shows as 3024x4032.
    let dog = run(
        "photos/dog_exif_extended_xmp_icc.jpg",
        &variant(Some(64), None, Fit::Inside, Format::Jpeg),
    );
    if (dog.width, dog.height) != (64, 85) {
        failures.push(format!("dog: {}x{}", dog.width, dog.height));
    }
    assert_no_failures("orientation", &failures);
}

/// A trusted sRGB conversion of each ICC-tagged photo: libjpeg-turbo 2.1.5 decoding
/// at full size + LittleCMS 2.14 (`cmsCreateTransform` from the embedded profile to
/// `cmsCreate_sRGBProfile()`, perceptual intent; Adobe-inverted CMYK read as
/// `TYPE_CMYK_8_REV`), computed once on this machine with a throw-away C program.
/// Per photo: the mean colour of a 3x3 grid of regions (row by row) and of the whole
/// image, and the mean chroma (max − min channel) over all full-size pixels.
#[rustfmt::skip]
const LCMS_REFERENCE: &[(&str, [[f64; 3]; 10], f64)] = &[
    ("photos/Channel_digital_image_CMYK_color.jpg", [
        [114.1, 114.2, 111.9], [117.4, 118.5, 115.7], [114.3, 117.1, 116.1],
        [106.1, 118.0, 89.0], [110.1, 118.1, 100.6], [114.2, 121.0, 106.8],
        [117.8, 129.9, 99.3], [124.4, 130.6, 126.8], [169.9, 170.0, 170.6],
        [120.9, 126.4, 115.2]], 20.46),
    ("photos/xmp_test_adobergb.jpg", [
        [125.1, 122.5, 122.0], [150.7, 147.0, 147.2], [132.1, 129.6, 131.6],
        [124.0, 120.0, 118.4], [148.7, 143.9, 127.2], [134.0, 131.7, 132.7],
        [113.5, 112.2, 108.3], [130.8, 128.7, 129.0], [121.2, 119.5, 121.0],
        [131.1, 128.3, 126.4]], 8.80),
    ("photos/apple_gainmap_displayp3.jpg", [
        [97.8, 108.4, 118.3], [100.3, 129.7, 159.2], [65.5, 47.2, 33.8],
        [104.5, 105.4, 101.3], [126.6, 126.7, 117.6], [41.6, 31.2, 24.7],
        [118.0, 106.3, 94.4], [123.3, 121.5, 119.1], [10.3, 8.8, 8.7],
        [87.6, 87.2, 86.3]], 28.45),
    ("photos/concert_grayscale.jpg", [
        [2.0, 2.0, 2.0], [110.0, 110.0, 110.0], [88.6, 88.6, 88.6],
        [8.7, 8.7, 8.7], [53.2, 53.2, 53.2], [49.4, 49.4, 49.4],
        [4.6, 4.6, 4.6], [5.6, 5.6, 5.6], [7.7, 7.7, 7.7],
        [36.7, 36.7, 36.7]], 0.0),
];

fn region_means(p: &Pixels) -> [[f64; 3]; 10] {
    let mut out = [[0.0; 3]; 10];
    for gy in 0..3 {
        for gx in 0..3 {
            let (x0, y0) = (f64::from(gx) / 3.0, f64::from(gy) / 3.0);
            out[(gy * 3 + gx) as usize] = p.mean(x0, y0, x0 + 1.0 / 3.0, y0 + 1.0 / 3.0);
        }
    }
    out[9] = p.mean(0.0, 0.0, 1.0, 1.0);
    out
}

fn worst_channel_diff(a: &[[f64; 3]; 10], b: &[[f64; 3]; 10]) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|(p, q)| (0..3).map(move |c| (p[c] - q[c]).abs()))
        .fold(0.0, f64::max)
}

/// Mean chroma (max − min channel, 0-255) over all pixels: how saturated the picture
/// is. Taking wide-gamut pixels as sRGB makes them duller.
fn mean_chroma(p: &Pixels) -> f64 {
    let mut sum = 0.0;
    for y in 0..p.height {
        for x in 0..p.width {
            let c = p.rgb(x, y);
            sum += f64::from(c.iter().max().unwrap() - c.iter().min().unwrap());
        }
    }
    sum / f64::from(p.width * p.height)
}

/// Tolerances, measured worst cases here in brackets: region means per channel in
/// 0-255 levels at 256 px wide (1.2: decoder upsampling, resampling and CMM rounding),
/// full-size mean chroma (0.1). Both far below what an ignored profile does (checked
/// by the next test).
const REGION_TOLERANCE: f64 = 2.5;
const CHROMA_TOLERANCE: f64 = 0.3;

#[test]
fn icc_photos_come_out_in_natural_srgb_colours() {
    let mut failures = Vec::new();
    for (file, regions, chroma) in LCMS_REFERENCE {
        let small = pixels(&run(
            file,
            &variant(Some(256), None, Fit::Inside, Format::Png),
        ));
        let got = region_means(&small);
        let diff = worst_channel_diff(&got, regions);
        let full = pixels(&run(file, &variant(None, None, Fit::Inside, Format::Png)));
        let got_chroma = mean_chroma(&full);
        eprintln!("{file}: regions off by {diff:.2}, chroma {got_chroma:.2} vs {chroma:.2}");
        if diff > REGION_TOLERANCE {
            failures.push(format!(
                "{file}: regions off by {diff:.1} levels; got {got:?}"
            ));
        }
        if (got_chroma - chroma).abs() > CHROMA_TOLERANCE {
            failures.push(format!(
                "{file}: mean chroma {got_chroma:.2}, want {chroma:.2}"
            ));
        }
    }
    assert_no_failures("colour", &failures);
}

#[test]
fn ignoring_the_profile_would_fail_the_colour_check() {
    // The colour test must be able to fail: the stored pixels taken as sRGB (what a
    // pipeline without colour management outputs) are well outside the tolerance.
    for file in [
        "photos/xmp_test_adobergb.jpg",
        "photos/apple_gainmap_displayp3.jpg",
    ] {
        let raw = decode_jpeg(&read(file)).unwrap();
        let (_, _, chroma) = LCMS_REFERENCE.iter().find(|r| r.0 == file).unwrap();
        let unmanaged = mean_chroma(&raw);
        assert!(
            (unmanaged - chroma).abs() > 3.0 * CHROMA_TOLERANCE,
            "{file}: unmanaged chroma {unmanaged:.2} is too close to {chroma:.2}"
        );
    }
}

#[test]
fn transparency_is_kept_or_flattened_by_format() {
    let cfg = Config::default();
    // basn6a08: RGBA with a real alpha gradient.
    let file = "pngsuite/basn6a08.png";
    let legacy = Variant {
        format: OutputFormat::Legacy,
        ..variant(None, None, Fit::Inside, Format::Png)
    };
    let out = run(file, &legacy);
    assert_eq!(out.format, Format::Png, "legacy with alpha → PNG");
    let px = pixels(&out);
    assert_eq!(px.channels, 4);
    assert!(px.data.chunks_exact(4).any(|p| p[3] < 255));
    // Opaque source → legacy JPEG; `source` keeps PNG.
    let opaque = run("pngsuite/basn2c08.png", &legacy);
    assert_eq!(opaque.format, Format::Jpeg);
    let source = Variant {
        format: OutputFormat::Source,
        ..legacy
    };
    assert_eq!(run("pngsuite/basn2c08.png", &source).format, Format::Png);
    assert_eq!(
        run("formats/star.gif", &source).format,
        Format::Png,
        "GIF source → PNG"
    );
    assert_eq!(
        run("formats/lossy_alpha1.webp", &source).format,
        Format::Webp
    );
    // JPEG flattens onto the background: fully transparent corner becomes it.
    let red = Rgba {
        r: 255,
        g: 0,
        b: 0,
        a: 255,
    };
    let jpeg = Variant {
        background: Some(red),
        ..variant(None, None, Fit::Inside, Format::Jpeg)
    };
    let bytes = read("pngsuite/tbbn3p08.png");
    let flat = pixels(&transform(&bytes, &jpeg, &cfg).unwrap());
    let corner = flat.rgb(0, 0);
    assert!(
        corner[0] > 230 && corner[1] < 30 && corner[2] < 30,
        "{corner:?}"
    );
}

#[test]
fn red_at_12_oclock_shows_red_on_top() {
    let file = "formats/red-at-12-oclock-with-color-profile-8bpc.avif";
    let result = transform(
        &read(file),
        &variant(Some(200), None, Fit::Inside, Format::Png),
        &Config::default(),
    );
    let out = result.unwrap_or_else(|e| panic!("{file}: {e}"));
    let px = pixels(&out);
    let top = px.mean(0.45, 0.05, 0.55, 0.15);
    assert!(
        top[0] > 150.0 && top[1] < 100.0 && top[2] < 100.0,
        "12 o'clock is {top:?}"
    );
}

fn expect_error(file: &str, bytes: &[u8], statuses: &[u16], partial_ok: bool) -> Option<String> {
    let started = Instant::now();
    let result = transform(
        bytes,
        &variant(Some(64), None, Fit::Inside, Format::Jpeg),
        &Config::default(),
    );
    let elapsed = started.elapsed();
    match result {
        Err(e) if statuses.contains(&e.status()) => {
            // Limits are checked from the header: a bomb costs no decoding time.
            if e.status() == 413 && elapsed > Duration::from_millis(250) {
                return Some(format!("{file}: rejected only after {elapsed:?}"));
            }
            None
        }
        Err(e) => Some(format!("{file}: {e} ({}), want {statuses:?}", e.code())),
        Ok(out) if partial_ok => check_output(&out)
            .err()
            .map(|e| format!("{file}: partial image: {e}")),
        Ok(out) => Some(format!(
            "{file}: produced {}x{}, want {statuses:?}",
            out.width, out.height
        )),
    }
}

#[test]
fn broken_files_give_their_documented_4xx() {
    let mut failures = Vec::new();
    let mut seen = 0;
    for row in manifest() {
        if let Expect::Fails {
            statuses,
            partial_ok,
        } = expectation(&row)
        {
            seen += 1;
            failures.extend(expect_error(
                &row.file,
                &read(&row.file),
                statuses,
                partial_ok,
            ));
        }
    }
    assert!(seen >= 15, "only {seen} broken files in the manifest");
    // Not in the corpus as files: empty input and plain garbage.
    failures.extend(expect_error("(empty)", b"", &[415, 422], false));
    failures.extend(expect_error("(garbage)", &[0x5a; 300], &[415], false));
    assert_no_failures("errors", &failures);
}

#[test]
fn truncated_and_damaged_inputs_never_panic() {
    // Every prefix length class and a few flipped bytes of real files: each must be a
    // clean 4xx or a (partial) image, never a panic or a 500.
    let mut failures = Vec::new();
    for file in [
        "photos/progressive_3.jpg",
        "pngsuite/basi6a16.png",
        "formats/star.gif",
        "edge/small_1x1.webp",
    ] {
        let bytes = read(file);
        let mut cuts: Vec<usize> = (0..64)
            .chain((64..bytes.len()).step_by(bytes.len() / 40 + 1))
            .collect();
        cuts.retain(|&n| n < bytes.len());
        for n in cuts {
            let name = format!("{file}[..{n}]");
            let v = variant(Some(32), None, Fit::Cover, Format::Png);
            match std::panic::catch_unwind(|| transform(&bytes[..n], &v, &Config::default())) {
                Err(_) => failures.push(format!("{name}: panicked")),
                Ok(Err(Error::Internal { message })) => {
                    failures.push(format!("{name}: 500 {message}"))
                }
                Ok(Err(e)) if !(400..500).contains(&e.status()) => {
                    failures.push(format!("{name}: {e}"))
                }
                Ok(_) => {}
            }
        }
        for i in (20..bytes.len()).step_by(bytes.len() / 25 + 1) {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x55;
            let v = variant(Some(32), None, Fit::Inside, Format::Jpeg);
            match std::panic::catch_unwind(|| transform(&damaged, &v, &Config::default())) {
                Err(_) => failures.push(format!("{file} byte {i} flipped: panicked")),
                Ok(Err(e)) if !(400..500).contains(&e.status()) => {
                    failures.push(format!("{file} byte {i}: {e}"))
                }
                Ok(_) => {}
            }
        }
    }
    assert_no_failures("damaged inputs", &failures);
}
