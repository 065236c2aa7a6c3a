//! The issue-12 steps through `pipeline::transform`, against independent references
//! computed here on the decoded pixels.

use edge_core::raster::{Layout, Raster};
use edge_core::types::ops::{Flip, FocalPoint, Focus, Ops, Rect, Rotation, Sigma};
use edge_core::types::Format;
use edge_core::types::{Fit, OutputFormat, Variant};
use edge_core::watermark;
use edge_core::watermarks::WatermarkSpec;
use edge_core::{decode, encode, pipeline, Config};

/// A 60×40 RGB picture where every pixel is distinct enough to track.
fn picture(w: u32, h: u32) -> Raster {
    let data = (0..h)
        .flat_map(|y| (0..w).flat_map(move |x| [(x * 4) as u8, (y * 6) as u8, ((x + y) * 3) as u8]))
        .collect();
    Raster::new(w, h, Layout::Rgb, data)
}

fn png(r: &Raster) -> Vec<u8> {
    encode::png::encode(r).unwrap()
}

fn variant(ops: Ops) -> Variant {
    Variant {
        ops,
        ..Variant::new(OutputFormat::Fixed(Format::Png))
    }
}

fn run(input: &[u8], v: &Variant, cfg: &Config) -> Raster {
    let out = pipeline::transform(input, v, cfg).unwrap();
    decode::decode(&out.bytes, &cfg.limits, None)
        .unwrap()
        .raster
}

fn pixel(r: &Raster, x: u32, y: u32) -> &[u8] {
    let c = r.layout.channels();
    let at = ((y * r.width + x) as usize) * c;
    &r.data[at..at + c]
}

#[test]
fn rect_cuts_the_region_exactly() {
    let img = picture(60, 40);
    let rect = Rect {
        x: 7,
        y: 5,
        width: 20,
        height: 11,
    };
    let out = run(
        &png(&img),
        &variant(Ops {
            rect: Some(rect),
            ..Ops::default()
        }),
        &Config::default(),
    );
    assert_eq!((out.width, out.height), (20, 11));
    for y in 0..11 {
        for x in 0..20 {
            assert_eq!(pixel(&out, x, y), pixel(&img, x + 7, y + 5));
        }
    }
}

#[test]
fn rect_outside_the_image_is_a_400_naming_rect() {
    let img = png(&picture(60, 40));
    for rect in [
        Rect {
            x: 50,
            y: 0,
            width: 11,
            height: 1,
        },
        Rect {
            x: 0,
            y: 40,
            width: 1,
            height: 1,
        },
    ] {
        let v = variant(Ops {
            rect: Some(rect),
            ..Ops::default()
        });
        let e = pipeline::transform(&img, &v, &Config::default()).unwrap_err();
        assert_eq!((e.status(), e.code()), (400, "invalid_parameter"));
        assert!(e.message().starts_with("rect:"), "{}", e.message());
    }
}

#[test]
fn rotate_and_flip_match_naive_references() {
    let img = picture(30, 20);
    let input = png(&img);
    let cfg = Config::default();
    let cw = run(
        &input,
        &variant(Ops {
            rotation: Rotation::Cw90,
            ..Ops::default()
        }),
        &cfg,
    );
    assert_eq!((cw.width, cw.height), (20, 30));
    // 90° clockwise: output (x, y) shows source (y, H-1-x).
    for y in 0..30 {
        for x in 0..20 {
            assert_eq!(pixel(&cw, x, y), pixel(&img, y, 19 - x));
        }
    }
    let fh = run(
        &input,
        &variant(Ops {
            flip: Flip::Horizontal,
            ..Ops::default()
        }),
        &cfg,
    );
    let fv = run(
        &input,
        &variant(Ops {
            flip: Flip::Vertical,
            ..Ops::default()
        }),
        &cfg,
    );
    let r180 = run(
        &input,
        &variant(Ops {
            rotation: Rotation::Cw180,
            ..Ops::default()
        }),
        &cfg,
    );
    for y in 0..20 {
        for x in 0..30 {
            assert_eq!(pixel(&fh, x, y), pixel(&img, 29 - x, y));
            assert_eq!(pixel(&fv, x, y), pixel(&img, x, 19 - y));
            assert_eq!(pixel(&r180, x, y), pixel(&img, 29 - x, 19 - y));
        }
    }
    // w applies to the turned image.
    let v = Variant {
        width: Some(10),
        ..variant(Ops {
            rotation: Rotation::Cw270,
            ..Ops::default()
        })
    };
    let out = run(&input, &v, &cfg);
    assert_eq!((out.width, out.height), (10, 15));
}

#[test]
fn focal_point_cover_matches_a_reference_crop() {
    // 100×50 → cover 50×50 with the point at x = 0.8: window centred on 80, clamped
    // to start at 50 at most; at x = 0.3 it starts at 5.
    let img = picture(100, 50);
    let input = png(&img);
    for (fx, start) in [(0.8, 50u32), (0.3, 5), (0.0, 0)] {
        let point = FocalPoint {
            x: (fx * 1e4) as u16,
            y: 5000,
        };
        let v = Variant {
            width: Some(50),
            height: Some(50),
            fit: Fit::Cover,
            ..variant(Ops {
                focus: Some(Focus::Point(point)),
                ..Ops::default()
            })
        };
        let out = run(&input, &v, &Config::default());
        assert_eq!((out.width, out.height), (50, 50));
        assert_eq!(pixel(&out, 0, 0), pixel(&img, start, 0), "fx {fx}");
        assert_eq!(pixel(&out, 49, 49), pixel(&img, start + 49, 49), "fx {fx}");
    }
}

#[test]
fn smart_crops_find_the_photo_a_centre_crop_loses() {
    // A busy patch on the far right of a flat gray canvas.
    let (w, h) = (300u32, 100u32);
    let mut data = vec![128u8; (w * h * 3) as usize];
    let mut seed = 7u32;
    for y in 10..90 {
        for x in 220..295 {
            let i = ((y * w + x) * 3) as usize;
            for c in 0..3 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                data[i + c] = (seed >> 24) as u8;
            }
        }
    }
    let input = png(&Raster::new(w, h, Layout::Rgb, data));
    for focus in [Focus::Entropy, Focus::Attention] {
        let v = Variant {
            width: Some(100),
            height: Some(100),
            fit: Fit::Cover,
            ..variant(Ops {
                focus: Some(focus),
                ..Ops::default()
            })
        };
        let out = run(&input, &v, &Config::default());
        // The patch fills x 220..295, so the kept window must be x 195..300: no flat
        // gray column at the right edge, and the window's busy share is high.
        let busy = out
            .data
            .chunks_exact(3)
            .filter(|p| p != &[128, 128, 128])
            .count();
        assert!(busy as f64 > 0.55 * 10_000.0, "{focus:?}: busy {busy}");
    }
}

fn variation(r: &Raster) -> u64 {
    r.data
        .windows(4)
        .map(|w| u64::from(w[0].abs_diff(w[3])))
        .sum()
}

#[test]
fn blur_smooths_and_sharpen_raises_edge_energy() {
    let img = picture(64, 48);
    let input = png(&img);
    let cfg = Config::default();
    let plain = run(&input, &variant(Ops::default()), &cfg);
    let blurred = run(
        &input,
        &variant(Ops {
            blur: Some(Sigma(300)),
            ..Ops::default()
        }),
        &cfg,
    );
    let sharp = run(
        &input,
        &variant(Ops {
            sharpen: Some(Sigma(100)),
            ..Ops::default()
        }),
        &cfg,
    );
    assert!(variation(&blurred) < variation(&plain));
    assert!(variation(&sharp) > variation(&plain));
}

#[test]
fn watermark_changes_only_its_corner() {
    let img = picture(200, 100);
    let input = png(&img);
    let mut cfg = Config::default();
    cfg.watermarks.insert(
        "logo".into(),
        WatermarkSpec {
            key: "marks/logo.png".into(),
            gravity: "southeast".into(),
            margin: 0.05,
            opacity: 0.8,
            width: 0.25,
        },
    );
    let v = variant(Ops {
        watermark: Some("logo".into()),
        ..Ops::default()
    });
    // Not loaded yet: a clear error, never a silent unmarked output.
    let e = pipeline::transform(&input, &v, &cfg).unwrap_err();
    assert!(e.message().contains("not loaded"), "{}", e.message());
    let mark = Raster::new(40, 20, Layout::Rgba, [255, 255, 255, 255].repeat(800));
    watermark::load("logo", "\"e1\"", &png(&mark), &cfg.limits).unwrap();
    let out = run(&input, &v, &cfg);
    let plain = run(&input, &variant(Ops::default()), &cfg);
    // 25% of 200 = 50×25 at margin 10 from the bottom-right corner.
    let mut changed = 0;
    for y in 0..100 {
        for x in 0..200 {
            let inside = (140..190).contains(&x) && (65..90).contains(&y);
            if pixel(&out, x, y) != pixel(&plain, x, y) {
                assert!(inside, "({x},{y}) changed");
                changed += 1;
            }
        }
    }
    assert!(changed > 1000, "{changed}");
    // An unknown name (config changed under a key) is a 400 naming wm.
    let other = variant(Ops {
        watermark: Some("nope".into()),
        ..Ops::default()
    });
    let e = pipeline::transform(&input, &other, &cfg).unwrap_err();
    assert!(e.message().starts_with("wm:"), "{}", e.message());
}

#[test]
fn readme_examples_give_the_documented_derived_keys() {
    use edge_core::request::parse_query;
    use edge_core::{key, plan, Policy};
    // The README shows the key forms without negotiation (as with `fm=source`).
    let policy = Policy {
        auto_format_by_default: false,
        ..Policy::default()
    };
    for (query, want) in [
        (
            "w=400&h=400&fit=cover&pos=entropy",
            "w_400,h_400,fit_cover,pos_entropy",
        ),
        (
            "w=400&h=400&fit=cover&pos=attention",
            "w_400,h_400,fit_cover,pos_attention",
        ),
        (
            "w=400&h=400&fit=cover&pos=0.25x0.6",
            "w_400,h_400,fit_cover,pos_0p25x0p6",
        ),
        ("rect=100,50,800,600&w=400", "w_400,rect_100-50-800-600"),
        ("rot=90&w=400", "w_400,rot_90"),
        ("flip=h", "flip_h"),
        ("w=400&blur=2.5", "w_400,blur_2p5"),
        ("w=400&sharpen=1", "w_400,sharpen_1"),
        ("w=800&wm=logo", "w_800,wm_logo"),
        // A focus only matters to cover: dropped otherwise, like a gravity.
        ("w=400&pos=entropy", "w_400"),
        ("rot=0", "_"),
    ] {
        let v = plan::plan(&parse_query(query).unwrap(), None, &policy).unwrap();
        let derived = key::derive("photos/cat.jpg", &v, &policy).unwrap();
        assert_eq!(
            derived,
            format!("_derived/photos/cat.jpg/{want}.source"),
            "{query}"
        );
        assert_eq!(key::parse(&derived, &policy).unwrap().1, v, "{query}");
    }
    for (query, param) in [
        ("rect=1,2,3", "rect"),
        ("rect=0,0,0,5", "rect"),
        ("rot=45", "rot"),
        ("flip=x", "flip"),
        ("blur=0.2", "blur"),
        ("blur=101", "blur"),
        ("sharpen=11", "sharpen"),
        ("pos=1.5x0", "pos"),
        ("gravity=sideways", "gravity"),
        ("wm=Bad!", "wm"),
    ] {
        let e = parse_query(query).unwrap_err();
        assert_eq!(e.status(), 400, "{query}");
        assert!(
            e.message().starts_with(&format!("{param}:")),
            "{query}: {}",
            e.message()
        );
    }
}
