//! YUV (8/10/12-bit, 4:2:0/4:2:2/4:4:4/monochrome, full or limited range) to 8-bit
//! RGB or gray, and alpha planes to 8-bit alpha. Values stay in the coded transfer
//! (no linearisation), as every other decoder of the pipeline does.
//!
//! Per sample value the contribution to each output channel is precomputed in a
//! table (16.16 fixed point), so a pixel costs a handful of lookups and adds.
//! Subsampled chroma is upsampled bilinearly, assuming centred chroma siting
//! (what encoders that average 2x2 blocks produce): 3/4 of the nearest chroma
//! sample and 1/4 of the next one on each subsampled axis.

use super::av1::{Picture, Plane, Sample, Subsampling};
use crate::error::{Error, Result};

/// The destination: a tightly packed 8-bit image with 1-4 channels. Colour goes to
/// the first channel (gray) or the first three (RGB); alpha to the last.
pub(super) struct Canvas {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub data: Vec<u8>,
}

impl Canvas {
    fn colour_channels(&self) -> usize {
        if self.channels >= 3 {
            3
        } else {
            1
        }
    }
}

/// How coded samples map to RGB (ISO/IEC 23091-2 matrix coefficients and range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ColourCoding {
    pub matrix: u16,
    pub full_range: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Matrix {
    /// Y'CbCr with luma weights Kr, Kb.
    YCbCr {
        kr: f64,
        kb: f64,
    },
    /// GBR stored as Y=G, U=B, V=R.
    Identity,
    YCgCo,
}

/// Luma weights for the chromaticity-derived matrices (12, 13), from the colour
/// primaries: the Y row of the RGB to XYZ matrix.
fn derived_weights(primaries: u16) -> Option<(f64, f64)> {
    // (xr, yr, xg, yg, xb, yb, xw, yw)
    let p: [f64; 8] = match primaries {
        1 | 2 => return Some((0.2126, 0.0722)),
        4 => [0.67, 0.33, 0.21, 0.71, 0.14, 0.08, 0.310, 0.316],
        5 => [0.64, 0.33, 0.29, 0.60, 0.15, 0.06, 0.3127, 0.3290],
        6 | 7 => [0.630, 0.340, 0.310, 0.595, 0.155, 0.070, 0.3127, 0.3290],
        9 => [0.708, 0.292, 0.170, 0.797, 0.131, 0.046, 0.3127, 0.3290],
        11 => [0.680, 0.320, 0.265, 0.690, 0.150, 0.060, 0.314, 0.351],
        12 => [0.680, 0.320, 0.265, 0.690, 0.150, 0.060, 0.3127, 0.3290],
        _ => return None,
    };
    let [xr, yr, xg, yg, xb, yb, xw, yw] = p;
    let z = |x: f64, y: f64| 1.0 - x - y;
    let (zr, zg, zb, zw) = (z(xr, yr), z(xg, yg), z(xb, yb), z(xw, yw));
    let denom =
        yw * (xr * (yg * zb - yb * zg) + xg * (yb * zr - yr * zb) + xb * (yr * zg - yg * zr));
    if denom.abs() < 1e-12 {
        return None;
    }
    let kr = yr * (xw * (yg * zb - yb * zg) + yw * (xb * zg - xg * zb) + zw * (xg * yb - xb * yg))
        / denom;
    let kb = yb * (xw * (yr * zg - yg * zr) + yw * (xg * zr - xr * zg) + zw * (xr * yg - xg * yr))
        / denom;
    Some((kr, kb))
}

fn matrix(coding: ColourCoding, primaries: u16) -> Result<Matrix> {
    let ycbcr = |kr, kb| Ok(Matrix::YCbCr { kr, kb });
    match coding.matrix {
        0 => Ok(Matrix::Identity),
        1 => ycbcr(0.2126, 0.0722),
        4 => ycbcr(0.30, 0.11),
        7 => ycbcr(0.212, 0.087),
        8 => Ok(Matrix::YCgCo),
        // Constant-luminance BT.2020 is approximated by its non-constant variant.
        9 | 10 => ycbcr(0.2627, 0.0593),
        12 | 13 => {
            let (kr, kb) = derived_weights(primaries).unwrap_or((0.299, 0.114));
            ycbcr(kr, kb)
        }
        11 | 14 => Err(Error::unsupported_format(format!(
            "AVIF with matrix coefficients {} is not supported",
            coding.matrix
        ))),
        // 5, 6 (BT.601), 2 (unspecified) and reserved values: BT.601, as libavif does.
        _ => ycbcr(0.299, 0.114),
    }
}

/// Per-sample-value contributions in 16.16 fixed point of the 0-255 output scale.
pub(super) struct Tables {
    bit_depth: u8,
    matrix: Matrix,
    /// Luma, with the rounding bias folded in.
    y: Vec<i32>,
    /// Chroma contributions to R, G, B from U and from V.
    ru: Vec<i32>,
    rv: Vec<i32>,
    gu: Vec<i32>,
    gv: Vec<i32>,
    bu: Vec<i32>,
    bv: Vec<i32>,
}

const ONE: f64 = 255.0 * 65536.0;
const HALF: i32 = 1 << 15;

impl Tables {
    pub fn new(bit_depth: u8, coding: ColourCoding, primaries: u16) -> Result<Tables> {
        if !matches!(bit_depth, 8 | 10 | 12) {
            return Err(Error::unsupported_format(format!(
                "{bit_depth}-bit AVIF is not supported"
            )));
        }
        let matrix = matrix(coding, primaries)?;
        let n = 1usize << bit_depth;
        let max = (n - 1) as f64;
        let scale = (1u32 << (bit_depth - 8)) as f64;
        let luma = |s: usize| {
            if coding.full_range {
                s as f64 / max
            } else {
                (s as f64 - 16.0 * scale) / (219.0 * scale)
            }
        };
        let chroma = |s: usize| {
            if coding.full_range {
                (s as f64 - (n / 2) as f64) / max
            } else {
                (s as f64 - 128.0 * scale) / (224.0 * scale)
            }
        };
        let table = |f: &dyn Fn(usize) -> f64, k: f64| -> Vec<i32> {
            (0..n).map(|s| (f(s) * k * ONE).round() as i32).collect()
        };
        let y: Vec<i32> = table(&luma, 1.0).into_iter().map(|v| v + HALF).collect();
        let zero = vec![0i32; n];
        let (ru, rv, gu, gv, bu, bv) = match matrix {
            Matrix::YCbCr { kr, kb } => {
                let kg = 1.0 - kr - kb;
                (
                    zero.clone(),
                    table(&chroma, 2.0 * (1.0 - kr)),
                    table(&chroma, -2.0 * kb * (1.0 - kb) / kg),
                    table(&chroma, -2.0 * kr * (1.0 - kr) / kg),
                    table(&chroma, 2.0 * (1.0 - kb)),
                    zero,
                )
            }
            Matrix::YCgCo => (
                table(&chroma, -1.0),
                table(&chroma, 1.0),
                table(&chroma, 1.0),
                zero.clone(),
                table(&chroma, -1.0),
                table(&chroma, -1.0),
            ),
            // Every plane holds a colour channel at luma scale; see `identity_row`.
            Matrix::Identity => (
                zero.clone(),
                table(&luma, 1.0),
                zero.clone(),
                zero.clone(),
                table(&luma, 1.0),
                zero,
            ),
        };
        Ok(Tables {
            bit_depth,
            matrix,
            y,
            ru,
            rv,
            gu,
            gv,
            bu,
            bv,
        })
    }
}

fn to_u8(v: i32) -> u8 {
    (v >> 16).clamp(0, 255) as u8
}

/// Write the colour of `picture` into `canvas` at (x0, y0), clipped to the canvas.
pub(super) fn write_colour(
    picture: &Picture,
    tables: &Tables,
    canvas: &mut Canvas,
    x0: usize,
    y0: usize,
) -> Result<()> {
    if picture.bit_depth() != tables.bit_depth {
        return Err(Error::corrupt_image(
            "AVIF tiles or planes disagree on the bit depth",
        ));
    }
    if picture.bit_depth() == 8 {
        colour::<u8>(picture, tables, canvas, x0, y0)
    } else {
        colour::<u16>(picture, tables, canvas, x0, y0)
    }
}

fn missing_plane() -> Error {
    Error::corrupt_image("AV1 frame is missing a plane")
}

/// Sample `s` clamped to the table size (10-bit values above 1023 are invalid).
fn at(table: &[i32], s: u32) -> i32 {
    table[(s as usize).min(table.len() - 1)]
}

fn colour<T: Sample>(
    picture: &Picture,
    tables: &Tables,
    canvas: &mut Canvas,
    x0: usize,
    y0: usize,
) -> Result<()> {
    let luma: Plane<T> = picture.plane(0).ok_or_else(missing_plane)?;
    let width = luma.width.min(canvas.width.saturating_sub(x0));
    let height = luma.rows.min(canvas.height.saturating_sub(y0));
    let (channels, colour_channels) = (canvas.channels, canvas.colour_channels());
    let canvas_width = canvas.width;
    let sub = picture.subsampling();
    let chroma = if sub == Subsampling::Monochrome || colour_channels == 1 {
        None
    } else {
        let u: Plane<T> = picture.plane(1).ok_or_else(missing_plane)?;
        let v: Plane<T> = picture.plane(2).ok_or_else(missing_plane)?;
        Some((u, v))
    };
    let (sub_x, sub_y) = match sub {
        Subsampling::Yuv420 => (true, true),
        Subsampling::Yuv422 => (true, false),
        _ => (false, false),
    };
    // Chroma rows blended vertically, weights summing to 4.
    let chroma_width = chroma.as_ref().map_or(0, |(u, _)| u.width);
    let mut u_row = vec![0u32; chroma_width];
    let mut v_row = vec![0u32; chroma_width];
    for y in 0..height {
        let out_start = ((y0 + y) * canvas_width + x0) * channels;
        let out = &mut canvas.data[out_start..out_start + width * channels];
        let luma_row = luma.row(y);
        let Some((u, v)) = &chroma else {
            for (x, px) in out.chunks_exact_mut(channels).enumerate() {
                let g = to_u8(at(&tables.y, luma_row[x].into()));
                px[..colour_channels].fill(g);
            }
            continue;
        };
        blend_rows(u, y, sub_y, &mut u_row);
        blend_rows(v, y, sub_y, &mut v_row);
        let last = chroma_width - 1;
        for (x, px) in out.chunks_exact_mut(channels).enumerate() {
            let (cu, cv) = if sub_x {
                let near = (x >> 1).min(last);
                let far = if x & 1 == 1 {
                    (near + 1).min(last)
                } else {
                    near.saturating_sub(1)
                };
                (
                    (3 * u_row[near] + u_row[far] + 8) >> 4,
                    (3 * v_row[near] + v_row[far] + 8) >> 4,
                )
            } else {
                ((u_row[x] + 2) >> 2, (v_row[x] + 2) >> 2)
            };
            let ys = luma_row[x].into();
            if tables.matrix == Matrix::Identity {
                px[0] = to_u8(at(&tables.rv, cv) + HALF);
                px[1] = to_u8(at(&tables.y, ys));
                px[2] = to_u8(at(&tables.bu, cu) + HALF);
                continue;
            }
            let yv = at(&tables.y, ys);
            px[0] = to_u8(yv + at(&tables.ru, cu) + at(&tables.rv, cv));
            px[1] = to_u8(yv + at(&tables.gu, cu) + at(&tables.gv, cv));
            px[2] = to_u8(yv + at(&tables.bu, cu) + at(&tables.bv, cv));
        }
    }
    Ok(())
}

/// The chroma row for luma row `y`, times 4: 3 x nearest + 1 x next when
/// vertically subsampled, 4 x the row otherwise.
fn blend_rows<T: Sample>(plane: &Plane<T>, y: usize, sub_y: bool, out: &mut [u32]) {
    let last = plane.rows - 1;
    let (near, far) = if sub_y {
        let near = (y >> 1).min(last);
        let far = if y & 1 == 1 {
            (near + 1).min(last)
        } else {
            near.saturating_sub(1)
        };
        (near, far)
    } else {
        (y.min(last), y.min(last))
    };
    let (a, b) = (plane.row(near), plane.row(far));
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        let (a, b): (u32, u32) = (a.into(), b.into());
        *o = if sub_y { 3 * a + b } else { 4 * a };
    }
}

/// Write the luma plane of `picture` as alpha into the last channel of `canvas`.
pub(super) fn write_alpha(
    picture: &Picture,
    full_range: bool,
    canvas: &mut Canvas,
    x0: usize,
    y0: usize,
) -> Result<()> {
    let depth = picture.bit_depth();
    if !matches!(depth, 8 | 10 | 12) {
        return Err(Error::unsupported_format(format!(
            "{depth}-bit AVIF alpha is not supported"
        )));
    }
    let n = 1usize << depth;
    let max = (n - 1) as f64;
    let scale = (1u32 << (depth - 8)) as f64;
    let table: Vec<u8> = (0..n)
        .map(|s| {
            let v = if full_range {
                s as f64 / max
            } else {
                (s as f64 - 16.0 * scale) / (219.0 * scale)
            };
            (v * 255.0).round().clamp(0.0, 255.0) as u8
        })
        .collect();
    if depth == 8 {
        alpha::<u8>(picture, &table, canvas, x0, y0)
    } else {
        alpha::<u16>(picture, &table, canvas, x0, y0)
    }
}

fn alpha<T: Sample>(
    picture: &Picture,
    table: &[u8],
    canvas: &mut Canvas,
    x0: usize,
    y0: usize,
) -> Result<()> {
    let plane: Plane<T> = picture.plane(0).ok_or_else(missing_plane)?;
    let width = plane.width.min(canvas.width.saturating_sub(x0));
    let height = plane.rows.min(canvas.height.saturating_sub(y0));
    let channels = canvas.channels;
    for y in 0..height {
        let start = ((y0 + y) * canvas.width + x0) * channels;
        let out = &mut canvas.data[start..start + width * channels];
        for (px, &s) in out.chunks_exact_mut(channels).zip(plane.row(y)) {
            let s: u32 = s.into();
            px[channels - 1] = table[(s as usize).min(table.len() - 1)];
        }
    }
    Ok(())
}

/// Undo premultiplied alpha in place (colour channels only).
pub(super) fn unpremultiply(canvas: &mut Canvas) {
    let channels = canvas.channels;
    for px in canvas.data.chunks_exact_mut(channels) {
        let a = px[channels - 1] as u32;
        if a == 255 {
            continue;
        }
        for c in &mut px[..channels - 1] {
            // Fully transparent pixels keep no colour.
            *c = (*c as u32 * 255 + a / 2)
                .checked_div(a)
                .map_or(0, |v| v.min(255) as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coding(matrix: u16, full_range: bool) -> ColourCoding {
        ColourCoding { matrix, full_range }
    }

    fn rgb(t: &Tables, y: u32, u: u32, v: u32) -> [u8; 3] {
        let yv = at(&t.y, y);
        [
            to_u8(yv + at(&t.ru, u) + at(&t.rv, v)),
            to_u8(yv + at(&t.gu, u) + at(&t.gv, v)),
            to_u8(yv + at(&t.bu, u) + at(&t.bv, v)),
        ]
    }

    #[test]
    fn greys_and_primaries() {
        let t = Tables::new(8, coding(6, true), 2).unwrap();
        assert_eq!(rgb(&t, 0, 128, 128), [0, 0, 0]);
        assert_eq!(rgb(&t, 255, 128, 128), [255, 255, 255]);
        assert_eq!(rgb(&t, 128, 128, 128), [128, 128, 128]);
        // BT.601 full-range red (255, 0, 0) is Y 76, Cb 85, Cr 255.
        let red = rgb(&t, 76, 85, 255);
        assert!(red[0] >= 253 && red[1] <= 2 && red[2] <= 2, "{red:?}");

        // Limited range: 16 is black, 235 white, and 10-bit scales by 4.
        let t = Tables::new(8, coding(1, false), 1).unwrap();
        assert_eq!(rgb(&t, 16, 128, 128), [0, 0, 0]);
        assert_eq!(rgb(&t, 235, 128, 128), [255, 255, 255]);
        let t = Tables::new(10, coding(1, false), 1).unwrap();
        assert_eq!(rgb(&t, 940, 512, 512), [255, 255, 255]);
        assert_eq!(rgb(&t, 64, 512, 512), [0, 0, 0]);
        // Out-of-range samples are clamped, not an index panic.
        assert_eq!(rgb(&t, 5000, 5000, 5000), rgb(&t, 1023, 1023, 1023));

        let t = Tables::new(12, coding(9, true), 9).unwrap();
        assert_eq!(rgb(&t, 4095, 2048, 2048), [255, 255, 255]);
    }

    #[test]
    fn derived_weights_match_the_named_matrices() {
        let (kr, kb) = derived_weights(9).unwrap();
        assert!((kr - 0.2627).abs() < 1e-3 && (kb - 0.0593).abs() < 1e-3);
        let (kr, kb) = derived_weights(6).unwrap();
        assert!((kr - 0.212).abs() < 2e-3 && (kb - 0.087).abs() < 2e-3);
    }

    #[test]
    fn unsupported_bit_depths_and_matrices() {
        assert_eq!(
            Tables::new(9, coding(1, true), 1).err().unwrap().status(),
            415
        );
        assert_eq!(
            Tables::new(8, coding(14, true), 1).err().unwrap().status(),
            415
        );
    }

    #[test]
    fn unpremultiply_restores_colour() {
        let mut c = Canvas {
            width: 3,
            height: 1,
            channels: 4,
            data: vec![50, 25, 0, 100, 9, 9, 9, 0, 200, 100, 0, 255],
        };
        unpremultiply(&mut c);
        assert_eq!(c.data, [128, 64, 0, 100, 0, 0, 0, 0, 200, 100, 0, 255]);
    }
}
