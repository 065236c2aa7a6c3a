//! Lanczos3 resampling of opaque 8-bit images (gray, RGB) in fixed point.
//!
//! Same filter as the `resize` crate (pixel-centre aligned, the kernel widened by the
//! scale factor when shrinking, taps outside the image dropped and the rest
//! renormalised), computed the way Pillow does it: integer weights, vertical pass
//! first into one 8-bit row, then the horizontal pass. The vertical pass is a
//! multiply-add over contiguous bytes, blocked so the sums stay in SIMD registers
//! (wasm `simd128` included); doing it first leaves the horizontal pass only the
//! output rows, which in wasm runs as i16 dot products (`simd128` below: RGB with the
//! channels in the lanes and two taps per dot, gray eight taps per dot; scalar
//! elsewhere, same integer sums). hato.jpg at 1/2 (1541x1024) → 1200x797 in wasm:
//! 13.3 ms, against 17.7 ms with RGB as planes (same run) and about 3x that for the
//! `resize` crate's f32 path, which stays in use for RGBA (premultiplied alpha needs
//! more than 8 bits between the passes).

/// Fixed-point precision of the weights: 255 × 2^14 × (sum of |weights| ≤ ~1.3)
/// stays far inside `i32`.
const BITS: u32 = 14;
const ONE: i32 = 1 << BITS;
const HALF: i32 = 1 << (BITS - 1);

/// Filter taps of one axis: output `i` reads source `start[i] .. start[i] + len`.
#[derive(Debug)]
struct Taps {
    starts: Vec<usize>,
    /// `len` weights per output position, zero-padded, summing to `ONE`.
    weights: Vec<i32>,
    len: usize,
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let a = x * std::f64::consts::PI;
        a.sin() / a
    }
}

fn lanczos3(x: f64) -> f64 {
    if x.abs() < 3.0 {
        sinc(x) * sinc(x / 3.0)
    } else {
        0.0
    }
}

impl Taps {
    fn new(src: usize, dst: usize) -> Taps {
        let ratio = src as f64 / dst as f64;
        let scale = ratio.max(1.0);
        let radius = 3.0 * scale;
        let windows: Vec<(usize, usize, f64)> = (0..dst)
            .map(|i| {
                let centre = (i as f64 + 0.5) * ratio - 0.5;
                let first = ((centre - radius).ceil().max(0.0) as usize).min(src - 1);
                let last = ((centre + radius).floor().max(0.0) as usize).clamp(first, src - 1);
                (first, last, centre)
            })
            .collect();
        let len = windows
            .iter()
            .map(|&(f, l, _)| l - f + 1)
            .max()
            .unwrap_or(1);
        let mut starts = Vec::with_capacity(dst);
        let mut weights = vec![0i32; dst * len];
        for (i, &(first, last, centre)) in windows.iter().enumerate() {
            // Shift the window left at the right edge so every read stays in bounds.
            let start = first.min(src - len);
            let raw: Vec<f64> = (first..=last)
                .map(|j| lanczos3((j as f64 - centre) / scale))
                .collect();
            let sum: f64 = raw.iter().sum();
            let out = &mut weights[i * len..(i + 1) * len];
            let offset = first - start;
            let mut total = 0;
            for (k, w) in raw.iter().enumerate() {
                let fixed = if sum.abs() > 1e-9 {
                    (w / sum * f64::from(ONE)).round() as i32
                } else {
                    0
                };
                out[offset + k] = fixed;
                total += fixed;
            }
            // Exact unit sum: a flat colour stays exactly that colour.
            let peak = (0..len).max_by_key(|&k| out[k]).unwrap_or(0);
            out[peak] += ONE - total;
            starts.push(start);
        }
        Taps {
            starts,
            weights,
            len,
        }
    }

    fn of(&self, i: usize) -> (usize, &[i32]) {
        (
            self.starts[i],
            &self.weights[i * self.len..(i + 1) * self.len],
        )
    }
}

fn to_u8(acc: i32) -> u8 {
    ((acc + HALF) >> BITS).clamp(0, 255) as u8
}

/// Resamples the `src_w`×`src_h` block at (`x`, `y`) of an image with `stride` pixels
/// per row and `C` bytes per pixel into `dst` (`dst_w`×`dst_h`, tightly packed).
pub(crate) fn resample<const C: usize>(
    src: &[u8],
    stride: usize,
    (x, y, src_w, src_h): (usize, usize, usize, usize),
    dst: &mut [u8],
    dst_w: usize,
    dst_h: usize,
) {
    let vertical = Taps::new(src_h, dst_h);
    let horizontal_taps = Taps::new(src_w, dst_w);
    let row_len = src_w * C;
    let mut row = vec![0u8; row_len];
    let mut offsets = vec![0usize; vertical.len];
    let mut horizontal = Horizontal::new(&horizontal_taps, src_w, C);
    for (out_y, out_row) in dst.chunks_exact_mut(dst_w * C).enumerate().take(dst_h) {
        let (start, weights) = vertical.of(out_y);
        for (k, offset) in offsets.iter_mut().enumerate() {
            *offset = ((y + start + k) * stride + x) * C;
        }
        vertical_pass(src, &offsets, weights, &mut row[..row_len]);
        horizontal.run::<C>(&row, out_row);
    }
}

/// Bytes of one row filtered together, kept in registers across all taps.
const BLOCK: usize = 32;

/// `out[i] = Σ weights[k] · src[offsets[k] + i]`. In wasm with `simd128`, two taps
/// per `i32x4.dot_i16x8_s` (`simd128::vertical_pass`); otherwise the portable loop.
fn vertical_pass(src: &[u8], offsets: &[usize], weights: &[i32], out: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if simd128::vertical_pass(src, offsets, weights, out) {
        return;
    }
    vertical_pass_portable(src, offsets, weights, out)
}

/// The vertical pass as contiguous multiply-adds over whole blocks of bytes, which LLVM
/// turns into SIMD (SSE/AVX, wasm `simd128`).
fn vertical_pass_portable(src: &[u8], offsets: &[usize], weights: &[i32], out: &mut [u8]) {
    let len = out.len();
    let mut i = 0;
    while i + BLOCK <= len {
        let mut acc = [0i32; BLOCK];
        for (&offset, &w) in offsets.iter().zip(weights) {
            let block: &[u8; BLOCK] = src[offset + i..offset + i + BLOCK].try_into().unwrap();
            for j in 0..BLOCK {
                acc[j] += w * i32::from(block[j]);
            }
        }
        let block: &mut [u8; BLOCK] = (&mut out[i..i + BLOCK]).try_into().unwrap();
        for j in 0..BLOCK {
            block[j] = to_u8(acc[j]);
        }
        i += BLOCK;
    }
    vertical_tail(src, offsets, weights, out, i);
}

/// The samples from `start` on, one at a time (the part shorter than a SIMD block).
fn vertical_tail(src: &[u8], offsets: &[usize], weights: &[i32], out: &mut [u8], start: usize) {
    for (j, o) in out.iter_mut().enumerate().skip(start) {
        let acc: i32 = offsets
            .iter()
            .zip(weights)
            .map(|(&offset, &w)| w * i32::from(src[offset + j]))
            .sum();
        *o = to_u8(acc);
    }
}

fn horizontal_pass_scalar<const C: usize>(row: &[u8], taps: &Taps, out_row: &mut [u8]) {
    for (out_x, px) in out_row.chunks_exact_mut(C).enumerate() {
        let (start, weights) = taps.of(out_x);
        let pixels = &row[start * C..(start + taps.len) * C];
        let mut sum = [0i32; C];
        for (&w, p) in weights.iter().zip(pixels.chunks_exact(C)) {
            for c in 0..C {
                sum[c] += w * i32::from(p[c]);
            }
        }
        for c in 0..C {
            px[c] = to_u8(sum[c]);
        }
    }
}

/// The horizontal pass, prepared once per image: on wasm with `simd128`, the weights
/// and row layout of `simd128::Prepared`; elsewhere the scalar pass.
struct Horizontal<'a> {
    taps: &'a Taps,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd: Option<simd128::Prepared>,
}

impl<'a> Horizontal<'a> {
    fn new(taps: &'a Taps, _src_w: usize, _channels: usize) -> Horizontal<'a> {
        Horizontal {
            taps,
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            simd: simd128::Prepared::new(taps, _src_w, _channels),
        }
    }

    /// Out of line: V8 tiers a wasm function up only between calls, so the per-row
    /// work must be its own function for the rows after the first few to run optimised.
    #[inline(never)]
    fn run<const C: usize>(&mut self, row: &[u8], out_row: &mut [u8]) {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        if let Some(simd) = &mut self.simd {
            return simd.horizontal_pass(row, self.taps, out_row);
        }
        horizontal_pass_scalar::<C>(row, self.taps, out_row)
    }
}

/// Both passes with wasm `i32x4.dot_i16x8_s` on i16 weights (Lanczos3's all fit): the
/// same integer sums as the scalar passes, so the same bytes.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use std::arch::wasm32::*;

    use super::{to_u8, Taps, BITS, HALF};

    const LANES: usize = 8;

    /// Taps handled by the paired vertical pass (more: the portable loop).
    const MAX_VERTICAL_TAPS: usize = 64;

    /// The vertical pass, 16 output bytes at a time: each pair of source rows is
    /// widened to i16, interleaved, and multiplied by its (i16) weight pair in one
    /// `i32x4.dot_i16x8_s` per four outputs. The same integer sums as the portable
    /// loop, so the same bytes; false (nothing done) when a weight does not fit i16
    /// or there are more than `MAX_VERTICAL_TAPS` taps.
    pub(super) fn vertical_pass(
        src: &[u8],
        offsets: &[usize],
        weights: &[i32],
        out: &mut [u8],
    ) -> bool {
        let taps = offsets.len();
        if taps == 0 || taps > MAX_VERTICAL_TAPS || weights.len() < taps {
            return false;
        }
        // Weight pairs (w[2p], w[2p+1]) as one i32 lane pattern; an odd last tap pairs
        // with weight 0 on the same row.
        let pairs = taps.div_ceil(2);
        let mut pair_weights = [i32x4_splat(0); MAX_VERTICAL_TAPS / 2];
        let mut pair_rows = [(0usize, 0usize); MAX_VERTICAL_TAPS / 2];
        for p in 0..pairs {
            let k0 = 2 * p;
            let k1 = (k0 + 1).min(taps - 1);
            let (Ok(w0), Ok(w1)) = (
                i16::try_from(weights[k0]),
                i16::try_from(if k0 + 1 < taps { weights[k0 + 1] } else { 0 }),
            ) else {
                return false;
            };
            pair_weights[p] = i32x4_splat(i32::from(w0 as u16) | (i32::from(w1) << 16));
            pair_rows[p] = (offsets[k0], offsets[k1]);
        }
        let len = out.len();
        let mut i = 0;
        while i + 16 <= len {
            let mut acc = [i32x4_splat(0); 4];
            for p in 0..pairs {
                let (o0, o1) = pair_rows[p];
                let (r0, r1) = (&src[o0 + i..o0 + i + 16], &src[o1 + i..o1 + i + 16]);
                // SAFETY: `r0` and `r1` are 16 bytes each; v128 loads need no alignment.
                let (a, b) =
                    unsafe { (v128_load(r0.as_ptr().cast()), v128_load(r1.as_ptr().cast())) };
                let (a_lo, b_lo) = (u16x8_extend_low_u8x16(a), u16x8_extend_low_u8x16(b));
                let (a_hi, b_hi) = (u16x8_extend_high_u8x16(a), u16x8_extend_high_u8x16(b));
                let w = pair_weights[p];
                let x = [
                    i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(a_lo, b_lo),
                    i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(a_lo, b_lo),
                    i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(a_hi, b_hi),
                    i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(a_hi, b_hi),
                ];
                for q in 0..4 {
                    acc[q] = i32x4_add(acc[q], i32x4_dot_i16x8(x[q], w));
                }
            }
            // `to_u8` on 16 lanes: the saturating narrows clamp to 0..=255 exactly as
            // `clamp(0, 255)` does.
            let v = acc.map(round_shift);
            let bytes = u8x16_narrow_i16x8(
                i16x8_narrow_i32x4(v[0], v[1]),
                i16x8_narrow_i32x4(v[2], v[3]),
            );
            // SAFETY: `out[i..i + 16]` is in bounds (loop condition).
            unsafe { v128_store(out[i..i + 16].as_mut_ptr().cast(), bytes) };
            i += 16;
        }
        super::vertical_tail(src, offsets, weights, out, i);
        true
    }

    /// `to_u8`'s rounding on four i32 lanes: add a half, shift out the fraction bits
    /// (the clamp is left to the saturating narrows that follow).
    #[inline(always)]
    fn round_shift(acc: v128) -> v128 {
        i32x4_shr(i32x4_add(acc, i32x4_splat(HALF)), BITS)
    }

    /// The horizontal pass prepared once per image: RGB with the channels in the lanes
    /// (`RgbPairs`), gray as one i16 plane (`GrayPlane`). `None` for other layouts, or
    /// when a weight does not fit i16 (never for Lanczos3, whose weights stay within
    /// ±1.3 × 2^14): the scalar pass runs then.
    pub(super) enum Prepared {
        Rgb(RgbPairs),
        Gray(GrayPlane),
    }

    impl Prepared {
        pub(super) fn new(taps: &Taps, src_w: usize, channels: usize) -> Option<Prepared> {
            match channels {
                3 => RgbPairs::new(taps, src_w).map(Prepared::Rgb),
                1 => GrayPlane::new(taps, src_w).map(Prepared::Gray),
                _ => None,
            }
        }

        pub(super) fn horizontal_pass(&mut self, row: &[u8], taps: &Taps, out_row: &mut [u8]) {
            match self {
                Prepared::Rgb(pass) => pass.horizontal_pass(row, taps, out_row),
                Prepared::Gray(pass) => pass.horizontal_pass(row, taps, out_row),
            }
        }
    }

    /// RGB with the channels in the lanes, so no output needs a horizontal reduction:
    /// source position `k` is kept as the i16 lanes `(r[k], r[k+1], g[k], g[k+1],
    /// b[k], b[k+1], 0, 0)`, and one `i32x4.dot_i16x8_s` with the weight pair
    /// `(w[2p], w[2p+1])` in every i32 lane adds two taps to all three channels.
    pub(super) struct RgbPairs {
        /// Tap pairs per output position (`taps.len` rounded up to even, halved).
        pairs: usize,
        /// `pairs` weight pairs per output position, `w0 | w1 << 16`; an odd last tap
        /// pairs with weight 0.
        weights: Vec<i32>,
        /// One entry per source position of the current row (see above).
        row: Vec<v128>,
    }

    impl RgbPairs {
        fn new(taps: &Taps, src_w: usize) -> Option<RgbPairs> {
            let pairs = taps.len.div_ceil(2);
            let positions = taps.starts.len();
            let mut weights = vec![0i32; positions * pairs];
            for i in 0..positions {
                let (_, w) = taps.of(i);
                for p in 0..pairs {
                    let w0 = i16::try_from(w[2 * p]).ok()?;
                    let w1 = i16::try_from(w.get(2 * p + 1).copied().unwrap_or(0)).ok()?;
                    weights[i * pairs + p] = i32::from(w0 as u16) | (i32::from(w1) << 16);
                }
            }
            Some(RgbPairs {
                pairs,
                weights,
                row: vec![i32x4_splat(0); src_w],
            })
        }

        /// Fills `self.row` from `row` (RGB bytes): one 16-byte load gives four
        /// positions, each one byte shuffle that also zero-extends to i16 (the odd bytes
        /// come from a zero vector). The last position's neighbour is 0: only a zero
        /// weight ever reads it.
        fn fill(&mut self, row: &[u8]) {
            let width = row.len() / 3;
            let zero = i8x16_splat(0);
            let mut k = 0;
            // Positions k..k+3 read bytes 3k .. 3k+14 (and k+4 exists).
            while 3 * k + 16 <= row.len() {
                let bytes = &row[3 * k..3 * k + 16];
                // SAFETY: `bytes` is 16 bytes; v128 loads need no alignment.
                let v = unsafe { v128_load(bytes.as_ptr().cast()) };
                let out = &mut self.row[k..k + 4];
                out[0] = i8x16_shuffle::<0, 16, 3, 16, 1, 16, 4, 16, 2, 16, 5, 16, 16, 16, 16, 16>(
                    v, zero,
                );
                out[1] = i8x16_shuffle::<3, 16, 6, 16, 4, 16, 7, 16, 5, 16, 8, 16, 16, 16, 16, 16>(
                    v, zero,
                );
                out[2] = i8x16_shuffle::<6, 16, 9, 16, 7, 16, 10, 16, 8, 16, 11, 16, 16, 16, 16, 16>(
                    v, zero,
                );
                out[3] =
                    i8x16_shuffle::<9, 16, 12, 16, 10, 16, 13, 16, 11, 16, 14, 16, 16, 16, 16, 16>(
                        v, zero,
                    );
                k += 4;
            }
            for k in k..width {
                let px = |c: usize, n: usize| row.get(3 * n + c).map_or(0, |&b| i16::from(b));
                self.row[k] = i16x8(
                    px(0, k),
                    px(0, k + 1),
                    px(1, k),
                    px(1, k + 1),
                    px(2, k),
                    px(2, k + 1),
                    0,
                    0,
                );
            }
        }

        /// `(r, g, b, 0)` sums of output `x` (window from `start`); `P` pairs, or
        /// `self.pairs` when `P` is 0.
        #[inline(always)]
        fn sums<const P: usize>(&self, x: usize, start: usize) -> v128 {
            let pairs = if P == 0 { self.pairs } else { P };
            let weights = &self.weights[x * pairs..(x + 1) * pairs];
            // Pair p reads positions start + 2p and start + 2p + 1: within the window.
            let row = &self.row[start..start + 2 * pairs - 1];
            let mut acc = i32x4_splat(0);
            for (p, &w) in weights.iter().enumerate() {
                acc = i32x4_add(acc, i32x4_dot_i16x8(row[2 * p], i32x4_splat(w)));
            }
            round_shift(acc)
        }

        fn horizontal_pass(&mut self, row: &[u8], taps: &Taps, out_row: &mut [u8]) {
            self.fill(row);
            // A constant pair count unrolls the tap loop (1.0-2x shrinks have 4-7).
            match self.pairs {
                3 => self.outputs::<3>(taps, out_row),
                4 => self.outputs::<4>(taps, out_row),
                5 => self.outputs::<5>(taps, out_row),
                6 => self.outputs::<6>(taps, out_row),
                7 => self.outputs::<7>(taps, out_row),
                _ => self.outputs::<0>(taps, out_row),
            }
        }

        #[inline(never)]
        fn outputs<const P: usize>(&self, taps: &Taps, out_row: &mut [u8]) {
            let out_w = out_row.len() / 3;
            let mut x = 0;
            // Four outputs (12 bytes) per store; `to_u8`'s clamp is the saturating narrows.
            while x + 4 <= out_w {
                let v: [v128; 4] =
                    std::array::from_fn(|j| self.sums::<P>(x + j, taps.starts[x + j]));
                let bytes = u8x16_narrow_i16x8(
                    i16x8_narrow_i32x4(v[0], v[1]),
                    i16x8_narrow_i32x4(v[2], v[3]),
                );
                let packed = i8x16_shuffle::<0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0, 0, 0, 0>(
                    bytes, bytes,
                );
                let out = &mut out_row[x * 3..x * 3 + 12];
                // SAFETY: `out` is 12 bytes: 8 then 4 are stored.
                unsafe {
                    v128_store64_lane::<0>(packed, out.as_mut_ptr().cast());
                    v128_store32_lane::<2>(packed, out.as_mut_ptr().add(8).cast());
                }
                x += 4;
            }
            for x in x..out_w {
                let v = self.sums::<P>(x, taps.starts[x]);
                let px = &mut out_row[x * 3..x * 3 + 3];
                px[0] = i32x4_extract_lane::<0>(v).clamp(0, 255) as u8;
                px[1] = i32x4_extract_lane::<1>(v).clamp(0, 255) as u8;
                px[2] = i32x4_extract_lane::<2>(v).clamp(0, 255) as u8;
            }
        }
    }

    /// Gray: the row as one i16 plane, the weights padded to whole groups of eight,
    /// each output a few 8-lane dot products.
    pub(super) struct GrayPlane {
        groups: usize,
        /// `groups * 8` weights per output position, zero-padded.
        weights: Vec<i16>,
        /// The row, then zeros: windows end at most `groups * 8 - len` samples past it.
        plane: Vec<i16>,
    }

    impl GrayPlane {
        fn new(taps: &Taps, src_w: usize) -> Option<GrayPlane> {
            let groups = taps.len.div_ceil(LANES);
            let padded = groups * LANES;
            let positions = taps.starts.len();
            let mut weights = vec![0i16; positions * padded];
            for i in 0..positions {
                let (_, w) = taps.of(i);
                for (k, &v) in w.iter().enumerate() {
                    weights[i * padded + k] = i16::try_from(v).ok()?;
                }
            }
            Some(GrayPlane {
                groups,
                weights,
                plane: vec![0i16; src_w + padded],
            })
        }

        /// `row` into the plane, 16 samples at a time (load, widen, store).
        fn fill(&mut self, row: &[u8]) {
            let mut done = 0;
            while done + 16 <= row.len() {
                let out = &mut self.plane[done..done + 16];
                // SAFETY: 16 bytes of `row` in, 16 i16s of `out` out (both sliced here).
                unsafe {
                    let v = v128_load(row[done..done + 16].as_ptr().cast());
                    v128_store(out.as_mut_ptr().cast(), u16x8_extend_low_u8x16(v));
                    v128_store(out.as_mut_ptr().add(8).cast(), u16x8_extend_high_u8x16(v));
                }
                done += 16;
            }
            for (sample, &b) in self.plane[done..].iter_mut().zip(&row[done..]) {
                *sample = i16::from(b);
            }
        }

        /// Output `x` (window from `start`) as four lanes that add up to its sum.
        #[inline(always)]
        fn lane_sums(&self, x: usize, start: usize) -> v128 {
            let padded = self.groups * LANES;
            let (w, p) = (
                &self.weights[x * padded..(x + 1) * padded],
                &self.plane[start..start + padded],
            );
            let mut acc = i32x4_splat(0);
            for g in 0..self.groups {
                // SAFETY: `p` and `w` hold `groups * 8` i16s each; v128 loads need no
                // alignment.
                let (pv, wv) = unsafe {
                    (
                        v128_load(p.as_ptr().add(g * LANES).cast()),
                        v128_load(w.as_ptr().add(g * LANES).cast()),
                    )
                };
                acc = i32x4_add(acc, i32x4_dot_i16x8(pv, wv));
            }
            acc
        }

        fn horizontal_pass(&mut self, row: &[u8], taps: &Taps, out_row: &mut [u8]) {
            self.fill(row);
            let out_w = out_row.len();
            let mut x = 0;
            // Four outputs at a time: their lane sums are reduced together (two
            // shuffle-add rounds instead of three extracts and adds each).
            while x + 4 <= out_w {
                let a: [v128; 4] =
                    std::array::from_fn(|j| self.lane_sums(x + j, taps.starts[x + j]));
                let t0 = i32x4_add(
                    i32x4_shuffle::<0, 4, 1, 5>(a[0], a[1]),
                    i32x4_shuffle::<2, 6, 3, 7>(a[0], a[1]),
                );
                let t1 = i32x4_add(
                    i32x4_shuffle::<0, 4, 1, 5>(a[2], a[3]),
                    i32x4_shuffle::<2, 6, 3, 7>(a[2], a[3]),
                );
                // Lane j: the whole sum of output x + j.
                let sums = i32x4_add(
                    i32x4_shuffle::<0, 1, 4, 5>(t0, t1),
                    i32x4_shuffle::<2, 3, 6, 7>(t0, t1),
                );
                // `to_u8` on four lanes (the saturating narrows clamp as it does).
                let v = round_shift(sums);
                let bytes = u8x16_narrow_i16x8(i16x8_narrow_i32x4(v, v), i16x8_splat(0));
                let out = &mut out_row[x..x + 4];
                // SAFETY: `out` is 4 bytes.
                unsafe { v128_store32_lane::<0>(bytes, out.as_mut_ptr().cast()) };
                x += 4;
            }
            for (x, px) in out_row.iter_mut().enumerate().skip(x) {
                let a = self.lane_sums(x, taps.starts[x]);
                let sum = i32x4_extract_lane::<0>(a)
                    + i32x4_extract_lane::<1>(a)
                    + i32x4_extract_lane::<2>(a)
                    + i32x4_extract_lane::<3>(a);
                *px = to_u8(sum);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_sum_to_one_and_stay_in_bounds() {
        for (src, dst) in [
            (1, 1),
            (1, 7),
            (7, 1),
            (1541, 1200),
            (3, 1000),
            (1000, 3),
            (10, 10),
            (5, 9),
        ] {
            let t = Taps::new(src, dst);
            assert!(t.len <= src, "{src}->{dst}");
            for i in 0..dst {
                let (start, w) = t.of(i);
                assert!(start + t.len <= src, "{src}->{dst} at {i}");
                assert_eq!(w.iter().sum::<i32>(), ONE, "{src}->{dst} at {i}");
            }
        }
    }

    #[test]
    fn matches_a_float_reference() {
        // A smooth gradient, downscaled: fixed point must track f64 within 1 level.
        let (w, h) = (97usize, 61usize);
        let src: Vec<u8> = (0..w * h).map(|i| ((i % w) * 2 + (i / w)) as u8).collect();
        let (dw, dh) = (40usize, 25usize);
        let mut dst = vec![0u8; dw * dh];
        resample::<1>(&src, w, (0, 0, w, h), &mut dst, dw, dh);
        let reference = |ox: usize, oy: usize| {
            let axis = |o: usize, n: usize, d: usize| {
                let ratio = n as f64 / d as f64;
                let centre = (o as f64 + 0.5) * ratio - 0.5;
                let ws: Vec<(usize, f64)> = (0..n)
                    .map(|j| (j, lanczos3((j as f64 - centre) / ratio.max(1.0))))
                    .collect();
                let sum: f64 = ws.iter().map(|p| p.1).sum();
                ws.into_iter()
                    .map(move |(j, v)| (j, v / sum))
                    .collect::<Vec<_>>()
            };
            let mut v = 0.0;
            for (j, wy) in axis(oy, h, dh) {
                for (i, wx) in axis(ox, w, dw) {
                    v += wy * wx * f64::from(src[j * w + i]);
                }
            }
            v
        };
        for oy in 0..dh {
            for ox in 0..dw {
                let expect = reference(ox, oy).clamp(0.0, 255.0);
                let got = f64::from(dst[oy * dw + ox]);
                assert!((got - expect).abs() <= 1.5, "({ox},{oy}) {got} vs {expect}");
            }
        }
    }
}
