//! Recorded behaviour: thousands of viewer requests, a few hundred derived keys and the
//! output bytes of the corpus, recorded on main before the re-cut of issue 10 and
//! asserted ever since. A refactor must leave every row identical; a deliberate
//! behaviour change updates just its rows and says so in the commit.
//!
//!   cargo test -p edge-core --test fixtures            # assert
//!   RECORD=1 cargo test -p edge-core --test fixtures   # rewrite tests/fixtures/*.jsonl
//!
//! The inputs are stored beside the results, so the replay does not depend on the
//! generator below (which only runs when recording).

mod common;

use std::fmt::Write as _;
use std::path::PathBuf;

use edge_core::{key, plan, request, Config, Rewrite};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn recording() -> bool {
    std::env::var_os("RECORD").is_some_and(|v| v != "0")
}

/// The policies every request case is replayed under.
fn policies() -> Vec<(&'static str, Config)> {
    let json = [
        // Recorded when keeping the source format was the default (issue 11 made
        // negotiation the default); pinned so the rows keep checking the re-cut.
        ("default", r#"{"policy":{"autoFormatByDefault":false}}"#),
        (
            "lists-snap",
            r#"{"policy":{"widths":[100,200,400,800,1600],"heights":[100,300,600],
               "sizeMode":"snap","formats":["jpeg","webp","png"],"autoFormatByDefault":false}}"#,
        ),
        (
            "auto-default",
            r#"{"policy":{"autoFormatByDefault":true,"maxWidth":2000,"maxHeight":1500,
               "maxOutputPixels":2000000,"quality":{"jpeg":75,"webp":70,"avif":45}}}"#,
        ),
        (
            "prefix",
            r#"{"policy":{"derivedPrefix":"cache/v1/","autoFormatByDefault":false}}"#,
        ),
    ];
    json.into_iter()
        .map(|(name, j)| (name, Config::from_json(j).expect(name)))
        .collect()
}

fn error_json(e: &edge_core::Error) -> Value {
    json!({"status": e.status(), "code": e.code(), "message": e.message()})
}

fn viewer_result(uri: &str, query: &str, accept: Option<&str>, cfg: &Config) -> Value {
    // Signing is off in every fixture policy; the clock does not matter.
    match edge_core::viewer_request(uri, query, accept, cfg, 0) {
        Ok(Rewrite::PassThrough) => json!("pass"),
        Ok(Rewrite::Derived {
            uri,
            key,
            negotiated,
        }) => json!({"uri": uri, "key": key, "negotiated": negotiated}),
        Err(e) => json!({"error": error_json(&e)}),
    }
}

fn origin_parse_result(derived_key: &str, cfg: &Config) -> Value {
    match key::parse(derived_key, &cfg.policy) {
        Ok((original, v)) => json!({
            "original": original,
            "variant": format!("{v:?}"),
            "query": plan::to_query(&v),
        }),
        Err(e) => json!({"error": error_json(&e)}),
    }
}

// ---------------------------------------------------------------- generator

/// splitmix64: deterministic, no dependency, same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const URIS: &[&str] = &[
    "/photos/cat.jpg",
    "/a.png",
    "/a",
    "/dir/sub dir/x.jpg",
    "/dir/sub%20dir/x.jpg",
    "/photos/caf%C3%A9.jpg",
    "/%E6%97%A5%E6%9C%AC/%F0%9F%98%80.png",
    "/a+b,c=d_e~.jpg",
    "/a%2Bb.jpg",
    "/a%2bb.jpg",
    "/...",
    "/a/.hidden",
    "/a..b.jpg",
    "/_derivedx/a.jpg",
    "/cache/v1x/a.jpg",
    "/a%2Fb.jpg",
    "/a%2fb.jpg",
    "/a%5Cb.jpg",
    "/a%5cb.jpg",
    "/a\\b.jpg",
    "/a%25b.jpg",
    "/%252e%252e/a.jpg",
    "/../a.jpg",
    "/a/../b.jpg",
    "/a/%2e%2e/b.jpg",
    "/a/%2E%2E/b.jpg",
    "/a/./b.jpg",
    "/a//b.jpg",
    "//a.jpg",
    "/a/",
    "/",
    "",
    "a.jpg",
    "/a%00.jpg",
    "/a%0A.jpg",
    "/a%0d.jpg",
    "/a%09.jpg",
    "/a%7F.jpg",
    "/a%C2%85.jpg",
    "/a%.jpg",
    "/a%4.jpg",
    "/a%zz.jpg",
    "/a%C3.jpg",
    "/a%FF.jpg",
    "/a%C3%28.jpg",
    "/a\u{1}b.jpg",
    "/é.jpg",
    "/a b.jpg",
    "/%5Fderived/photos/Wood.jpg/w_120.jpg",
    "/%5fderived/photos/Wood.jpg/w_120.jpg",
    "/%5Fderived/a.jpg",
    "/_derived/photos%2FWood.jpg/w_130.jpg",
    "/_derived/photos/Wood.jpg/w_130.jpg",
    "/_derived/photos/Wood.jpg/w_130,fm_auto.webp",
    "/_derived/a/_.source",
    "/_derived/a/_.png",
    "/_derived/a/w_0100.jpg",
    "/_derived/a/h_20,w_10.jpg",
    "/_derived/a/q_80.jpg",
    "/_derived/a%20b/w_10.jpg",
    "/_derived/a b/w_10.jpg",
    "/_derived/a/b/w_10,h_10,fit_cover,pos_ne.webp",
    "/_derived/_derived/a/_.jpg/_.jpg",
    "/_derived/../a/_.jpg",
    "/_derived/a/w_100.jpg%2F",
    "/_derived/",
    "/_derived",
    "/_derived/a/fm_auto.legacy",
    "/_derived/a/w_100,fm_auto.avif",
    "/_derived/a/bg_00000080,fit_contain.png",
    "/_derived/a/w_10,h_10,fit_contain,bg_00000080.png",
    "/_derived/a/%5F.jpg",
    "/_derived/caf%C3%A9.jpg/w_10.jpg",
    "/_derived/caf%c3%a9.jpg/w_10.jpg",
    "/cache/v1/a/_.png",
    "/cache/v1/a/w_100.jpg",
    "/cache/v1/a/w_100,fm_auto.webp",
    "/cache/v1/a%2Fb/w_100.jpg",
    "/cache%2Fv1/a/w_100.jpg",
    "/cache/v1/_derived/a/_.jpg",
    "/_derived/a/w_200.jpg",
    "/_derived/a/w_150.jpg",
    "/_derived/a/w_200,fm_auto.webp",
    "/_derived/a/fm_auto.webp",
    "/_derived/a/w_100,q_75.jpg",
];

const PARAMS: &[&str] = &[
    "w=600",
    "w=100",
    "w=150",
    "w=1",
    "w=4096",
    "w=4097",
    "w=0",
    "w=-5",
    "w=1e3",
    "w=0600",
    "w=100000",
    "w=100001",
    "w=abc",
    "w=",
    "w=%20100",
    "width=300",
    "h=400",
    "h=33",
    "h=3000",
    "h=5000",
    "height=200",
    "d=300x200",
    "d=300X200",
    "d=300x",
    "d=5000x5000",
    "fit=cover",
    "fit=contain",
    "fit=fill",
    "fit=inside",
    "fit=outside",
    "fit=COVER",
    "fit=crop",
    "pos=north",
    "pos=ne",
    "pos=c",
    "pos=centre",
    "pos=center",
    "pos=right+top",
    "pos=top%20left",
    "pos=nowhere",
    "gravity=sw",
    "q=70",
    "q=80",
    "q=50",
    "q=100",
    "q=0",
    "q=101",
    "quality=75",
    "fm=auto",
    "fm=webp",
    "fm=avif",
    "fm=jpeg",
    "fm=jpg",
    "fm=png",
    "fm=gif",
    "fm=AUTO",
    "format=webp",
    "fm=source",
    "bg=%23ff8800",
    "bg=ff8800",
    "bg=FFF",
    "bg=ffffff",
    "bg=00000080",
    "bg=1234",
    "bg=12345",
    "bg=red",
    "background=000",
    "enlarge=1",
    "enlarge=true",
    "enlarge=0",
    "enlarge=yes",
    "dpr=1.5",
    "dpr=2",
    "dpr=1.25",
    "dpr=4",
    "dpr=5",
    "dpr=1.",
    "dpr=1.333",
    "dpr=0.5",
    "v=3",
    "x=1",
    "%zz=1",
    "w=%zz",
    "w",
    "=1",
    "w=100&w=200",
    "w=1&width=1",
];

const ACCEPTS: &[Option<&str>] = &[
    None,
    Some("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"),
    Some("image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"),
    Some("image/webp,*/*"),
    Some("image/avif;q=0,image/webp"),
    Some("*/*"),
    Some("image/avif;q=garbage,image/webp;q=0"),
    Some(""),
    Some("IMAGE/AVIF"),
];

fn long_uri(rng: &mut Rng) -> String {
    // Around the 900-byte original-key limit and the 1024-byte S3 key limit.
    let n = [850, 899, 900, 901, 1100][rng.below(5)];
    format!("/{}.jpg", "k".repeat(n - 4))
}

fn generate_viewer_cases() -> Vec<(String, String, Option<String>)> {
    let mut rng = Rng(0x5EED_0010);
    let mut cases = Vec::new();
    for i in 0..2400 {
        let uri = if i % 60 == 59 {
            long_uri(&mut rng)
        } else {
            rng.pick(URIS).to_string()
        };
        let n = [0, 1, 1, 2, 2, 2, 3, 3, 4, 5][rng.below(10)];
        let query: Vec<&str> = (0..n).map(|_| rng.pick(PARAMS)).collect();
        let accept = ACCEPTS[rng.below(ACCEPTS.len())].map(str::to_string);
        cases.push((uri, query.join("&"), accept));
    }
    cases
}

const KEY_ORIGINALS: &[&str] = &[
    "a",
    "photos/cat.jpg",
    "dir/sub dir/x,y_z=1.v2.jpg",
    "é/日本/😀 x.png",
    "a..b",
    "../a",
    "a//b",
    "a\\b",
    "a%2Fb",
    "_derived/a/_.jpg",
    "a\u{0}b",
];

const KEY_PARAMS: &[&str] = &[
    "_",
    "w_10",
    "w_010",
    "w_200",
    "w_150",
    "w_5000",
    "h_20",
    "w_10,h_20",
    "h_20,w_10",
    "w_10,h_20,fit_cover",
    "w_10,h_20,fit_cover,pos_ne",
    "w_10,h_20,fit_contain,pos_n,bg_00000080",
    "w_10,fit_cover",
    "fit_inside",
    "pos_c",
    "enlarge_1",
    "w_10,enlarge_1",
    "enlarge_0",
    "q_80",
    "q_70",
    "q_50",
    "q_0",
    "bg_ffffff",
    "bg_abcdef",
    "bg_ABCDEF",
    "bg_abcdef80",
    "bg_abc",
    "fm_auto",
    "w_600,fm_auto",
    "w_600,h_400,fit_cover,q_70,fm_auto",
    "x_1",
    "w",
    ",",
    "w_1,",
    "",
];

const KEY_EXTS: &[&str] = &[
    "jpg", "png", "webp", "avif", "legacy", "source", "JPG", "jpeg", "gif", "",
];

fn generate_keys() -> Vec<String> {
    let mut rng = Rng(0xDE_0010);
    let mut keys = Vec::new();
    for i in 0..400 {
        let prefix = ["_derived/", "_derived/", "cache/v1/", "other/", ""][rng.below(5)];
        let original = rng.pick(KEY_ORIGINALS);
        let params = rng.pick(KEY_PARAMS);
        let ext = rng.pick(KEY_EXTS);
        let key = if i % 50 == 49 {
            format!("{prefix}{}/{params}.{ext}", "k".repeat(899 + rng.below(3)))
        } else if ext.is_empty() {
            format!("{prefix}{original}/{params}")
        } else {
            format!("{prefix}{original}/{params}.{ext}")
        };
        keys.push(key);
    }
    keys
}

// ---------------------------------------------------------------- record / replay

fn read_lines(name: &str) -> Vec<Value> {
    let path = fixture_path(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (record with RECORD=1 cargo test -p edge-core --test fixtures)",
            path.display()
        )
    });
    text.lines()
        .map(|l| serde_json::from_str(l).expect("fixture line"))
        .collect()
}

fn write_lines(name: &str, rows: &[Value]) {
    let mut text = String::new();
    for row in rows {
        writeln!(text, "{row}").unwrap();
    }
    std::fs::create_dir_all(fixture_path("")).unwrap();
    std::fs::write(fixture_path(name), text).unwrap();
}

/// The row as text with the lists that new parameters and values lengthen left out:
/// the names after "known parameters are" (every new parameter, issue 12 and later)
/// and `pos`'s smart-crop and focal-point values (issue 12). Longer lists of allowed
/// values in error messages are not a change of behaviour.
fn without_known_list(row: &Value) -> String {
    const MARK: &str = "known parameters are ";
    const POS_VALUES: &str =
        "; or entropy, attention, or a focal point XxY of fractions 0-1 (e.g. 0.25x0.6)";
    let text = row.to_string().replace(POS_VALUES, "");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at + MARK.len()]);
        rest = &rest[at + MARK.len()..];
        rest = &rest[rest.find('"').unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// Compares replayed rows with the recorded ones and reports the first differences.
fn assert_rows(name: &str, recorded: &[Value], replayed: &[Value]) {
    assert_eq!(recorded.len(), replayed.len(), "{name}: row count");
    let diffs: Vec<String> = recorded
        .iter()
        .zip(replayed)
        .filter(|(a, b)| a != b && without_known_list(a) != without_known_list(b))
        .map(|(a, b)| format!("recorded {a}\nreplayed {b}"))
        .collect();
    assert!(
        diffs.is_empty(),
        "{name}: {} of {} rows differ, first ones:\n{}",
        diffs.len(),
        recorded.len(),
        diffs[..diffs.len().min(8)].join("\n")
    );
}

#[test]
fn viewer_requests_are_unchanged() {
    let policies = policies();
    let replay = |uri: &str, query: &str, accept: Option<&str>| -> Value {
        let results: serde_json::Map<String, Value> = policies
            .iter()
            .map(|(name, cfg)| (name.to_string(), viewer_result(uri, query, accept, cfg)))
            .collect();
        json!({"uri": uri, "query": query, "accept": accept, "results": results})
    };
    const FILE: &str = "viewer.jsonl";
    if recording() {
        let rows: Vec<Value> = generate_viewer_cases()
            .iter()
            .map(|(u, q, a)| replay(u, q, a.as_deref()))
            .collect();
        write_lines(FILE, &rows);
    }
    let recorded = read_lines(FILE);
    assert!(recorded.len() >= 2000, "only {} cases", recorded.len());
    let replayed: Vec<Value> = recorded
        .iter()
        .map(|row| {
            replay(
                row["uri"].as_str().unwrap(),
                row["query"].as_str().unwrap(),
                row["accept"].as_str(),
            )
        })
        .collect();
    assert_rows(FILE, &recorded, &replayed);
    // The fixture must exercise every outcome, or it asserts less than it seems.
    let text = serde_json::to_string(&recorded).unwrap();
    for needle in [
        "\"pass\"",
        "\"negotiated\":true",
        "\"invalid_parameter\"",
        "\"invalid_key\"",
        "cache/v1/",
    ] {
        assert!(text.contains(needle), "no case gives {needle}");
    }
}

#[test]
fn derived_keys_parse_as_recorded() {
    let policies = policies();
    let replay = |k: &str| -> Value {
        let results: serde_json::Map<String, Value> = policies
            .iter()
            .map(|(name, cfg)| (name.to_string(), origin_parse_result(k, cfg)))
            .collect();
        json!({"key": k, "results": results})
    };
    const FILE: &str = "derived_keys.jsonl";
    if recording() {
        let rows: Vec<Value> = generate_keys().iter().map(|k| replay(k)).collect();
        write_lines(FILE, &rows);
    }
    let recorded = read_lines(FILE);
    assert!(recorded.len() >= 300, "only {} keys", recorded.len());
    let replayed: Vec<Value> = recorded
        .iter()
        .map(|row| replay(row["key"].as_str().unwrap()))
        .collect();
    assert_rows(FILE, &recorded, &replayed);
    let text = serde_json::to_string(&recorded).unwrap();
    assert!(text.contains("\"original\""), "no key parses");
}

// ---------------------------------------------------------------- output bytes

/// Representative queries: every output format, cover/contain, legacy and source.
const OUTPUT_QUERIES: &[(&str, Option<&str>)] = &[
    ("w=64&fm=jpeg&q=85", None),
    ("w=48&h=48&fit=cover&pos=north&fm=png", None),
    ("w=80&h=40&fit=contain&bg=00000080&fm=webp", None),
    ("w=40&h=40&fit=cover&fm=avif", None),
    ("w=72&fm=auto", None),
    ("h=56", None),
];

#[cfg(feature = "codecs")]
fn output_result(input: &[u8], query: &str, accept: Option<&str>, cfg: &Config) -> Value {
    let result = request::parse_query(query)
        .and_then(|p| plan::plan(&p, accept, &cfg.policy))
        .and_then(|v| edge_core::pipeline::transform(input, &v, cfg));
    match result {
        Ok(out) => json!({
            "sha256": hex(&Sha256::digest(&out.bytes)),
            "format": out.format.name(),
            "width": out.width,
            "height": out.height,
        }),
        Err(e) => json!({"error": {"status": e.status(), "code": e.code()}}),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(feature = "codecs")]
#[test]
fn corpus_outputs_are_byte_identical() {
    // Pinned to the default the outputs were recorded with (see `policies`).
    let cfg = Config::from_json(r#"{"policy":{"autoFormatByDefault":false}}"#).unwrap();
    let files: Vec<String> = common::manifest().into_iter().map(|r| r.file).collect();
    let inputs: Vec<(String, Vec<u8>)> =
        files.iter().map(|f| (f.clone(), common::read(f))).collect();
    // Two threads: the corpus is dominated by a few large decodes.
    let rows_of = |chunk: &[(String, Vec<u8>)]| -> Vec<Value> {
        let mut rows = Vec::new();
        for (file, input) in chunk {
            for (query, accept) in OUTPUT_QUERIES {
                rows.push(json!({
                    "file": file,
                    "query": query,
                    "accept": accept,
                    "result": output_result(input, query, *accept, &cfg),
                }));
            }
        }
        rows
    };
    let (even, odd): (Vec<_>, Vec<_>) = inputs
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    let strip = |v: Vec<(usize, (String, Vec<u8>))>| -> Vec<(String, Vec<u8>)> {
        v.into_iter().map(|(_, x)| x).collect()
    };
    let (even, odd) = (strip(even), strip(odd));
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| rows_of(&even));
        let b = s.spawn(|| rows_of(&odd));
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut replayed: Vec<Value> = a.into_iter().chain(b).collect();
    let order = |r: &Value| (r["file"].to_string(), r["query"].to_string());
    replayed.sort_by_key(order);
    const FILE: &str = "outputs.jsonl";
    if recording() {
        write_lines(FILE, &replayed);
    }
    let mut recorded = read_lines(FILE);
    recorded.sort_by_key(order);
    assert_rows(FILE, &recorded, &replayed);
    let text = serde_json::to_string(&recorded).unwrap();
    for format in ["jpeg", "png", "webp", "avif"] {
        assert!(
            text.contains(&format!("\"format\":\"{format}\"")),
            "no {format} output"
        );
    }
}
