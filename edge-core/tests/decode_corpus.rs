//! The input half of the pipeline (sniff → decode → colour → orient) over the shared
//! corpus, driven by its MANIFEST.tsv: decodable files give the declared size and a
//! plausible layout, broken ones the documented 4xx, and the colour-managed and
//! oriented outputs look right.
#![cfg(feature = "codecs")]

use std::sync::atomic::{AtomicUsize, Ordering};

use edge_core::decode::{decode, Decoded};
use edge_core::raster::{Layout, Raster};
use edge_core::sniff::{read_header, SourceFormat};
use edge_core::{colour, orient, Limits};

mod common;

use common::{manifest, read, Row};

fn decode_file(file: &str, min_size: Option<(u32, u32)>) -> Decoded {
    decode(&read(file), &Limits::default(), min_size).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[derive(Debug)]
enum Expect {
    Decodes {
        width: u32,
        height: u32,
        layouts: Vec<Layout>,
    },
    /// An error with this status; `partial_ok`: a (partial) image is acceptable too.
    Fails { status: u16, partial_ok: bool },
}

/// What the manifest documents for a file, from its description columns only.
fn expectation(row: &Row) -> Expect {
    let what = row.what.to_uppercase();
    let format = row.format.to_uppercase();
    let fails = |status| Expect::Fails {
        status,
        partial_ok: false,
    };
    if what.contains("DECOMPRESSION-BOMB") || what.contains("LARGE-DIMENSION") {
        return fails(413);
    }
    if format.starts_with("SVG") || what.contains("NOT AN IMAGE") {
        return fails(415);
    }
    if format.starts_with("ISO MEDIA") {
        return fails(415);
    }
    if what.contains("TRUNCATED") {
        return Expect::Fails {
            status: 422,
            partial_ok: true,
        };
    }
    let malformed = what.contains("MALFORMED") && !what.contains("MALFORMED EXIF");
    if what.contains("CORRUPT")
        || what.contains("FUZZER")
        || malformed
        || format.contains("DECODE FAILS")
    {
        return fails(422);
    }
    let (w, h) = row.size.split_once('x').expect("WxH");
    let (width, height) = (w.trim().parse().unwrap(), h.trim().parse().unwrap());
    // Pillow's mode: the text in parentheses up to the first ';' (but "I;16").
    let mode = row.format.split_once('(').map(|(_, m)| m).unwrap_or("");
    let mode = if mode.starts_with("I;16") {
        "I;16"
    } else {
        mode.split([';', ')']).next().unwrap()
    };
    let trns = what.contains("TRNS");
    let layouts = match mode {
        _ if format.starts_with("GIF") => vec![Layout::Rgba],
        _ if format.starts_with("AVIF") => {
            vec![Layout::Rgb, Layout::Rgba, Layout::Gray, Layout::GrayAlpha]
        }
        "1" | "L" | "I;16" if trns => vec![Layout::Gray, Layout::GrayAlpha],
        "1" | "L" | "I;16" => vec![Layout::Gray],
        "LA" => vec![Layout::GrayAlpha],
        "RGB" if trns => vec![Layout::Rgb, Layout::Rgba],
        "RGB" => vec![Layout::Rgb],
        // Pillow shows 16-bit gray+alpha PNGs as RGBA.
        "RGBA" => vec![Layout::Rgba, Layout::GrayAlpha],
        "P" => vec![Layout::Rgb, Layout::Rgba],
        "CMYK" => vec![Layout::Cmyk],
        other => panic!("{}: unknown mode {other:?}", row.file),
    };
    Expect::Decodes {
        width,
        height,
        layouts,
    }
}

#[test]
fn every_manifest_file_gives_its_documented_outcome() {
    let limits = Limits::default();
    let mut failures = Vec::new();
    let rows = manifest();
    assert!(rows.len() > 50, "manifest has {} rows", rows.len());
    for row in &rows {
        let bytes = read(&row.file);
        let expect = expectation(row);
        let result = decode(&bytes, &limits, None);
        match (&expect, result) {
            (
                Expect::Decodes {
                    width,
                    height,
                    layouts,
                },
                Ok(d),
            ) => {
                let r = &d.raster;
                if (d.source_width, d.source_height) != (*width, *height)
                    || (r.width, r.height) != (*width, *height)
                    || !layouts.contains(&r.layout)
                {
                    failures.push(format!(
                        "{}: got {}x{} {:?}, want {width}x{height} {layouts:?}",
                        row.file, r.width, r.height, r.layout
                    ));
                    continue;
                }
                let header = read_header(&bytes, &limits).expect("header of a decodable file");
                assert_eq!(
                    (header.width, header.height),
                    (*width, *height),
                    "{}",
                    row.file
                );
                // The rest of the input half: colour, then orientation.
                let icc = d.icc.clone();
                let srgb = colour::to_srgb(d.raster, icc.as_deref()).expect("to_srgb");
                let want_layout = if srgb.layout.has_alpha() {
                    Layout::Rgba
                } else {
                    Layout::Rgb
                };
                let upright = orient::apply(srgb, d.orientation);
                let want = orient::oriented_size(*width, *height, d.orientation);
                if upright.layout != want_layout || (upright.width, upright.height) != want {
                    failures.push(format!(
                        "{}: after colour+orient {:?}",
                        row.file, upright.layout
                    ));
                }
            }
            (Expect::Decodes { .. }, Err(e)) => failures.push(format!("{}: {e}", row.file)),
            (
                Expect::Fails {
                    partial_ok: true, ..
                },
                Ok(_),
            ) => {}
            (Expect::Fails { status, .. }, Ok(d)) => failures.push(format!(
                "{}: decoded {}x{}, want {status}",
                row.file, d.raster.width, d.raster.height
            )),
            (Expect::Fails { status, .. }, Err(e)) => {
                if e.status() != *status {
                    failures.push(format!("{}: {e}, want {status}", row.file));
                }
                // The header check alone must already refuse bombs and non-images.
                if *status != 422 {
                    let header = read_header(&bytes, &limits);
                    if !matches!(&header, Err(h) if h.status() == *status) {
                        failures.push(format!("{}: read_header gave {header:?}", row.file));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn empty_input_is_corrupt() {
    let e = decode(&[], &Limits::default(), None).unwrap_err();
    assert_eq!((e.status(), e.message().as_str()), (422, "input is empty"));
    assert_eq!(
        read_header(&[], &Limits::default()).unwrap_err().status(),
        422
    );
}

#[test]
fn formats_are_sniffed_from_bytes_not_names() {
    for (file, format) in [
        ("photos/hato.jpg", SourceFormat::Jpeg),
        ("formats/weld_16bit.png", SourceFormat::Png),
        ("formats/star.gif", SourceFormat::Gif),
        ("formats/lossy_alpha1.webp", SourceFormat::Webp),
        ("formats/hato.profile0.8bpc.yuv420.avif", SourceFormat::Avif),
    ] {
        assert_eq!(
            edge_core::sniff::sniff(&read(file)).unwrap(),
            format,
            "{file}"
        );
    }
    let svg = edge_core::sniff::sniff(&read("formats/circle.svg")).unwrap_err();
    assert!(svg.message().contains("SVG"), "{svg}");
    let text = edge_core::sniff::sniff(&read("formats/not_an_image.jpg")).unwrap_err();
    assert!(text.message().contains("not an image"), "{text}");
}

// ---------------------------------------------------------------------------------
// Orientation

fn mean_abs_diff(a: &Raster, b: &Raster) -> f64 {
    assert_eq!((a.width, a.height, a.layout), (b.width, b.height, b.layout));
    let sum: u64 = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| x.abs_diff(*y) as u64)
        .sum();
    sum as f64 / a.data.len() as f64
}

#[test]
fn exif_orientations_2_to_8_match_orientation_1() {
    // Decode at 1/4 scale (shrink-on-load) to keep the test quick: 450x300 upright.
    let quarter = |file: &str| {
        let bytes = read(file);
        let h = read_header(&bytes, &Limits::default()).unwrap();
        let d = decode(
            &bytes,
            &Limits::default(),
            Some((h.width / 4, h.height / 4)),
        )
        .unwrap();
        assert_eq!(
            (d.raster.width * 4, d.raster.height * 4),
            (h.width, h.height),
            "{file}"
        );
        d
    };
    let reference = quarter("exif-orientation/Landscape_1.jpg");
    assert_eq!(reference.orientation, 1);
    let reference = reference.raster;
    assert_eq!(
        quarter("exif-orientation/Landscape_0.jpg").orientation,
        1,
        "0 means 1"
    );
    for n in 2..=8u8 {
        let d = quarter(&format!("exif-orientation/Landscape_{n}.jpg"));
        assert_eq!(d.orientation, n);
        let upright = orient::apply(d.raster.clone(), n);
        assert_eq!((upright.width, upright.height), (450, 300));
        // Each file carries its own digit in the middle and its own JPEG noise, so
        // "the same picture" is a small mean difference ...
        let diff = mean_abs_diff(&upright, &reference);
        assert!(diff < 3.0, "orientation {n}: mean difference {diff:.2}");
        // ... while the same raster with a wrong orientation applied differs a lot
        // (so the check above can fail).
        let wrong_orientation = [0, 0, 3, 2, 2, 7, 8, 5, 6][n as usize];
        let wrong = orient::apply(d.raster, wrong_orientation);
        let wrong_diff = mean_abs_diff(&wrong, &reference);
        assert!(
            wrong_diff > 10.0 * diff,
            "orientation {n}: wrong one differs by {wrong_diff:.2}"
        );
    }
}

#[test]
fn oriented_jpeg_reports_its_tag() {
    let d = decode_file("photos/dog_exif_extended_xmp_icc.jpg", Some((300, 300)));
    assert_eq!(d.orientation, 6);
    assert_eq!((d.source_width, d.source_height), (4032, 3024));
    assert_eq!(
        orient::oriented_size(d.raster.width, d.raster.height, 6),
        (756, 1008)
    );
    // Malformed EXIF must not fail the image.
    assert_eq!(decode_file("edge/tall_49x500.jpg", None).orientation, 1);
}

// ---------------------------------------------------------------------------------
// Shrink-on-load and limits

fn mean_rgb(r: &Raster, x0: u32, y0: u32, x1: u32, y1: u32) -> [f64; 3] {
    let ch = r.layout.channels();
    let mut sum = [0f64; 3];
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * r.width + x) as usize * ch;
            for (c, s) in sum.iter_mut().enumerate() {
                *s += r.data[i + c.min(ch - 1)] as f64;
            }
        }
    }
    let n = ((x1 - x0) * (y1 - y0)) as f64;
    sum.map(|s| s / n)
}

fn whole(r: &Raster) -> [f64; 3] {
    mean_rgb(r, 0, 0, r.width, r.height)
}

#[test]
fn jpeg_shrinks_on_load_but_never_below_min_size() {
    let full = decode_file("photos/hato.jpg", None);
    assert_eq!((full.raster.width, full.raster.height), (3082, 2048));
    let full_mean = whole(&full.raster);
    for (min, want) in [
        ((3082, 2048), (3082, 2048)),
        ((1600, 10), (3082, 2048)),
        ((1541, 1024), (1541, 1024)),
        ((600, 600), (1541, 1024)),
        ((600, 500), (771, 512)),
        // 1/8 only when it leaves 2x for the resize (DC-only is an 8x8 box filter).
        ((386, 1), (771, 512)),
        ((150, 100), (386, 256)),
        ((1, 1), (386, 256)),
    ] {
        let d = decode_file("photos/hato.jpg", Some(min));
        assert_eq!((d.raster.width, d.raster.height), want, "min {min:?}");
        assert_eq!((d.source_width, d.source_height), (3082, 2048));
        let mean = whole(&d.raster);
        for c in 0..3 {
            assert!(
                (mean[c] - full_mean[c]).abs() < 1.5,
                "{min:?}: {mean:?} vs {full_mean:?}"
            );
        }
    }
    // Progressive and grayscale JPEGs scale too.
    let p = decode_file("photos/GreenMeadow_progressive.jpg", Some((160, 128)));
    assert_eq!((p.raster.width, p.raster.height), (320, 256));
    let g = decode_file("photos/concert_grayscale.jpg", Some((100, 60)));
    assert_eq!(
        (g.raster.width, g.raster.height, g.raster.layout),
        (100, 67, Layout::Gray)
    );
    // Other formats ignore the hint.
    let w = decode_file("formats/lossy_alpha1.webp", Some((10, 10)));
    assert_eq!((w.raster.width, w.raster.height), (1000, 307));
}

#[test]
fn limits_apply_before_decoding() {
    let hato = read("photos/hato.jpg");
    let over = |limits: Limits, min: Option<(u32, u32)>| {
        let e = decode(&hato, &limits, min).unwrap_err();
        assert_eq!(e.code(), "limit_exceeded", "{e}");
    };
    over(
        Limits {
            max_input_bytes: 800_000,
            ..Limits::default()
        },
        None,
    );
    over(
        Limits {
            max_input_pixels: 6_000_000,
            ..Limits::default()
        },
        None,
    );
    // Full-size decode needs ~19 MB (RGB out + planes); 1/8 only a fraction of that.
    let tight = Limits {
        max_decode_bytes: 4_000_000,
        ..Limits::default()
    };
    over(tight.clone(), None);
    let small = decode(&hato, &tight, Some((150, 100))).expect("1/8 fits the memory limit");
    assert_eq!(small.raster.width, 386);
    assert!(
        read_header(&hato, &tight).is_ok(),
        "read_header allows what shrink-on-load can do"
    );
    let png = read("formats/weld_16bit.png");
    let e = decode(
        &png,
        &Limits {
            max_decode_bytes: 1_000_000,
            ..Limits::default()
        },
        None,
    );
    assert_eq!(e.unwrap_err().status(), 413);
}

// ---------------------------------------------------------------------------------
// Colour

fn chroma(rgb: [f64; 3]) -> f64 {
    rgb.iter().cloned().fold(f64::MIN, f64::max) - rgb.iter().cloned().fold(f64::MAX, f64::min)
}

/// Mean per-pixel chroma (max - min channel) of an RGB raster.
fn mean_chroma(r: &Raster) -> f64 {
    let ch = r.layout.channels();
    let sum: u64 = r
        .data
        .chunks_exact(ch)
        .map(|p| (p[0].max(p[1]).max(p[2]) - p[0].min(p[1]).min(p[2])) as u64)
        .sum();
    sum as f64 / (r.data.len() / ch) as f64
}

#[test]
fn cmyk_jpeg_converts_through_its_profile_to_natural_colours() {
    let d = decode_file("photos/Channel_digital_image_CMYK_color.jpg", None);
    assert_eq!(d.raster.layout, Layout::Cmyk);
    // Plain CMYK (0 = no ink): the light pavement bottom right carries little ink.
    let ink = {
        let r = &d.raster;
        let mut k = [0f64; 4];
        for y in 240..320 {
            for x in 400..490 {
                let i = (y * r.width + x) as usize * 4;
                for (c, s) in k.iter_mut().enumerate() {
                    *s += r.data[i + c] as f64 / (90.0 * 80.0);
                }
            }
        }
        k
    };
    assert!(
        ink.iter().all(|&v| v < 100.0),
        "pavement ink {ink:?}: inverted CMYK?"
    );

    let icc = d.icc.as_deref().expect("SWOP profile");
    let rgb = colour::to_srgb(d.raster.clone(), Some(icc)).unwrap();
    assert_eq!(rgb.layout, Layout::Rgb);
    // Reference values read from the converted image and checked by eye: grey
    // pavement, green grass, natural overall balance.
    let pavement = mean_rgb(&rgb, 400, 240, 490, 320);
    assert!(
        chroma(pavement) < 8.0 && (165.0..200.0).contains(&pavement[1]),
        "{pavement:?}"
    );
    let grass = mean_rgb(&rgb, 10, 200, 140, 260);
    assert!(
        grass[1] > grass[0] + 15.0 && grass[1] > grass[2] + 40.0,
        "{grass:?}"
    );
    let overall = whole(&rgb);
    for (got, want) in overall.iter().zip([121.0, 126.0, 115.0]) {
        assert!((got - want).abs() < 8.0, "overall {overall:?}");
    }
    // Without the profile the naive formula gives the pavement a cyan cast: the
    // checks above tell the two apart.
    let naive = colour::to_srgb(d.raster, None).unwrap();
    assert!(chroma(mean_rgb(&naive, 400, 240, 490, 320)) > 12.0);
}

#[test]
fn wide_gamut_jpegs_become_more_saturated_in_srgb() {
    for file in [
        "photos/xmp_test_adobergb.jpg",
        "photos/apple_gainmap_displayp3.jpg",
    ] {
        let d = decode_file(file, Some((300, 300)));
        let icc = d.icc.as_deref().unwrap_or_else(|| panic!("{file}: no ICC"));
        let raw = colour::to_srgb(d.raster.clone(), None).unwrap();
        let managed = colour::to_srgb(d.raster, Some(icc)).unwrap();
        let (before, after) = (mean_chroma(&raw), mean_chroma(&managed));
        // The same numbers mean more saturated colours in Adobe RGB / Display P3,
        // so the sRGB version has more chroma; neutrals stay where they were.
        assert!(
            after > before * 1.05,
            "{file}: chroma {before:.2} -> {after:.2}"
        );
        let (m0, m1) = (whole(&raw), whole(&managed));
        for c in 0..3 {
            assert!(
                (m0[c] - m1[c]).abs() < 12.0,
                "{file}: mean {m0:?} -> {m1:?}"
            );
        }
    }
}

#[test]
fn gray_jpeg_with_gray_profile_becomes_neutral_rgb() {
    let d = decode_file("photos/concert_grayscale.jpg", None);
    assert_eq!(d.raster.layout, Layout::Gray);
    let gray_mean =
        d.raster.data.iter().map(|&v| v as f64).sum::<f64>() / d.raster.data.len() as f64;
    let rgb = colour::to_srgb(d.raster, d.icc.as_deref()).unwrap();
    assert_eq!(rgb.layout, Layout::Rgb);
    assert!(rgb
        .data
        .chunks_exact(3)
        .all(|p| p[0] == p[1] && p[1] == p[2]));
    let m = whole(&rgb)[0];
    assert!(
        (m - gray_mean).abs() < 6.0,
        "gamma 2.2 → sRGB moved the mean {gray_mean:.1} → {m:.1}"
    );
}

#[test]
fn srgb_profile_is_a_no_op() {
    let d = decode_file("photos/dog_exif_extended_xmp_icc.jpg", Some((500, 400)));
    let icc = d.icc.clone().expect("sRGB profile");
    let out = colour::to_srgb(d.raster.clone(), Some(&icc)).unwrap();
    assert_eq!(out, d.raster);
}

// ---------------------------------------------------------------------------------
// Robustness: cut and damaged copies of valid files never panic and give 4xx.

static PANICS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn damaged_inputs_never_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
    let files = [
        "photos/progressive_3.jpg",
        "edge/jfif_unit_cm_1x1.jpg",
        "pngsuite/basi6a16.png",
        "pngsuite/tbbn3p08.png",
        "formats/star.gif",
        "formats/lossy_alpha1.webp",
        "formats/rotating-squares.webp",
        "formats/lossless_color_transform.webp",
        "formats/17000x17000.avif",
    ];
    let limits = Limits::default();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for file in files {
        let bytes = read(file);
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for i in 1..24 {
            inputs.push(bytes[..bytes.len() * i / 24].to_vec());
        }
        for _ in 0..24 {
            let mut v = bytes.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() % v.len() as u64) as usize;
                v[at] = next() as u8;
            }
            inputs.push(v);
        }
        for input in inputs {
            if let Err(e) = decode(&input, &limits, None) {
                assert!((400..500).contains(&e.status()), "{file}: {e}");
            }
        }
    }
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a decoder panicked");
}
