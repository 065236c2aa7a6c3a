//! AVIF input over the shared corpus: sizes, layouts, orientation, alpha, ICC, the
//! pixel-limit bomb, and damaged files (always a clean 4xx, never a panic).
#![cfg(feature = "codecs")]

use std::time::Instant;

use edge_core::decode::avif::{decode_avif, read_avif_header, AvifImage};
use edge_core::raster::{Layout, Raster};
use edge_core::{colour, orient, Limits};

mod common;

use common::read;

fn decode_file(file: &str) -> AvifImage {
    decode_avif(&read(file), &Limits::default()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Mean of each channel over a rectangle.
fn mean(r: &Raster, x0: u32, y0: u32, w: u32, h: u32) -> Vec<f64> {
    let ch = r.layout.channels();
    let mut sums = vec![0f64; ch];
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            let i = (y as usize * r.width as usize + x as usize) * ch;
            for (c, s) in sums.iter_mut().enumerate() {
                *s += r.data[i + c] as f64;
            }
        }
    }
    sums.iter().map(|s| s / (w * h) as f64).collect()
}

#[test]
fn photo_matches_its_jpeg() {
    let avif = decode_file("formats/hato.profile0.8bpc.yuv420.avif");
    assert_eq!(
        (avif.raster.width, avif.raster.height, avif.raster.layout),
        (3082, 2048, Layout::Rgb)
    );
    assert_eq!((avif.orientation, avif.icc.as_ref()), (1, None));
    // The same photo as a JPEG: a wrong matrix, range or chroma placement shows up as
    // a large mean difference; compression differences stay small.
    let jpeg = edge_core::decode::decode(&read("photos/hato.jpg"), &Limits::default(), None)
        .expect("hato.jpg");
    assert_eq!(jpeg.raster.layout, Layout::Rgb);
    assert_eq!(
        (jpeg.raster.width, jpeg.raster.height),
        (avif.raster.width, avif.raster.height)
    );
    let total: u64 = avif
        .raster
        .data
        .iter()
        .zip(&jpeg.raster.data)
        .map(|(&a, &b)| (a as i32 - b as i32).unsigned_abs() as u64)
        .sum();
    let mean_diff = total as f64 / avif.raster.data.len() as f64;
    assert!(
        mean_diff < 4.0,
        "mean difference to the JPEG is {mean_diff}"
    );
    // And per channel the averages agree closely (catches a swapped R/B).
    let (a, j) = (
        mean(&avif.raster, 0, 0, 3082, 2048),
        mean(&jpeg.raster, 0, 0, 3082, 2048),
    );
    for c in 0..3 {
        assert!((a[c] - j[c]).abs() < 2.0, "channel {c}: {a:?} vs {j:?}");
    }
}

#[test]
fn irot_becomes_an_orientation() {
    let img = decode_file("formats/kimono.rotate90.avif");
    assert_eq!((img.raster.width, img.raster.height), (1024, 722));
    // irot 3 = 270 degrees anti-clockwise = EXIF 6.
    assert_eq!(img.orientation, 6);
    let upright = orient::apply(img.raster, img.orientation);
    assert_eq!((upright.width, upright.height), (722, 1024));
}

#[test]
fn alpha_plane_is_decoded() {
    let img = decode_file("formats/bbb_alpha_inverted.avif");
    let r = &img.raster;
    assert_eq!((r.width, r.height, r.layout), (3840, 2160, Layout::Rgba));
    let alphas: Vec<u8> = r.data.chunks_exact(4).map(|p| p[3]).collect();
    // "Inverted": an opaque frame with half-transparent lettering in the middle.
    let opaque = alphas.iter().filter(|&&a| a >= 250).count();
    let translucent = alphas.iter().filter(|&&a| (64..200).contains(&a)).count();
    assert!(opaque > alphas.len() / 2, "opaque: {opaque}");
    assert!(
        translucent > alphas.len() / 20,
        "translucent: {translucent}"
    );
    assert!(alphas[0] >= 250 && alphas[alphas.len() - 1] >= 250);
}

#[test]
fn icc_profile_is_returned_and_applies() {
    let img = decode_file("formats/red-at-12-oclock-with-color-profile-8bpc.avif");
    assert_eq!((img.raster.width, img.raster.height), (800, 800));
    let icc = img.icc.clone().expect("ICC profile");
    assert_eq!(&icc[36..40], b"acsp", "an ICC profile header");
    // The profile spins hues: only after applying it is 12 o'clock red.
    let raw = mean(&img.raster, 360, 40, 80, 80);
    let srgb = colour::to_srgb(img.raster, Some(&icc)).expect("colour");
    let top = mean(&srgb, 360, 40, 80, 80);
    assert!(
        top[0] > 150.0 && top[1] < 60.0 && top[0] > 2.0 * top[2],
        "top centre should be red, got {top:?} (before the profile {raw:?})"
    );
}

#[test]
fn single_white_pixel() {
    let img = decode_file("edge/white_1x1.avif");
    assert_eq!((img.raster.width, img.raster.height), (1, 1));
    assert!(
        img.raster.data.iter().all(|&v| v >= 250),
        "{:?}",
        img.raster.data
    );
}

#[test]
fn wide_gamut_nclx_gets_a_profile() {
    // white_1x1 with its nclx primaries changed from BT.709 (1) to Display P3 (12).
    let mut bytes = read("edge/white_1x1.avif");
    let at = bytes
        .windows(8)
        .position(|w| w == b"nclx\0\x01\0\x0d")
        .expect("nclx box");
    assert!(decode_avif(&bytes, &Limits::default())
        .unwrap()
        .icc
        .is_none());
    bytes[at + 5] = 12;
    let img = decode_avif(&bytes, &Limits::default()).unwrap();
    let icc = img.icc.expect("a profile for Display P3");
    let white = colour::to_srgb(img.raster, Some(&icc)).unwrap();
    assert!(white.data.iter().all(|&v| v >= 250), "{:?}", white.data);
    // A P3 green is more saturated than sRGB can show: red drops to 0.
    let green = Raster::new(1, 1, Layout::Rgb, vec![60, 200, 60]);
    let srgb = colour::to_srgb(green, Some(&icc)).unwrap();
    assert!(srgb.data[0] < 30 && srgb.data[1] > 200, "{:?}", srgb.data);
}

#[test]
fn sequence_gives_its_first_frame() {
    let bytes = read("formats/star-8bpc.avifs");
    assert_eq!(read_avif_header(&bytes).unwrap(), (159, 159));
    match decode_avif(&bytes, &Limits::default()) {
        Ok(img) => assert_eq!((img.raster.width, img.raster.height), (159, 159)),
        Err(e) => assert_eq!(e.status(), 415, "{e}"),
    }
}

#[test]
fn pixel_bomb_is_refused_from_the_header() {
    let bytes = read("formats/17000x17000.avif");
    assert_eq!(read_avif_header(&bytes).unwrap(), (17000, 17000));
    let start = Instant::now();
    let e = decode_avif(&bytes, &Limits::default()).unwrap_err();
    assert_eq!((e.status(), e.code()), (413, "limit_exceeded"), "{e}");
    assert!(start.elapsed().as_millis() < 500, "{:?}", start.elapsed());
    // A memory limit is enforced before decoding too.
    let tight = Limits {
        max_decode_bytes: 1_000_000,
        ..Limits::default()
    };
    let e = decode_avif(&read("formats/kimono.rotate90.avif"), &tight).unwrap_err();
    assert_eq!(e.status(), 413, "{e}");
}

#[test]
fn round_trip_through_our_encoder() {
    // A gradient with a varying alpha, through the pipeline's own AVIF encoder.
    let (w, h) = (64u32, 48u32);
    let mut data = Vec::new();
    for y in 0..h {
        for x in 0..w {
            data.extend_from_slice(&[(x * 4) as u8, (y * 5) as u8, 200, (x * 2 + y) as u8 + 60]);
        }
    }
    let source = Raster::new(w, h, Layout::Rgba, data);
    let bytes = edge_core::encode::avif::encode(&source, 95).expect("encode");
    let img = decode_avif(&bytes, &Limits::default()).expect("decode");
    assert_eq!(
        (img.raster.width, img.raster.height, img.raster.layout),
        (w, h, Layout::Rgba)
    );
    let worst = source
        .data
        .iter()
        .zip(&img.raster.data)
        .map(|(&a, &b)| (a as i32 - b as i32).abs())
        .max()
        .unwrap();
    assert!(worst <= 24, "largest channel error {worst}");

    let gray = Raster::new(
        w,
        h,
        Layout::Gray,
        (0..w * h).map(|i| (i % 251) as u8).collect(),
    );
    let bytes = edge_core::encode::avif::encode(&gray, 95).expect("encode gray");
    let img = decode_avif(&bytes, &Limits::default()).expect("decode gray");
    assert_eq!(
        img.raster.data.len(),
        (w * h) as usize * img.raster.layout.channels()
    );
}

// ---------------------------------------------------------------------------------
// A grid image assembled here from tiles our encoder makes: exercises `grid`,
// `dimg`, partial edge tiles, and transformative properties on a real decode.

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

fn full_bx(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    let mut b = vec![version, 0, 0, 0];
    b.extend_from_slice(body);
    bx(kind, &b)
}

/// The AV1 data and the av1C box of a single-item AVIF from our encoder.
fn av1_of(avif: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let find = |kind: &[u8]| avif.windows(4).position(|w| w == kind).expect("box") - 4;
    let size = |at: usize| u32::from_be_bytes(avif[at..at + 4].try_into().unwrap()) as usize;
    let mdat = find(b"mdat");
    let av1c = find(b"av1C");
    (
        avif[mdat + 8..mdat + size(mdat)].to_vec(),
        avif[av1c..av1c + size(av1c)].to_vec(),
    )
}

/// A 2x2 grid of solid 32x24 tiles shown as `width`x`height`, with `extra`
/// properties (full boxes) associated to the grid item in order.
fn grid_avif(colours: [[u8; 3]; 4], width: u16, height: u16, extra: &[Vec<u8>]) -> Vec<u8> {
    let tiles: Vec<(Vec<u8>, Vec<u8>)> = colours
        .iter()
        .map(|c| {
            let raster = Raster::new(32, 24, Layout::Rgb, c.repeat(32 * 24));
            av1_of(&edge_core::encode::avif::encode(&raster, 90).expect("encode tile"))
        })
        .collect();
    let mut grid_data = vec![0, 0, 1, 1];
    grid_data.extend_from_slice(&width.to_be_bytes());
    grid_data.extend_from_slice(&height.to_be_bytes());
    let mut payloads = vec![grid_data];
    payloads.extend(tiles.iter().map(|t| t.0.clone()));

    let meta = |data_start: u32| -> Vec<u8> {
        let mut hdlr = vec![0; 4];
        hdlr.extend_from_slice(b"pict");
        hdlr.extend_from_slice(&[0; 13]);
        let mut iinf = 5u16.to_be_bytes().to_vec();
        for id in 1..=5u16 {
            let mut infe = id.to_be_bytes().to_vec();
            infe.extend_from_slice(&[0, 0]);
            infe.extend_from_slice(if id == 1 { b"grid" } else { b"av01" });
            infe.push(0);
            iinf.extend(full_bx(b"infe", 2, &infe));
        }
        let mut iloc = vec![0x44, 0x00];
        iloc.extend_from_slice(&5u16.to_be_bytes());
        let mut offset = data_start;
        for (i, p) in payloads.iter().enumerate() {
            iloc.extend_from_slice(&(i as u16 + 1).to_be_bytes());
            iloc.extend_from_slice(&[0, 0, 0, 1]);
            iloc.extend_from_slice(&offset.to_be_bytes());
            iloc.extend_from_slice(&(p.len() as u32).to_be_bytes());
            offset += p.len() as u32;
        }
        let mut dimg = vec![0, 1, 0, 4];
        for id in 2..=5u16 {
            dimg.extend_from_slice(&id.to_be_bytes());
        }
        let ispe = |w: u32, h: u32| {
            let mut b = w.to_be_bytes().to_vec();
            b.extend_from_slice(&h.to_be_bytes());
            full_bx(b"ispe", 0, &b)
        };
        let mut ipco = ispe(width as u32, height as u32);
        ipco.extend(ispe(32, 24));
        ipco.extend(tiles[0].1.clone());
        for e in extra {
            ipco.extend_from_slice(e);
        }
        let mut ipma = 5u32.to_be_bytes().to_vec();
        ipma.extend_from_slice(&[0, 1, 1 + extra.len() as u8, 1]);
        ipma.extend((0..extra.len() as u8).map(|i| 0x80 | (4 + i)));
        for id in 2..=5u16 {
            ipma.extend_from_slice(&id.to_be_bytes());
            ipma.extend_from_slice(&[2, 2, 0x83]);
        }
        let mut iprp = bx(b"ipco", &ipco);
        iprp.extend(full_bx(b"ipma", 0, &ipma));
        let mut body = full_bx(b"hdlr", 0, &hdlr);
        body.extend(full_bx(b"pitm", 0, &1u16.to_be_bytes()));
        body.extend(full_bx(b"iinf", 0, &iinf));
        body.extend(full_bx(b"iloc", 0, &iloc));
        body.extend(full_bx(b"iref", 0, &bx(b"dimg", &dimg)));
        body.extend(bx(b"iprp", &iprp));
        full_bx(b"meta", 0, &body)
    };
    let mut file = bx(b"ftyp", b"avif\0\0\0\0avifmif1miaf");
    let header = file.len() + meta(0).len() + 8;
    file.extend(meta(header as u32));
    file.extend(bx(b"mdat", &payloads.concat()));
    file
}

fn pixel(r: &Raster, x: u32, y: u32) -> Vec<u8> {
    let ch = r.layout.channels();
    let i = (y as usize * r.width as usize + x as usize) * ch;
    r.data[i..i + ch].to_vec()
}

fn near(a: &[u8], b: [u8; 3]) -> bool {
    a.iter()
        .zip(b)
        .all(|(&a, b)| (a as i32 - b as i32).abs() <= 12)
}

const COLOURS: [[u8; 3]; 4] = [[220, 30, 30], [30, 200, 40], [40, 40, 210], [230, 220, 40]];

#[test]
fn grid_tiles_are_assembled() {
    let img = decode_avif(&grid_avif(COLOURS, 60, 40, &[]), &Limits::default()).expect("grid");
    let r = &img.raster;
    assert_eq!(
        (r.width, r.height, r.layout, img.orientation),
        (60, 40, Layout::Rgb, 1)
    );
    for (i, (x, y)) in [(5, 5), (50, 5), (5, 35), (50, 35)].into_iter().enumerate() {
        let p = pixel(r, x, y);
        assert!(near(&p, COLOURS[i]), "tile {i} at ({x}, {y}): {p:?}");
    }
    // A grid larger than its tiles cover, or one that leaves a whole tile
    // column outside, is corrupt.
    for (w, h) in [(65, 40), (32, 40)] {
        let e = decode_avif(&grid_avif(COLOURS, w, h, &[]), &Limits::default()).unwrap_err();
        assert_eq!(e.status(), 422, "{w}x{h}: {e}");
    }
}

#[test]
fn transforms_and_clean_aperture_on_a_grid() {
    let irot = |turns: u8| bx(b"irot", &[turns]);
    let imir = |axis: u8| bx(b"imir", &[axis]);
    let cases: [(Vec<Vec<u8>>, u8); 4] = [
        (vec![irot(1)], 8),
        (vec![imir(0)], 4),
        (vec![irot(1), imir(1)], 7),
        (vec![imir(1), irot(1)], 5),
    ];
    for (props, orientation) in cases {
        let img = decode_avif(&grid_avif(COLOURS, 60, 40, &props), &Limits::default()).unwrap();
        assert_eq!(img.orientation, orientation);
        assert_eq!((img.raster.width, img.raster.height), (60, 40));
    }
    // Clean aperture: 20x10 centred on the middle of the top half (offset -10 px
    // vertically), which straddles the first two tiles.
    let mut clap = Vec::new();
    for v in [20i32, 1, 10, 1, 0, 1, -10, 1] {
        clap.extend_from_slice(&v.to_be_bytes());
    }
    let img = decode_avif(
        &grid_avif(COLOURS, 60, 40, &[bx(b"clap", &clap)]),
        &Limits::default(),
    )
    .unwrap();
    let r = &img.raster;
    assert_eq!((r.width, r.height), (20, 10));
    // Left 20..30 of the image is tile 0 up to x=32: the crop's x 0..12.
    assert!(near(&pixel(r, 2, 5), COLOURS[0]), "{:?}", pixel(r, 2, 5));
    assert!(near(&pixel(r, 17, 5), COLOURS[1]), "{:?}", pixel(r, 17, 5));
}

const FILES: [&str; 6] = [
    "formats/hato.profile0.8bpc.yuv420.avif",
    "formats/kimono.rotate90.avif",
    "formats/bbb_alpha_inverted.avif",
    "formats/red-at-12-oclock-with-color-profile-8bpc.avif",
    "edge/white_1x1.avif",
    "formats/star-8bpc.avifs",
];

#[test]
fn truncated_files_are_corrupt() {
    for file in FILES {
        let bytes = read(file);
        // A quarter in is past the header and inside the first image's data, so
        // its extent runs past the end.
        let cut = &bytes[..bytes.len() / 4];
        let e = decode_avif(cut, &Limits::default()).unwrap_err();
        assert_eq!(e.status(), 422, "{file}: {e}");
    }
}

/// Byte-flip rounds per file: fewer for the multi-megapixel ones (each round is a
/// full decode).
fn rounds(file: &str) -> u32 {
    if file.contains("hato") || file.contains("bbb") {
        4
    } else {
        50
    }
}

#[test]
fn damaged_files_never_panic() {
    let limits = Limits::default();
    for file in FILES {
        let bytes = read(file);
        // Every prefix length around the header, and a spread of longer ones.
        let mut lengths: Vec<usize> = (0..bytes.len().min(1200)).step_by(7).collect();
        lengths.extend((1..20).map(|i| bytes.len() * i / 20));
        for n in lengths {
            if let Err(e) = decode_avif(&bytes[..n], &limits) {
                assert!((400..500).contains(&e.status()), "{file}[..{n}]: {e}");
            }
        }
        // Flipped bytes in the header and in the coded data.
        let mut seed = 0x9E37_79B9u32;
        for round in 0..rounds(file) {
            let mut damaged = bytes.clone();
            for _ in 0..1 + round % 4 {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let at = if round % 2 == 0 {
                    seed as usize % damaged.len().min(600)
                } else {
                    seed as usize % damaged.len()
                };
                damaged[at] ^= (seed >> 24) as u8 | 1;
            }
            match decode_avif(&damaged, &limits) {
                Ok(img) => {
                    let r = &img.raster;
                    assert_eq!(
                        r.data.len(),
                        r.width as usize * r.height as usize * r.layout.channels()
                    );
                }
                Err(e) => assert!(
                    (400..500).contains(&e.status()),
                    "{file} round {round}: {e}"
                ),
            }
        }
    }
}

#[test]
fn not_avif_at_all() {
    for junk in [&b""[..], b"hello", b"\0\0\0\x14ftypavif\0\0\0\0avif"] {
        let e = decode_avif(junk, &Limits::default()).unwrap_err();
        assert!((400..500).contains(&e.status()), "{e}");
        assert!(read_avif_header(junk).is_err());
    }
}
