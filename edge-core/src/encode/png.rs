//! 8-bit PNG with the `png` crate: adaptive row filters and zlib level 6 (sharp's
//! default `compressionLevel`). An alpha channel that is fully opaque is dropped.

use crate::encode::without_opaque_alpha;
use crate::error::{Error, Result};
use crate::raster::{Layout, Raster};

pub fn encode(raster: &Raster) -> Result<Vec<u8>> {
    let raster = without_opaque_alpha(raster);
    let color = match raster.layout {
        Layout::Gray => png::ColorType::Grayscale,
        Layout::GrayAlpha => png::ColorType::GrayscaleAlpha,
        Layout::Rgb => png::ColorType::Rgb,
        Layout::Rgba => png::ColorType::Rgba,
        Layout::Cmyk => return Err(Error::internal("png: CMYK input")),
    };
    let err = |e: png::EncodingError| Error::internal(format!("png encoder: {e}"));
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, raster.width, raster.height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    encoder.set_filter(png::Filter::Adaptive);
    let mut writer = encoder.write_header().map_err(err)?;
    writer.write_image_data(&raster.data).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    #[test]
    fn round_trips_and_drops_opaque_alpha() {
        let data: Vec<u8> = (0..5 * 3 * 4)
            .map(|i| if i % 4 == 3 { 255 } else { i as u8 })
            .collect();
        let opaque = Raster::new(5, 3, Layout::Rgba, data.clone());
        let (info, px) = decode(&encode(&opaque).unwrap());
        assert_eq!(
            (info.width, info.height, info.color_type),
            (5, 3, png::ColorType::Rgb)
        );
        let rgb: Vec<u8> = data.chunks_exact(4).flat_map(|p| p[..3].to_vec()).collect();
        assert_eq!(px, rgb);

        let mut translucent = data;
        translucent[3] = 7;
        let r = Raster::new(5, 3, Layout::Rgba, translucent.clone());
        let (info, px) = decode(&encode(&r).unwrap());
        assert_eq!(info.color_type, png::ColorType::Rgba);
        assert_eq!(px, translucent);

        let gray = Raster::new(1, 1, Layout::Gray, vec![42]);
        let (info, px) = decode(&encode(&gray).unwrap());
        assert_eq!((info.color_type, px), (png::ColorType::Grayscale, vec![42]));
    }
}
