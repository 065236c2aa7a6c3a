//! `pos=entropy` and `pos=attention`: which `cover` window to keep, chosen on a small
//! analysis grid of the (shrunk-on-load) decoded image.
//!
//! Both strategies follow sharp's (libvips `smartcrop`) ideas with our own code:
//! - entropy: the window whose luminance histogram has the highest Shannon entropy;
//! - attention: the window holding the most saliency, where saliency is luminance
//!   edges (Sobel), saturation and skin tones. Each feature is measured above its
//!   median over the image, so a flat background, whatever its colour, scores
//!   nothing and the picture on it wins.
//!
//! The grid is a box-filtered copy at most [`GRID`] pixels on its longest side,
//! turned upright, so the cost is one pass over the decoded pixels plus a fixed
//! amount. Among windows that score the same (a picture smaller than the window),
//! the middle one is taken, which centres the picture in the crop.

use crate::orient;
use crate::raster::{Layout, Raster};

/// Longest side of the analysis grid.
pub const GRID: u32 = 200;

/// At most this many window positions are scored per axis.
const MAX_STEPS: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    Entropy,
    Attention,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Entropy => "entropy",
            Strategy::Attention => "attention",
        }
    }
}

/// The offset (in the `scaled_width`×`scaled_height` upright, scaled image) of the
/// `crop_width`×`crop_height` window that `strategy` keeps. `raster` is the decoded
/// image as stored (any size that shows the whole picture), `orientation` the EXIF
/// orientation that turns it upright.
pub fn crop_offset(
    raster: &Raster,
    orientation: u8,
    scaled: (u32, u32),
    crop: (u32, u32),
    strategy: Strategy,
) -> (u32, u32) {
    let (scaled_width, scaled_height) = (scaled.0.max(1), scaled.1.max(1));
    let (crop_width, crop_height) = (crop.0.min(scaled_width), crop.1.min(scaled_height));
    if crop_width == scaled_width && crop_height == scaled_height {
        return (0, 0);
    }
    let grid = analysis_grid(raster, orientation);
    let (gw, gh) = (grid.width, grid.height);
    if gw == 0 || gh == 0 {
        return centre(scaled_width - crop_width, scaled_height - crop_height);
    }
    // The window on the grid, at least one cell, at most the grid.
    let to_grid = |len: u32, grid: u32, scaled: u32| -> u32 {
        ((f64::from(len) * f64::from(grid) / f64::from(scaled)).round() as u32).clamp(1, grid)
    };
    let window = (
        to_grid(crop_width, gw, scaled_width),
        to_grid(crop_height, gh, scaled_height),
    );
    let (gx, gy) = match strategy {
        Strategy::Entropy => best_entropy(&grid, window),
        Strategy::Attention => best_attention(&grid, window),
    };
    let back = |g: u32, grid: u32, scaled: u32, crop: u32| -> u32 {
        let v = (f64::from(g) * f64::from(scaled) / f64::from(grid)).round() as u32;
        v.min(scaled - crop)
    };
    (
        back(gx, gw, scaled_width, crop_width),
        back(gy, gh, scaled_height, crop_height),
    )
}

fn centre(excess_x: u32, excess_y: u32) -> (u32, u32) {
    (excess_x.div_ceil(2), excess_y.div_ceil(2))
}

/// Box-filtered RGB copy of `raster`, longest side at most [`GRID`], upright.
/// Transparent pixels count as black (nothing salient there).
pub fn analysis_grid(raster: &Raster, orientation: u8) -> Raster {
    let (w, h) = (raster.width, raster.height);
    let ch = raster.layout.channels();
    if w == 0 || h == 0 || raster.data.len() != (w * h) as usize * ch {
        return Raster::new(0, 0, Layout::Rgb, Vec::new());
    }
    let scale = f64::from(GRID) / f64::from(w.max(h));
    let (gw, gh) = if scale >= 1.0 {
        (w, h)
    } else {
        (
            ((f64::from(w) * scale).round() as u32).max(1),
            ((f64::from(h) * scale).round() as u32).max(1),
        )
    };
    let cell_x: Vec<usize> = (0..w)
        .map(|x| (u64::from(x) * u64::from(gw) / u64::from(w)) as usize)
        .collect();
    let mut sums = vec![[0u32; 4]; (gw * gh) as usize];
    for (y, row) in raster.data.chunks_exact(w as usize * ch).enumerate() {
        let gy = (y as u64 * u64::from(gh) / u64::from(h)) as usize;
        let line = &mut sums[gy * gw as usize..(gy + 1) * gw as usize];
        for (px, &gx) in row.chunks_exact(ch).zip(&cell_x) {
            let [r, g, b] = rgb(raster.layout, px);
            let cell = &mut line[gx];
            cell[0] += u32::from(r);
            cell[1] += u32::from(g);
            cell[2] += u32::from(b);
            cell[3] += 1;
        }
    }
    let data = sums
        .iter()
        .flat_map(|s| {
            let n = s[3].max(1);
            [0, 1, 2].map(|c| ((s[c] + n / 2) / n) as u8)
        })
        .collect();
    orient::apply(Raster::new(gw, gh, Layout::Rgb, data), orientation)
}

fn rgb(layout: Layout, p: &[u8]) -> [u8; 3] {
    let over_black = |c: u8, a: u8| ((u16::from(c) * u16::from(a) + 127) / 255) as u8;
    match layout {
        Layout::Gray => [p[0]; 3],
        Layout::GrayAlpha => [over_black(p[0], p[1]); 3],
        Layout::Rgb => [p[0], p[1], p[2]],
        Layout::Rgba => [0, 1, 2].map(|c| over_black(p[c], p[3])),
        // Naive CMYK → RGB: good enough to find what is salient.
        Layout::Cmyk => {
            [0, 1, 2].map(|c| ((255 - u16::from(p[c])) * (255 - u16::from(p[3])) / 255) as u8)
        }
    }
}

fn luma(p: &[u8]) -> u8 {
    ((299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]) + 500) / 1000) as u8
}

/// Window positions to score on one axis: every cell, or an even spread of at most
/// `MAX_STEPS` (always including both ends).
fn positions(grid: u32, window: u32) -> Vec<u32> {
    let slack = grid - window;
    if slack <= MAX_STEPS {
        return (0..=slack).collect();
    }
    (0..=MAX_STEPS)
        .map(|i| (u64::from(slack) * u64::from(i) / u64::from(MAX_STEPS)) as u32)
        .collect()
}

/// The best-scoring position; among the (near-)ties, the one nearest their mean
/// position.
fn choose(scored: &[(u32, u32, f64)]) -> (u32, u32) {
    let best = scored.iter().map(|s| s.2).fold(f64::MIN, f64::max);
    let tolerance = best.abs() * 1e-6 + 1e-9;
    let tied: Vec<_> = scored.iter().filter(|s| s.2 >= best - tolerance).collect();
    let n = tied.len().max(1) as f64;
    let mx = tied.iter().map(|s| f64::from(s.0)).sum::<f64>() / n;
    let my = tied.iter().map(|s| f64::from(s.1)).sum::<f64>() / n;
    tied.iter()
        .min_by(|a, b| {
            let d = |s: &&&(u32, u32, f64)| {
                (f64::from(s.0) - mx).powi(2) + (f64::from(s.1) - my).powi(2)
            };
            d(a).total_cmp(&d(b))
        })
        .map(|s| (s.0, s.1))
        .unwrap_or((0, 0))
}

fn best_entropy(grid: &Raster, (ww, wh): (u32, u32)) -> (u32, u32) {
    let (gw, _) = (grid.width as usize, grid.height as usize);
    let lum: Vec<u8> = grid.data.chunks_exact(3).map(luma).collect();
    let xs = positions(grid.width, ww);
    let ys = positions(grid.height, wh);
    let (ww, wh) = (ww as usize, wh as usize);
    let total = (ww * wh) as f64;
    let mut scored = Vec::with_capacity(xs.len() * ys.len());
    for &y in &ys {
        let y = y as usize;
        // Histogram of the first window of this row of windows, then slide right one
        // column at a time.
        let mut hist = [0u32; 256];
        let mut at = 0usize;
        for row in lum[y * gw..].chunks(gw).take(wh) {
            for &v in &row[..ww] {
                hist[v as usize] += 1;
            }
        }
        for &x in &xs {
            let x = x as usize;
            while at < x {
                for row in lum[y * gw..].chunks(gw).take(wh) {
                    hist[row[at] as usize] -= 1;
                    hist[row[at + ww] as usize] += 1;
                }
                at += 1;
            }
            let entropy: f64 = hist
                .iter()
                .filter(|&&c| c > 0)
                .map(|&c| {
                    let p = f64::from(c) / total;
                    -p * p.log2()
                })
                .sum();
            scored.push((x as u32, y as u32, entropy));
        }
    }
    choose(&scored)
}

/// Saliency per grid cell: Sobel edge strength of luminance, saturation and skin
/// tone, each in 0 … 1 and counted only above its median over the grid.
pub fn saliency(grid: &Raster) -> Vec<f32> {
    let (w, h) = (grid.width as usize, grid.height as usize);
    let lum: Vec<f32> = grid
        .data
        .chunks_exact(3)
        .map(|p| f32::from(luma(p)))
        .collect();
    let at = |x: isize, y: isize| {
        let x = x.clamp(0, w as isize - 1) as usize;
        let y = y.clamp(0, h as isize - 1) as usize;
        lum[y * w + x]
    };
    let mut edges = Vec::with_capacity(w * h);
    for y in 0..h as isize {
        for x in 0..w as isize {
            let gx = at(x + 1, y - 1) + 2.0 * at(x + 1, y) + at(x + 1, y + 1)
                - at(x - 1, y - 1)
                - 2.0 * at(x - 1, y)
                - at(x - 1, y + 1);
            let gy = at(x - 1, y + 1) + 2.0 * at(x, y + 1) + at(x + 1, y + 1)
                - at(x - 1, y - 1)
                - 2.0 * at(x, y - 1)
                - at(x + 1, y - 1);
            // A full black-white step gives 4·255.
            edges.push(((gx * gx + gy * gy).sqrt() / 510.0).min(1.0));
        }
    }
    let saturation: Vec<f32> = grid
        .data
        .chunks_exact(3)
        .map(|p| {
            let max = p.iter().copied().max().unwrap_or(0);
            let min = p.iter().copied().min().unwrap_or(0);
            f32::from(max - min) / 255.0
        })
        .collect();
    let skin: Vec<f32> = grid.data.chunks_exact(3).map(skin_tone).collect();
    let mut out = vec![0f32; w * h];
    for feature in [edges, saturation, skin] {
        let floor = median(&feature);
        for (o, v) in out.iter_mut().zip(&feature) {
            *o += (v - floor).max(0.0);
        }
    }
    out
}

/// How close a colour is to skin: its direction in RGB space against a typical skin
/// direction (brightness does not matter, but very dark or very bright pixels are not
/// skin). 1 on the skin direction, 0 beyond a small angle.
fn skin_tone(p: &[u8]) -> f32 {
    const SKIN: [f32; 3] = [0.78, 0.57, 0.44];
    let v = [0, 1, 2].map(|c| f32::from(p[c]));
    let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let lum = f32::from(luma(p));
    if norm < 1.0 || !(40.0..=245.0).contains(&lum) {
        return 0.0;
    }
    let skin_norm = (SKIN[0] * SKIN[0] + SKIN[1] * SKIN[1] + SKIN[2] * SKIN[2]).sqrt();
    let cos = (0..3).map(|c| v[c] * SKIN[c]).sum::<f32>() / (norm * skin_norm);
    // cos 0.995 ≈ 5.7°: beyond that it is not skin.
    ((cos - 0.995) / 0.005).clamp(0.0, 1.0)
}

fn median(values: &[f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    *m
}

fn best_attention(grid: &Raster, (ww, wh): (u32, u32)) -> (u32, u32) {
    let (w, h) = (grid.width as usize, grid.height as usize);
    let map = saliency(grid);
    // Summed-area table: any window's total in four reads.
    let mut table = vec![0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0f64;
        for x in 0..w {
            row += f64::from(map[y * w + x]);
            table[(y + 1) * (w + 1) + x + 1] = table[y * (w + 1) + x + 1] + row;
        }
    }
    let sum = |x: usize, y: usize| {
        let (x1, y1) = (x + ww as usize, y + wh as usize);
        table[y1 * (w + 1) + x1] - table[y * (w + 1) + x1] - table[y1 * (w + 1) + x]
            + table[y * (w + 1) + x]
    };
    let mut scored = Vec::new();
    for &y in &positions(grid.height, wh) {
        for &x in &positions(grid.width, ww) {
            scored.push((x, y, sum(x as usize, y as usize)));
        }
    }
    choose(&scored)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A busy, colourful "photo": texture, edges, a skin-toned disc.
    fn photo(w: u32, h: u32) -> Vec<[u8; 3]> {
        let mut seed = 99u32;
        let mut px = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let n = (seed >> 25) as u8;
                let stripes = if (x / 6 + y / 11) % 3 == 0 { 90 } else { 0 };
                let (dx, dy) = (x as i32 - w as i32 / 2, y as i32 - h as i32 / 3);
                let disc = dx * dx + dy * dy < (w as i32 / 5).pow(2);
                px.push(if disc {
                    [200, 146, 112]
                } else {
                    [
                        (x * 255 / w) as u8 / 2 + n / 2,
                        stripes + n / 2,
                        (y * 255 / h) as u8 / 3 + 60,
                    ]
                });
            }
        }
        px
    }

    /// `photo` of `pw`×`ph` pasted at (`px`, `py`) on a `w`×`h` flat `bg`.
    fn scene(w: u32, h: u32, bg: [u8; 3], (px, py): (u32, u32), (pw, ph): (u32, u32)) -> Raster {
        let pic = photo(pw, ph);
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let inside = x >= px && x < px + pw && y >= py && y < py + ph;
                data.extend_from_slice(&if inside {
                    pic[((y - py) * pw + (x - px)) as usize]
                } else {
                    bg
                });
            }
        }
        Raster::new(w, h, Layout::Rgb, data)
    }

    /// Fraction of the photo's area inside the window.
    fn kept(photo_at: (u32, u32), photo: (u32, u32), at: (u32, u32), window: (u32, u32)) -> f64 {
        let overlap =
            |a: u32, al: u32, b: u32, bl: u32| (a + al).min(b + bl).saturating_sub(a.max(b)) as f64;
        overlap(photo_at.0, photo.0, at.0, window.0) * overlap(photo_at.1, photo.1, at.1, window.1)
            / f64::from(photo.0 * photo.1)
    }

    #[test]
    fn smart_crops_keep_an_off_centre_photo_a_centre_crop_loses() {
        let backgrounds = [
            [255, 255, 255],
            [128, 128, 128],
            [0, 0, 0],
            [220, 30, 30],
            [224, 172, 140], // skin-coloured background
        ];
        // Landscape scenes cropped to a square, portrait ones to a wide window.
        // (scene, photo position, photo size, window)
        type Layout4 = ((u32, u32), (u32, u32), (u32, u32), (u32, u32));
        let layouts: [Layout4; 6] = [
            ((600, 300), (20, 60), (200, 180), (300, 300)),
            ((600, 300), (390, 40), (190, 220), (300, 300)),
            ((600, 300), (0, 0), (240, 300), (300, 300)),
            ((300, 600), (40, 10), (220, 200), (300, 300)),
            ((300, 600), (30, 420), (250, 170), (300, 300)),
            ((800, 400), (560, 120), (230, 150), (320, 400)),
        ];
        for bg in backgrounds {
            for (size, at, pic, window) in layouts {
                let img = scene(size.0, size.1, bg, at, pic);
                let centre_at = (
                    (size.0 - window.0).div_ceil(2),
                    (size.1 - window.1).div_ceil(2),
                );
                let centre_kept = kept(at, pic, centre_at, window);
                assert!(centre_kept < 0.6, "test set-up: centre keeps {centre_kept}");
                for strategy in [Strategy::Entropy, Strategy::Attention] {
                    let got = crop_offset(&img, 1, size, window, strategy);
                    assert!(got.0 + window.0 <= size.0 && got.1 + window.1 <= size.1);
                    let k = kept(at, pic, got, window);
                    let best = kept(
                        at,
                        pic,
                        (at.0.min(size.0 - window.0), at.1.min(size.1 - window.1)),
                        window,
                    );
                    assert!(
                        k >= 0.9 * best.min(1.0) && k > centre_kept,
                        "{strategy:?} bg {bg:?} photo at {at:?}: kept {k:.2} (centre {centre_kept:.2}, best {best:.2}) at {got:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_photo_smaller_than_the_window_ends_up_centred_in_it() {
        let img = scene(1000, 200, [240, 240, 240], (700, 50), (100, 100));
        for strategy in [Strategy::Entropy, Strategy::Attention] {
            let (x, _) = crop_offset(&img, 1, (1000, 200), (300, 200), strategy);
            // The photo spans 700..800: centred means x ≈ 750 − 150.
            assert!((590..=610).contains(&x), "{strategy:?}: {x}");
        }
    }

    #[test]
    fn works_on_a_shrunk_image_and_with_orientation() {
        // The decoded raster is a quarter of the planned scaled size (shrink on
        // load): offsets are still in the scaled image's pixels.
        let img = scene(400, 200, [255, 255, 255], (280, 20), (110, 160));
        for strategy in [Strategy::Entropy, Strategy::Attention] {
            let (x, y) = crop_offset(&img, 1, (1600, 800), (800, 800), strategy);
            assert_eq!(y, 0);
            assert!((700..=800).contains(&x), "{strategy:?}: {x}");
        }
        // Stored sideways (EXIF 6 turns it 90° clockwise): the stored image's top
        // becomes the upright image's right side.
        let sideways = scene(200, 400, [255, 255, 255], (20, 10), (160, 110));
        for strategy in [Strategy::Entropy, Strategy::Attention] {
            let (x, _) = crop_offset(&sideways, 6, (400, 200), (200, 200), strategy);
            assert!(x >= 180, "{strategy:?}: {x}");
        }
    }

    #[test]
    fn degenerate_inputs() {
        let flat = Raster::new(50, 20, Layout::Gray, vec![9; 1000]);
        for strategy in [Strategy::Entropy, Strategy::Attention] {
            // A flat image: every window ties, the middle one wins.
            assert_eq!(crop_offset(&flat, 1, (50, 20), (20, 20), strategy), (15, 0));
            // Nothing to choose.
            assert_eq!(crop_offset(&flat, 1, (50, 20), (50, 20), strategy), (0, 0));
            // One-pixel windows and images.
            let dot = Raster::new(1, 1, Layout::Rgba, vec![1, 2, 3, 4]);
            assert_eq!(crop_offset(&dot, 1, (1, 1), (1, 1), strategy), (0, 0));
            let (x, y) = crop_offset(&flat, 1, (5000, 2000), (1, 1), strategy);
            assert!(x < 5000 && y < 2000);
        }
        let grid = analysis_grid(
            &Raster::new(4000, 10, Layout::GrayAlpha, vec![200; 80_000]),
            1,
        );
        assert_eq!((grid.width, grid.height), (200, 1));
        assert!(grid.data.iter().all(|&v| v == 157));
    }
}
