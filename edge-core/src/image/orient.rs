//! EXIF orientation: reading the tag (a small bounds-checked TIFF reader) and
//! applying it to a raster so the output is upright.

use crate::geometry::Rect;
use crate::raster::Raster;
use crate::types::Orientation;

/// Size after applying `orientation`: 5-8 swap width and height.
pub fn oriented_size(width: u32, height: u32, orientation: impl Into<Orientation>) -> (u32, u32) {
    orientation.into().oriented_size(width, height)
}

/// Orientations 5-8 turn the image by a quarter: width and height trade places.
pub fn swaps_axes(orientation: impl Into<Orientation>) -> bool {
    orientation.into().swaps_axes()
}

/// The Orientation tag (0x0112) of IFD0 in an EXIF block, 1..=8. Missing, 0 or
/// junk values give 1. Accepts the block with or without the `Exif\0\0` prefix.
pub fn from_exif(exif: &[u8]) -> u8 {
    read_orientation(exif)
        .filter(|o| (1..=8).contains(o))
        .unwrap_or(1)
}

fn read_orientation(exif: &[u8]) -> Option<u8> {
    let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    let big_endian = match tiff.get(0..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    for i in 0..count {
        let entry = ifd.checked_add(2 + 12 * i)?;
        if u16_at(entry)? != 0x0112 {
            continue;
        }
        // SHORT (type 3), count 1: the value sits in the first two bytes of the
        // value field. Writers that used LONG exist; accept it too.
        return match u16_at(entry + 2)? {
            3 => u16_at(entry + 8).and_then(|v| u8::try_from(v).ok()),
            4 => u32_at(entry + 8).and_then(|v| u8::try_from(v).ok()),
            _ => None,
        };
    }
    None
}

/// Apply EXIF `orientation` (1-8; anything else is treated as 1) so the raster is
/// upright. 2-4 work in place; 5-8 transpose into a new buffer.
pub fn apply(raster: Raster, orientation: impl Into<Orientation>) -> Raster {
    let orientation = orientation.into().tag();
    if orientation == 1 {
        return raster; // upright already (and `apply_n` never compiled for it)
    }
    match raster.layout.channels() {
        1 => apply_n::<1>(raster, orientation),
        2 => apply_n::<2>(raster, orientation),
        3 => apply_n::<3>(raster, orientation),
        _ => apply_n::<4>(raster, orientation),
    }
}

#[inline(never)]
fn apply_n<const N: usize>(mut r: Raster, orientation: u8) -> Raster {
    let (w, h) = (r.width as usize, r.height as usize);
    debug_assert_eq!(r.data.len(), w * h * N);
    if r.data.len() != w * h * N || w == 0 || h == 0 {
        return r;
    }
    match orientation {
        2 => {
            for row in r.data.chunks_exact_mut(w * N) {
                reverse_pixels::<N>(row);
            }
            r
        }
        3 => {
            reverse_pixels::<N>(&mut r.data);
            r
        }
        4 => {
            let row = w * N;
            for y in 0..h / 2 {
                let (top, bottom) = r.data.split_at_mut((h - 1 - y) * row);
                top[y * row..(y + 1) * row].swap_with_slice(&mut bottom[..row]);
            }
            r
        }
        5..=8 => {
            let data = transpose::<N>(&r.data, w, h, orientation);
            Raster {
                width: r.height,
                height: r.width,
                layout: r.layout,
                data,
            }
        }
        _ => r,
    }
}

fn reverse_pixels<const N: usize>(data: &mut [u8]) {
    // Reversing the bytes reverses the pixel order and each pixel's channels; undo
    // the latter.
    data.reverse();
    if N > 1 {
        for px in data.chunks_exact_mut(N) {
            px.reverse();
        }
    }
}

/// Orientations 5-8 as one gather: output pixel (x, y) of the `h` × `w` result reads
/// source pixel (sx, sy). Walks the output in tiles so the strided source reads stay
/// in cache; the orientation is a const parameter so the inner loop has no branch.
fn transpose<const N: usize>(src: &[u8], w: usize, h: usize, orientation: u8) -> Vec<u8> {
    match orientation {
        5 => transpose_as::<N, 5>(src, w, h),
        6 => transpose_as::<N, 6>(src, w, h),
        7 => transpose_as::<N, 7>(src, w, h),
        _ => transpose_as::<N, 8>(src, w, h),
    }
}

fn transpose_as<const N: usize, const O: u8>(src: &[u8], w: usize, h: usize) -> Vec<u8> {
    const TILE: usize = 32;
    let mut dst = vec![0u8; src.len()];
    let out_w = h; // the output is h wide and w tall
    for ty in (0..w).step_by(TILE) {
        for tx in (0..out_w).step_by(TILE) {
            let x_end = (tx + TILE).min(out_w);
            for y in ty..(ty + TILE).min(w) {
                // Output row y is source column sx; output column x is source row sy.
                let sx = if O == 5 || O == 6 { y } else { w - 1 - y };
                let out = &mut dst[(y * out_w + tx) * N..(y * out_w + x_end) * N];
                for (x, px) in (tx..x_end).zip(out.chunks_exact_mut(N)) {
                    let sy = if O == 5 || O == 8 { x } else { h - 1 - x };
                    let at = (sy * w + sx) * N;
                    px.copy_from_slice(&src[at..at + N]);
                }
            }
        }
    }
    dst
}

/// Maps a rectangle of the *oriented* image back to the stored pixels, for an image
/// stored as `stored_width`×`stored_height` with EXIF `orientation` (0/junk = 1).
pub fn stored_rect(
    r: Rect,
    stored_width: u32,
    stored_height: u32,
    orientation: impl Into<Orientation>,
) -> Rect {
    let orientation = orientation.into();
    let swapped = orientation.swaps_axes();
    let orientation = orientation.tag();
    let (w, h) = (stored_width, stored_height);
    let (x, y, rw, rh) = (r.x, r.y, r.width, r.height);
    let (sx, sy) = match orientation {
        2 => (w - x - rw, y),
        3 => (w - x - rw, h - y - rh),
        4 => (x, h - y - rh),
        5 => (y, x),
        6 => (y, h - x - rw),
        7 => (w - y - rh, h - x - rw),
        8 => (w - y - rh, x),
        _ => (x, y),
    };
    if swapped {
        Rect {
            x: sx,
            y: sy,
            width: rh,
            height: rw,
        }
    } else {
        Rect {
            x: sx,
            y: sy,
            width: rw,
            height: rh,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::Layout;

    /// 3×2 gray image with distinct values:
    /// 1 2 3
    /// 4 5 6
    fn sample() -> Raster {
        Raster::new(3, 2, Layout::Gray, vec![1, 2, 3, 4, 5, 6])
    }

    #[test]
    fn all_eight_orientations() {
        let cases: [(u8, (u32, u32), &[u8]); 9] = [
            (0, (3, 2), &[1, 2, 3, 4, 5, 6]),
            (1, (3, 2), &[1, 2, 3, 4, 5, 6]),
            (2, (3, 2), &[3, 2, 1, 6, 5, 4]),
            (3, (3, 2), &[6, 5, 4, 3, 2, 1]),
            (4, (3, 2), &[4, 5, 6, 1, 2, 3]),
            (5, (2, 3), &[1, 4, 2, 5, 3, 6]),
            (6, (2, 3), &[4, 1, 5, 2, 6, 3]),
            (7, (2, 3), &[6, 3, 5, 2, 4, 1]),
            (8, (2, 3), &[3, 6, 2, 5, 1, 4]),
        ];
        for (o, size, want) in cases {
            let r = apply(sample(), o);
            assert_eq!((r.width, r.height), size, "orientation {o}");
            assert_eq!(oriented_size(3, 2, o), size);
            assert_eq!(r.data, want, "orientation {o}");
        }
    }

    #[test]
    fn multi_channel_pixels_move_as_a_whole() {
        let r = Raster::new(2, 1, Layout::Rgb, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(apply(r.clone(), 2).data, [4, 5, 6, 1, 2, 3]);
        let t = apply(r, 6);
        assert_eq!((t.width, t.height, t.data), (1, 2, vec![1, 2, 3, 4, 5, 6]));
    }

    #[test]
    fn large_transpose_matches_naive() {
        let (w, h) = (131usize, 70usize);
        let data: Vec<u8> = (0..w * h * 2).map(|i| (i * 7 % 251) as u8).collect();
        let r = Raster::new(w as u32, h as u32, Layout::GrayAlpha, data.clone());
        let t = apply(r, 8);
        for y in 0..w {
            for x in 0..h {
                let (sx, sy) = (w - 1 - y, x);
                assert_eq!(
                    t.data[(y * h + x) * 2..][..2],
                    data[(sy * w + sx) * 2..][..2]
                );
            }
        }
    }

    fn exif(big_endian: bool, tag_type: u16, value: u16) -> Vec<u8> {
        let mut v = Vec::new();
        let p16 = |v: &mut Vec<u8>, x: u16| {
            v.extend_from_slice(&if big_endian {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            })
        };
        let p32 = |v: &mut Vec<u8>, x: u32| {
            v.extend_from_slice(&if big_endian {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            })
        };
        v.extend_from_slice(if big_endian { b"MM\0*" } else { b"II*\0" });
        p32(&mut v, 8);
        p16(&mut v, 2);
        // An unrelated tag first, then Orientation.
        p16(&mut v, 0x010F);
        p16(&mut v, 2);
        p32(&mut v, 4);
        p32(&mut v, 0);
        p16(&mut v, 0x0112);
        p16(&mut v, tag_type);
        p32(&mut v, 1);
        p16(&mut v, value);
        p16(&mut v, 0);
        p32(&mut v, 0);
        v
    }

    #[test]
    fn exif_parsing() {
        assert_eq!(from_exif(&exif(true, 3, 6)), 6);
        assert_eq!(from_exif(&exif(false, 3, 8)), 8);
        let mut prefixed = b"Exif\0\0".to_vec();
        prefixed.extend(exif(false, 3, 3));
        assert_eq!(from_exif(&prefixed), 3);
        assert_eq!(from_exif(&exif(false, 3, 0)), 1);
        assert_eq!(from_exif(&exif(false, 3, 9)), 1);
        assert_eq!(from_exif(&exif(false, 7, 6)), 1);
        assert_eq!(from_exif(b"junk"), 1);
        let full = exif(true, 3, 5);
        for n in 0..full.len() {
            assert!((1..=8).contains(&from_exif(&full[..n])));
        }
    }
}
