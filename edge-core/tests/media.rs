//! Animation and SVG through the whole pipeline (`pipeline::transform`): frame counts,
//! sizes, delays and loop counts kept in WebP and GIF, `anim=0`, limits from the
//! header, SVG rasterised at the target size, hostile SVGs refused quickly.

mod common;

use std::time::{Duration, Instant};

use edge_core::config::{Config, Limits};
use edge_core::decode::animation::{self, AnimationInfo};
use edge_core::pipeline::{transform, Output};
use edge_core::plan::{self, Variant};
use edge_core::request::parse_query;
use edge_core::Format;

fn run(input: &[u8], query: &str, accept: Option<&str>) -> edge_core::Result<Output> {
    let cfg = Config::default();
    let params = parse_query(query)?;
    let v: Variant = plan::plan(&params, accept, &cfg.policy)?;
    transform(input, &v, &cfg)
}

fn info(bytes: &[u8]) -> AnimationInfo {
    animation::probe(bytes).unwrap().unwrap()
}

/// Frames of a GIF: (width, height, delay cs) via the `gif` crate's own reader.
fn gif_frames(bytes: &[u8]) -> (u16, u16, usize, Vec<u16>) {
    let mut d = gif::DecodeOptions::new().read_info(bytes).unwrap();
    let mut delays = Vec::new();
    while let Some(f) = d.read_next_frame().unwrap() {
        delays.push(f.delay);
    }
    (d.width(), d.height(), delays.len(), delays)
}

fn webp_frames(bytes: &[u8]) -> (u32, u32, u32, Vec<u32>) {
    let mut d = image_webp::WebPDecoder::new(std::io::Cursor::new(bytes)).unwrap();
    assert!(d.is_animated());
    let (w, h) = d.dimensions();
    let mut buf = vec![0; d.output_buffer_size().unwrap()];
    let delays = (0..d.num_frames())
        .map(|_| d.read_frame(&mut buf).unwrap())
        .collect();
    (w, h, d.num_frames(), delays)
}

#[test]
fn probes_read_frames_canvas_and_loop_without_decoding() {
    let gif = common::read("formats/rotating-squares.gif");
    let i = info(&gif);
    assert_eq!((i.width, i.height, i.frames), (80, 80, 30));
    let webp = common::read("formats/rotating-squares.webp");
    let i = info(&webp);
    assert_eq!((i.width, i.height, i.frames), (80, 80, 9));
    let star = info(&common::read("formats/star.gif"));
    assert_eq!((star.width, star.height, star.frames), (159, 159, 4));
    // A still WebP is one frame.
    let still = info(&common::read("formats/lossy_alpha1.webp"));
    assert_eq!(still.frames, 1);
}

#[test]
fn animated_gif_to_webp_and_gif_keeps_frames_and_delays() {
    let input = common::read("formats/rotating-squares.gif");
    let source = gif_frames(&input);
    let out = run(&input, "w=40&fm=webp", None).unwrap();
    assert_eq!((out.format, out.width, out.height), (Format::Webp, 40, 40));
    let (w, h, n, delays) = webp_frames(&out.bytes);
    assert_eq!((w, h, n as usize), (40, 40, source.2));
    let source_ms: Vec<u32> = source.3.iter().map(|&d| u32::from(d) * 10).collect();
    assert_eq!(delays, source_ms);

    let out = run(&input, "w=40&fm=gif", None).unwrap();
    assert_eq!((out.format, out.width, out.height), (Format::Gif, 40, 40));
    let (w, h, n, delays) = gif_frames(&out.bytes);
    assert_eq!((w, h, n), (40, 40, source.2));
    assert_eq!(delays, source.3);
}

#[test]
fn animated_webp_keeps_frames_in_both_outputs() {
    let input = common::read("formats/rotating-squares.webp");
    let out = run(&input, "w=60&fm=gif", None).unwrap();
    let (w, h, n, _) = gif_frames(&out.bytes);
    assert_eq!((w, h, n), (60, 60, 9));
    // `fm=source` (no fm with `autoFormatByDefault` off): the source format, still animated.
    let out = run(&input, "w=60&fm=source", None).unwrap();
    assert_eq!(out.format, Format::Webp);
    assert_eq!(webp_frames(&out.bytes).2, 9);
}

#[test]
fn transparent_animation_keeps_alpha_and_cover_crops_every_frame() {
    let input = common::read("formats/star.gif");
    let out = run(&input, "w=100&h=50&fit=cover&fm=webp", None).unwrap();
    let (w, h, n, _) = webp_frames(&out.bytes);
    assert_eq!((w, h, n), (100, 50, 4));
    let out = run(&input, "w=100&h=50&fit=contain&fm=gif&bg=00000000", None).unwrap();
    let (w, h, n, _) = gif_frames(&out.bytes);
    assert_eq!((w, h, n), (100, 50, 4));
}

#[test]
fn auto_format_on_an_animation() {
    let input = common::read("formats/rotating-squares.gif");
    let chrome = Some("image/avif,image/webp,*/*");
    let out = run(&input, "w=40&fm=auto", chrome).unwrap();
    assert_eq!(out.format, Format::Webp);
    assert_eq!(webp_frames(&out.bytes).2, 30);
    let webp_only = Some("image/webp,*/*");
    assert_eq!(
        run(&input, "w=40&fm=auto", webp_only).unwrap().format,
        Format::Webp
    );
    let legacy = run(&input, "w=40&fm=auto", Some("*/*")).unwrap();
    assert_eq!(legacy.format, Format::Gif);
    assert_eq!(gif_frames(&legacy.bytes).2, 30);
}

#[test]
fn first_frame_only_with_anim_0_and_for_still_formats() {
    let input = common::read("formats/rotating-squares.gif");
    for (query, format) in [
        ("w=40&fm=webp&anim=0", Format::Webp),
        ("w=40&fm=gif&anim=0", Format::Gif),
        ("w=40&fm=png", Format::Png),
        ("w=40&fm=jpeg", Format::Jpeg),
        ("w=40&fm=source", Format::Png),
    ] {
        let out = run(&input, query, None).unwrap();
        assert_eq!((out.format, out.width), (format, 40), "{query}");
        match format {
            Format::Webp => {
                let d = image_webp::WebPDecoder::new(std::io::Cursor::new(&out.bytes)).unwrap();
                assert!(!d.is_animated(), "{query}");
            }
            Format::Gif => assert_eq!(gif_frames(&out.bytes).2, 1, "{query}"),
            _ => {}
        }
    }
}

#[test]
fn loop_count_is_kept() {
    // rotating-squares loops forever; re-encode with a finite count and back.
    let input = common::read("formats/rotating-squares.gif");
    assert_eq!(info(&input).loop_count, Some(0));
    let webp = run(&input, "w=40&fm=webp", None).unwrap();
    assert_eq!(info(&webp.bytes).loop_count, Some(0));
    let gif = run(&webp.bytes, "w=40&fm=gif", None).unwrap();
    assert_eq!(info(&gif.bytes).loop_count, Some(0));
}

#[test]
fn frame_and_pixel_limits_are_checked_from_the_header() {
    let input = common::read("formats/rotating-squares.gif");
    let i = info(&input);
    let few_frames = Limits {
        max_frames: 29,
        ..Limits::default()
    };
    let e = i.check_limits(&few_frames).unwrap_err();
    assert_eq!(e.status(), 413, "{e}");
    let few_pixels = Limits {
        max_animation_pixels: 30 * 80 * 80 - 1,
        ..Limits::default()
    };
    assert_eq!(i.check_limits(&few_pixels).unwrap_err().status(), 413);
    // Through the pipeline: the same 413, and anim=0 still works (first frame).
    let cfg = Config {
        limits: few_frames,
        ..Config::default()
    };
    let v = plan::plan(&parse_query("fm=webp").unwrap(), None, &cfg.policy).unwrap();
    assert_eq!(
        transform(&input, &v, &cfg).unwrap_err().code(),
        "limit_exceeded"
    );
    let v = plan::plan(&parse_query("fm=webp&anim=0").unwrap(), None, &cfg.policy).unwrap();
    assert!(transform(&input, &v, &cfg).is_ok());
}

/// A GIF whose header declares 5,000 one-pixel frames: refused before decoding.
#[test]
fn frame_bomb_is_refused_fast() {
    let mut gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff".to_vec();
    for _ in 0..5000 {
        gif.extend_from_slice(b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00");
    }
    gif.push(0x3b);
    assert_eq!(info(&gif).frames, 5000);
    let start = Instant::now();
    let e = run(&gif, "fm=gif", None).unwrap_err();
    assert_eq!(e.status(), 413, "{e}");
    assert!(start.elapsed() < Duration::from_secs(1));
}

/// A frame rectangle far larger than the canvas is a decode bomb of its own.
#[test]
fn oversized_frame_rectangle_is_refused() {
    let mut gif = b"GIF89a\x02\x00\x02\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff".to_vec();
    gif.extend_from_slice(b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00");
    gif.extend_from_slice(b"\x2c\x00\x00\x00\x00\xff\xff\xff\xff\x00\x02\x02\x44\x01\x00");
    gif.push(0x3b);
    let e = run(&gif, "fm=gif", None).unwrap_err();
    assert_eq!(e.status(), 413, "{e}");
}

#[test]
fn truncated_animation_keeps_the_frames_it_has() {
    let input = common::read("formats/rotating-squares.gif");
    let cut = &input[..input.len() * 2 / 3];
    let out = run(cut, "w=40&fm=gif", None).unwrap();
    let n = gif_frames(&out.bytes).2;
    assert!((2..30).contains(&n), "{n} frames");
}

// ---------------------------------------------------------------------------------
// SVG.

fn rgba_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
    d.set_transformations(png::Transformations::ALPHA);
    let mut r = d.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    (info.width, info.height, buf)
}

#[test]
fn svg_renders_at_the_target_size_as_png() {
    let input = common::read("formats/circle.svg");
    // 8x8 viewBox rendered at 600: a vector is scaled up, not an upscaled bitmap.
    let out = run(&input, "w=600", None).unwrap();
    assert_eq!((out.format, out.width, out.height), (Format::Png, 600, 600));
    let (_, _, px) = rgba_png(&out.bytes);
    // Inside the circle: opaque; the corner: transparent; the edge is a thin ramp.
    let at = |x: usize, y: usize| px[(y * 600 + x) * 4 + 3];
    assert_eq!(at(300, 300), 255);
    assert_eq!(at(2, 2), 0);
    let ramp = (0..600)
        .filter(|&x| at(x, 300) != 0 && at(x, 300) != 255)
        .count();
    assert!(ramp <= 6, "edge ramp {ramp} px wide");
    // Legacy clients also get PNG; explicit formats are honoured.
    let legacy = run(&input, "w=64&fm=auto", Some("*/*")).unwrap();
    assert_eq!(legacy.format, Format::Png);
    assert_eq!(
        run(&input, "w=64&fm=webp", None).unwrap().format,
        Format::Webp
    );
    assert_eq!(
        run(&input, "w=64&fm=jpeg", None).unwrap().format,
        Format::Jpeg
    );
    // No size: the intrinsic size.
    let star = common::read("formats/star.svg");
    let out = run(&star, "fm=png", None).unwrap();
    assert_eq!((out.width, out.height), (1174, 1174));
}

#[test]
fn svg_cover_crop_matches_a_full_render() {
    let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">
        <rect width="100" height="100" fill="#f00"/><rect x="100" width="100" height="100" fill="#00f"/></svg>"##;
    let out = run(svg, "w=50&h=50&fit=cover&pos=east", None).unwrap();
    let (w, h, px) = rgba_png(&out.bytes);
    assert_eq!((w, h), (50, 50));
    assert!(px.chunks_exact(4).all(|p| p == [0, 0, 255, 255]));
    let out = run(svg, "w=50&h=50&fit=cover&pos=west", None).unwrap();
    assert!(rgba_png(&out.bytes)
        .2
        .chunks_exact(4)
        .all(|p| p == [255, 0, 0, 255]));
}

fn refused_fast(svg: &[u8], status: u16) {
    let start = Instant::now();
    let result = run(svg, "w=300&fm=png", None);
    let took = start.elapsed();
    let e = result.expect_err("hostile SVG must be refused");
    eprintln!("refused in {took:?}: {e}");
    assert_eq!(e.status(), status, "{e}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[test]
fn svg_entity_expansion_is_refused() {
    let mut svg =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE svg [\n<!ENTITY a \"aaaaaaaaaa\">\n");
    for i in 1..10 {
        let prev = (b'a' + i - 1) as char;
        let name = (b'a' + i) as char;
        svg.push_str(&format!(
            "<!ENTITY {name} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    svg.push_str("]>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><text>&j;</text></svg>");
    refused_fast(svg.as_bytes(), 413);
    // A few small entities (as Illustrator writes them) are fine.
    let ok = "<!DOCTYPE svg [<!ENTITY ns_svg \"http://www.w3.org/2000/svg\">]>\
        <svg xmlns=\"&ns_svg;\" width=\"10\" height=\"10\"><rect width=\"5\" height=\"5\"/></svg>";
    assert!(run(ok.as_bytes(), "w=20", None).is_ok());
}

#[test]
fn svg_deep_nesting_is_refused_before_usvg_recurses() {
    let depth = 20_000;
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">{}<rect width=\"1\" height=\"1\"/>{}</svg>",
        "<g>".repeat(depth),
        "</g>".repeat(depth)
    );
    refused_fast(svg.as_bytes(), 413);
}

#[test]
fn svg_use_fan_out_is_counted() {
    // Each level uses the previous one ten times: 10⁸ rects once instantiated.
    let mut defs = String::from("<rect id=\"l0\" width=\"1\" height=\"1\"/>");
    for i in 1..=8 {
        defs.push_str(&format!("<g id=\"l{i}\">"));
        for _ in 0..10 {
            defs.push_str(&format!("<use href=\"#l{}\"/>", i - 1));
        }
        defs.push_str("</g>");
    }
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><defs>{defs}</defs><use href=\"#l8\"/></svg>"
    );
    refused_fast(svg.as_bytes(), 413);
}

#[test]
fn svg_huge_canvas_and_expensive_filters_are_refused() {
    let huge = br#"<svg xmlns="http://www.w3.org/2000/svg" width="1000000" height="1000000"><rect width="10" height="10"/></svg>"#;
    refused_fast(huge, 413);
    let morph = br#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">
        <filter id="f"><feMorphology operator="dilate" radius="1000000"/></filter>
        <rect width="50" height="50" filter="url(#f)"/></svg>"#;
    refused_fast(morph, 413);
    // Within the radius limit, but scaled up by a transform and the output size.
    let scaled = br#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">
        <filter id="f"><feMorphology operator="erode" radius="4"/></filter>
        <g transform="scale(10)"><rect width="10" height="10" filter="url(#f)"/></g></svg>"#;
    refused_fast(scaled, 413);
    // A small radius renders.
    let small = br#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">
        <filter id="f"><feMorphology operator="dilate" radius="2"/></filter>
        <rect x="20" y="20" width="50" height="50" filter="url(#f)"/></svg>"#;
    assert!(run(small, "w=300&fm=png", None).is_ok());
}

#[test]
fn svg_external_resources_are_never_loaded() {
    // A file and a URL as image sources, and a stylesheet import: the output is the
    // same as without them (nothing loaded, nothing drawn for them).
    let with = br##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="40">
        <style>@import url("file:///etc/passwd"); @import "http://127.0.0.1:1/x.css";</style>
        <image href="/etc/hostname" width="40" height="40"/>
        <image xlink:href="http://127.0.0.1:1/a.png" width="40" height="40"/>
        <image href="../../../shared/corpus/formats/lossy_alpha1.webp" width="40" height="40"/>
        <rect width="20" height="20" fill="#0a0"/></svg>"##;
    let without = br##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">
        <rect width="20" height="20" fill="#0a0"/></svg>"##;
    let a = run(with, "fm=png", None).unwrap();
    let b = run(without, "fm=png", None).unwrap();
    assert_eq!(rgba_png(&a.bytes), rgba_png(&b.bytes));
}

#[test]
fn svg_text_is_left_out() {
    let with = br#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><text x="0" y="15">Hi</text></svg>"#;
    let out = run(with, "fm=png", None).unwrap();
    assert!(rgba_png(&out.bytes).2.chunks_exact(4).all(|p| p[3] == 0));
}

#[test]
fn damaged_svg_is_a_422() {
    let e = run(
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><rect",
        "w=10",
        None,
    )
    .unwrap_err();
    assert_eq!(e.status(), 422, "{e}");
}

#[test]
fn html_with_inline_svg_is_not_an_image() {
    let html = b"<html><body><svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg></body></html>";
    let e = run(html, "w=10", None).unwrap_err();
    assert_eq!(e.status(), 415, "{e}");
}
