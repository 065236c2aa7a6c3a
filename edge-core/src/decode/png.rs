//! PNG through the `png` crate: palette, tRNS and low bit depths are expanded by the
//! decoder (`EXPAND`), 16-bit samples are rounded to 8 bits in place afterwards.

use std::io::Cursor;

use png::{BitDepth, ColorType, Transformations};

use super::{be16_to_8, limit_usize, Decoded};
use crate::config::Limits;
use crate::error::{Error, Result};
use crate::orient;
use crate::raster::{Layout, Raster};
use crate::sniff::{check_decode_bytes, Header, SourceFormat};

// Out of line: a cold start compiles only the format it meets (V8 compiles per function).
#[inline(never)]
pub(super) fn decode(bytes: &[u8], header: Header, limits: &Limits) -> Result<Decoded> {
    let png_limits = png::Limits {
        bytes: limit_usize(limits.max_decode_bytes),
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png_limits);
    decoder.set_transformations(Transformations::EXPAND);
    decoder.set_ignore_text_chunk(true);
    let mut reader = decoder.read_info().map_err(map_error)?;
    let (width, height) = reader.info().size();
    if (width, height) != (header.width, header.height) {
        return Err(Error::corrupt_image("PNG header is inconsistent"));
    }
    let (color, depth) = reader.output_color_type();
    let layout = match color {
        ColorType::Grayscale => Layout::Gray,
        ColorType::GrayscaleAlpha => Layout::GrayAlpha,
        ColorType::Rgb => Layout::Rgb,
        ColorType::Rgba => Layout::Rgba,
        ColorType::Indexed => return Err(Error::internal("PNG palette was not expanded")),
    };
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| Error::limit_exceeded("PNG is too large to decode"))?;
    check_decode_bytes(size as u64, limits)?;
    let mut data = vec![0u8; size];
    // The first frame is the default image (the IDAT) for APNG too.
    let frame = reader.next_frame(&mut data).map_err(map_error)?;
    data.truncate(frame.buffer_size());
    let data = match depth {
        BitDepth::Sixteen => be16_to_8(data),
        BitDepth::Eight => data,
        // EXPAND turns 1/2/4-bit samples into 8 bits.
        _ => return Err(Error::internal("PNG low bit depth was not expanded")),
    };
    if data.len() != width as usize * height as usize * layout.channels() {
        return Err(Error::corrupt_image("PNG decoded to an unexpected size"));
    }
    let info = reader.info();
    let orientation = info
        .exif_metadata
        .as_deref()
        .map(orient::from_exif)
        .unwrap_or(1);
    let icc = info.icc_profile.as_ref().map(|p| p.to_vec());
    Ok(Decoded {
        raster: Raster::new(width, height, layout, data),
        format: SourceFormat::Png,
        orientation,
        icc,
        source_width: width,
        source_height: height,
    })
}

fn map_error(e: png::DecodingError) -> Error {
    match e {
        png::DecodingError::LimitsExceeded => {
            Error::limit_exceeded("PNG decode buffers over the memory limit")
        }
        png::DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::corrupt_image("PNG data is truncated")
        }
        other => Error::corrupt_image(format!("PNG is corrupt: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    fn encode(info: png::Info<'static>, pixels: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut writer = png::Encoder::with_info(&mut out, info)
            .unwrap()
            .write_header()
            .unwrap();
        writer.write_image_data(pixels).unwrap();
        writer.finish().unwrap();
        out
    }

    fn header(bytes: &[u8]) -> Header {
        crate::sniff::read_header(bytes, &Limits::default()).unwrap()
    }

    #[test]
    fn exif_orientation_and_icc_profile_are_read() {
        // Big-endian TIFF, one IFD entry: Orientation (0x0112) SHORT = 6.
        let exif = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
        let icc = b"stand-in profile bytes".to_vec();
        let mut info = png::Info::with_size(2, 1);
        info.color_type = ColorType::Rgb;
        info.bit_depth = BitDepth::Eight;
        info.exif_metadata = Some(Cow::Owned(exif));
        info.icc_profile = Some(Cow::Owned(icc.clone()));
        let bytes = encode(info, &[1, 2, 3, 4, 5, 6]);
        let d = decode(&bytes, header(&bytes), &Limits::default()).unwrap();
        assert_eq!(d.orientation, 6);
        assert_eq!(d.icc, Some(icc));
        assert_eq!(
            (d.raster.layout, d.raster.data),
            (Layout::Rgb, vec![1, 2, 3, 4, 5, 6])
        );
    }

    #[test]
    fn sixteen_bit_gray_alpha_rounds_to_eight() {
        let mut info = png::Info::with_size(2, 1);
        info.color_type = ColorType::GrayscaleAlpha;
        info.bit_depth = BitDepth::Sixteen;
        let samples: Vec<u8> = [0xFFFFu16, 0x8080, 0x0080, 0x0000]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let bytes = encode(info, &samples);
        let d = decode(&bytes, header(&bytes), &Limits::default()).unwrap();
        assert_eq!(d.orientation, 1);
        assert_eq!(
            (d.raster.layout, d.raster.data),
            (Layout::GrayAlpha, vec![255, 128, 0, 0])
        );
    }

    #[test]
    fn palette_with_transparency_expands_to_rgba() {
        let mut info = png::Info::with_size(2, 1);
        info.color_type = ColorType::Indexed;
        info.bit_depth = BitDepth::Eight;
        info.palette = Some(Cow::Owned(vec![255, 0, 0, 0, 0, 255]));
        info.trns = Some(Cow::Owned(vec![128]));
        let bytes = encode(info, &[0, 1]);
        let d = decode(&bytes, header(&bytes), &Limits::default()).unwrap();
        assert_eq!(
            (d.raster.layout, d.raster.data),
            (Layout::Rgba, vec![255, 0, 0, 128, 0, 0, 255, 255])
        );
    }
}
