//! Value types of the issue-12 parameters that the request half needs (parsing,
//! derived keys): `pos=entropy|attention|XxY` and the blur/sharpen sigmas.

use super::region::FocalPoint;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
