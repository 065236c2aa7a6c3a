//! JPEG through `jpeg-decoder`, with shrink-on-load: the IDCT can output 1/2, 1/4 or
//! 1/8 of the size directly, which is several times faster than a full decode
//! followed by a downscale.

use jpeg_decoder::{ColorTransform, Decoder, PixelFormat};

use super::{limit_usize, Decoded};
use crate::config::Limits;
use crate::error::{Error, Result};
use crate::orient;
use crate::raster::{Layout, Raster};
use crate::sniff::{check_decode_bytes, Header, JpegFrame, SourceFormat};

// Out of line: a cold start compiles only the format it meets (V8 compiles per function).
#[inline(never)]
pub(super) fn decode(
    bytes: &[u8],
    header: Header,
    frame: &JpegFrame,
    limits: &Limits,
    min_size: Option<(u32, u32)>,
) -> Result<Decoded> {
    let (width, height) = (header.width, header.height);
    // Lossless JPEG has no DCT to scale.
    let scale = if frame.lossless {
        8
    } else {
        decode_scale(width, height, min_size)
    };
    check_decode_bytes(frame.decode_bytes(width, height, scale), limits)?;

    let mut decoder = Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(limit_usize(limits.max_decode_bytes));
    if frame.sampling.len() == 4 && frame.adobe_transform.is_none() {
        // jpeg-decoder assumes Adobe's inverted CMYK; without the Adobe marker the
        // samples are already plain CMYK.
        decoder.set_color_transform(ColorTransform::None);
    }
    decoder.read_info().map_err(map_error)?;
    let info = decoder
        .info()
        .ok_or_else(|| Error::corrupt_image("JPEG has no frame"))?;
    if (info.width as u32, info.height as u32) != (width, height) {
        return Err(Error::corrupt_image("JPEG frame header is inconsistent"));
    }
    if scale < 8 {
        let (w, h) = scale_request(width, height, scale);
        decoder.scale(w, h).map_err(map_error)?;
    }
    let data = decoder.decode().map_err(map_error)?;
    let info = decoder
        .info()
        .ok_or_else(|| Error::corrupt_image("JPEG has no frame"))?;
    let (out_w, out_h) = (info.width as u32, info.height as u32);
    if (out_w, out_h) != (scaled(width, scale), scaled(height, scale)) {
        return Err(Error::internal("JPEG decoder chose an unexpected scale"));
    }

    let (layout, data) = match info.pixel_format {
        PixelFormat::L8 => (Layout::Gray, data),
        PixelFormat::L16 => (Layout::Gray, ne16_to_8(data, frame.precision)),
        PixelFormat::RGB24 if frame.precision > 8 => {
            (Layout::Rgb, ne16_to_8(data, frame.precision))
        }
        PixelFormat::RGB24 => (Layout::Rgb, data),
        PixelFormat::CMYK32 if frame.precision > 8 => {
            (Layout::Cmyk, ne16_to_8(data, frame.precision))
        }
        PixelFormat::CMYK32 => (Layout::Cmyk, data),
    };
    if data.len() != out_w as usize * out_h as usize * layout.channels() {
        return Err(Error::corrupt_image("JPEG decoded to an unexpected size"));
    }
    // Metadata segments are collected while decoding; read them afterwards so ones
    // placed after the frame header count too.
    let orientation = decoder.exif_data().map(orient::from_exif).unwrap_or(1);
    let icc = decoder.icc_profile();
    Ok(Decoded {
        raster: Raster::new(out_w, out_h, layout, data),
        format: SourceFormat::Jpeg,
        orientation,
        icc,
        source_width: width,
        source_height: height,
    })
}

/// Output length of `len` samples decoded at `scale`/8.
fn scaled(len: u32, scale: u32) -> u32 {
    (len * scale).div_ceil(8)
}

/// The smallest IDCT scale (1, 2, 4 or 8 eighths) whose output still covers
/// `min_size` on both axes. The 1/8 decode keeps only each block's DC term, an 8×8 box
/// filter that aliases, so it is used only when it still leaves the resize a factor of
/// two (the rule libvips applies to every scale): on the benchmark's 150 px thumbnails
/// that lifts SSIM from 0.957 to sharp's level for ~1 ms of IDCT. 1/4 and 1/2 are true
/// scaled IDCTs and may go down to the target itself.
pub(super) fn choose_scale(width: u32, height: u32, min_size: Option<(u32, u32)>) -> u32 {
    let Some((min_w, min_h)) = min_size else {
        return 8;
    };
    [1, 2, 4]
        .into_iter()
        .find(|&s| {
            let margin = if s == 1 { DC_ONLY_MARGIN } else { 1 };
            // (Never more than the whole image: a 1 px wide image stays 1 px.)
            scaled(width, s) >= min_w.saturating_mul(margin).min(width)
                && scaled(height, s) >= min_h.saturating_mul(margin).min(height)
        })
        .unwrap_or(8)
}

/// How much larger than the target a DC-only (1/8) decode must come out.
const DC_ONLY_MARGIN: u32 = 2;

/// Arguments for `Decoder::scale` that make it pick exactly `scale` (1, 2 or 4), which
/// must come out larger than `scale / 2` on at least one axis (see `decode_scale`). It
/// takes the smallest scale reaching the request on *either* axis, so only request the
/// axes that grow from `scale / 2` to `scale` (the other is unreachable, u16::MAX).
fn scale_request(width: u32, height: u32, scale: u32) -> (u16, u16) {
    if scale == 1 {
        return (1, 1);
    }
    let smaller = scale / 2;
    let req = |len: u32| {
        if scaled(len, smaller) < scaled(len, scale) {
            u16::try_from(scaled(len, scale)).unwrap_or(u16::MAX)
        } else {
            u16::MAX
        }
    };
    (req(width), req(height))
}

/// `choose_scale`, lowered while half the scale gives the same output size (tiny
/// images), so `scale_request` can always express it.
fn decode_scale(width: u32, height: u32, min_size: Option<(u32, u32)>) -> u32 {
    let mut scale = choose_scale(width, height, min_size);
    while scale > 1
        && scale < 8
        && scaled(width, scale / 2) == scaled(width, scale)
        && scaled(height, scale / 2) == scaled(height, scale)
    {
        scale /= 2;
    }
    scale
}

/// Lossless JPEG above 8 bits comes out as native-endian u16 samples.
fn ne16_to_8(mut data: Vec<u8>, precision: u8) -> Vec<u8> {
    let max = (1u32 << precision.clamp(1, 16)) - 1;
    let n = data.len() / 2;
    for i in 0..n {
        let v = u16::from_ne_bytes([data[2 * i], data[2 * i + 1]]) as u32;
        data[i] = ((v.min(max) * 255 + max / 2) / max) as u8;
    }
    data.truncate(n);
    data
}

fn map_error(e: jpeg_decoder::Error) -> Error {
    match e {
        jpeg_decoder::Error::Unsupported(feature) => {
            Error::unsupported_format(format!("unsupported JPEG feature: {feature:?}"))
        }
        jpeg_decoder::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::corrupt_image("JPEG data is truncated")
        }
        jpeg_decoder::Error::Format(m) if m.contains("exceeds maximum") => {
            Error::limit_exceeded("JPEG decode buffer over the memory limit")
        }
        other => Error::corrupt_image(format!("JPEG is corrupt: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_choice_covers_both_axes() {
        assert_eq!(choose_scale(3082, 2048, None), 8);
        // 1/8 (386x256) would leave less than 2x for the resize: 1/4.
        assert_eq!(choose_scale(3082, 2048, Some((200, 100))), 2);
        assert_eq!(choose_scale(3082, 2048, Some((150, 100))), 1);
        assert_eq!(choose_scale(3082, 2048, Some((150, 128))), 1);
        assert_eq!(choose_scale(3082, 2048, Some((226, 150))), 2);
        assert_eq!(choose_scale(3082, 2048, Some((600, 100))), 2);
        assert_eq!(choose_scale(3082, 2048, Some((600, 600))), 4);
        assert_eq!(choose_scale(3082, 2048, Some((1200, 1200))), 8);
        assert_eq!(choose_scale(3082, 2048, Some((3082, 2048))), 8);
        // A 1-pixel-wide image: the width never shrinks, the height decides.
        assert_eq!(choose_scale(1, 1000, Some((1, 600))), 8);
        assert_eq!(choose_scale(1, 1000, Some((1, 250))), 2);
        assert_eq!(choose_scale(1, 1000, Some((1, 60))), 1);
    }

    #[test]
    fn scale_request_makes_jpeg_decoder_pick_that_scale() {
        // Mirror of jpeg-decoder's rule: smallest scale reaching either request.
        let pick = |w: u32, h: u32, (rw, rh): (u16, u16)| {
            [1, 2, 4]
                .into_iter()
                .find(|&s| scaled(w, s) >= rw as u32 || scaled(h, s) >= rh as u32)
                .unwrap_or(8)
        };
        for (w, h) in [
            (3082, 2048),
            (1, 1000),
            (1000, 1),
            (17, 9),
            (65535, 3),
            (3, 3),
            (9, 2),
        ] {
            for min_w in [1, 2, 5, 100, 400, 1000, 3000] {
                for min_h in [1, 2, 5, 100, 400, 1000] {
                    let min = (min_w.min(w), min_h.min(h));
                    let s = decode_scale(w, h, Some(min));
                    assert!(scaled(w, s) >= min.0 && scaled(h, s) >= min.1);
                    if s < 8 {
                        assert_eq!(pick(w, h, scale_request(w, h, s)), s, "{w}x{h} {min:?}");
                    }
                }
            }
        }
    }
}
