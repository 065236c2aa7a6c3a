//! AVIF/HEIF header probe: brands, and the primary item's `ispe` through the one
//! ISO-BMFF box walker (`crate::bmff`).

use super::{be16, be32, Detail};
use crate::bmff;
use crate::error::{Error, Result};

// ---------------------------------------------------------------------------------
// AVIF/HEIF: ISO-BMFF boxes; the size comes from the primary item's `ispe` property.

/// The boxes in `data` as (type, payload), through the one box walker; a box that
/// runs past the end ends the walk (the decoder reports damage, the probe only sizes).
fn boxes(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    bmff::top_level(data).into_iter().map(|b| (b.kind, b.body))
}

fn find_box<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).find(|(k, _)| k == kind).map(|(_, p)| p)
}

/// The brands of a leading `ftyp` box (major and compatible), if there is one.
pub(super) fn ftyp_brands(bytes: &[u8]) -> Option<impl Iterator<Item = [u8; 4]> + '_> {
    if bytes.get(4..8) != Some(b"ftyp") {
        return None;
    }
    let size = (be32(bytes, 0)? as usize).clamp(8, bytes.len());
    let payload = bytes.get(8..size)?;
    let major = payload.get(0..4).map(|b| [b[0], b[1], b[2], b[3]]);
    let compatible = payload
        .get(8..)
        .unwrap_or(&[])
        .chunks_exact(4)
        .map(|b| [b[0], b[1], b[2], b[3]]);
    Some(major.into_iter().chain(compatible))
}

// Out of line: a cold start compiles only the format it meets (V8 compiles per function).
#[inline(never)]
pub(super) fn avif_header(bytes: &[u8]) -> Result<(u32, u32, Detail)> {
    let brands: Vec<[u8; 4]> = ftyp_brands(bytes).map(|b| b.collect()).unwrap_or_default();
    let heic = brands.iter().any(|b| b.starts_with(b"he"))
        && !brands.iter().any(|b| b == b"avif" || b == b"avis");
    let (w, h) = avif_ispe(bytes).ok_or_else(|| {
        Error::unsupported_format(if heic {
            "HEIF input is not supported"
        } else {
            "AVIF input is not supported"
        })
    })?;
    Ok((w, h, Detail::Avif { heic }))
}

/// Size of the primary item from its `ispe` property; the largest `ispe` when the
/// item/property association cannot be followed.
fn avif_ispe(bytes: &[u8]) -> Option<(u32, u32)> {
    let meta = find_box(bytes, b"meta")?.get(4..)?; // full box
    let iprp = find_box(meta, b"iprp")?;
    let ipco = find_box(iprp, b"ipco")?;
    let props: Vec<([u8; 4], &[u8])> = boxes(ipco).collect();
    let ispe = |p: &[u8]| Some((be32(p, 4)?, be32(p, 8)?));

    let primary = find_box(meta, b"pitm").and_then(|p| match p.first()? {
        0 => be16(p, 4).map(u32::from),
        _ => be32(p, 4),
    });
    if let (Some(primary), Some(ipma)) = (primary, find_box(iprp, b"ipma")) {
        let version = *ipma.first()?;
        let wide_index = ipma.get(3)? & 1 == 1;
        let count = be32(ipma, 4)?;
        let mut pos = 8usize;
        for _ in 0..count.min(65_536) {
            let item = if version < 1 {
                pos += 2;
                be16(ipma, pos - 2)? as u32
            } else {
                pos += 4;
                be32(ipma, pos - 4)?
            };
            let n = *ipma.get(pos)? as usize;
            pos += 1;
            for _ in 0..n {
                let index = if wide_index {
                    pos += 2;
                    (be16(ipma, pos - 2)? & 0x7FFF) as usize
                } else {
                    pos += 1;
                    (ipma.get(pos - 1)? & 0x7F) as usize
                };
                if item == primary && index >= 1 {
                    if let Some((b"ispe", p)) = props.get(index - 1).map(|(k, p)| (k, *p)) {
                        return ispe(p);
                    }
                }
            }
        }
    }
    props
        .iter()
        .filter(|(k, _)| k == b"ispe")
        .filter_map(|(_, p)| ispe(p))
        .max_by_key(|&(w, h)| w as u64 * h as u64)
}
