//! Baseline JPEG with `jpeg-encoder`: 4:2:0 chroma (box-averaged like libjpeg),
//! optimised Huffman tables, the standard (Annex K) quantisation tables scaled by
//! quality exactly like libjpeg, so `q` means what it means to sharp (libjpeg-turbo).

use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder, SamplingFactor};

use crate::composite::{flatten, has_transparency};
use crate::error::{Error, Result};
use crate::raster::{Layout, Raster};
use crate::types::Rgba;

/// JPEG stores dimensions in 16 bits.
pub const MAX_DIMENSION: u32 = 65_535;

/// Encodes `raster` at `quality` (1-100); alpha is flattened onto `background`.
pub fn encode(raster: &Raster, quality: u8, background: Rgba) -> Result<Vec<u8>> {
    let (width, height) = (raster.width, raster.height);
    if width == 0 || height == 0 {
        return Err(Error::internal(format!(
            "jpeg: empty image {width}x{height}"
        )));
    }
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(Error::limit_exceeded(format!(
            "jpeg output {width}x{height} is over the format's {MAX_DIMENSION} px limit"
        )));
    }
    let flattened;
    let (pixels, color) = match raster.layout {
        Layout::Gray => (&raster.data, ColorType::Luma),
        Layout::Rgb => (&raster.data, ColorType::Rgb),
        // The encoder ignores the 4th byte: no copy for opaque RGBA.
        Layout::Rgba if !has_transparency(raster) => (&raster.data, ColorType::Rgba),
        Layout::Rgba | Layout::GrayAlpha => {
            flattened = flatten_onto(raster, background);
            (&flattened, ColorType::Rgb)
        }
        Layout::Cmyk => return Err(Error::internal("jpeg: CMYK input")),
    };

    // Typical photos at q80 compress to ~1.5 bits per pixel: avoid regrowing.
    let mut out = Vec::with_capacity(width as usize * height as usize / 4 + 1024);
    let mut encoder = Encoder::new(&mut out, quality.clamp(1, 100));
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    encoder.set_optimized_huffman_tables(true);
    encoder
        .encode(pixels, width as u16, height as u16, color)
        .map_err(|e| Error::internal(format!("jpeg encoder: {e}")))?;
    Ok(out)
}

fn flatten_onto(raster: &Raster, background: Rgba) -> Vec<u8> {
    let channels = raster.layout.channels();
    raster
        .data
        .chunks_exact(channels)
        .flat_map(|p| {
            let rgba = if channels == 2 {
                [p[0], p[0], p[0], p[1]]
            } else {
                [p[0], p[1], p[2], p[3]]
            };
            flatten(rgba, background)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (Vec<u8>, jpeg_decoder::ImageInfo) {
        let mut d = jpeg_decoder::Decoder::new(bytes);
        let px = d.decode().unwrap();
        (px, d.info().unwrap())
    }

    #[test]
    fn encodes_rgb_gray_and_flattens_alpha() {
        let rgb = Raster::new(33, 17, Layout::Rgb, [200u8, 30, 60].repeat(33 * 17));
        let (px, info) = decode(&encode(&rgb, 80, Rgba::WHITE).unwrap());
        assert_eq!((info.width, info.height), (33, 17));
        assert!(px
            .chunks_exact(3)
            .all(|p| p[0].abs_diff(200) < 6 && p[1].abs_diff(30) < 6));

        let gray = Raster::new(8, 9, Layout::Gray, vec![90; 72]);
        let (px, info) = decode(&encode(&gray, 80, Rgba::WHITE).unwrap());
        assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::L8);
        assert!(px.iter().all(|&v| v.abs_diff(90) < 3));

        // Fully transparent over red background → red.
        let clear = Raster::new(16, 16, Layout::Rgba, [0u8, 255, 0, 0].repeat(256));
        let red = Rgba {
            r: 255,
            g: 0,
            b: 0,
            a: 255,
        };
        let (px, _) = decode(&encode(&clear, 90, red).unwrap());
        assert!(
            px.chunks_exact(3).all(|p| p[0] > 245 && p[1] < 10),
            "{:?}",
            &px[..3]
        );
    }

    #[test]
    fn rejects_oversized_and_empty() {
        let wide = Raster {
            width: 70_000,
            height: 1,
            layout: Layout::Gray,
            data: vec![0; 70_000],
        };
        assert_eq!(
            encode(&wide, 80, Rgba::WHITE).unwrap_err().code(),
            "limit_exceeded"
        );
        let empty = Raster {
            width: 0,
            height: 0,
            layout: Layout::Rgb,
            data: vec![],
        };
        assert!(encode(&empty, 80, Rgba::WHITE).is_err());
    }
}
