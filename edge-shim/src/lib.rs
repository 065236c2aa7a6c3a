//! wasm-bindgen API over edge-core, used by the Lambda@Edge handlers and
//! `scripts/transform`. No logic lives here: every function reads its arguments, calls
//! edge-core with the configured `Config`, and turns the result into plain JS objects.
//!
//! Errors are thrown as JS `Error`s carrying `status` (number), `code` and `message`
//! from `edge_core::Error`.

mod api;

use std::cell::RefCell;
use std::rc::Rc;

use edge_core::clock::Timings;
use edge_core::{key, plan, Config, Error, OriginDecision, OutputFormat, Rewrite};
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

thread_local! {
    /// Set by `configure`; `Config::default()` until then. Handed out as an `Rc` so no
    /// borrow is held while a call runs (a trap mid-call must not leave it borrowed).
    static CONFIG: RefCell<Rc<Config>> = RefCell::new(Rc::new(Config::default()));
}

fn config() -> Rc<Config> {
    install_panic_hook();
    CONFIG.with(|c| Rc::clone(&c.borrow()))
}

/// A panic aborts the instance (a trap). Instead of a multi-line report on stderr, the
/// hook leaves a one-line message in `globalThis.__edgeShimPanic`, which the loader
/// (lambda-common/wasm.mjs) puts into the request's JSON log line before replacing the
/// instance.
fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = info.to_string().replace('\n', " | ");
            let _ = Reflect::set(
                &js_sys::global(),
                &JsValue::from_str("__edgeShimPanic"),
                &JsValue::from_str(&message),
            );
        }));
    });
}

/// A JS `Error` with the core error's `status`, `code` and `message`.
fn js_error(e: Error) -> JsValue {
    let error = js_sys::Error::new(&e.message());
    let obj: &Object = error.as_ref();
    set(obj, "status", e.status().into());
    set(obj, "code", e.code().into());
    error.into()
}

fn set(obj: &Object, name: &str, value: JsValue) {
    // Setting a data property on a plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(name), &value);
}

#[wasm_bindgen]
extern "C" {
    /// The JS high-resolution clock (global in Node and browsers).
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// The core's clock for stage timings (wasm32 has no `Instant`).
fn js_clock() -> f64 {
    performance_now()
}

/// The effective config (every default filled in) as a plain JS object.
fn config_object(config: &Config) -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(&config.to_json())
}

/// Parse, validate and install the config (JSON, see `config/default.json`) for every
/// later call; returns the effective config (a plain object, every default filled
/// in), so handlers never repeat a default. Throws (500 `internal`) on a bad config
/// and keeps the previous one.
#[wasm_bindgen]
pub fn configure(json: &str) -> Result<JsValue, JsValue> {
    install_panic_hook();
    let config = edge_core::load_config(json).map_err(js_error)?;
    let effective = config_object(&config)?;
    CONFIG.with(|c| *c.borrow_mut() = Rc::new(config));
    Ok(effective)
}

/// Like `configure`, without installing anything: the effective config, or a throw.
#[wasm_bindgen(js_name = validateConfig)]
pub fn validate_config(json: &str) -> Result<JsValue, JsValue> {
    install_panic_hook();
    config_object(&edge_core::load_config(json).map_err(js_error)?)
}

fn format_name(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Fixed(f) => f.name(),
        OutputFormat::Legacy => "legacy",
        OutputFormat::Source => "source",
    }
}

/// Origin side, after S3 answered 404/403: `uri` is the raw (still percent-encoded)
/// CloudFront URI. Returns `{ action: "pass" }` or `{ action: "generate", key,
/// original, format, negotiated }`; throws 400 `invalid_key` for an unsafe or
/// non-canonical derived key. The core decodes the URI with the viewer's rules.
#[wasm_bindgen(js_name = originDecision)]
pub fn origin_decision(uri: &str) -> Result<Object, JsValue> {
    let config = config();
    let decision = edge_core::origin_decision(uri, &config).map_err(js_error)?;
    let out = Object::new();
    match decision {
        OriginDecision::PassThrough => set(&out, "action", "pass".into()),
        OriginDecision::Generate {
            key,
            original,
            format,
            negotiated,
        } => {
            set(&out, "action", "generate".into());
            set(&out, "key", key.into());
            set(&out, "original", original.into());
            set(&out, "format", format_name(format).into());
            set(&out, "negotiated", negotiated.into());
        }
    }
    Ok(out)
}

/// `{ stage: ms, ... }` in the order the stages ran.
fn timings_object(timings: &Timings) -> Object {
    let out = Object::new();
    for (stage, ms) in timings.iter() {
        set(&out, stage, ((ms * 100.0).round() / 100.0).into());
    }
    out
}

/// Viewer side: map `uri` + `querystring` (+ `Accept`) to
/// `{ action: "pass" }` or `{ action: "rewrite", uri, key, negotiated }`. Signed URLs
/// are checked against the JS clock (`Date.now()`).
#[wasm_bindgen(js_name = viewerRequest)]
pub fn viewer_request(
    uri: &str,
    querystring: &str,
    accept: Option<String>,
) -> Result<Object, JsValue> {
    let config = config();
    let now = (js_sys::Date::now() / 1000.0).floor() as i64;
    let rewrite = edge_core::viewer_request(uri, querystring, accept.as_deref(), &config, now)
        .map_err(js_error)?;
    let out = Object::new();
    match rewrite {
        Rewrite::PassThrough => set(&out, "action", "pass".into()),
        Rewrite::Derived {
            uri,
            key,
            negotiated,
        } => {
            set(&out, "action", "rewrite".into());
            set(&out, "uri", uri.into());
            set(&out, "key", key.into());
            set(&out, "negotiated", negotiated.into());
        }
    }
    Ok(out)
}

/// Origin side: read a derived key back. Returns `{ original, format, negotiated,
/// canonical, query }`: `format` is the key's output (`jpeg`, `png`, `webp`, `avif`,
/// or `legacy`/`source` settled after decoding), `canonical` the one derived key of
/// this variant (equal to `key`: non-canonical keys throw 400 `invalid_key`), `query`
/// the canonical query form for logs.
#[wasm_bindgen(js_name = parseDerivedKey)]
pub fn parse_derived_key(key: &str) -> Result<Object, JsValue> {
    let config = config();
    let policy = &config.policy;
    let (original, variant) =
        edge_core::request::decision::parse_derived_key(key, &config).map_err(js_error)?;
    let canonical = key::derive(&original, &variant, policy).map_err(js_error)?;
    let format = format_name(variant.format);
    let out = Object::new();
    set(&out, "original", original.into());
    set(&out, "format", format.into());
    set(&out, "negotiated", variant.negotiated.into());
    set(&out, "canonical", canonical.into());
    set(&out, "query", plan::to_query(&variant).into());
    Ok(out)
}

/// The effective `uploads` config section (every default filled in), for the upload
/// processor: `{prefix, eager, autoFormats, compressed, errorPrefix}`.
#[wasm_bindgen(js_name = uploadsConfig)]
pub fn uploads_config() -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(&config().uploads.to_json())
}

/// The eager variants of the upload `originalKey` (an S3 key, not a URI):
/// `[{entry, query, accept, autoFormat, negotiated, key, uri, sourceUri}]`, each `key`
/// and `uri` exactly what `viewerRequest` gives for that query and `accept`; pages
/// request `sourceUri + "?" + query`.
#[wasm_bindgen(js_name = eagerVariants)]
pub fn eager_variants(original_key: &str) -> Result<js_sys::Array, JsValue> {
    let config = config();
    let variants = edge_core::uploads::eager_variants(original_key, &config).map_err(js_error)?;
    let out = js_sys::Array::new();
    for v in variants {
        let obj = Object::new();
        set(&obj, "entry", v.entry.into());
        set(&obj, "query", v.query.into());
        set(&obj, "accept", v.accept.into());
        set(
            &obj,
            "autoFormat",
            v.auto_format.map_or(JsValue::NULL, |f| f.name().into()),
        );
        set(&obj, "negotiated", v.negotiated.into());
        set(&obj, "key", v.key.into());
        set(&obj, "uri", v.uri.into());
        set(&obj, "sourceUri", v.source_uri.into());
        out.push(&obj);
    }
    Ok(out)
}

#[cfg(feature = "codecs")]
mod codecs {
    use super::*;
    use edge_core::pipeline::{self, Output};
    use edge_core::{preset, request, Variant};

    /// Resize `input` as the URL query `query` asks (`w=600&fm=webp`), negotiating
    /// `fm=auto` against `accept`. Returns `{ body, contentType, width, height, format,
    /// timings }` (`timings`: ms per core stage).
    #[wasm_bindgen]
    pub fn transform(input: &[u8], query: &str, accept: Option<String>) -> Result<Object, JsValue> {
        let config = config();
        let params = request::parse_query(query)
            .and_then(|params| preset::expand(params, &config))
            .map_err(js_error)?;
        let variant = plan::plan(&params, accept.as_deref(), &config.policy).map_err(js_error)?;
        run(input, &variant, &config)
    }

    /// Origin side: produce the object named by `derivedKey` from the original's bytes.
    #[wasm_bindgen(js_name = transformDerived)]
    pub fn transform_derived(input: &[u8], derived_key: &str) -> Result<Object, JsValue> {
        let config = config();
        run(input, &derived_variant(derived_key, &config)?, &config)
    }

    /// The variant a derived key names, checked like the origin checks it.
    fn derived_variant(derived_key: &str, config: &Config) -> Result<Variant, JsValue> {
        edge_core::request::decision::parse_derived_key(derived_key, config)
            .map(|(_original, variant)| variant)
            .map_err(js_error)
    }

    /// Origin side: estimated work (ms) to produce `derivedKey` from the original's
    /// bytes, from the header alone (throws like `transformDerived` for an input it
    /// would refuse). The handler refuses variants that cannot fit its deadline.
    #[wasm_bindgen(js_name = estimateCost)]
    pub fn estimate_cost(input: &[u8], derived_key: &str) -> Result<f64, JsValue> {
        let config = config();
        let variant = derived_variant(derived_key, &config)?;
        let estimate = edge_core::cost::estimate(input, &variant, &config).map_err(js_error)?;
        Ok(estimate.work_ms as f64)
    }

    /// Several derived keys of one original, decoded once (at no more resolution than
    /// the largest output needs). Returns `{ source: { format, width, height },
    /// timings, outputs: [{ key, body, contentType, width, height, format, timings } |
    /// { key, error: { status, code, message } }] }`; throws when the original itself
    /// cannot be read. `source` sizes are upright; `timings` are the shared stages.
    #[wasm_bindgen(js_name = transformMany)]
    pub fn transform_many(input: &[u8], keys: js_sys::Array) -> Result<Object, JsValue> {
        let config = config();
        let mut keys_read = Vec::new();
        for k in keys.iter() {
            let k = k.as_string().ok_or_else(|| {
                js_error(Error::invalid_key(
                    "transformMany: every key must be a string",
                ))
            })?;
            keys_read.push(k);
        }
        let parsed: Vec<_> = keys_read
            .iter()
            .map(|k| edge_core::request::decision::parse_derived_key(k, &config).map(|(_, v)| v))
            .collect();
        let variants: Vec<Variant> = parsed.iter().filter_map(|p| p.clone().ok()).collect();
        let many =
            pipeline::transform_many(input, &variants, &config, js_clock).map_err(js_error)?;
        let mut made = many.outputs.into_iter();
        let outputs = js_sys::Array::new();
        for (k, parsed) in keys_read.iter().zip(parsed) {
            let result = parsed.and_then(|_| {
                made.next()
                    .unwrap_or_else(|| Err(Error::internal("transformMany lost an output")))
            });
            let item = match result {
                Ok(output) => output_object(output),
                Err(e) => {
                    let item = Object::new();
                    let error = Object::new();
                    set(&error, "status", e.status().into());
                    set(&error, "code", e.code().into());
                    set(&error, "message", e.message().into());
                    set(&item, "error", error.into());
                    item
                }
            };
            set(&item, "key", k.as_str().into());
            outputs.push(&item);
        }
        let source = Object::new();
        set(&source, "format", many.source.format.name().into());
        set(&source, "width", many.source.width.into());
        set(&source, "height", many.source.height.into());
        let out = Object::new();
        set(&out, "source", source.into());
        set(&out, "timings", timings_object(&many.timings).into());
        set(&out, "outputs", outputs.into());
        Ok(out)
    }

    // --- ops (issue 12): watermarks ---

    /// Decodes `bytes` and keeps it as watermark `name` of the config, tagged with the
    /// object's `etag` (kept per container; see `watermarkEtag`).
    #[wasm_bindgen(js_name = setWatermark)]
    pub fn set_watermark(name: &str, etag: &str, bytes: &[u8]) -> Result<(), JsValue> {
        let config = config();
        if !config.watermarks.contains_key(name) {
            return Err(js_error(Error::internal(format!(
                "setWatermark: the config defines no watermark {name:?}"
            ))));
        }
        edge_core::watermark::load(name, etag, bytes, &config.limits).map_err(js_error)
    }

    /// The ETag watermark `name` was loaded from, or undefined when not loaded.
    #[wasm_bindgen(js_name = watermarkEtag)]
    pub fn watermark_etag(name: &str) -> Option<String> {
        edge_core::watermark::etag(name)
    }

    /// The watermark a derived key needs: `{ name, key }` (the object key in the
    /// originals bucket), or undefined when it has none.
    #[wasm_bindgen(js_name = watermarkFor)]
    pub fn watermark_for(derived_key: &str) -> Result<JsValue, JsValue> {
        let config = config();
        let (_, variant) = key::parse(derived_key, &config.policy).map_err(js_error)?;
        let Some(name) = variant.ops.watermark else {
            return Ok(JsValue::UNDEFINED);
        };
        let spec = config.watermarks.get(&name).ok_or_else(|| {
            js_error(
                edge_core::watermarks::parse_name("wm", &name, &config.watermarks).unwrap_err(),
            )
        })?;
        let out = Object::new();
        set(&out, "name", name.as_str().into());
        set(&out, "key", spec.key.as_str().into());
        Ok(out.into())
    }

    fn run(input: &[u8], variant: &Variant, config: &Config) -> Result<Object, JsValue> {
        let output =
            pipeline::transform_with_clock(input, variant, config, js_clock).map_err(js_error)?;
        Ok(output_object(output))
    }

    fn output_object(output: Output) -> Object {
        let Output {
            bytes,
            format,
            width,
            height,
            timings,
        } = output;
        let out = Object::new();
        set(
            &out,
            "body",
            js_sys::Uint8Array::from(bytes.as_slice()).into(),
        );
        set(&out, "contentType", format.media_type().into());
        set(&out, "width", width.into());
        set(&out, "height", height.into());
        set(&out, "format", format.name().into());
        set(&out, "timings", timings_object(&timings).into());
        out
    }
}
