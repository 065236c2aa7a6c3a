//! Value types of the issue-12 operations, shared by the request half (parameter
//! table, derived keys) and the image half (pipeline steps). Plain data with their
//! canonical codes; parsing returns `None` and the parameter table words the error.
//! Like the rest of `types`, this imports nothing from the crate.

/// The operations of one variant, all off by default (a variant without them is
/// exactly today's).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Ops {
    /// `rect=x,y,w,h`: region of the upright original, cut before the resize.
    pub rect: Option<Rect>,
    /// `pos=entropy|attention|XxY`: what a `cover` crop keeps (overrides the gravity).
    pub focus: Option<Focus>,
    /// `rot`: clockwise turn after the EXIF orientation.
    pub rotation: Rotation,
    /// `flip`: mirror after the turn.
    pub flip: Flip,
    pub blur: Option<Sigma>,
    pub sharpen: Option<Sigma>,
    /// `wm=NAME`: a watermark of the config.
    pub watermark: Option<String>,
}

impl Ops {
    /// True when `rot` swaps width and height.
    pub fn turns_sideways(&self) -> bool {
        matches!(self.rotation, Rotation::Cw90 | Rotation::Cw270)
    }
}

/// A rectangle of whole pixels of the upright original (`rect=x,y,w,h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Rect {
    /// Parses `x,y,w,h` ([`parse_region`]).
    pub fn from_code(value: &str) -> Option<Rect> {
        parse_region(value)
    }

    /// Canonical `x,y,w,h`, as in queries (keys write `-` for `,`).
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

/// What a `cover` crop keeps beyond the nine compass gravities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Focus {
    /// The window with the most luminance entropy.
    Entropy,
    /// The most salient window (edges, saturation, skin tones).
    Attention,
    /// A point kept as near the window's centre as the edges allow.
    Point(FocalPoint),
}

impl Focus {
    /// `entropy`, `attention` or `XxY`; `None` otherwise (compass gravities are
    /// parsed elsewhere).
    pub fn from_code(value: &str) -> Option<Focus> {
        match value.to_ascii_lowercase().as_str() {
            "entropy" => Some(Focus::Entropy),
            "attention" => Some(Focus::Attention),
            _ => FocalPoint::from_code(value).map(Focus::Point),
        }
    }

    /// Canonical form, as in queries and derived keys.
    pub fn code(self) -> String {
        match self {
            Focus::Entropy => "entropy".into(),
            Focus::Attention => "attention".into(),
            Focus::Point(p) => p.code(),
        }
    }
}

/// A blur or sharpen sigma in hundredths of a pixel (0.3 → 30), so variants compare
/// and hash exactly and the canonical form is short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sigma(pub u16);

/// `blur` takes 0.3 … 100, `sharpen` 0.3 … 10 (hundredths).
pub const BLUR_RANGE: (u16, u16) = (30, 10_000);
pub const SHARPEN_RANGE: (u16, u16) = (30, 1_000);

impl Sigma {
    /// A plain decimal within `range` (hundredths), rounded to two decimals.
    pub fn parse(value: &str, range: (u16, u16)) -> Option<Sigma> {
        let plain = !value.is_empty()
            && value.len() <= 12
            && value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && value.bytes().filter(|&b| b == b'.').count() <= 1
            && !value.starts_with('.')
            && !value.ends_with('.');
        let v: f64 = value.parse().ok().filter(|_| plain)?;
        let hundredths = (v * 100.0).round();
        (hundredths >= f64::from(range.0) && hundredths <= f64::from(range.1))
            .then_some(Sigma(hundredths as u16))
    }

    /// Shortest decimal: 30 → "0.3", 250 → "2.5", 10000 → "100".
    pub fn code(self) -> String {
        let (whole, frac) = (self.0 / 100, self.0 % 100);
        match frac {
            0 => whole.to_string(),
            f if f % 10 == 0 => format!("{whole}.{}", f / 10),
            f => format!("{whole}.{f:02}"),
        }
    }

    pub fn pixels(self) -> f32 {
        f32::from(self.0) / 100.0
    }
}

/// What `blur` and `sharpen` accept, for error messages.
pub const BLUR_VALUES: &str = "a Gaussian sigma in pixels from 0.3 to 100 (two decimals kept)";
pub const SHARPEN_VALUES: &str = "a sigma in pixels from 0.3 to 10 (two decimals kept)";

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
    fn focus_codes_round_trip() {
        assert_eq!(Focus::from_code("entropy"), Some(Focus::Entropy));
        assert_eq!(Focus::from_code("ATTENTION"), Some(Focus::Attention));
        assert_eq!(Focus::from_code("0.25x0.6").unwrap().code(), "0.25x0.6");
        assert_eq!(Focus::from_code("north"), None);
        for f in ["entropy", "attention", "0x1", "0.3333x0.5"] {
            let parsed = Focus::from_code(f).unwrap();
            assert_eq!(Focus::from_code(&parsed.code()), Some(parsed));
        }
    }

    #[test]
    fn sigmas() {
        assert_eq!(Sigma::parse("0.3", BLUR_RANGE), Some(Sigma(30)));
        assert_eq!(Sigma::parse("100", BLUR_RANGE), Some(Sigma(10_000)));
        assert_eq!(Sigma::parse("2.345", BLUR_RANGE), Some(Sigma(235)));
        assert_eq!(Sigma::parse("0.29", BLUR_RANGE), None);
        assert_eq!(Sigma::parse("100.01", BLUR_RANGE), None);
        assert_eq!(Sigma::parse("10.5", SHARPEN_RANGE), None);
        for bad in ["", "-1", "1e1", "nan", "inf", ".5", "5.", "1,5", " 1"] {
            assert_eq!(Sigma::parse(bad, BLUR_RANGE), None, "{bad}");
        }
        for h in BLUR_RANGE.0..=BLUR_RANGE.1 {
            let s = Sigma(h);
            assert_eq!(Sigma::parse(&s.code(), BLUR_RANGE), Some(s), "{}", s.code());
        }
        assert_eq!(Sigma(250).code(), "2.5");
        assert_eq!(Sigma(205).code(), "2.05");
        assert_eq!(Sigma(30).pixels(), 0.3);
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
