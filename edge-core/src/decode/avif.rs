//! AVIF input: the HEIF container (`bmff`), AV1 frames through rav1d (`av1`) and
//! YUV to RGB (`yuv`), all pure Rust so the same code runs in the wasm build.
//!
//! Supported: still images (single `av01` item or a `grid` of them), 8/10/12-bit,
//! 4:2:0/4:2:2/4:4:4/monochrome, full/limited range, matrix from `colr` nclx or the
//! AV1 sequence header, an auxiliary alpha item (premultiplied or not), `clap`,
//! `irot`/`imir` (returned as an EXIF orientation), an embedded ICC profile, and the
//! first frame of an image sequence without a still item. Limits are checked from
//! the declared sizes before any pixel buffer exists, and rav1d is told the largest
//! frame it may accept so a lying header cannot make it allocate more.

mod av1;
mod yuv;

use std::borrow::Cow;

use moxcms::{
    CicpColorPrimaries, CicpProfile, ColorProfile, MatrixCoefficients, TransferCharacteristics,
};

use self::av1::Picture;
use self::yuv::{Canvas, ColourCoding, Tables};
use crate::bmff::{self, Av1Config, CleanAperture, FourCc, Item, Meta, Property, Track};
use crate::config::Limits;
use crate::error::{Error, Result};
use crate::raster::{Layout, Raster};

/// A decoded AVIF: pixels as coded (not yet colour-managed) plus what later pipeline
/// steps need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvifImage {
    /// `Rgb`/`Rgba`, or `Gray`/`GrayAlpha` for monochrome AV1; 8-bit, straight alpha.
    pub raster: Raster,
    /// Embedded ICC profile (`colr` `prof`/`rICC`); without one, a profile made
    /// from `colr` nclx primaries other than sRGB's (Display P3, BT.2020, ...), so
    /// the colour step converts them to sRGB as a browser would.
    pub icc: Option<Vec<u8>>,
    /// EXIF orientation (1-8) equivalent to the item's `irot`/`imir` properties,
    /// composed in their association order. `orient::apply` makes it upright.
    pub orientation: u8,
}

/// Auxiliary type URNs of an alpha plane (AVIF and the older HEVC one).
const ALPHA_URNS: [&[u8]; 2] = [
    b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha",
    b"urn:mpeg:hevc:2015:auxid:1",
];

/// Properties that change nothing for this decoder even when marked essential.
const HARMLESS: [&FourCc; 11] = [
    b"pixi", b"pasp", b"clli", b"mdcv", b"cclv", b"amve", b"a1lx", b"lsel", b"colr", b"rloc",
    b"udes",
];

/// Stored size (before `irot`/`clap`) of the image `decode_avif` would return, from
/// the container alone: the primary item's `ispe` (or grid size), or the first
/// video track's size for a sequence without a still item.
pub fn read_avif_header(bytes: &[u8]) -> Result<(u32, u32)> {
    match bmff::parse_meta(bytes)? {
        Some(meta) if meta.primary.is_some() => {
            let item = primary(&meta)?;
            item_size(&meta, bytes, item)
        }
        _ => {
            let tracks = bmff::parse_tracks(bytes)?;
            let track = colour_track(&tracks)?;
            Ok((track.width, track.height))
        }
    }
}

/// Decode the primary image of an AVIF file (or the first frame of a sequence).
// Out of line: a cold start compiles only the format it meets (V8 compiles per function).
#[inline(never)]
pub fn decode_avif(bytes: &[u8], limits: &Limits) -> Result<AvifImage> {
    limits.check_input_bytes(bytes.len())?;
    match bmff::parse_meta(bytes)? {
        Some(meta) if meta.primary.is_some() => decode_still(&meta, bytes, limits),
        _ => decode_sequence(bytes, limits),
    }
}

// ---------------------------------------------------------------------------------
// Still images (items).

fn primary<'m>(meta: &'m Meta<'_>) -> Result<&'m Item> {
    let id = meta
        .primary
        .ok_or_else(|| Error::corrupt_image("AVIF has no primary item"))?;
    let item = meta
        .item(id)
        .ok_or_else(|| Error::corrupt_image("AVIF primary item is missing"))?;
    if item.protected {
        return Err(Error::unsupported_format(
            "encrypted AVIF items are not supported",
        ));
    }
    match &item.kind {
        b"av01" | b"grid" => Ok(item),
        b"hvc1" | b"hev1" => Err(Error::unsupported_format(
            "HEIF (HEVC) input is not supported",
        )),
        other => Err(Error::unsupported_format(format!(
            "AVIF primary item of type '{}' is not supported",
            String::from_utf8_lossy(other)
        ))),
    }
}

/// The `ispe` of `item`, or for a grid without one the grid's output size.
fn item_size(meta: &Meta<'_>, bytes: &[u8], item: &Item) -> Result<(u32, u32)> {
    let ispe = meta
        .properties_of(item)?
        .into_iter()
        .find_map(|(p, _)| match p {
            Property::Ispe { width, height } => Some((*width, *height)),
            _ => None,
        });
    let size = match ispe {
        Some(size) => size,
        None if item.kind == *b"grid" => {
            let g = grid(meta, bytes, item)?;
            (g.width, g.height)
        }
        None => return Err(Error::corrupt_image("AVIF image item has no ispe size")),
    };
    if size.0 == 0 || size.1 == 0 {
        return Err(Error::corrupt_image(format!(
            "AVIF declares an empty image ({}x{})",
            size.0, size.1
        )));
    }
    Ok(size)
}

/// What the properties of the primary item ask for.
#[derive(Default)]
struct Attributes<'a> {
    nclx: Option<(u16, ColourCoding)>,
    /// Transfer characteristics of the nclx, for `icc_from_nclx`.
    transfer: u16,
    icc: Option<&'a [u8]>,
    clap: Option<CleanAperture>,
    /// irot/imir as EXIF orientations, in association order.
    transforms: Vec<u8>,
    config: Option<Av1Config>,
}

fn attributes<'a>(meta: &Meta<'a>, item: &Item) -> Result<Attributes<'a>> {
    let mut a = Attributes::default();
    for (p, essential) in meta.properties_of(item)? {
        match p {
            Property::Nclx {
                primaries,
                transfer,
                matrix,
                full_range,
            } => {
                if a.nclx.is_none() {
                    a.transfer = *transfer;
                }
                a.nclx.get_or_insert((
                    *primaries,
                    ColourCoding {
                        matrix: *matrix,
                        full_range: *full_range,
                    },
                ));
            }
            Property::Icc(icc) => {
                a.icc.get_or_insert(icc);
            }
            Property::Clap(c) => a.clap = Some(*c),
            // irot: anti-clockwise quarter turns.
            Property::Irot(turns) => a.transforms.push([1, 8, 3, 6][*turns as usize & 3]),
            // imir axis 0 exchanges top and bottom (EXIF 4), 1 left and right (EXIF 2).
            Property::Imir(axis) => a.transforms.push(if *axis == 0 { 4 } else { 2 }),
            Property::Av1C(c) => a.config = Some(*c),
            Property::Other(kind) if essential && !HARMLESS.contains(&kind) => {
                return Err(Error::unsupported_format(format!(
                    "AVIF with the essential property '{}' is not supported",
                    String::from_utf8_lossy(kind)
                )));
            }
            _ => {}
        }
    }
    Ok(a)
}

fn a1op(meta: &Meta<'_>, item: &Item) -> Result<u8> {
    Ok(meta
        .properties_of(item)?
        .into_iter()
        .find_map(|(p, _)| match p {
            Property::A1op(op) => Some(*op),
            _ => None,
        })
        .unwrap_or(0))
}

fn av1_config(meta: &Meta<'_>, item: &Item) -> Result<Option<Av1Config>> {
    Ok(meta
        .properties_of(item)?
        .into_iter()
        .find_map(|(p, _)| match p {
            Property::Av1C(c) => Some(*c),
            _ => None,
        }))
}

/// The alpha auxiliary of `colour`, if any, and whether colour is premultiplied.
fn alpha_item<'m>(meta: &'m Meta<'_>, colour: &Item) -> Result<Option<(&'m Item, bool)>> {
    for id in meta.referencing(colour.id, b"auxl") {
        let Some(item) = meta.item(id) else { continue };
        let is_alpha = meta
            .properties_of(item)?
            .into_iter()
            .any(|(p, _)| matches!(p, Property::AuxC(urn) if ALPHA_URNS.contains(urn)));
        if !is_alpha {
            continue;
        }
        if !matches!(&item.kind, b"av01" | b"grid") {
            return Err(Error::unsupported_format(
                "AVIF alpha plane in a format other than AV1 is not supported",
            ));
        }
        let premultiplied = meta.references_from(colour.id, b"prem").contains(&id);
        return Ok(Some((item, premultiplied)));
    }
    Ok(None)
}

/// Grids are made of a few hundred tiles at most in practice (a 48 MP photo in
/// 512x512 tiles is 192); every tile is a separate decode, so bound the count.
const MAX_GRID_TILES: usize = 4096;

struct Grid {
    rows: usize,
    columns: usize,
    width: u32,
    height: u32,
    tiles: Vec<u32>,
}

fn grid(meta: &Meta<'_>, bytes: &[u8], item: &Item) -> Result<Grid> {
    let data = meta.item_data(bytes, item)?;
    let mut r = bmff::Reader::new(&data, "grid item");
    let version = r.u8()?;
    let flags = r.u8()?;
    if version != 0 {
        return Err(Error::unsupported_format(format!(
            "AVIF grid version {version} is not supported"
        )));
    }
    let rows = r.u8()? as usize + 1;
    let columns = r.u8()? as usize + 1;
    if rows * columns > MAX_GRID_TILES {
        return Err(Error::limit_exceeded(format!(
            "AVIF grid of {rows}x{columns} tiles is over the limit of {MAX_GRID_TILES} tiles"
        )));
    }
    let (width, height) = if flags & 1 == 1 {
        (r.u32()?, r.u32()?)
    } else {
        (r.u16()? as u32, r.u16()? as u32)
    };
    let tiles = meta.references_from(item.id, b"dimg");
    if tiles.len() != rows * columns {
        return Err(Error::corrupt_image(format!(
            "AVIF grid of {rows}x{columns} has {} tiles",
            tiles.len()
        )));
    }
    Ok(Grid {
        rows,
        columns,
        width,
        height,
        tiles,
    })
}

/// Bytes one AV1 decode needs: the picture planes plus rav1d's per-block state
/// (about one byte per pixel, measured).
fn av1_decode_bytes(pixels: u64, config: Option<Av1Config>) -> u64 {
    let c = config.unwrap_or(Av1Config {
        bit_depth: 12,
        monochrome: false,
        subsampling_x: false,
        subsampling_y: false,
    });
    let sample = if c.bit_depth > 8 { 2 } else { 1 };
    // Luma plus two chroma planes, in quarters of a luma plane.
    let quarters = match (c.monochrome, c.subsampling_x, c.subsampling_y) {
        (true, _, _) => 4,
        (false, true, true) => 6,
        (false, true, false) => 8,
        _ => 12,
    };
    pixels * sample * quarters / 4 + pixels
}

/// Colour tables, reused across grid tiles that share bit depth and coding.
#[derive(Default)]
struct TableCache {
    current: Option<((u8, ColourCoding, u16), Tables)>,
}

impl TableCache {
    fn get(&mut self, bit_depth: u8, coding: ColourCoding, primaries: u16) -> Result<&Tables> {
        let key = (bit_depth, coding, primaries);
        if self.current.as_ref().map(|(k, _)| *k) != Some(key) {
            self.current = Some((key, Tables::new(bit_depth, coding, primaries)?));
        }
        Ok(&self.current.as_ref().expect("just set").1)
    }
}

/// What to paint from a picture.
#[derive(Clone, Copy)]
enum Paint {
    /// Colour, with the container's nclx (primaries, coding) if it has one.
    Colour(Option<(u16, ColourCoding)>),
    Alpha,
}

fn paint(
    picture: &Picture,
    what: Paint,
    tables: &mut TableCache,
    canvas: &mut Canvas,
    x0: usize,
    y0: usize,
) -> Result<()> {
    let (seq_primaries, seq_matrix, seq_full) = picture.sequence_colour();
    match what {
        Paint::Colour(nclx) => {
            let (primaries, coding) = nclx.unwrap_or((
                seq_primaries,
                ColourCoding {
                    matrix: seq_matrix,
                    full_range: seq_full,
                },
            ));
            let t = tables.get(picture.bit_depth(), coding, primaries)?;
            yuv::write_colour(picture, t, canvas, x0, y0)
        }
        // The alpha item's own range; AVIF writers use full range.
        Paint::Alpha => yuv::write_alpha(picture, seq_full, canvas, x0, y0),
    }
}

/// Decode one `av01` item, allowing at most `max_pixels`.
fn decode_item(meta: &Meta<'_>, bytes: &[u8], item: &Item, max_pixels: u64) -> Result<Picture> {
    if item.kind != *b"av01" {
        return Err(Error::corrupt_image("AVIF grid tile is not an AV1 image"));
    }
    let data = meta.item_data(bytes, item)?;
    av1::decode(&data, max_pixels, a1op(meta, item)?)
}

/// Decode `item` (av01 or grid) and paint it onto the canvas, which is created from
/// the first picture when `canvas` is None (a single item decides its own size).
#[allow(clippy::too_many_arguments)]
fn paint_item(
    meta: &Meta<'_>,
    bytes: &[u8],
    item: &Item,
    what: Paint,
    canvas: &mut Option<Canvas>,
    channels: usize,
    size: (u32, u32),
    limits: &Limits,
) -> Result<()> {
    let mut tables = TableCache::default();
    let max_pixels = (size.0 as u64 * size.1 as u64).min(limits.max_input_pixels);
    if item.kind == *b"av01" {
        let picture = decode_item(meta, bytes, item, max_pixels)?;
        let (w, h) = (picture.width(), picture.height());
        match canvas {
            None => {
                limits.check_dimensions(w, h)?;
                *canvas = Some(new_canvas(w, h, channels));
            }
            Some(c) if (c.width, c.height) != (w as usize, h as usize) => {
                return Err(Error::corrupt_image(
                    "AVIF alpha plane and colour image differ in size",
                ))
            }
            Some(_) => {}
        }
        let c = canvas.as_mut().expect("created above");
        return paint(&picture, what, &mut tables, c, 0, 0);
    }

    let g = grid(meta, bytes, item)?;
    if (g.width, g.height) != size {
        return Err(Error::corrupt_image(
            "AVIF grid size disagrees with its ispe",
        ));
    }
    let c = match canvas {
        Some(c) if (c.width, c.height) == (g.width as usize, g.height as usize) => c,
        Some(_) => {
            return Err(Error::corrupt_image(
                "AVIF alpha plane and colour image differ in size",
            ))
        }
        None => canvas.insert(new_canvas(g.width, g.height, channels)),
    };
    let mut tile_size: Option<(usize, usize)> = None;
    for (i, &id) in g.tiles.iter().enumerate() {
        let tile = meta
            .item(id)
            .ok_or_else(|| Error::corrupt_image("AVIF grid tile is missing"))?;
        let tile_max = match tile_size {
            Some((w, h)) => (w * h) as u64,
            None => max_pixels,
        };
        let picture = decode_item(meta, bytes, tile, tile_max)?;
        let this = (picture.width() as usize, picture.height() as usize);
        let (tw, th) = *tile_size.get_or_insert(this);
        // Tiles are all the same size and just cover the output (ISO/IEC 23008-12).
        if this != (tw, th)
            || tw * g.columns < c.width
            || th * g.rows < c.height
            || tw * (g.columns - 1) >= c.width
            || th * (g.rows - 1) >= c.height
        {
            return Err(Error::corrupt_image("AVIF grid tiles do not fit the grid"));
        }
        let (row, column) = (i / g.columns, i % g.columns);
        let what = match what {
            // Tiles may carry their own nclx when the grid has none.
            Paint::Colour(None) => Paint::Colour(attributes(meta, tile)?.nclx),
            other => other,
        };
        paint(&picture, what, &mut tables, c, column * tw, row * th)?;
    }
    Ok(())
}

fn new_canvas(width: u32, height: u32, channels: usize) -> Canvas {
    let (width, height) = (width as usize, height as usize);
    Canvas {
        width,
        height,
        channels,
        data: vec![0; width * height * channels],
    }
}

fn decode_still(meta: &Meta<'_>, bytes: &[u8], limits: &Limits) -> Result<AvifImage> {
    let item = primary(meta)?;
    let (width, height) = item_size(meta, bytes, item)?;
    limits.check_dimensions(width, height)?;
    let attrs = attributes(meta, item)?;
    let alpha = alpha_item(meta, item)?;

    // The AV1 configuration of the colour data: the item's, or a grid's first tile.
    let first_av1 = |it: &Item| -> Result<Option<(Option<Av1Config>, u64)>> {
        if it.kind == *b"av01" {
            return Ok(Some((av1_config(meta, it)?, width as u64 * height as u64)));
        }
        let g = grid(meta, bytes, it)?;
        let Some(tile) = g.tiles.first().and_then(|&id| meta.item(id)) else {
            return Ok(None);
        };
        let tile_pixels = item_size(meta, bytes, tile)
            .map(|(w, h)| w as u64 * h as u64)
            .unwrap_or(width as u64 * height as u64);
        Ok(Some((av1_config(meta, tile)?, tile_pixels)))
    };
    let (config, decode_pixels) =
        first_av1(item)?.unwrap_or((attrs.config, width as u64 * height as u64));
    let monochrome = config.is_some_and(|c| c.monochrome);
    let channels = if monochrome { 1 } else { 3 } + alpha.is_some() as usize;

    let pixels = width as u64 * height as u64;
    let mut decoder_bytes = av1_decode_bytes(decode_pixels, config);
    if let Some((a, _)) = alpha {
        if let Some((alpha_config, alpha_pixels)) = first_av1(a)? {
            decoder_bytes = decoder_bytes.max(av1_decode_bytes(alpha_pixels, alpha_config));
        }
    }
    limits.reserve(pixels * channels as u64 + decoder_bytes)?;

    let mut canvas = None;
    let size = (width, height);
    paint_item(
        meta,
        bytes,
        item,
        Paint::Colour(attrs.nclx),
        &mut canvas,
        channels,
        size,
        limits,
    )?;
    if let Some((a, premultiplied)) = alpha {
        let alpha_size = item_size(meta, bytes, a).unwrap_or(size);
        paint_item(
            meta,
            bytes,
            a,
            Paint::Alpha,
            &mut canvas,
            channels,
            alpha_size,
            limits,
        )?;
        if premultiplied {
            yuv::unpremultiply(canvas.as_mut().expect("painted"));
        }
    }
    let mut canvas = canvas.expect("painted");
    if let Some(clap) = attrs.clap {
        canvas = crop(canvas, clap);
    }
    let icc = match (attrs.icc, attrs.nclx) {
        (Some(icc), _) => Some(icc.to_vec()),
        (None, Some((primaries, _))) => icc_from_nclx(primaries, attrs.transfer),
        (None, None) => None,
    };
    Ok(AvifImage {
        raster: into_raster(canvas),
        icc,
        orientation: attrs.transforms.iter().fold(1, |o, &t| compose(o, t)),
    })
}

fn into_raster(canvas: Canvas) -> Raster {
    let layout = match canvas.channels {
        1 => Layout::Gray,
        2 => Layout::GrayAlpha,
        3 => Layout::Rgb,
        _ => Layout::Rgba,
    };
    Raster::new(
        canvas.width as u32,
        canvas.height as u32,
        layout,
        canvas.data,
    )
}

// ---------------------------------------------------------------------------------
// Image sequences: the first sample of the colour track (and of its alpha track).

fn colour_track<'t, 'a>(tracks: &'t [Track<'a>]) -> Result<&'t Track<'a>> {
    tracks
        .iter()
        .find(|t| t.auxiliary_for.is_none() && matches!(&t.handler, b"pict" | b"vide"))
        .ok_or_else(|| Error::corrupt_image("AVIF has neither a primary item nor a video track"))
}

fn sample<'a>(bytes: &'a [u8], track: &Track<'_>) -> Result<Cow<'a, [u8]>> {
    let (offset, size) = track
        .first_sample
        .ok_or_else(|| Error::corrupt_image("AVIF sequence has no samples"))?;
    let start = usize::try_from(offset).ok();
    let end = start.and_then(|s| s.checked_add(usize::try_from(size).ok()?));
    match (start, end) {
        (Some(s), Some(e)) => bytes
            .get(s..e)
            .map(Cow::Borrowed)
            .ok_or_else(|| Error::corrupt_image("AVIF sequence sample is truncated")),
        _ => Err(Error::corrupt_image("AVIF sequence sample is truncated")),
    }
}

fn decode_sequence(bytes: &[u8], limits: &Limits) -> Result<AvifImage> {
    let tracks = bmff::parse_tracks(bytes)?;
    let track = colour_track(&tracks)?;
    if track.codec != *b"av01" {
        return Err(Error::unsupported_format(
            "image sequence in a format other than AV1 is not supported",
        ));
    }
    let (width, height) = (track.width, track.height);
    if width == 0 || height == 0 {
        return Err(Error::corrupt_image(
            "AVIF sequence declares an empty image",
        ));
    }
    limits.check_dimensions(width, height)?;
    let alpha = tracks.iter().find(|t| {
        t.auxiliary_for == Some(track.id)
            && t.codec == *b"av01"
            && t.aux_type.is_none_or(|urn| ALPHA_URNS.contains(&urn))
    });
    let monochrome = track.config.is_some_and(|c| c.monochrome);
    let channels = if monochrome { 1 } else { 3 } + alpha.is_some() as usize;
    let pixels = width as u64 * height as u64;
    limits.reserve(pixels * channels as u64 + av1_decode_bytes(pixels, track.config))?;

    let (nclx, transfer) = match track.nclx {
        Some(Property::Nclx {
            primaries,
            transfer,
            matrix,
            full_range,
        }) => (
            Some((primaries, ColourCoding { matrix, full_range })),
            transfer,
        ),
        _ => (None, 2),
    };
    let mut tables = TableCache::default();
    let picture = av1::decode(&sample(bytes, track)?, pixels, 0)?;
    let (w, h) = (picture.width(), picture.height());
    limits.check_dimensions(w, h)?;
    let mut canvas = new_canvas(w, h, channels);
    paint(
        &picture,
        Paint::Colour(nclx),
        &mut tables,
        &mut canvas,
        0,
        0,
    )?;
    drop(picture);
    if let Some(a) = alpha {
        let picture = av1::decode(&sample(bytes, a)?, pixels, 0)?;
        if (picture.width(), picture.height()) != (w, h) {
            return Err(Error::corrupt_image(
                "AVIF alpha plane and colour image differ in size",
            ));
        }
        paint(&picture, Paint::Alpha, &mut tables, &mut canvas, 0, 0)?;
    }
    let icc = match (track.icc, nclx) {
        (Some(icc), _) => Some(icc.to_vec()),
        (None, Some((primaries, _))) => icc_from_nclx(primaries, transfer),
        (None, None) => None,
    };
    Ok(AvifImage {
        raster: into_raster(canvas),
        icc,
        orientation: 1,
    })
}

/// An ICC profile describing nclx colour primaries other than sRGB's. None for
/// BT.709/sRGB or unspecified primaries (already what the pipeline assumes), for
/// HDR transfers (PQ, HLG: tone mapping is out of scope, values stay as coded) and
/// for values moxcms cannot model.
fn icc_from_nclx(primaries: u16, transfer: u16) -> Option<Vec<u8>> {
    if matches!(primaries, 1 | 2) || matches!(transfer, 16 | 18) {
        return None;
    }
    // Encoders write the video transfers (BT.709/601/2020) or "unspecified" for
    // content that uses the sRGB curve; browsers show it that way too.
    let transfer = match transfer {
        1 | 2 | 6 | 14 | 15 => 13,
        t => t,
    };
    let cicp = CicpProfile {
        color_primaries: CicpColorPrimaries::try_from(u8::try_from(primaries).ok()?).ok()?,
        transfer_characteristics: TransferCharacteristics::try_from(u8::try_from(transfer).ok()?)
            .ok()?,
        // The profile describes RGB, so no YCbCr matrix.
        matrix_coefficients: MatrixCoefficients::Identity,
        full_range: true,
    };
    let profile = ColorProfile::new_from_cicp(cicp);
    // moxcms leaves the curves unset when it cannot model the primaries or transfer.
    profile.red_trc.as_ref()?;
    profile.encode().ok()
}

// ---------------------------------------------------------------------------------
// Geometry.

/// EXIF orientations as signed permutation matrices acting on centred pixel
/// coordinates (y down): (x', y') = M (x, y) maps a stored pixel to where it shows.
const ORIENTATIONS: [[[i8; 2]; 2]; 8] = [
    [[1, 0], [0, 1]],   // 1 as stored
    [[-1, 0], [0, 1]],  // 2 mirror left-right
    [[-1, 0], [0, -1]], // 3 rotate 180
    [[1, 0], [0, -1]],  // 4 mirror top-bottom
    [[0, 1], [1, 0]],   // 5 transpose
    [[0, -1], [1, 0]],  // 6 rotate 90 clockwise
    [[0, -1], [-1, 0]], // 7 transverse
    [[0, 1], [-1, 0]],  // 8 rotate 90 anti-clockwise
];

/// The orientation that applies `first`, then `then`.
fn compose(first: u8, then: u8) -> u8 {
    let a = ORIENTATIONS[(first.clamp(1, 8) - 1) as usize];
    let b = ORIENTATIONS[(then.clamp(1, 8) - 1) as usize];
    let mut m = [[0i8; 2]; 2];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = b[i][0] * a[0][j] + b[i][1] * a[1][j];
        }
    }
    ORIENTATIONS
        .iter()
        .position(|o| *o == m)
        .map_or(1, |i| i as u8 + 1)
}

/// The clean aperture as (left, top, width, height) in whole pixels, or None when it
/// is not a whole-pixel rectangle inside the image (then the full image is shown).
fn clap_rect(
    clap: CleanAperture,
    width: usize,
    height: usize,
) -> Option<(usize, usize, usize, usize)> {
    let whole = |(n, d): (i64, i64)| (d > 0 && n > 0 && n % d == 0).then(|| n / d);
    let crop_w = whole(clap.width)?;
    let crop_h = whole(clap.height)?;
    // left = offset + (size - crop) / 2, as a fraction over 2 * offset denominator.
    let origin = |(n, d): (i64, i64), size: i64, crop: i64| -> Option<i64> {
        if d <= 0 {
            return None;
        }
        let numerator = 2 * n + (size - crop) * d;
        (numerator % (2 * d) == 0).then(|| numerator / (2 * d))
    };
    let left = origin(clap.horizontal_offset, width as i64, crop_w)?;
    let top = origin(clap.vertical_offset, height as i64, crop_h)?;
    if left < 0 || top < 0 || left + crop_w > width as i64 || top + crop_h > height as i64 {
        return None;
    }
    Some((
        left as usize,
        top as usize,
        crop_w as usize,
        crop_h as usize,
    ))
}

fn crop(canvas: Canvas, clap: CleanAperture) -> Canvas {
    let Some((left, top, w, h)) = clap_rect(clap, canvas.width, canvas.height) else {
        return canvas;
    };
    if (w, h) == (canvas.width, canvas.height) {
        return canvas;
    }
    let ch = canvas.channels;
    let mut data = Vec::with_capacity(w * h * ch);
    for y in top..top + h {
        let start = (y * canvas.width + left) * ch;
        data.extend_from_slice(&canvas.data[start..start + w * ch]);
    }
    Canvas {
        width: w,
        height: h,
        channels: ch,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_composition() {
        for o in 1..=8 {
            assert_eq!(compose(1, o), o);
            assert_eq!(compose(o, 1), o);
        }
        // Two quarter turns anti-clockwise are a half turn; 90 cw + 90 ccw is nothing.
        assert_eq!(compose(8, 8), 3);
        assert_eq!(compose(6, 8), 1);
        // Rotate 90 cw then mirror left-right is a transpose (EXIF 5); rotate 90 ccw
        // then mirror left-right is the transverse (EXIF 7).
        assert_eq!(compose(6, 2), 5);
        assert_eq!(compose(8, 2), 7);
        // Mirroring twice undoes it; both mirrors are a half turn.
        assert_eq!(compose(2, 2), 1);
        assert_eq!(compose(2, 4), 3);
    }

    #[test]
    fn clean_aperture() {
        let clap = |w: i64, h: i64, ho: (i64, i64), vo: (i64, i64)| CleanAperture {
            width: (w, 1),
            height: (h, 1),
            horizontal_offset: ho,
            vertical_offset: vo,
        };
        // Centred 60x40 crop of 100x80.
        assert_eq!(
            clap_rect(clap(60, 40, (0, 1), (0, 1)), 100, 80),
            Some((20, 20, 60, 40))
        );
        // Offsets move the centre: -20 px and +10 px.
        assert_eq!(
            clap_rect(clap(60, 40, (-40, 2), (10, 1)), 100, 80),
            Some((0, 30, 60, 40))
        );
        // Half-pixel origins and rectangles outside the image are ignored.
        assert_eq!(clap_rect(clap(61, 40, (0, 1), (0, 1)), 100, 80), None);
        assert_eq!(clap_rect(clap(60, 40, (30, 1), (0, 1)), 100, 80), None);
        assert_eq!(clap_rect(clap(0, 40, (0, 1), (0, 1)), 100, 80), None);
        assert_eq!(clap_rect(clap(60, 40, (0, 0), (0, 1)), 100, 80), None);
    }

    #[test]
    fn decode_memory_estimate() {
        let c = |bit_depth, monochrome, x, y| {
            Some(Av1Config {
                bit_depth,
                monochrome,
                subsampling_x: x,
                subsampling_y: y,
            })
        };
        assert_eq!(av1_decode_bytes(100, c(8, false, true, true)), 250);
        assert_eq!(av1_decode_bytes(100, c(10, false, false, false)), 700);
        assert_eq!(av1_decode_bytes(100, c(8, true, true, true)), 200);
        assert_eq!(av1_decode_bytes(100, None), 700);
    }
}
