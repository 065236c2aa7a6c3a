//! Property tests for the request half: query grammar, planning, derived keys and URIs.

use edge_core::config::SizeMode;
use edge_core::key::{self, derive, key_to_uri, parse, uri_to_key};
use edge_core::plan::{plan, to_query};
use edge_core::request::{parse_query, FormatRequest, Params};
use edge_core::types::ops::{Flip, FocalPoint, Focus, Ops, Rect, Rotation, Sigma};
use edge_core::{preset, Config, Fit, Format, Gravity, OutputFormat, Policy, Rgba, Variant};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

const ACCEPTS: [Option<&str>; 5] = [
    None,
    Some("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"),
    Some("image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"),
    Some("image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"),
    Some("image/avif;q=0,image/*"),
];

fn policies() -> Vec<Policy> {
    vec![
        Policy::default(),
        Policy {
            widths: vec![160, 320, 640, 1280],
            heights: vec![90, 180, 360],
            size_mode: SizeMode::Snap,
            ..Policy::default()
        },
        Policy {
            auto_format_by_default: false,
            ..Policy::default()
        },
        Policy {
            derived_prefix: "cache/v2/".into(),
            formats: vec![Format::Jpeg, Format::Webp],
            max_output_pixels: 1_000_000,
            size_mode: SizeMode::Snap,
            ..Policy::default()
        },
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    select(policies())
}

/// One path segment: awkward but legal characters, including the key grammar's own
/// separators `,` `_` `.` and non-ASCII.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ,_=.~+#?&@()'!$;:*é日本😀-]{1,12}",
        "\\PC{1,8}".prop_map(|s| s.replace(['/', '\\', '%'], "x")),
    ]
    .prop_filter("dot segments are traversal", |s| s != "." && s != "..")
}

fn original_key() -> impl Strategy<Value = String> {
    vec(segment(), 1..5)
        .prop_map(|segments| segments.join("/"))
        .prop_filter("under a derived prefix", |k| {
            !k.starts_with("_derived/") && !k.starts_with("cache/v2/")
        })
}

fn colour() -> impl Strategy<Value = Rgba> {
    prop_oneof![
        Just(Rgba::WHITE),
        any::<[u8; 4]>().prop_map(|[r, g, b, a]| Rgba { r, g, b, a }),
        any::<[u8; 3]>().prop_map(|[r, g, b]| Rgba { r, g, b, a: 255 }),
    ]
}

fn format_request() -> impl Strategy<Value = FormatRequest> {
    prop_oneof![
        Just(FormatRequest::Auto),
        Just(FormatRequest::Source),
        select(Format::ALL.to_vec()).prop_map(FormatRequest::Fixed)
    ]
}

fn params() -> impl Strategy<Value = Params> {
    (
        (option::of(1u32..2000), option::of(1u32..2000)),
        (
            option::of(select(Fit::ALL.to_vec())),
            option::of(select(Gravity::ALL.to_vec())),
        ),
        (
            option::of(any::<bool>()),
            option::of(1u8..=100),
            option::of(colour()),
        ),
        (
            option::of(format_request()),
            option::weighted(0.3, 100u16..=400),
        ),
    )
        .prop_flat_map(|t| (Just(t), ops()))
        .prop_map(
            |(
                ((width, height), (fit, gravity), (enlarge, quality, background), (format, dpr)),
                ops,
            )| {
                Params {
                    // One `pos`: a focus or a gravity.
                    gravity: if ops.focus.is_some() { None } else { gravity },
                    ops,
                    width,
                    height,
                    fit,
                    enlarge,
                    quality,
                    background,
                    format,
                    dpr_hundredths: dpr,
                    preset: None,
                }
            },
        )
}

/// A query string for `p`, with short or long parameter names.
fn query_pairs(p: &Params, long_names: bool) -> Vec<(String, String)> {
    let name = |short: &'static str, long: &'static str| if long_names { long } else { short };
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(w) = p.width {
        pairs.push((name("w", "width"), w.to_string()));
    }
    if let Some(h) = p.height {
        pairs.push((name("h", "height"), h.to_string()));
    }
    if let Some(f) = p.fit {
        pairs.push(("fit", f.name().to_string()));
    }
    if let Some(g) = p.gravity {
        pairs.push((name("pos", "gravity"), g.code().to_string()));
    }
    if let Some(e) = p.enlarge {
        pairs.push(("enlarge", e.to_string()));
    }
    if let Some(q) = p.quality {
        pairs.push((name("q", "quality"), q.to_string()));
    }
    if let Some(c) = p.background {
        pairs.push((name("bg", "background"), format!("#{}", c.to_hex())));
    }
    if let Some(f) = p.format {
        let value = match f {
            FormatRequest::Auto => "auto",
            FormatRequest::Source => "source",
            FormatRequest::Fixed(f) => f.name(),
        };
        pairs.push((name("fm", "format"), value.to_string()));
    }
    if let Some(d) = p.dpr_hundredths {
        pairs.push(("dpr", format!("{}.{:02}", d / 100, d % 100)));
    }
    let ops = &p.ops;
    if let Some(f) = ops.focus {
        // `pos` carries either a gravity or a focus; a focus wins in the plan.
        pairs.retain(|(n, _)| *n != "pos" && *n != "gravity");
        pairs.push((name("pos", "gravity"), f.code()));
    }
    if let Some(r) = ops.rect {
        pairs.push(("rect", r.code()));
    }
    if ops.rotation != Rotation::None {
        pairs.push((name("rot", "rotate"), ops.rotation.degrees().to_string()));
    }
    if ops.flip != Flip::None {
        pairs.push(("flip", ops.flip.code().to_string()));
    }
    if let Some(b) = ops.blur {
        pairs.push(("blur", b.code()));
    }
    if let Some(s) = ops.sharpen {
        pairs.push(("sharpen", s.code()));
    }
    if let Some(w) = &ops.watermark {
        pairs.push((name("wm", "watermark"), w.clone()));
    }
    pairs.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
}

fn encode(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// A planned (hence canonical) variant together with its policy.
fn planned() -> impl Strategy<Value = (Variant, Policy)> {
    (params(), select(ACCEPTS.to_vec()), policy())
        .prop_filter_map("over the policy limits", |(p, accept, policy)| {
            plan(&p, accept, &policy).ok().map(|v| (v, policy))
        })
}

fn arbitrary_variant() -> impl Strategy<Value = Variant> {
    let format = prop_oneof![
        select(Format::ALL.to_vec()).prop_map(OutputFormat::Fixed),
        Just(OutputFormat::Legacy),
        Just(OutputFormat::Source),
    ];
    (
        (option::of(0u32..5000), option::of(0u32..5000)),
        (
            select(Fit::ALL.to_vec()),
            select(Gravity::ALL.to_vec()),
            any::<bool>(),
        ),
        (option::of(any::<u8>()), option::of(colour())),
        (format, any::<bool>()),
    )
        .prop_map(
            |(
                (width, height),
                (fit, gravity, enlarge),
                (quality, background),
                (format, negotiated),
            )| {
                Variant {
                    width,
                    height,
                    fit,
                    gravity,
                    enlarge,
                    quality,
                    background,
                    format,
                    negotiated,
                    ops: Ops::default(),
                }
            },
        )
        .prop_flat_map(|v| (Just(v), ops()))
        .prop_map(|(v, ops)| {
            // A focus replaces the gravity and only applies to cover.
            let ops = if v.fit == Fit::Cover && v.gravity == Gravity::Centre {
                ops
            } else {
                Ops { focus: None, ..ops }
            };
            Variant { ops, ..v }
        })
}

/// Issue-12 operations, each present about half the time.
fn ops() -> impl Strategy<Value = Ops> {
    let rect =
        (0u32..5000, 0u32..5000, 1u32..5000, 1u32..5000).prop_map(|(x, y, width, height)| Rect {
            x,
            y,
            width,
            height,
        });
    let focus = prop_oneof![
        Just(Focus::Entropy),
        Just(Focus::Attention),
        (0u16..=10_000, 0u16..=10_000).prop_map(|(x, y)| Focus::Point(FocalPoint { x, y })),
    ];
    (
        (option::of(rect), option::of(focus)),
        (select(Rotation::ALL.to_vec()), select(Flip::ALL.to_vec())),
        (
            option::of((30u16..=10_000).prop_map(Sigma)),
            option::of((30u16..=1_000).prop_map(Sigma)),
            option::of("[a-z0-9_-]{1,12}"),
        ),
    )
        .prop_map(
            |((rect, focus), (rotation, flip), (blur, sharpen, watermark))| Ops {
                rect,
                focus,
                rotation,
                flip,
                blur,
                sharpen,
                watermark,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_inverts_derive((v, policy) in planned(), original in original_key()) {
        let derived = derive(&original, &v, &policy).unwrap();
        prop_assert_eq!(parse(&derived, &policy).unwrap(), (original, v));
    }

    #[test]
    fn any_variant_derive_accepts_parses_back(
        v in arbitrary_variant(),
        policy in policy(),
        original in original_key(),
    ) {
        if let Ok(derived) = derive(&original, &v, &policy) {
            prop_assert_eq!(parse(&derived, &policy).unwrap(), (original, v));
        }
    }

    #[test]
    fn derived_keys_stay_under_the_prefix((v, policy) in planned(), original in original_key()) {
        let derived = derive(&original, &v, &policy).unwrap();
        prop_assert!(derived.starts_with(policy.derived_prefix.as_str()));
        prop_assert!(derived.len() <= key::MAX_S3_KEY_BYTES);
        for segment in derived.split('/') {
            prop_assert!(!segment.is_empty() && segment != "." && segment != "..", "{}", derived);
        }
        let inner = &derived[policy.derived_prefix.len()..];
        prop_assert_eq!(inner.rsplit_once('/').unwrap().0, original.as_str());
        // The derived URI decodes to the same key (the viewer/origin hand-off).
        prop_assert_eq!(uri_to_key(&key_to_uri(&derived)).unwrap(), derived);
    }

    #[test]
    fn uri_round_trip(original in original_key()) {
        let uri = key_to_uri(&original);
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~/,%".contains(&b);
        prop_assert!(uri.bytes().all(allowed), "{}", uri);
        prop_assert_eq!(uri_to_key(&uri).unwrap(), original);
    }

    #[test]
    fn parse_never_panics(s in "\\PC*", junk in "[_a-z0-9,./%é]{0,40}", policy in policy()) {
        let _ = parse(&s, &policy);
        let _ = parse(&format!("{}{junk}", policy.derived_prefix), &policy);
        let _ = uri_to_key(&s);
        let _ = uri_to_key(&format!("/{junk}"));
    }

    #[test]
    fn parse_query_never_panics(
        s in any::<String>(),
        tokens in vec("(w|h|d|fit|pos|q|fm|dpr|bg|enlarge|width|x)=[0-9a-z.#%+x]{0,6}", 0..6),
    ) {
        let _ = parse_query(&s);
        let _ = edge_core::request::has_transform_params(&s);
        let query = tokens.join("&");
        if let Ok(p) = parse_query(&query) {
            for policy in policies() {
                let _ = plan(&p, ACCEPTS[1], &policy);
            }
        }
    }

    #[test]
    fn parameter_order_and_names_do_not_change_the_key(
        p in params(),
        shuffled in any::<u64>(),
        accept in select(ACCEPTS.to_vec()),
        policy in policy(),
    ) {
        let pairs = query_pairs(&p, false);
        let mut reordered = query_pairs(&p, shuffled % 2 == 0);
        // Deterministic shuffle from the drawn seed (Fisher-Yates with a simple LCG).
        let mut state = shuffled;
        for i in (1..reordered.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            reordered.swap(i, (state >> 33) as usize % (i + 1));
        }
        let key_of = |query: &str| {
            let v = plan(&parse_query(query)?, accept, &policy)?;
            derive("photos/cat.jpg", &v, &policy)
        };
        let (a, b) = (key_of(&encode(&pairs)), key_of(&encode(&reordered)));
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(parse_query(&encode(&pairs)).unwrap(), p);
    }

    #[test]
    fn to_query_replans_to_the_same_variant(
        p in params(),
        accept in select(ACCEPTS.to_vec()),
        policy in policy(),
    ) {
        if let Ok(v) = plan(&p, accept, &policy) {
            let again = plan(&parse_query(&to_query(&v)).unwrap(), accept, &policy).unwrap();
            prop_assert_eq!(again, v);
        }
    }

    #[test]
    fn presets_derive_their_expansion_and_parse_back(
        which in 0usize..preset::DEFAULTS.len(),
        alias in any::<bool>(),
        format in option::of(format_request()),
        dpr in option::of(100u16..=400),
        accept in select(ACCEPTS.to_vec()),
        policy in policy(),
        original in original_key(),
    ) {
        let (name, query) = preset::DEFAULTS[which];
        let config = Config { policy: policy.clone(), ..Config::default() };
        let mut extra = Vec::new();
        if let Some(f) = format {
            let p = Params { format: Some(f), ..Params::default() };
            extra.extend(query_pairs(&p, false));
        }
        if let Some(d) = dpr {
            extra.push(("dpr".to_string(), format!("{}.{:02}", d / 100, d % 100)));
        }
        let mut by_name = vec![((if alias { "p" } else { "preset" }).to_string(), name.to_string())];
        by_name.extend(extra.iter().cloned());
        let explicit = format!("{query}&{}", encode(&extra));
        let key_of = |q: &str| -> edge_core::Result<String> {
            let params = preset::expand(parse_query(q)?, &config)?;
            let v = plan(&params, accept, &policy)?;
            derive(&original, &v, &policy)
        };
        let via_preset = key_of(&encode(&by_name));
        prop_assert_eq!(&via_preset, &key_of(explicit.trim_end_matches('&')));
        if let Ok(derived) = via_preset {
            let (back, v) = parse(&derived, &policy).unwrap();
            prop_assert_eq!(&back, &original);
            prop_assert_eq!(derive(&back, &v, &policy).unwrap(), derived);
        }
    }

    #[test]
    fn traversal_attempts_are_rejected(
        before in original_key(),
        after in original_key(),
        trick in select(vec![
            "/../", "/%2e%2e/", "/%2E./", "/.%2e/", "/./", "/%2e/", "//", "%2F", "%2f", "..%2f",
            "%2e%2e%2f", "%5C", "%5c", "\\", "%00", "%0a", "%0D", "%7f", "%C2%85", "%252e", "%25",
            "%g0", "%C0%AF", "%ff",
        ]),
    ) {
        let uri = format!("{}{trick}{}", key_to_uri(&before), &key_to_uri(&after)[1..]);
        let err = uri_to_key(&uri).unwrap_err();
        prop_assert_eq!(err.code(), "invalid_key");
    }
}

#[test]
fn known_traversal_uris_are_rejected() {
    for uri in [
        "/../etc/passwd",
        "/a/../../b",
        "/%2e%2e/a",
        "/a/%2E%2E/b",
        "/a%2F..%2Fb",
        "/..%2fa",
        "/a/%00.jpg",
        "/%252e%252e/a",
        "/a/%252fb",
        "/_derived/../a/_.jpg",
        "/a/b/",
    ] {
        assert_eq!(uri_to_key(uri).unwrap_err().code(), "invalid_key", "{uri}");
    }
}
