//! wasm-bindgen API for the regional HTTP API Lambda (`api/`): thin wrappers over
//! `edge_core::api`, same conventions as the rest of the shim.

use edge_core::api::{self, UploadRequest};
use edge_core::key;
use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use super::{config, js_error, set};

/// `GET /resize?<query>`: `{ uri, key, original, negotiated }`, the canonical derived key the
/// route makes (and its percent-encoded `/`-led URI) from `key=<derived key>` or `key=WxH/<original key>`. Throws 400 like the
/// edge for bad sizes, unsafe or non-canonical keys.
#[wasm_bindgen(js_name = resizeTarget)]
pub fn resize_target(query: &str, accept: Option<String>) -> Result<Object, JsValue> {
    let config = config();
    let target = api::resize_target(
        query,
        accept.as_deref(),
        &config,
        (js_sys::Date::now() / 1000.0).floor() as i64,
    )
    .map_err(js_error)?;
    let out = Object::new();
    set(&out, "uri", key::key_to_uri(&target.derived_key).into());
    set(&out, "key", target.derived_key.into());
    set(&out, "original", target.original_key.into());
    set(&out, "negotiated", target.negotiated.into());
    Ok(out)
}

/// `POST /uploads`: validate the body fields as JSON gave them (any JS value) and build
/// the object key. Returns `{ key, contentType, size }`; throws 400 naming the field.
#[wasm_bindgen(js_name = planUpload)]
pub fn plan_upload(
    prefix: &str,
    user_id: &str,
    filename: JsValue,
    content_type: JsValue,
    size: JsValue,
    epoch_seconds: f64,
) -> Result<Object, JsValue> {
    let config = config();
    let filename = filename.as_string();
    let content_type = content_type.as_string();
    let req = UploadRequest {
        filename: filename.as_deref(),
        content_type: content_type.as_deref(),
        size: size.as_f64(),
    };
    let seconds = if epoch_seconds.is_finite() && epoch_seconds > 0.0 {
        epoch_seconds as u64
    } else {
        0
    };
    let plan = api::plan_upload(prefix, user_id, &req, seconds, &config).map_err(js_error)?;
    let out = Object::new();
    set(&out, "key", plan.key.into());
    set(&out, "contentType", plan.content_type.into());
    set(&out, "size", (plan.size as f64).into());
    Ok(out)
}

/// The media types an upload may declare (what the decoders read).
#[wasm_bindgen(js_name = uploadMediaTypes)]
pub fn upload_media_types() -> Array {
    api::UPLOAD_MEDIA_TYPES
        .iter()
        .map(|t| JsValue::from_str(t))
        .collect()
}
