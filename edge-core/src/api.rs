//! Rules of the regional HTTP API (`api/`): which derived object the no-CDN
//! `GET /resize?key=…` route makes, and which key and type an upload may have. The
//! Lambda only moves data in and out; every key it builds or accepts comes from here.

use crate::config::{Config, Limits};
use crate::error::{Error, Result};
use crate::key;
use crate::request::decision::{self as viewer, Rewrite};

pub use crate::config::ApiConfig;

/// Media types an upload may declare: exactly the formats `decode` reads.
pub const UPLOAD_MEDIA_TYPES: [&str; 5] = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/avif",
];

/// Longest sanitised file name kept in an upload key.
const MAX_FILENAME_BYTES: usize = 100;
/// Longest caller id (JWT `sub`) accepted as a key segment.
const MAX_USER_ID_BYTES: usize = 128;

/// The object `GET /resize` makes (or finds) and redirects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResizeTarget {
    /// The canonical derived key the object is stored under.
    pub derived_key: String,
    /// The original it is made from.
    pub original_key: String,
    /// The format was chosen from `Accept`.
    pub negotiated: bool,
}

/// `GET /resize?<query>`: the query holds exactly one `key`, either a canonical derived
/// key (`_derived/photos/cat.jpg/w_300.source`) or the AWS sample's `WxH/<original>`
/// form (`300x200/photos/cat.jpg`, either side may be empty), which means the same as
/// `/<original>?w=W&h=H` at the edge. Both go through the viewer decision itself
/// (`viewer::viewer_request`), so key safety, policy (and whatever else the edge checks)
/// are exactly the edge's.
/// `now` (Unix seconds) is checked against a signed URL's `exp`, as at the edge.
pub fn resize_target(
    query: &str,
    accept: Option<&str>,
    config: &Config,
    now: i64,
) -> Result<ResizeTarget> {
    let policy = &config.policy;
    let spec = single_key_param(query)?;
    if spec.starts_with(policy.derived_prefix.as_str()) {
        // The edge passes a derived URI through only when it is canonical.
        match viewer::viewer_request(&key::key_to_uri(&spec), "", accept, config, now)? {
            Rewrite::PassThrough => {}
            Rewrite::Derived { .. } => return Err(Error::internal("derived key was rewritten")),
        }
        let (original_key, variant) = key::parse(&spec, policy)?;
        return Ok(ResizeTarget {
            derived_key: spec,
            original_key,
            negotiated: variant.negotiated,
        });
    }
    let (size, original_key) = spec.split_once('/').ok_or_else(|| key_shape_error(&spec))?;
    let (w, h) = size.split_once('x').ok_or_else(|| key_shape_error(&spec))?;
    let digits = |s: &str| s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(w) || !digits(h) || (w.is_empty() && h.is_empty()) {
        return Err(key_shape_error(&spec));
    }
    let mut edge_query = Vec::new();
    if !w.is_empty() {
        edge_query.push(format!("w={w}"));
    }
    if !h.is_empty() {
        edge_query.push(format!("h={h}"));
    }
    // Safety first: `key_to_uri` would encode what `uri_to_key` then refuses anyway,
    // but the error names the key rather than a URI.
    key::validate_original_key(original_key, policy)?;
    let uri = key::key_to_uri(original_key);
    match viewer::viewer_request(&uri, &edge_query.join("&"), accept, config, now)? {
        Rewrite::Derived {
            key: derived_key,
            negotiated,
            ..
        } => Ok(ResizeTarget {
            derived_key,
            original_key: original_key.to_string(),
            negotiated,
        }),
        Rewrite::PassThrough => Err(Error::internal("resize request was not rewritten")),
    }
}

fn single_key_param(query: &str) -> Result<String> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| Error::invalid_parameter("query", format!("malformed query string: {e}")))?;
    let mut found = None;
    for (name, value) in pairs {
        if name != "key" {
            return Err(Error::invalid_parameter(
                shorten(&name),
                "unknown parameter; /resize takes only key",
            ));
        }
        if found.replace(value).is_some() {
            return Err(Error::invalid_parameter("key", "given more than once"));
        }
    }
    found.ok_or_else(|| {
        Error::invalid_parameter(
            "key",
            "required: a derived key or WxH/<original key>, e.g. 300x200/photos/cat.jpg",
        )
    })
}

fn key_shape_error(spec: &str) -> Error {
    Error::invalid_parameter(
        "key",
        format!(
            "{:?} is neither a derived key nor WxH/<original key> (e.g. 300x200/photos/cat.jpg, 300x/photos/cat.jpg)",
            shorten(spec)
        ),
    )
}

/// What `POST /uploads` accepted: the object key and the normalised media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPlan {
    pub key: String,
    pub content_type: String,
    pub size: u64,
}

/// The fields of a `POST /uploads` body as they came (JSON values may have any type).
#[derive(Debug, Clone, Default)]
pub struct UploadRequest<'a> {
    pub filename: Option<&'a str>,
    pub content_type: Option<&'a str>,
    /// JSON numbers arrive as f64; anything else is `None`.
    pub size: Option<f64>,
}

/// Validate an upload request and build its key
/// `<prefix><userId>/<yyyyMMdd_HHmmss>_<sanitised filename>` (UTC time `epoch_seconds`).
pub fn plan_upload(
    prefix: &str,
    user_id: &str,
    req: &UploadRequest<'_>,
    epoch_seconds: u64,
    config: &Config,
) -> Result<UploadPlan> {
    let filename = req
        .filename
        .filter(|f| !f.trim().is_empty())
        .ok_or_else(|| Error::invalid_parameter("filename", "required: a non-empty string"))?;
    let content_type = req
        .content_type
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| UPLOAD_MEDIA_TYPES.contains(&t.as_str()))
        .ok_or_else(|| {
            Error::invalid_parameter(
                "contentType",
                format!("must be one of {}", UPLOAD_MEDIA_TYPES.join(", ")),
            )
        })?;
    let size = upload_size(req.size, &config.limits)?;
    check_user_id(user_id)?;
    if !prefix.is_empty() && (!prefix.ends_with('/') || prefix.starts_with('/')) {
        return Err(Error::internal("upload prefix must be like \"uploads/\""));
    }
    let key = format!(
        "{prefix}{user_id}/{}_{}",
        timestamp(epoch_seconds),
        sanitise_filename(filename)
    );
    key::validate_original_key(&key, &config.policy)?;
    Ok(UploadPlan {
        key,
        content_type,
        size,
    })
}

fn upload_size(size: Option<f64>, limits: &Limits) -> Result<u64> {
    let max = limits.max_input_bytes;
    let err = || {
        Error::invalid_parameter(
            "size",
            format!("must be a whole number of bytes from 1 to {max} (limits.maxInputBytes)"),
        )
    };
    let size = size.ok_or_else(err)?;
    if !(size.fract() == 0.0 && size >= 1.0 && size <= max as f64) {
        return Err(err());
    }
    // Exact: a whole number within 1..=max (< 2^53).
    Ok(size as u64)
}

/// The JWT `sub` becomes one key segment: refuse anything that could be read as more.
fn check_user_id(user_id: &str) -> Result<()> {
    let ok = !user_id.is_empty()
        && user_id.len() <= MAX_USER_ID_BYTES
        && user_id != "."
        && user_id != ".."
        && user_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@+:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            "sub",
            "the caller id must be 1-128 characters of A-Z a-z 0-9 - _ . @ + :",
        ))
    }
}

/// `../My Photo (1).JPG` → `My_Photo_1_.JPG`: the last path segment, ASCII letters,
/// digits, `.`, `-` and `_` only, no leading dots, at most 100 bytes (extension kept).
pub fn sanitise_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut out = String::with_capacity(base.len());
    for c in base.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            c
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    let trimmed = out.trim_start_matches(['.', '_', '-']);
    let mut name = if trimmed.is_empty() {
        "upload".to_string()
    } else {
        trimmed.to_string()
    };
    if name.len() > MAX_FILENAME_BYTES {
        let ext = match name.rfind('.') {
            Some(dot) if name.len() - dot <= 10 => name[dot..].to_string(),
            _ => String::new(),
        };
        name.truncate(MAX_FILENAME_BYTES - ext.len());
        name.push_str(&ext);
    }
    name
}

/// `yyyyMMdd_HHmmss` in UTC.
fn timestamp(epoch_seconds: u64) -> String {
    let days = (epoch_seconds / 86_400) as i64;
    let secs = epoch_seconds % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}_{:02}{:02}{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn shorten(s: &str) -> String {
    const MAX: usize = 64;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(query: &str) -> Result<ResizeTarget> {
        resize_target(query, None, &Config::default(), 0)
    }

    #[test]
    fn sample_form_means_the_same_as_the_edge_query() {
        let t = target("key=300x200/photos/cat.jpg").unwrap();
        let edge = crate::viewer_request(
            "/photos/cat.jpg",
            "w=300&h=200",
            None,
            &Config::default(),
            0,
        )
        .unwrap();
        let crate::Rewrite::Derived { key, .. } = edge else {
            panic!("no rewrite")
        };
        assert_eq!(t.derived_key, key);
        assert_eq!(t.original_key, "photos/cat.jpg");
        let width_only = target("key=300x/a.png").unwrap();
        // Negotiated by default (`autoFormatByDefault`), as at the edge.
        assert_eq!(
            width_only.derived_key,
            "_derived/a.png/w_300,fm_auto.legacy"
        );
        // The query value is decoded once (form encoding).
        assert_eq!(
            target("key=300x/a%20b.png").unwrap().original_key,
            "a b.png"
        );
    }

    #[test]
    fn derived_keys_pass_only_when_canonical() {
        let t = target("key=_derived/a.png/w_300.source").unwrap();
        assert_eq!(t.derived_key, "_derived/a.png/w_300.source");
        assert_eq!(t.original_key, "a.png");
        for bad in [
            "key=_derived/a.png/w_0300.source",
            "key=_derived/../a.png/w_300.source",
            "key=_derived/a.png",
        ] {
            assert_eq!(target(bad).unwrap_err().code(), "invalid_key", "{bad}");
        }
    }

    #[test]
    fn bad_queries_name_the_parameter() {
        for (query, param) in [
            ("", "key:"),
            ("key=a.png", "key:"),
            ("key=axb/a.png", "key:"),
            ("key=x/a.png", "key:"),
            ("key=1x1/a.png&w=3", "w:"),
            ("key=1x1/a.png&key=2x2/a.png", "key:"),
            ("key=0x10/a.png", "w:"),
            ("key=99999x10/a.png", "w:"),
        ] {
            let e = target(query).unwrap_err();
            assert_eq!(e.status(), 400, "{query}");
            assert!(e.message().starts_with(param), "{query}: {}", e.message());
        }
        for unsafe_key in [
            "key=10x10/../a.png",
            "key=10x10//a.png",
            "key=10x10/_derived/a.png/w_1.png",
        ] {
            assert_eq!(
                target(unsafe_key).unwrap_err().code(),
                "invalid_key",
                "{unsafe_key}"
            );
        }
    }

    fn upload(
        filename: Option<&str>,
        content_type: Option<&str>,
        size: Option<f64>,
    ) -> Result<UploadPlan> {
        let req = UploadRequest {
            filename,
            content_type,
            size,
        };
        plan_upload(
            "uploads/",
            "user-1",
            &req,
            1_764_590_400,
            &Config::default(),
        )
    }

    #[test]
    fn upload_keys_have_the_owner_the_time_and_a_safe_name() {
        let p = upload(
            Some("../My Photo (1).JPG"),
            Some("Image/JPEG"),
            Some(1234.0),
        )
        .unwrap();
        // 2025-12-01 12:00:00 UTC
        assert_eq!(p.key, "uploads/user-1/20251201_120000_My_Photo_1_.JPG");
        assert_eq!(p.content_type, "image/jpeg");
        assert_eq!(p.size, 1234);
        assert_eq!(timestamp(0), "19700101_000000");
        assert_eq!(timestamp(951_782_400), "20000229_000000");
        assert_eq!(sanitise_filename("...."), "upload");
        assert_eq!(sanitise_filename("a\\b\\c%2e.png"), "c_2e.png");
        let long = format!("{}.webp", "x".repeat(300));
        let s = sanitise_filename(&long);
        assert_eq!(s.len(), 100);
        assert!(s.ends_with(".webp"));
    }

    #[test]
    fn upload_fields_are_checked_and_named() {
        let max = Config::default().limits.max_input_bytes as f64;
        for (f, t, s, param) in [
            (None, Some("image/png"), Some(1.0), "filename:"),
            (Some(" "), Some("image/png"), Some(1.0), "filename:"),
            (
                Some("a.svg"),
                Some("image/svg+xml"),
                Some(1.0),
                "contentType:",
            ),
            (Some("a.png"), None, Some(1.0), "contentType:"),
            (Some("a.png"), Some("image/png"), None, "size:"),
            (Some("a.png"), Some("image/png"), Some(0.0), "size:"),
            (Some("a.png"), Some("image/png"), Some(1.5), "size:"),
            (Some("a.png"), Some("image/png"), Some(max + 1.0), "size:"),
        ] {
            let e = upload(f, t, s).unwrap_err();
            assert_eq!(e.code(), "invalid_parameter");
            assert!(e.message().starts_with(param), "{}", e.message());
        }
        assert!(upload(Some("a.png"), Some("image/png"), Some(max)).is_ok());
        let req = UploadRequest {
            filename: Some("a.png"),
            content_type: Some("image/png"),
            size: Some(1.0),
        };
        let cfg = Config::default();
        for bad_user in ["", "a/b", "..", "a b"] {
            let e = plan_upload("uploads/", bad_user, &req, 0, &cfg).unwrap_err();
            assert!(e.message().starts_with("sub:"), "{bad_user}");
        }
    }
}
