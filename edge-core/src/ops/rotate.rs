//! `rot=90|180|270` (clockwise, after the EXIF orientation) and `flip=h|v|hv`.
//!
//! Both are elements of the same eight-element group as the EXIF orientations, so the
//! pipeline folds them into one orientation ([`compose`]) and the orient step turns
//! the (already resized) image once. [`apply`] does it directly, for callers that
//! have an upright raster.

#[cfg(feature = "codecs")]
use crate::orient;
#[cfg(feature = "codecs")]
use crate::raster::{Layout, Raster};

/// Clockwise turn of the upright image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Rotation {
    #[default]
    None,
    Cw90,
    Cw180,
    Cw270,
}

impl Rotation {
    pub const ALL: [Rotation; 4] = [
        Rotation::None,
        Rotation::Cw90,
        Rotation::Cw180,
        Rotation::Cw270,
    ];

    pub fn degrees(self) -> u16 {
        match self {
            Rotation::None => 0,
            Rotation::Cw90 => 90,
            Rotation::Cw180 => 180,
            Rotation::Cw270 => 270,
        }
    }

    /// `0`, `90`, `180`, `270`; anything else is not a rotation.
    pub fn from_degrees(degrees: &str) -> Option<Rotation> {
        Some(match degrees {
            "0" => Rotation::None,
            "90" => Rotation::Cw90,
            "180" => Rotation::Cw180,
            "270" => Rotation::Cw270,
            _ => return None,
        })
    }

    /// The EXIF orientation that performs this turn (6 = turn 90° clockwise).
    pub fn orientation(self) -> u8 {
        match self {
            Rotation::None => 1,
            Rotation::Cw90 => 6,
            Rotation::Cw180 => 3,
            Rotation::Cw270 => 8,
        }
    }
}

/// Mirror of the (turned) image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Flip {
    #[default]
    None,
    /// Left ↔ right.
    Horizontal,
    /// Top ↔ bottom.
    Vertical,
    /// Both (the same pixels as a 180° turn).
    Both,
}

impl Flip {
    pub const ALL: [Flip; 4] = [Flip::None, Flip::Horizontal, Flip::Vertical, Flip::Both];

    /// `h`, `v`, `hv` (empty for none), as in queries and derived keys.
    pub fn code(self) -> &'static str {
        match self {
            Flip::None => "",
            Flip::Horizontal => "h",
            Flip::Vertical => "v",
            Flip::Both => "hv",
        }
    }

    /// `h`, `v`, `hv` (`vh` accepted too).
    pub fn from_code(code: &str) -> Option<Flip> {
        Some(match code {
            "h" => Flip::Horizontal,
            "v" => Flip::Vertical,
            "hv" | "vh" => Flip::Both,
            _ => return None,
        })
    }

    /// The EXIF orientation that performs this mirror.
    pub fn orientation(self) -> u8 {
        match self {
            Flip::None => 1,
            Flip::Horizontal => 2,
            Flip::Vertical => 4,
            Flip::Both => 3,
        }
    }
}

#[cfg(feature = "codecs")]
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

#[cfg(feature = "codecs")]
/// The orientation that makes the stored image upright (`exif`), then turns it by
/// `rotation`, then mirrors it by `flip`: what the orient step applies.
pub fn compose(exif: u8, rotation: Rotation, flip: Flip) -> u8 {
    then(then(exif, rotation.orientation()), flip.orientation())
}

/// Turns, then mirrors, an upright raster.
#[cfg(feature = "codecs")]
pub fn apply(raster: Raster, rotation: Rotation, flip: Flip) -> Raster {
    orient::apply(raster, compose(1, rotation, flip))
}

#[cfg(all(test, feature = "codecs"))]
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

    #[test]
    fn codes_round_trip() {
        for r in Rotation::ALL {
            assert_eq!(Rotation::from_degrees(&r.degrees().to_string()), Some(r));
        }
        for f in &Flip::ALL[1..] {
            assert_eq!(Flip::from_code(f.code()), Some(*f));
        }
        assert_eq!(Rotation::from_degrees("45"), None);
        assert_eq!(Flip::from_code("x"), None);
    }
}
