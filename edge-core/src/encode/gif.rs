//! GIF output (`fm=gif`) with the `gif` crate: a still image or an animation.
//!
//! Each frame gets its own 256-colour palette (exact when the frame has ≤ 256
//! colours, NeuQuant otherwise). GIF alpha is 1 bit: alpha < 128 becomes the
//! transparent index. Frames arrive as full composited canvases; an opaque animation
//! stores only the rectangle that changed since the previous frame (disposal "keep"),
//! one with transparency stores full frames that replace each other (disposal
//! "restore to background"), so every frame looks as it did in the source.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::raster::{Layout, Raster};

/// GIF's own bound: sizes are 16-bit.
pub const MAX_DIMENSION: u32 = 65_535;

/// NeuQuant sampling factor (1 best … 30 fastest); 10 is the crate's default.
const QUANTISER_SPEED: i32 = 10;

/// One output frame of an animation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnimationFrame {
    /// RGB8 or RGBA8 (straight alpha), all frames the same size.
    pub raster: Raster,
    pub delay_ms: u32,
}

/// Encodes one still image.
pub fn encode(raster: &Raster) -> Result<Vec<u8>> {
    let frame = AnimationFrame {
        raster: raster.clone(),
        delay_ms: 0,
    };
    encode_animation(std::slice::from_ref(&frame), None)
}

/// Encodes `frames` as an animated GIF. `loop_count`: `Some(0)` forever, `Some(n)`
/// stored as the NETSCAPE2.0 count `n`, `None` no loop extension (plays once).
pub fn encode_animation(frames: &[AnimationFrame], loop_count: Option<u16>) -> Result<Vec<u8>> {
    let first = frames
        .first()
        .ok_or_else(|| Error::internal("gif: no frames"))?;
    let (width, height) = (first.raster.width, first.raster.height);
    if width == 0 || height == 0 {
        return Err(Error::internal("gif: empty image"));
    }
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(Error::limit_exceeded(format!(
            "gif output {width}x{height} is over the format's {MAX_DIMENSION} px limit"
        )));
    }
    let canvases: Vec<Cow<'_, [u8]>> = frames
        .iter()
        .map(|f| {
            if (f.raster.width, f.raster.height) != (width, height) {
                return Err(Error::internal("gif: frames differ in size"));
            }
            Ok(to_rgba_1bit_alpha(&f.raster))
        })
        .collect::<Result<_>>()?;
    let transparent = canvases
        .iter()
        .any(|c| c.chunks_exact(4).any(|p| p[3] == 0));

    let err = |e: ::gif::EncodingError| Error::internal(format!("gif: {e}"));
    let mut out = Vec::new();
    {
        let mut encoder =
            ::gif::Encoder::new(&mut out, width as u16, height as u16, &[]).map_err(err)?;
        if frames.len() > 1 {
            if let Some(n) = loop_count {
                let repeat = if n == 0 {
                    ::gif::Repeat::Infinite
                } else {
                    ::gif::Repeat::Finite(n)
                };
                encoder.set_repeat(repeat).map_err(err)?;
            }
        }
        let mut previous: Option<&[u8]> = None;
        for (frame, canvas) in frames.iter().zip(&canvases) {
            let rect = match previous {
                Some(prev) if !transparent => changed_rect(prev, canvas, width, height),
                _ => (0, 0, width, height),
            };
            let mut pixels = crop_rgba(canvas, width, rect);
            let mut gif_frame = ::gif::Frame::from_rgba_speed(
                rect.2 as u16,
                rect.3 as u16,
                &mut pixels,
                QUANTISER_SPEED,
            );
            gif_frame.left = rect.0 as u16;
            gif_frame.top = rect.1 as u16;
            // Centiseconds, rounded; GIF stores 16 bits.
            gif_frame.delay = ((frame.delay_ms + 5) / 10).min(u32::from(u16::MAX)) as u16;
            gif_frame.dispose = if transparent {
                ::gif::DisposalMethod::Background
            } else {
                ::gif::DisposalMethod::Keep
            };
            encoder.write_frame(&gif_frame).map_err(err)?;
            previous = Some(canvas);
        }
    }
    Ok(out)
}

/// RGBA8 with alpha forced to 0 or 255 (GIF transparency is one index).
fn to_rgba_1bit_alpha(raster: &Raster) -> Cow<'_, [u8]> {
    let mut rgba: Vec<u8> = match raster.layout {
        Layout::Rgba => raster.data.clone(),
        Layout::Rgb => raster
            .data
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        Layout::Gray => raster.data.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        Layout::GrayAlpha => raster
            .data
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        // Converted to sRGB before encoding; never reached.
        Layout::Cmyk => raster.data.clone(),
    };
    for p in rgba.chunks_exact_mut(4) {
        if p[3] < 128 {
            p.copy_from_slice(&[0, 0, 0, 0]);
        } else {
            p[3] = 255;
        }
    }
    Cow::Owned(rgba)
}

/// Bounding box (x, y, w, h) of the pixels that differ; 1x1 when none do (a GIF
/// frame cannot be empty, and dropping it would change the frame count).
fn changed_rect(prev: &[u8], next: &[u8], width: u32, height: u32) -> (u32, u32, u32, u32) {
    let (w, h) = (width as usize, height as usize);
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for y in 0..h {
        let row = y * w * 4..(y + 1) * w * 4;
        let (a, b) = (&prev[row.clone()], &next[row]);
        if a == b {
            continue;
        }
        for x in 0..w {
            if a[x * 4..x * 4 + 4] != b[x * 4..x * 4 + 4] {
                x0 = x0.min(x);
                x1 = x1.max(x + 1);
            }
        }
        y0 = y0.min(y);
        y1 = y + 1;
    }
    if x0 >= x1 {
        return (0, 0, 1, 1);
    }
    (x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32)
}

fn crop_rgba(canvas: &[u8], width: u32, (x, y, w, h): (u32, u32, u32, u32)) -> Vec<u8> {
    let mut out = Vec::with_capacity(w as usize * h as usize * 4);
    for row in y..y + h {
        let at = (row as usize * width as usize + x as usize) * 4;
        out.extend_from_slice(&canvas[at..at + w as usize * 4]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(w: u32, h: u32, rgba: [u8; 4]) -> Raster {
        Raster::new(w, h, Layout::Rgba, rgba.repeat((w * h) as usize))
    }

    fn decode_all(bytes: &[u8]) -> (u16, u16, Vec<(u16, ::gif::DisposalMethod)>, ::gif::Repeat) {
        let mut options = ::gif::DecodeOptions::new();
        options.set_color_output(::gif::ColorOutput::RGBA);
        let mut d = options.read_info(bytes).unwrap();
        let mut frames = Vec::new();
        while let Some(f) = d.read_next_frame().unwrap() {
            frames.push((f.delay, f.dispose));
        }
        (d.width(), d.height(), frames, d.repeat())
    }

    #[test]
    fn animation_keeps_frames_delays_and_loop() {
        let frames: Vec<_> = [[255, 0, 0, 255], [0, 255, 0, 255], [0, 255, 0, 255]]
            .iter()
            .zip([100, 40, 70])
            .map(|(&c, delay_ms)| AnimationFrame {
                raster: solid(12, 8, c),
                delay_ms,
            })
            .collect();
        let bytes = encode_animation(&frames, Some(3)).unwrap();
        let (w, h, got, repeat) = decode_all(&bytes);
        assert_eq!((w, h), (12, 8));
        // The identical third frame is kept (as a 1x1 no-op), not merged away.
        assert_eq!(got.iter().map(|f| f.0).collect::<Vec<_>>(), vec![10, 4, 7]);
        assert_eq!(repeat, ::gif::Repeat::Finite(3));
        let forever = encode_animation(&frames, Some(0)).unwrap();
        assert_eq!(decode_all(&forever).3, ::gif::Repeat::Infinite);
    }

    #[test]
    fn transparency_uses_full_replacing_frames() {
        let frames = vec![
            AnimationFrame {
                raster: solid(4, 4, [9, 9, 9, 255]),
                delay_ms: 50,
            },
            AnimationFrame {
                raster: solid(4, 4, [9, 9, 9, 10]),
                delay_ms: 50,
            },
        ];
        let bytes = encode_animation(&frames, Some(0)).unwrap();
        let mut options = ::gif::DecodeOptions::new();
        options.set_color_output(::gif::ColorOutput::RGBA);
        let mut d = options.read_info(&bytes[..]).unwrap();
        let f1 = d.read_next_frame().unwrap().unwrap();
        assert_eq!(f1.dispose, ::gif::DisposalMethod::Background);
        assert!(f1.buffer.chunks_exact(4).all(|p| p == [9, 9, 9, 255]));
        let f2 = d.read_next_frame().unwrap().unwrap();
        assert_eq!((f2.width, f2.height), (4, 4));
        assert!(f2.buffer.chunks_exact(4).all(|p| p[3] == 0));
    }

    #[test]
    fn still_image_many_colours() {
        let data: Vec<u8> = (0..64 * 64u32)
            .flat_map(|i| [(i % 64 * 4) as u8, (i / 64 * 4) as u8, 128])
            .collect();
        let bytes = encode(&Raster::new(64, 64, Layout::Rgb, data)).unwrap();
        let (w, h, frames, _) = decode_all(&bytes);
        assert_eq!((w, h, frames.len()), (64, 64, 1));
    }
}
