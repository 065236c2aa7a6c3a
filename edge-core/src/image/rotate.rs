//! `rot` and `flip` as orientations: both are elements of the same eight-element
//! group as the EXIF orientations, so the pipeline folds them into one orientation
//! ([`compose`]) and the orient step turns the (already resized) image once.

use crate::orient;
use crate::raster::{Layout, Raster};
use crate::types::ops::{Flip, Rotation};

/// The single orientation equal to applying `first` and then `second` (both EXIF
/// orientation numbers 1-8; anything else counts as 1).
pub fn then(first: u8, second: u8) -> u8 {
    // Found by acting on a 3×2 image of distinct pixels: an element of the group is
    // determined by where it sends those six pixels. Cheap (eight tries on six bytes).
    let probe = || Raster::new(3, 2, Layout::Gray, vec![1, 2, 3, 4, 5, 6]);
    let want = orient::apply(orient::apply(probe(), first), second);
    (1..=8)
        .find(|&o| orient::apply(probe(), o) == want)
        .unwrap_or(1)
}

/// The orientation that makes the stored image upright (`exif`), then turns it by
/// `rotation`, then mirrors it by `flip`: what the orient step applies.
pub fn compose(exif: u8, rotation: Rotation, flip: Flip) -> u8 {
    then(then(exif, rotation.orientation()), flip.orientation())
}

/// Turns, then mirrors, an upright raster.
pub fn apply(raster: Raster, rotation: Rotation, flip: Flip) -> Raster {
    orient::apply(raster, compose(1, rotation, flip))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3×2:
    /// 1 2 3
    /// 4 5 6
    fn sample() -> Raster {
        Raster::new(3, 2, Layout::Gray, vec![1, 2, 3, 4, 5, 6])
    }

    /// Reference turn written out pixel by pixel: output (x, y) of the h×w result
    /// reads source (y, h-1-x) for 90° clockwise.
    fn naive_cw90(r: &Raster) -> Raster {
        let (w, h) = (r.width as usize, r.height as usize);
        let mut data = vec![0; w * h];
        for y in 0..w {
            for x in 0..h {
                data[y * h + x] = r.data[(h - 1 - x) * w + y];
            }
        }
        Raster::new(h as u32, w as u32, Layout::Gray, data)
    }

    fn naive_flip_h(r: &Raster) -> Raster {
        let w = r.width as usize;
        let data = r
            .data
            .chunks_exact(w)
            .flat_map(|row| row.iter().rev().copied())
            .collect();
        Raster::new(r.width, r.height, Layout::Gray, data)
    }

    #[test]
    fn rotations_match_a_naive_turn() {
        let once = naive_cw90(&sample());
        let twice = naive_cw90(&once);
        let thrice = naive_cw90(&twice);
        assert_eq!(apply(sample(), Rotation::Cw90, Flip::None), once);
        assert_eq!(apply(sample(), Rotation::Cw180, Flip::None), twice);
        assert_eq!(apply(sample(), Rotation::Cw270, Flip::None), thrice);
        assert_eq!(apply(sample(), Rotation::None, Flip::None), sample());
        assert_eq!(once.data, [4, 1, 5, 2, 6, 3]);
    }

    #[test]
    fn flips_after_the_turn() {
        assert_eq!(
            apply(sample(), Rotation::None, Flip::Horizontal).data,
            [3, 2, 1, 6, 5, 4]
        );
        assert_eq!(
            apply(sample(), Rotation::None, Flip::Vertical).data,
            [4, 5, 6, 1, 2, 3]
        );
        assert_eq!(
            apply(sample(), Rotation::None, Flip::Both),
            apply(sample(), Rotation::Cw180, Flip::None)
        );
        // rot first, then flip: mirror of the turned image.
        let turned_then_flipped = naive_flip_h(&naive_cw90(&sample()));
        assert_eq!(
            apply(sample(), Rotation::Cw90, Flip::Horizontal),
            turned_then_flipped
        );
    }

    #[test]
    fn compose_equals_applying_in_turn_for_every_case() {
        // Stored image, EXIF orientation applied, then rot, then flip.
        for exif in 1..=8 {
            for rotation in Rotation::ALL {
                for flip in Flip::ALL {
                    let step_by_step = orient::apply(
                        orient::apply(orient::apply(sample(), exif), rotation.orientation()),
                        flip.orientation(),
                    );
                    let once = orient::apply(sample(), compose(exif, rotation, flip));
                    assert_eq!(once, step_by_step, "{exif} {rotation:?} {flip:?}");
                }
            }
        }
    }
}
