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

/// What `rect` accepts, for error messages.
pub const RECT_VALUES: &str =
    "x,y,w,h in whole pixels of the upright original (x, y ≥ 0; w, h ≥ 1), e.g. 10,20,300,200";

/// Parses `x,y,w,h` (whole pixels, `w` and `h` at least 1); `None` otherwise. The
/// check against the image size waits for the header: [`check_region`].
pub fn parse_region(value: &str) -> Option<Rect> {
    let parts: Vec<&str> = value.split(',').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut n = [0u32; 4];
    for (slot, part) in n.iter_mut().zip(&parts) {
        // Digits only: no sign, no spaces, at most 9 digits (no overflow).
        if part.is_empty() || part.len() > 9 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    (n[2] > 0 && n[3] > 0).then_some(Rect {
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
/// the top, in ten-thousandths (0 … 10000) so variants compare and hash exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FocalPoint {
    pub x: u16,
    pub y: u16,
}

/// What `pos=XxY` accepts, for error messages.
pub const FOCAL_VALUES: &str =
    "XxY, X and Y fractions from 0 to 1 (at most 4 decimals kept), e.g. 0.25x0.6";

impl FocalPoint {
    /// Parses `XxY`, e.g. `0.25x0.6` (Cloudflare's `gravity=XxY`): plain decimals
    /// from 0 to 1, rounded to four decimals.
    pub fn from_code(value: &str) -> Option<FocalPoint> {
        let (x, y) = value.split_once('x')?;
        Some(FocalPoint {
            x: fraction(x)?,
            y: fraction(y)?,
        })
    }

    /// Canonical `XxY`: shortest decimals, no trailing zeros (`0.5x0.25`, `1x0`).
    pub fn code(self) -> String {
        format!("{}x{}", decimal(self.x), decimal(self.y))
    }

    pub fn fx(self) -> f64 {
        f64::from(self.x) / 10_000.0
    }

    pub fn fy(self) -> f64 {
        f64::from(self.y) / 10_000.0
    }
}

fn fraction(s: &str) -> Option<u16> {
    let plain = !s.is_empty()
        && s.len() <= 12
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|&b| b == b'.').count() <= 1
        && !s.starts_with('.')
        && !s.ends_with('.');
    let v: f64 = s.parse().ok().filter(|_| plain)?;
    (0.0..=1.0)
        .contains(&v)
        .then(|| (v * 10_000.0).round() as u16)
}

/// Ten-thousandths as the shortest decimal: 2500 → "0.25", 10000 → "1", 0 → "0".
fn decimal(v: u16) -> String {
    if v >= 10_000 {
        return "1".into();
    }
    let digits = format!("{v:04}");
    let digits = digits.trim_end_matches('0');
    if digits.is_empty() {
        "0".into()
    } else {
        format!("0.{digits}")
    }
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
        place(width, crop_width, point.fx()),
        place(height, crop_height, point.fy()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_parsing() {
        assert_eq!(parse_region("10,20,30,40").unwrap().code(), "10,20,30,40");
        assert_eq!(parse_region("0,0,1,1").unwrap().code(), "0,0,1,1");
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
            assert_eq!(parse_region(bad), None, "{bad}");
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
        let p = FocalPoint::from_code("0.25x0.6").unwrap();
        assert_eq!((p.x, p.y), (2500, 6000));
        assert_eq!((p.fx(), p.fy()), (0.25, 0.6));
        assert_eq!(p.code(), "0.25x0.6");
        assert_eq!(FocalPoint::from_code("1x0").unwrap().code(), "1x0");
        assert_eq!(
            FocalPoint::from_code("0.50000x1.0").unwrap().code(),
            "0.5x1"
        );
        assert_eq!(
            FocalPoint::from_code("0.123456x0").unwrap().code(),
            "0.1235x0"
        );
        assert_eq!(FocalPoint::from_code("0.00004x0").unwrap().code(), "0x0");
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
            "0.5X0.5",
            " 0.5x0.5",
        ] {
            assert_eq!(FocalPoint::from_code(bad), None, "{bad}");
        }
        // Every canonical form parses back to itself.
        for x in (0..=10_000).step_by(7) {
            let p = FocalPoint { x, y: 10_000 - x };
            assert_eq!(FocalPoint::from_code(&p.code()), Some(p), "{}", p.code());
        }
    }

    #[test]
    fn focal_offset_centres_the_point_within_the_edges() {
        let p = |x: f64, y: f64| FocalPoint {
            x: (x * 1e4) as u16,
            y: (y * 1e4) as u16,
        };
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
