//! SVG input: checked, parsed once, rasterised by `resvg` at the output size (so a
//! 600 px rendering of a logo is sharp, not an upscaled bitmap).
//!
//! Hostile SVGs are refused before usvg/resvg see them, because both recurse per
//! nesting level and neither bounds its work:
//! - entity expansion: every `<!ENTITY>` of the internal subset is sized (with the
//!   entities it references) and the whole expansion is bounded;
//! - nesting depth and element count are measured on the parsed XML without
//!   recursion, counting what `<use>` instantiates (a "billion laughs" of `<use>`);
//! - declared size: width × height must be within `limits.maxInputPixels`;
//! - filters: the number of primitives, `feMorphology` radius, `feConvolveMatrix`
//!   order and `feTurbulence` octaves are bounded (a 10⁶ morphology radius takes
//!   resvg minutes).
//!
//! Nothing outside the file is ever loaded: string `href`s (files, URLs) resolve to
//! nothing, usvg reads no CSS `@import`, and `data:` images must be PNG, JPEG, GIF or
//! WebP within the same input limits (nested SVG images are ignored). Text is not
//! rendered: the build has no fonts and no text shaping, so `<text>` is left out
//! (outline text as paths to keep it).

use std::collections::HashMap;
use std::sync::Arc;

use resvg::tiny_skia;
use resvg::usvg;

use crate::config::Limits;
use crate::error::{Error, Result};
use crate::geometry::Rect;
use crate::raster::{Layout, Raster};
use crate::sniff::{self, SourceFormat};

/// Filter primitives in one document (each is a pass over its region).
pub const MAX_FILTER_PRIMITIVES: usize = 100;
/// `feMorphology` radius in user units (cost grows with the radius).
pub const MAX_MORPHOLOGY_RADIUS: f64 = 64.0;
/// `feConvolveMatrix` order (cost grows with its square).
pub const MAX_CONVOLVE_ORDER: f64 = 16.0;
/// `feTurbulence` octaves (cost grows linearly; more are invisible).
pub const MAX_TURBULENCE_OCTAVES: f64 = 12.0;
/// Pixel visits of all `feMorphology` passes at the output size (each output pixel
/// reads (2r+1)² pixels): about a second of work.
pub const MORPHOLOGY_BUDGET: f64 = 5e8;
/// Bytes all entity references may expand to.
pub const MAX_ENTITY_EXPANSION: u64 = 1 << 20;

/// True when the bytes are an XML document whose root element is `<svg>`: after an
/// optional BOM, XML declaration, comments, processing instructions and DOCTYPE. An
/// HTML page with inline SVG is not an SVG (it stays "not an image"), nor is svgz.
pub fn looks_like_svg(bytes: &[u8]) -> bool {
    let mut rest = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    // Prologue items; a real file has a handful.
    for _ in 0..64 {
        rest = rest.trim_ascii_start();
        let skip_past = |rest: &[u8], end: &[u8]| -> Option<usize> {
            rest.windows(end.len())
                .position(|w| w == end)
                .map(|i| i + end.len())
        };
        let next = if rest.starts_with(b"<?") {
            skip_past(rest, b"?>")
        } else if rest.starts_with(b"<!--") {
            skip_past(rest, b"-->")
        } else if rest.starts_with(b"<!DOCTYPE") {
            // An internal subset `[ … ]` may contain `>`.
            let bracket = rest.iter().position(|&b| b == b'[');
            let close = rest.iter().position(|&b| b == b'>');
            match (bracket, close) {
                (Some(open), Some(gt)) if open < gt => {
                    skip_past(&rest[open..], b"]").and_then(|end| {
                        let after = &rest[open + end..];
                        after
                            .iter()
                            .position(|&b| b == b'>')
                            .map(|i| open + end + i + 1)
                    })
                }
                (_, Some(gt)) => Some(gt + 1),
                _ => None,
            }
        } else {
            let Some(tag) = rest.strip_prefix(b"<svg") else {
                return false;
            };
            return tag
                .first()
                .is_some_and(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/');
        };
        match next {
            Some(n) => rest = &rest[n..],
            None => return false,
        }
    }
    false
}

/// A checked, parsed SVG ready to render at any size.
pub struct Svg {
    tree: usvg::Tree,
    /// Intrinsic size in CSS pixels (rounded, at least 1).
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for Svg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Svg({}x{})", self.width, self.height)
    }
}

/// Checks and parses `bytes` (see the module docs for what is refused).
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Svg> {
    if bytes.len() as u64 > limits.max_input_bytes {
        return Err(Error::limit_exceeded(format!(
            "input is {} bytes, over the limit of {} bytes",
            bytes.len(),
            limits.max_input_bytes
        )));
    }
    let text = std::str::from_utf8(bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes))
        .map_err(|_| Error::corrupt_image("SVG is not valid UTF-8"))?;
    check_entities(text)?;
    let nodes_limit = u32::try_from(limits.max_svg_elements.saturating_mul(4))
        .unwrap_or(u32::MAX)
        .max(64);
    let doc = usvg::roxmltree::Document::parse_with_options(
        text,
        usvg::roxmltree::ParsingOptions {
            allow_dtd: true,
            nodes_limit,
            ..Default::default()
        },
    )
    .map_err(|e| match e {
        usvg::roxmltree::Error::NodesLimitReached => Error::limit_exceeded(format!(
            "SVG has more than {} elements",
            limits.max_svg_elements
        )),
        usvg::roxmltree::Error::EntityReferenceLoop(_) => {
            Error::limit_exceeded("SVG entity references loop")
        }
        other => Error::corrupt_image(format!("SVG is not well-formed XML: {other}")),
    })?;
    if doc.root_element().tag_name().name() != "svg" {
        return Err(Error::unsupported_format(
            "not an image: XML whose root element is not <svg>",
        ));
    }
    check_structure(&doc, limits)?;

    let options = usvg::Options {
        resources_dir: None,
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: Box::new(move |_mime, data: Arc<Vec<u8>>, _| embedded_image(data)),
            // Files and URLs: never loaded.
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_xmltree(&doc, &options)
        .map_err(|e| Error::corrupt_image(format!("SVG cannot be read: {e}")))?;
    let size = tree.size();
    let (w, h) = (size.width() as f64, size.height() as f64);
    let pixels = w * h;
    if !(w.is_finite() && h.is_finite()) || pixels > limits.max_input_pixels as f64 {
        return Err(Error::limit_exceeded(format!(
            "SVG declares {w:.0}x{h:.0} = {pixels:.0} pixels, over the limit of {} pixels",
            limits.max_input_pixels
        )));
    }
    Ok(Svg {
        width: (w.round() as u32).max(1),
        height: (h.round() as u32).max(1),
        tree,
    })
}

/// Renders the SVG scaled to `scaled_width`×`scaled_height` and returns the window
/// `crop` of that scaled image (the resize geometry's terms): RGBA8, straight alpha,
/// transparent where the SVG draws nothing.
pub fn render(
    svg: &Svg,
    scaled_width: u32,
    scaled_height: u32,
    crop: Rect,
    limits: &Limits,
) -> Result<Raster> {
    let (width, height) = (crop.width, crop.height);
    sniff::check_decode_bytes(u64::from(width) * u64::from(height) * 8, limits)?;
    let mut pixmap = tiny_skia::Pixmap::new(width, height)
        .ok_or_else(|| Error::internal(format!("svg: cannot render {width}x{height}")))?;
    let size = svg.tree.size();
    let sx = scaled_width as f32 / size.width();
    let sy = scaled_height as f32 / size.height();
    let transform =
        tiny_skia::Transform::from_row(sx, 0.0, 0.0, sy, -(crop.x as f32), -(crop.y as f32));
    check_morphology_cost(&svg.tree, sx.max(sy), width, height)?;
    resvg::render(&svg.tree, transform, &mut pixmap.as_mut());
    let mut data = pixmap.take();
    // tiny-skia is premultiplied; the pipeline works on straight alpha.
    for p in data.chunks_exact_mut(4) {
        let a = p[3] as u32;
        if a != 0 && a != 255 {
            for c in &mut p[..3] {
                *c = ((*c as u32 * 255 + a / 2) / a).min(255) as u8;
            }
        }
    }
    Ok(Raster::new(width, height, Layout::Rgba, data))
}

/// resvg's morphology is a brute-force window of (2r+1)² pixels per pixel, with `r`
/// in device pixels: the radius the parse check allowed can still be too slow once
/// scaled up (by the output size or by transforms), so bound the work at this size.
fn check_morphology_cost(tree: &usvg::Tree, scale: f32, width: u32, height: u32) -> Result<()> {
    let area = f64::from(width) * f64::from(height);
    let mut work = 0f64;
    let mut groups = vec![tree.root()];
    while let Some(group) = groups.pop() {
        if !group.filters().is_empty() {
            let ts = group.abs_transform();
            let group_scale = f64::from(ts.sx.hypot(ts.ky).max(ts.kx.hypot(ts.sy)));
            for filter in group.filters() {
                for primitive in filter.primitives() {
                    if let usvg::filter::Kind::Morphology(m) = primitive.kind() {
                        let r = f64::from(m.radius_x().get().max(m.radius_y().get()))
                            * group_scale
                            * f64::from(scale);
                        work += (2.0 * r + 1.0).powi(2) * area;
                    }
                }
            }
        }
        for node in group.children() {
            if let usvg::Node::Group(child) = node {
                groups.push(child);
            }
        }
    }
    if work > MORPHOLOGY_BUDGET {
        return Err(Error::limit_exceeded(format!(
            "SVG feMorphology at {width}x{height} is too expensive \
             ({work:.0} pixel reads, limit {MORPHOLOGY_BUDGET:.0}); ask for a smaller size"
        )));
    }
    Ok(())
}

/// A `data:` image for `<image>`/`<feImage>`: raster formats only, and only within
/// the default input limits (resvg decodes it without any).
fn embedded_image(data: Arc<Vec<u8>>) -> Option<usvg::ImageKind> {
    let header = sniff::read_header(&data, &Limits::default()).ok()?;
    match header.format {
        SourceFormat::Png => Some(usvg::ImageKind::PNG(data)),
        SourceFormat::Jpeg => Some(usvg::ImageKind::JPEG(data)),
        SourceFormat::Gif => Some(usvg::ImageKind::GIF(data)),
        SourceFormat::Webp => Some(usvg::ImageKind::WEBP(data)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------
// Entities.

/// Sizes every entity of the internal DTD subset and bounds the total expansion of
/// the references in the document. roxmltree detects loops, not size: ten entities
/// of ten references each expand to 10¹⁰ bytes.
fn check_entities(text: &str) -> Result<()> {
    let Some(subset) = internal_subset(text) else {
        return Ok(());
    };
    let mut values: HashMap<&str, &str> = HashMap::new();
    let mut rest = subset;
    while let Some(at) = rest.find("<!ENTITY") {
        rest = &rest[at + 8..];
        let decl = rest.trim_start();
        if decl.starts_with('%') {
            return Err(Error::corrupt_image(
                "SVG parameter entities are not supported",
            ));
        }
        let name_end = decl
            .find(|c: char| c.is_whitespace())
            .ok_or_else(|| Error::corrupt_image("SVG entity declaration is malformed"))?;
        let name = &decl[..name_end];
        let after = decl[name_end..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            // SYSTEM/PUBLIC: an external entity. Never loaded; roxmltree refuses it.
            return Err(Error::corrupt_image(format!(
                "SVG external entity '{name}' is not allowed"
            )));
        };
        let body = &after[1..];
        let end = body
            .find(quote)
            .ok_or_else(|| Error::corrupt_image("SVG entity declaration is malformed"))?;
        values.insert(name, &body[..end]);
        rest = &body[end..];
    }
    // Expanded size of each entity, longest chains first by fixed-point iteration
    // (no recursion; a loop never converges and is refused).
    let mut sizes: HashMap<&str, u64> = HashMap::new();
    for _ in 0..=values.len() {
        let mut changed = false;
        for (&name, &value) in &values {
            let mut size = value.len() as u64;
            for reference in references(value) {
                size = size.saturating_add(sizes.get(reference).copied().unwrap_or(0));
            }
            let size = size.min(u64::MAX / 2);
            if sizes.get(name) != Some(&size) {
                sizes.insert(name, size);
                changed = true;
            }
            if size > MAX_ENTITY_EXPANSION {
                return Err(entity_bomb());
            }
        }
        if !changed {
            let mut total = 0u64;
            for reference in references(text) {
                total = total.saturating_add(sizes.get(reference).copied().unwrap_or(0));
                if total > MAX_ENTITY_EXPANSION {
                    return Err(entity_bomb());
                }
            }
            return Ok(());
        }
    }
    Err(Error::limit_exceeded("SVG entity references loop"))
}

fn entity_bomb() -> Error {
    Error::limit_exceeded(format!(
        "SVG entities expand to more than {MAX_ENTITY_EXPANSION} bytes"
    ))
}

/// The text between `[` and `]>` of a `<!DOCTYPE …>`, if there is one.
fn internal_subset(text: &str) -> Option<&str> {
    let doctype = text.find("<!DOCTYPE")?;
    let after = &text[doctype..];
    let open = after.find('[')?;
    // The subset ends at the first `]` followed by optional space and `>`.
    let close_tag = after.find('>')?;
    if open > close_tag {
        return None;
    }
    let subset = &after[open + 1..];
    let end = subset.find("]>").or_else(|| {
        subset
            .match_indices(']')
            .find(|(i, _)| subset[i + 1..].trim_start().starts_with('>'))
            .map(|(i, _)| i)
    })?;
    Some(&subset[..end])
}

/// Names of the `&name;` references in `text` (character references excluded).
fn references(text: &str) -> impl Iterator<Item = &str> {
    text.split('&').skip(1).filter_map(|part| {
        let end = part.find(';')?;
        let name = &part[..end];
        (!name.is_empty() && !name.starts_with('#') && !name.contains(char::is_whitespace))
            .then_some(name)
    })
}

// ---------------------------------------------------------------------------------
// Structure: depth, element count (with `<use>` expanded), filters.

fn check_structure(doc: &usvg::roxmltree::Document, limits: &Limits) -> Result<()> {
    let too_deep = || {
        Error::limit_exceeded(format!(
            "SVG nests elements deeper than {} levels",
            limits.max_svg_depth
        ))
    };
    // Depth and filters, one iterative walk.
    let mut stack = vec![(doc.root_element(), 1u32)];
    let mut primitives = 0usize;
    let mut by_id: HashMap<&str, usvg::roxmltree::Node> = HashMap::new();
    while let Some((node, depth)) = stack.pop() {
        if depth > limits.max_svg_depth {
            return Err(too_deep());
        }
        if let Some(id) = node.attribute("id") {
            by_id.insert(id, node);
        }
        check_filter_primitive(node, &mut primitives)?;
        for child in node.children().filter(|n| n.is_element()) {
            stack.push((child, depth + 1));
        }
    }

    // Elements as rendered: a `<use>` instantiates its target's subtree. Memoised
    // post-order over (node, state) without recursion; `<use>` depth counts too.
    let mut cost: HashMap<usvg::roxmltree::NodeId, (u64, u32)> = HashMap::new();
    let mut in_progress: std::collections::HashSet<usvg::roxmltree::NodeId> = Default::default();
    let mut work = vec![(doc.root_element(), false)];
    while let Some((node, expanded)) = work.pop() {
        if cost.contains_key(&node.id()) {
            continue;
        }
        let target = use_target(node, &by_id);
        if !expanded {
            in_progress.insert(node.id());
            work.push((node, true));
            for child in node.children().filter(|n| n.is_element()) {
                if !cost.contains_key(&child.id()) {
                    work.push((child, false));
                }
            }
            if let Some(t) = target {
                // A self-referencing `<use>` is skipped by usvg: cost nothing here.
                if !in_progress.contains(&t.id()) && !cost.contains_key(&t.id()) {
                    work.push((t, false));
                }
            }
            continue;
        }
        let mut count = 1u64;
        let mut height = 1u32;
        let parts = node
            .children()
            .filter(|n| n.is_element())
            .chain(target.filter(|t| !in_progress.contains(&t.id()) || cost.contains_key(&t.id())));
        for part in parts {
            let (c, h) = cost.get(&part.id()).copied().unwrap_or((0, 0));
            count = count.saturating_add(c);
            height = height.max(h.saturating_add(1));
        }
        if count > limits.max_svg_elements {
            return Err(Error::limit_exceeded(format!(
                "SVG has more than {} elements (counting <use> copies)",
                limits.max_svg_elements
            )));
        }
        if height > limits.max_svg_depth {
            return Err(too_deep());
        }
        in_progress.remove(&node.id());
        cost.insert(node.id(), (count, height));
    }
    Ok(())
}

fn use_target<'a, 'i>(
    node: usvg::roxmltree::Node<'a, 'i>,
    by_id: &HashMap<&str, usvg::roxmltree::Node<'a, 'i>>,
) -> Option<usvg::roxmltree::Node<'a, 'i>> {
    if node.tag_name().name() != "use" {
        return None;
    }
    let href = node
        .attribute(("http://www.w3.org/1999/xlink", "href"))
        .or_else(|| node.attribute("href"))?;
    by_id.get(href.trim().strip_prefix('#')?).copied()
}

fn check_filter_primitive(node: usvg::roxmltree::Node, primitives: &mut usize) -> Result<()> {
    let name = node.tag_name().name();
    if !name.starts_with("fe") || name.starts_with("feFunc") || name == "feMergeNode" {
        return Ok(());
    }
    if matches!(name, "feDistantLight" | "fePointLight" | "feSpotLight") {
        return Ok(());
    }
    *primitives += 1;
    if *primitives > MAX_FILTER_PRIMITIVES {
        return Err(Error::limit_exceeded(format!(
            "SVG has more than {MAX_FILTER_PRIMITIVES} filter primitives"
        )));
    }
    let over = |attr: &str, max: f64| {
        node.attribute(attr)
            .is_some_and(|v| numbers(v).any(|n| n.is_infinite() || n.abs() > max))
    };
    let refuse = |what: String| Err(Error::limit_exceeded(format!("SVG {name}: {what}")));
    match name {
        "feMorphology" if over("radius", MAX_MORPHOLOGY_RADIUS) => {
            refuse(format!("radius over {MAX_MORPHOLOGY_RADIUS}"))
        }
        "feConvolveMatrix" if over("order", MAX_CONVOLVE_ORDER) => {
            refuse(format!("order over {MAX_CONVOLVE_ORDER}"))
        }
        "feTurbulence" if over("numOctaves", MAX_TURBULENCE_OCTAVES) => {
            refuse(format!("numOctaves over {MAX_TURBULENCE_OCTAVES}"))
        }
        _ => Ok(()),
    }
}

/// The numbers of an SVG number list ("1 2", "1,2"); unparsable parts are NaN.
fn numbers(value: &str) -> impl Iterator<Item = f64> + '_ {
    value
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<f64>().unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_is_recognised_by_its_root_element() {
        let yes: [&[u8]; 5] = [
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"\xEF\xBB\xBF  <?xml version='1.0'?>\n<!-- by hand -->\n<svg>",
            b"<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN' 'x.dtd'><svg\n>",
            b"<!DOCTYPE svg [<!ENTITY a '<b>'>]><svg/>",
            b"<?xml version='1.0'?><?xml-stylesheet href='a.css'?><svg width='1'>",
        ];
        for s in yes {
            assert!(looks_like_svg(s), "{}", String::from_utf8_lossy(s));
        }
        let no: [&[u8]; 5] = [
            b"<html><body><svg></svg></body></html>",
            b"<svgfoo/>",
            b"<!-- unterminated <svg>",
            b"\x1f\x8b\x08",
            b"plain text <svg>",
        ];
        for s in no {
            assert!(!looks_like_svg(s), "{}", String::from_utf8_lossy(s));
        }
    }
}
