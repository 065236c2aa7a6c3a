//! wasm-bindgen API over edge-core, used by the Lambda@Edge handlers and
//! `scripts/transform`. No logic lives here: every function reads its arguments, calls
//! edge-core with the configured `Config`, and turns the result into plain JS objects.
//!
//! Errors are thrown as JS `Error`s carrying `status` (number), `code` and `message`
//! from `edge_core::Error`.

use std::cell::RefCell;
use std::rc::Rc;

use edge_core::{key, plan, Config, Error, OutputFormat, Rewrite};
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

/// Parse, validate and install the config (JSON, see `config/default.json`) for every
/// later call. Throws (500 `internal`) on a bad config and keeps the previous one.
#[wasm_bindgen]
pub fn configure(json: &str) -> Result<(), JsValue> {
    install_panic_hook();
    let config = Config::from_json(json).map_err(js_error)?;
    CONFIG.with(|c| *c.borrow_mut() = Rc::new(config));
    Ok(())
}

/// Viewer side: map `uri` + `querystring` (+ `Accept`) to
/// `{ action: "pass" }` or `{ action: "rewrite", uri, key, negotiated }`.
#[wasm_bindgen(js_name = viewerRequest)]
pub fn viewer_request(
    uri: &str,
    querystring: &str,
    accept: Option<String>,
) -> Result<Object, JsValue> {
    let config = config();
    let rewrite = edge_core::viewer_request(uri, querystring, accept.as_deref(), &config)
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
    let (original, variant) = key::parse(key, policy).map_err(js_error)?;
    let canonical = key::derive(&original, &variant, policy).map_err(js_error)?;
    let format = match variant.format {
        OutputFormat::Fixed(f) => f.name(),
        OutputFormat::Legacy => "legacy",
        OutputFormat::Source => "source",
    };
    let out = Object::new();
    set(&out, "original", original.into());
    set(&out, "format", format.into());
    set(&out, "negotiated", variant.negotiated.into());
    set(&out, "canonical", canonical.into());
    set(&out, "query", plan::to_query(&variant).into());
    Ok(out)
}

#[cfg(feature = "codecs")]
mod codecs {
    use super::*;
    use edge_core::pipeline::{self, Output};
    use edge_core::{request, Variant};

    /// Resize `input` as the URL query `query` asks (`w=600&fm=webp`), negotiating
    /// `fm=auto` against `accept`. Returns `{ body, contentType, width, height, format }`.
    #[wasm_bindgen]
    pub fn transform(input: &[u8], query: &str, accept: Option<String>) -> Result<Object, JsValue> {
        let config = config();
        let params = request::parse_query(query).map_err(js_error)?;
        let variant = plan::plan(&params, accept.as_deref(), &config.policy).map_err(js_error)?;
        run(input, &variant, &config)
    }

    /// Origin side: produce the object named by `derivedKey` from the original's bytes.
    #[wasm_bindgen(js_name = transformDerived)]
    pub fn transform_derived(input: &[u8], derived_key: &str) -> Result<Object, JsValue> {
        let config = config();
        let (_original, variant) = key::parse(derived_key, &config.policy).map_err(js_error)?;
        run(input, &variant, &config)
    }

    /// Origin side: estimated work (ms) to produce `derivedKey` from the original's
    /// bytes, from the header alone (throws like `transformDerived` for an input it
    /// would refuse). The handler refuses variants that cannot fit its deadline.
    #[wasm_bindgen(js_name = estimateCost)]
    pub fn estimate_cost(input: &[u8], derived_key: &str) -> Result<f64, JsValue> {
        let config = config();
        let (_original, variant) = key::parse(derived_key, &config.policy).map_err(js_error)?;
        let estimate = edge_core::cost::estimate(input, &variant, &config).map_err(js_error)?;
        Ok(estimate.work_ms as f64)
    }

    fn run(input: &[u8], variant: &Variant, config: &Config) -> Result<Object, JsValue> {
        let Output {
            bytes,
            format,
            width,
            height,
        } = pipeline::transform(input, variant, config).map_err(js_error)?;
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
        Ok(out)
    }
}
