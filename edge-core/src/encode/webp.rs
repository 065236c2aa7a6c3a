//! Lossy WebP through C libwebp (`libwebp-sys`). The pure-Rust `image-webp` encoder
//! is lossless only, far too big for photos.
//!
//! Settings follow sharp's defaults: lossy, `method` 4 (sharp's `effort: 4`), alpha
//! kept lossless (libwebp's default `alpha_quality` 100), no sharp YUV.

use std::ffi::c_int;

use libwebp_sys as webp;

use crate::error::{Error, Result};

/// libwebp's own bound (`WEBP_MAX_DIMENSION` in encode.h).
pub const MAX_DIMENSION: u32 = 16383;

/// sharp's `effort` 4.
const METHOD: c_int = 4;

/// Encode `pixels` (RGB8, or RGBA8 with straight alpha when `has_alpha`) as lossy WebP.
/// `quality` is 1-100 (values outside are clamped).
pub fn encode(
    pixels: &[u8],
    width: u32,
    height: u32,
    has_alpha: bool,
    quality: u8,
) -> Result<Vec<u8>> {
    if width == 0 || height == 0 {
        return Err(Error::internal(format!(
            "webp: empty image {width}x{height}"
        )));
    }
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(Error::limit_exceeded(format!(
            "webp output {width}x{height} is over the format's {MAX_DIMENSION} px limit"
        )));
    }
    let channels: usize = if has_alpha { 4 } else { 3 };
    let stride = width as usize * channels;
    if pixels.len() != stride * height as usize {
        return Err(Error::internal(format!(
            "webp: {} bytes of pixels for {width}x{height}x{channels}",
            pixels.len()
        )));
    }

    let mut config = new_config(quality)?;
    config.method = METHOD;
    // Without alpha, libwebp's transparent-area cleanup returns at once; skipping the call
    // keeps its 12 KB of wasm out of a cold start's compile (same bytes).
    config.exact = c_int::from(!has_alpha);
    // SAFETY: `config` was initialised by libwebp just above.
    if unsafe { webp::WebPValidateConfig(&config) } == 0 {
        return Err(Error::internal("webp: libwebp rejected the encoder config"));
    }

    let mut picture = Picture::new()?;
    let mut writer = Writer::new();
    let pic = &mut picture.0;
    pic.use_argb = 0; // lossy works on YUV; import converts straight from RGB(A)
    pic.width = width as c_int;
    pic.height = height as c_int;
    pic.writer = Some(webp::WebPMemoryWrite);
    pic.custom_ptr = (&mut writer.0 as *mut webp::WebPMemoryWriter).cast();

    // SAFETY: `pixels` holds exactly `height` rows of `stride` bytes (checked above);
    // libwebp copies them into buffers owned by `picture` (freed by its Drop).
    let imported = unsafe {
        if has_alpha {
            webp::WebPPictureImportRGBA(pic, pixels.as_ptr(), stride as c_int)
        } else {
            webp::WebPPictureImportRGB(pic, pixels.as_ptr(), stride as c_int)
        }
    };
    if imported == 0 {
        return Err(map_error(pic.error_code, "import"));
    }

    // SAFETY: config and picture are initialised; the writer outlives the call.
    if unsafe { webp::WebPEncode(&config, pic) } == 0 {
        return Err(map_error(pic.error_code, "encode"));
    }
    Ok(writer.bytes().to_vec())
}

fn new_config(quality: u8) -> Result<webp::WebPConfig> {
    let quality = f32::from(quality.clamp(1, 100));
    let mut config = std::mem::MaybeUninit::<webp::WebPConfig>::uninit();
    // SAFETY: WebPConfigInitInternal fills every field when it returns non-zero.
    let ok = unsafe {
        webp::WebPConfigInitInternal(
            config.as_mut_ptr(),
            webp::WebPPreset::WEBP_PRESET_DEFAULT,
            quality,
            webp::WEBP_ENCODER_ABI_VERSION as c_int,
        )
    };
    if ok == 0 {
        return Err(Error::internal("webp: libwebp version mismatch (config)"));
    }
    // SAFETY: initialised above.
    Ok(unsafe { config.assume_init() })
}

fn map_error(code: webp::WebPEncodingError, stage: &str) -> Error {
    use webp::WebPEncodingError as E;
    match code {
        E::VP8_ENC_ERROR_OUT_OF_MEMORY | E::VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY => {
            Error::limit_exceeded(format!("webp {stage}: out of memory"))
        }
        E::VP8_ENC_ERROR_BAD_DIMENSION => {
            Error::limit_exceeded(format!("webp {stage}: dimensions over the format's limit"))
        }
        E::VP8_ENC_ERROR_FILE_TOO_BIG | E::VP8_ENC_ERROR_PARTITION0_OVERFLOW => {
            Error::limit_exceeded(format!("webp {stage}: output too big for the format"))
        }
        other => Error::internal(format!("webp {stage}: libwebp error {other:?}")),
    }
}

/// Owns a `WebPPicture`; frees its pixel buffers on every path (including unwinding).
struct Picture(webp::WebPPicture);

impl Picture {
    fn new() -> Result<Picture> {
        let mut picture = std::mem::MaybeUninit::<webp::WebPPicture>::uninit();
        // SAFETY: WebPPictureInitInternal zeroes the struct and sets defaults.
        let ok = unsafe {
            webp::WebPPictureInitInternal(
                picture.as_mut_ptr(),
                webp::WEBP_ENCODER_ABI_VERSION as c_int,
            )
        };
        if ok == 0 {
            return Err(Error::internal("webp: libwebp version mismatch (picture)"));
        }
        // SAFETY: initialised above.
        Ok(Picture(unsafe { picture.assume_init() }))
    }
}

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: the picture was initialised; freeing an unallocated one is a no-op.
        unsafe { webp::WebPPictureFree(&mut self.0) }
    }
}

/// Owns the `WebPMemoryWriter` the encoder appends to.
struct Writer(webp::WebPMemoryWriter);

impl Writer {
    fn new() -> Writer {
        let mut writer = std::mem::MaybeUninit::<webp::WebPMemoryWriter>::uninit();
        // SAFETY: WebPMemoryWriterInit sets every field.
        unsafe {
            webp::WebPMemoryWriterInit(writer.as_mut_ptr());
            Writer(writer.assume_init())
        }
    }

    fn bytes(&self) -> &[u8] {
        if self.0.mem.is_null() {
            return &[];
        }
        // SAFETY: libwebp keeps `size` initialised bytes at `mem`.
        unsafe { std::slice::from_raw_parts(self.0.mem, self.0.size) }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // SAFETY: frees `mem` (if any) with libwebp's allocator.
        unsafe { webp::WebPMemoryWriterClear(&mut self.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: u32, height: u32, channels: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(width as usize * height as usize * channels);
        for y in 0..height {
            for x in 0..width {
                out.push((x * 255 / width) as u8);
                out.push((y * 255 / height) as u8);
                out.push(((x + y) * 255 / (width + height)) as u8);
                if channels == 4 {
                    // Left half transparent fading to opaque on the right.
                    out.push(if x < width / 2 {
                        0
                    } else {
                        (x * 255 / width) as u8
                    });
                }
            }
        }
        out
    }

    fn decode(bytes: &[u8]) -> image::DynamicImage {
        image::load_from_memory_with_format(bytes, image::ImageFormat::WebP).expect("decodes")
    }

    fn psnr(a: &[u8], b: &[u8]) -> f64 {
        assert_eq!(a.len(), b.len());
        let mse: f64 = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| {
                let d = f64::from(x) - f64::from(y);
                d * d
            })
            .sum::<f64>()
            / a.len() as f64;
        10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
    }

    #[test]
    fn rgb_gradient_round_trips_lossy() {
        let (w, h) = (301, 157); // odd sizes exercise chroma subsampling edges
        let pixels = gradient(w, h, 3);
        let bytes = encode(&pixels, w, h, false, 80).unwrap();
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(&bytes[8..16], b"WEBPVP8 ", "simple lossy file");
        let img = decode(&bytes);
        assert_eq!((img.width(), img.height()), (w, h));
        let p = psnr(&pixels, img.to_rgb8().as_raw());
        assert!(p > 35.0, "psnr {p}");
        assert!(
            bytes.len() < pixels.len() / 10,
            "lossy: {} bytes",
            bytes.len()
        );
    }

    #[test]
    fn quality_changes_size() {
        let (w, h) = (256, 256);
        let mut pixels = gradient(w, h, 3);
        // Add deterministic noise so quality matters.
        let mut seed = 12345u32;
        for p in pixels.iter_mut() {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *p = p.wrapping_add((seed >> 27) as u8);
        }
        let low = encode(&pixels, w, h, false, 20).unwrap();
        let high = encode(&pixels, w, h, false, 95).unwrap();
        assert!(low.len() < high.len(), "{} vs {}", low.len(), high.len());
    }

    #[test]
    fn rgba_keeps_alpha() {
        let (w, h) = (128, 64);
        let pixels = gradient(w, h, 4);
        let bytes = encode(&pixels, w, h, true, 80).unwrap();
        assert_eq!(&bytes[12..16], b"VP8X", "extended file with an alpha chunk");
        let img = decode(&bytes);
        assert!(img.color().has_alpha());
        let rgba = img.to_rgba8();
        assert_eq!((rgba.width(), rgba.height()), (w, h));
        // Alpha is lossless by default.
        let alpha_in: Vec<u8> = pixels.chunks(4).map(|p| p[3]).collect();
        let alpha_out: Vec<u8> = rgba.as_raw().chunks(4).map(|p| p[3]).collect();
        assert_eq!(alpha_in, alpha_out);
        // Colour where opaque stays close.
        let opaque = |buf: &[u8]| -> Vec<u8> {
            buf.chunks(4)
                .filter(|p| p[3] == 255)
                .flat_map(|p| p[..3].to_vec())
                .collect()
        };
        let p = psnr(&opaque(&pixels), &opaque(rgba.as_raw()));
        assert!(p > 30.0, "psnr {p}");
    }

    #[test]
    fn opaque_rgba_has_no_alpha_chunk() {
        let (w, h) = (40, 30);
        let mut pixels = gradient(w, h, 4);
        pixels.chunks_mut(4).for_each(|p| p[3] = 255);
        let bytes = encode(&pixels, w, h, true, 80).unwrap();
        assert!(!decode(&bytes).color().has_alpha());
    }

    #[test]
    fn tiny_and_bad_inputs() {
        let one = encode(&[10, 20, 30], 1, 1, false, 1).unwrap();
        assert_eq!((decode(&one).width(), decode(&one).height()), (1, 1));
        assert_eq!(encode(&[], 0, 1, false, 80).unwrap_err().code(), "internal");
        assert_eq!(
            encode(&[0; 5], 2, 1, false, 80).unwrap_err().code(),
            "internal"
        );
        // Over libwebp's dimension limit: rejected before touching the pixels.
        assert_eq!(
            encode(&[], 16384, 1, false, 80).unwrap_err().code(),
            "limit_exceeded"
        );
    }
}
