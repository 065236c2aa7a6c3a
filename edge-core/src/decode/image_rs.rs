//! GIF and WebP through the `image` crate (first frame of animations), with
//! `image::Limits` bounding every allocation the codec makes.

use std::io::Cursor;

use image::codecs::gif::GifDecoder;
use image::codecs::webp::WebPDecoder;
use image::{ColorType, ImageDecoder, ImageError};

use super::Decoded;
use crate::config::Limits;
use crate::error::{Error, Result};
use crate::orient;
use crate::raster::{Layout, Raster};
use crate::sniff::{check_decode_bytes, Header, SourceFormat};

// Out of line: a cold start compiles only the format it meets (V8 compiles per function).
#[inline(never)]
pub(super) fn decode(bytes: &[u8], header: Header, limits: &Limits) -> Result<Decoded> {
    let format = header.format;
    let err = |e| map_error(format, e);
    let mut image_limits = image::Limits::no_limits();
    image_limits.max_alloc = Some(limits.max_decode_bytes);
    let (raster, orientation, icc) = match format {
        SourceFormat::Gif => {
            let mut d = GifDecoder::new(Cursor::new(bytes)).map_err(err)?;
            d.set_limits(image_limits).map_err(err)?;
            // GIF has no EXIF; an ICC profile in an application extension is rare
            // and not exposed by the decoder.
            (read(d, header, limits)?, 1, None)
        }
        SourceFormat::Webp => {
            // An animation's first frame is what this decodes: refuse one whose
            // bitstream and frame header disagree (image-webp would panic).
            super::animation::check_webp_frames(bytes)?;
            let mut d = WebPDecoder::new(Cursor::new(bytes)).map_err(err)?;
            d.set_limits(image_limits).map_err(err)?;
            // Metadata from our own chunk walk, bounded by the bytes present: the
            // decoder would allocate whatever a chunk's size field claims (2 GiB from
            // an 8 KB file). Broken metadata chunks must not cost the image.
            let meta = crate::image::bounds::webp_metadata(bytes, limits);
            let orientation = meta.exif.map(orient::from_exif);
            let icc = meta.icc.map(<[u8]>::to_vec);
            (read(d, header, limits)?, orientation.unwrap_or(1), icc)
        }
        _ => {
            return Err(Error::internal(
                "image_rs::decode called for another format",
            ))
        }
    };
    Ok(Decoded {
        raster,
        format,
        orientation,
        icc,
        source_width: header.width,
        source_height: header.height,
    })
}

fn read(decoder: impl ImageDecoder, header: Header, limits: &Limits) -> Result<Raster> {
    let (width, height) = decoder.dimensions();
    if (width, height) != (header.width, header.height) {
        return Err(Error::corrupt_image("image header is inconsistent"));
    }
    let layout = match decoder.color_type() {
        ColorType::Rgb8 => Layout::Rgb,
        ColorType::Rgba8 => Layout::Rgba,
        ColorType::L8 => Layout::Gray,
        ColorType::La8 => Layout::GrayAlpha,
        other => return Err(Error::internal(format!("unexpected colour type {other:?}"))),
    };
    let size = decoder.total_bytes();
    check_decode_bytes(size, limits)?;
    let mut data = vec![0u8; size as usize];
    decoder
        .read_image(&mut data)
        .map_err(|e| map_error(header.format, e))?;
    Ok(Raster::new(width, height, layout, data))
}

fn map_error(format: SourceFormat, e: ImageError) -> Error {
    let name = format.name().to_uppercase();
    match e {
        ImageError::Limits(l) => Error::limit_exceeded(format!("{name} over the limits: {l}")),
        ImageError::Unsupported(u) => Error::unsupported_format(format!("{name}: {u}")),
        other => Error::corrupt_image(format!("{name} is corrupt: {other}")),
    }
}
