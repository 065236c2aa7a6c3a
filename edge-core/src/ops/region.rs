//! `rect=x,y,w,h` (a region of the upright original, cut before the resize: sharp's
//! `extract`) and `pos=XxY` (a focal point the `cover` crop keeps as near its centre
//! as the edges allow).

use crate::error::{Error, Result};
#[cfg(feature = "codecs")]
use crate::raster::Raster;

/// A rectangle of whole pixels of the upright original (`rect=x,y,w,h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Rect {
    /// Canonical `x,y,w,h`, as in queries and derived keys.
    pub fn code(self) -> String {
        format!("{},{},{},{}", self.x, self.y, self.width, self.height)
    }
}

/// Parses `x,y,w,h` (whole pixels, `w` and `h` at least 1). The check against the
/// image size waits for the header: [`check_region`].
pub fn parse_region(value: &str) -> Result<Rect> {
    let bad = || {
        Error::invalid_parameter(
            "rect",
            format!(
                "must be x,y,w,h in whole pixels of the upright original (x, y ≥ 0; w, h ≥ 1), got '{value}'"
            ),
        )
    };
    let parts: Vec<&str> = value.split(',').collect();
    if parts.len() != 4 {
        return Err(bad());
    }
    let mut n = [0u32; 4];
    for (slot, part) in n.iter_mut().zip(&parts) {
        // Digits only: no sign, no spaces, no leading '+', at most 9 digits.
        if part.is_empty() || part.len() > 9 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        *slot = part.parse().map_err(|_| bad())?;
    }
    if n[2] == 0 || n[3] == 0 {
        return Err(bad());
    }
    Ok(Rect {
        x: n[0],
        y: n[1],
        width: n[2],
        height: n[3],
    })
}

/// A region must lie inside the upright original of `width`×`height`: else 400
/// naming `rect`.
pub fn check_region(region: Rect, width: u32, height: u32) -> Result<()> {
    let right = u64::from(region.x) + u64::from(region.width);
    let bottom = u64::from(region.y) + u64::from(region.height);
    if region.width == 0
        || region.height == 0
        || right > u64::from(width)
        || bottom > u64::from(height)
    {
        return Err(Error::invalid_parameter(
            "rect",
            format!(
                "region {},{},{},{} is outside the {width}x{height} image (x + w must be ≤ {width}, y + h ≤ {height})",
                region.x, region.y, region.width, region.height
            ),
        ));
    }
    Ok(())
}

/// The region scaled to an image of `to_width`×`to_height` that shows the same
/// picture as the `from_width`×`from_height` original (shrunk on load), rounded out
/// to whole pixels and kept inside the image.
pub fn scale_region(region: Rect, from: (u32, u32), to: (u32, u32)) -> Rect {
    if from == to {
        return region;
    }
    let span = |start: u32, len: u32, from: u32, to: u32| {
        let f = f64::from(to) / f64::from(from.max(1));
        let a = ((f64::from(start) * f).floor() as u32).min(to.saturating_sub(1));
        let b = ((f64::from(start + len) * f).ceil() as u32).clamp(a + 1, to.max(1));
        (a, b - a)
    };
    let (x, width) = span(region.x, region.width, from.0, to.0);
    let (y, height) = span(region.y, region.height, from.1, to.1);
    Rect {
        x,
        y,
        width,
        height,
    }
}

/// Copies `region` out of an upright raster (400 naming `rect` when outside).
#[cfg(feature = "codecs")]
pub fn extract(raster: &Raster, region: Rect) -> Result<Raster> {
    check_region(region, raster.width, raster.height)?;
    let channels = raster.layout.channels();
    let row_len = region.width as usize * channels;
    let mut data = Vec::new();
    data.try_reserve_exact(row_len * region.height as usize)
        .map_err(|_| Error::limit_exceeded("out of memory for the region"))?;
    for row in raster
        .data
        .chunks_exact(raster.width as usize * channels)
        .skip(region.y as usize)
        .take(region.height as usize)
    {
        let from = region.x as usize * channels;
        data.extend_from_slice(&row[from..from + row_len]);
    }
    Ok(Raster::new(
        region.width,
        region.height,
        raster.layout,
        data,
    ))
}

/// A focal point as fractions of the upright original: `x` from the left, `y` from
/// the top, each in 0 … 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FocalPoint {
    pub x: f64,
    pub y: f64,
}

impl FocalPoint {
    /// Parses `XxY`, e.g. `0.25x0.6` (Cloudflare's `gravity=XxY`). At most four
    /// decimals are kept, so the canonical form ([`FocalPoint::code`]) round-trips.
    pub fn parse(param: &str, value: &str) -> Result<FocalPoint> {
        let bad = || {
            Error::invalid_parameter(
                param,
                format!("a focal point must be XxY with X and Y from 0 to 1 (e.g. 0.25x0.6), got '{value}'"),
            )
        };
        let (x, y) = value.split_once('x').ok_or_else(bad)?;
        let fraction = |s: &str| -> Option<f64> {
            let ok = !s.is_empty()
                && s.len() <= 8
                && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && s.bytes().filter(|&b| b == b'.').count() <= 1
                && !s.starts_with('.')
                && !s.ends_with('.');
            let v: f64 = s.parse().ok().filter(|_| ok)?;
            (0.0..=1.0).contains(&v).then(|| (v * 1e4).round() / 1e4)
        };
        Ok(FocalPoint {
            x: fraction(x).ok_or_else(bad)?,
            y: fraction(y).ok_or_else(bad)?,
        })
    }

    /// Canonical `XxY`: shortest decimals, no trailing zeros (`0.5x0.25`, `1x0`).
    pub fn code(self) -> String {
        format!("{}x{}", trim(self.x), trim(self.y))
    }
}

fn trim(v: f64) -> String {
    let s = format!("{:.4}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Offset of a `crop_width`×`crop_height` window in a `width`×`height` image that puts
/// the focal point as near the window's centre as the edges allow.
pub fn focal_offset(
    width: u32,
    height: u32,
    crop_width: u32,
    crop_height: u32,
    point: FocalPoint,
) -> (u32, u32) {
    let place = |len: u32, crop: u32, at: f64| -> u32 {
        let excess = len.saturating_sub(crop);
        let start = at * f64::from(len) - f64::from(crop) / 2.0;
        (start.round().max(0.0) as u32).min(excess)
    };
    (
        place(width, crop_width, point.x),
        place(height, crop_height, point.y),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_parsing() {
        assert_eq!(parse_region("10,20,30,40").unwrap().code(), "10,20,30,40");
        assert_eq!(
            parse_region("10,20,30,40").unwrap(),
            Rect {
                x: 10,
                y: 20,
                width: 30,
                height: 40
            }
        );
        for bad in [
            "",
            "1,2,3",
            "1,2,3,4,5",
            "1,2,0,4",
            "1,2,3,0",
            "-1,2,3,4",
            "1.5,2,3,4",
            " 1,2,3,4",
            "+1,2,3,4",
            "1,,3,4",
            "9999999999,0,1,1",
            "a,b,c,d",
        ] {
            let e = parse_region(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_parameter", "{bad}");
            assert!(e.message().starts_with("rect:"), "{}", e.message());
        }
    }

    #[test]
    fn a_region_outside_the_image_names_rect() {
        let r = |x, y, width, height| Rect {
            x,
            y,
            width,
            height,
        };
        assert!(check_region(r(0, 0, 100, 50), 100, 50).is_ok());
        assert!(check_region(r(99, 49, 1, 1), 100, 50).is_ok());
        for bad in [
            r(0, 0, 101, 50),
            r(0, 1, 100, 50),
            r(100, 0, 1, 1),
            r(u32::MAX, 0, 2, 1),
        ] {
            let e = check_region(bad, 100, 50).unwrap_err();
            assert_eq!((e.status(), e.code()), (400, "invalid_parameter"));
            assert!(e.message().starts_with("rect:"), "{}", e.message());
            assert!(e.message().contains("100x50"), "{}", e.message());
        }
    }

    #[cfg(feature = "codecs")]
    #[test]
    fn extract_copies_the_region() {
        use crate::raster::Layout;
        // 4×3 gray, value = 10*y + x.
        let data = (0..3)
            .flat_map(|y| (0..4).map(move |x| 10 * y + x))
            .collect();
        let img = Raster::new(4, 3, Layout::Gray, data);
        let r = Rect {
            x: 1,
            y: 1,
            width: 2,
            height: 2,
        };
        let out = extract(&img, r).unwrap();
        assert_eq!((out.width, out.height), (2, 2));
        assert_eq!(out.data, [11, 12, 21, 22]);
        assert!(extract(
            &img,
            Rect {
                x: 3,
                y: 0,
                width: 2,
                height: 1
            }
        )
        .is_err());
    }

    #[test]
    fn region_scales_to_a_shrunk_image() {
        let r = Rect {
            x: 100,
            y: 50,
            width: 201,
            height: 99,
        };
        let s = scale_region(r, (1000, 500), (250, 125));
        assert_eq!(
            s,
            Rect {
                x: 25,
                y: 12,
                width: 51,
                height: 26
            }
        );
        assert_eq!(scale_region(r, (1000, 500), (1000, 500)), r);
        // Tiny regions keep at least one pixel, inside the image.
        let corner = Rect {
            x: 999,
            y: 499,
            width: 1,
            height: 1,
        };
        let s = scale_region(corner, (1000, 500), (125, 63));
        assert!(s.width >= 1 && s.x + s.width <= 125 && s.y + s.height <= 63);
    }

    #[test]
    fn focal_point_parsing_and_canonical_form() {
        let p = FocalPoint::parse("pos", "0.25x0.6").unwrap();
        assert_eq!((p.x, p.y), (0.25, 0.6));
        assert_eq!(p.code(), "0.25x0.6");
        assert_eq!(FocalPoint::parse("pos", "1x0").unwrap().code(), "1x0");
        assert_eq!(
            FocalPoint::parse("pos", "0.50000x1.0").unwrap().code(),
            "0.5x1"
        );
        assert_eq!(
            FocalPoint::parse("pos", "0.123456x0").unwrap().code(),
            "0.1235x0"
        );
        for bad in [
            "",
            "x",
            "0.5",
            "0.5x",
            "x0.5",
            "1.5x0",
            "-0.1x0",
            ".5x.5",
            "0.5x0.5x1",
            "nanxnan",
            "1e-1x0",
        ] {
            let e = FocalPoint::parse("gravity", bad).unwrap_err();
            assert!(
                e.message().starts_with("gravity:"),
                "{bad}: {}",
                e.message()
            );
        }
        // Canonical form parses back to itself.
        for v in ["0x0", "0.0001x0.9999", "0.3333x0.5", "1x1"] {
            let p = FocalPoint::parse("pos", v).unwrap();
            assert_eq!(FocalPoint::parse("pos", &p.code()).unwrap(), p);
        }
    }

    #[test]
    fn focal_offset_centres_the_point_within_the_edges() {
        let p = |x, y| FocalPoint { x, y };
        // 1000×500 image, 200×500 window: x centred on 250 → starts at 150.
        assert_eq!(focal_offset(1000, 500, 200, 500, p(0.25, 0.6)), (150, 0));
        // Near an edge: clamped.
        assert_eq!(focal_offset(1000, 500, 200, 500, p(0.02, 0.5)), (0, 0));
        assert_eq!(focal_offset(1000, 500, 200, 500, p(1.0, 0.5)), (800, 0));
        assert_eq!(focal_offset(1000, 500, 200, 100, p(0.5, 0.5)), (400, 200));
        // The window as large as the image: nothing to move.
        assert_eq!(focal_offset(10, 10, 10, 10, p(0.9, 0.1)), (0, 0));
    }
}
