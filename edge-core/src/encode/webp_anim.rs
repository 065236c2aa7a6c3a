//! Animated WebP output: every frame is encoded as a still lossy WebP by libwebp
//! (`webp::encode`, the same settings as still outputs) and the frames are wrapped in
//! the extended container by hand (`VP8X` + `ANIM` + one `ANMF` per frame).
//!
//! libwebp's `WebPAnimEncoder` would store sub-rectangles, but it merges a frame that
//! equals the previous one into its delay, which changes the frame count; writing
//! full frames (no blending, no disposal) keeps every frame and its delay exactly.

use super::gif::AnimationFrame;
use super::webp;
use crate::error::{Error, Result};
use crate::raster::Layout;

/// WebP stores a frame duration in 24 bits (ms).
const MAX_DURATION_MS: u32 = (1 << 24) - 1;

/// Encodes `frames` (all the same size) as an animated WebP. `loop_count`: `Some(n)`
/// is stored as `n` (0 = forever); `None` (a GIF without loop extension, which plays
/// once) as 1.
pub fn encode_animation(
    frames: &[AnimationFrame],
    loop_count: Option<u16>,
    quality: u8,
) -> Result<Vec<u8>> {
    let first = frames
        .first()
        .ok_or_else(|| Error::internal("webp: no frames"))?;
    let (width, height) = (first.raster.width, first.raster.height);
    let mut any_alpha = false;
    let mut body = Vec::new();
    for frame in frames {
        let r = &frame.raster;
        if (r.width, r.height) != (width, height) {
            return Err(Error::internal("webp: frames differ in size"));
        }
        let rgb = super::rgb_or_rgba(r);
        let rgb = super::without_opaque_alpha(&rgb);
        let alpha = rgb.layout == Layout::Rgba;
        any_alpha |= alpha;
        let still = webp::encode(&rgb.data, width, height, alpha, quality)?;
        let payload = frame_chunks(&still)?;
        let mut anmf = Vec::with_capacity(16 + payload.len());
        anmf.extend_from_slice(&le24(0)); // x / 2
        anmf.extend_from_slice(&le24(0)); // y / 2
        anmf.extend_from_slice(&le24(width - 1));
        anmf.extend_from_slice(&le24(height - 1));
        anmf.extend_from_slice(&le24(frame.delay_ms.min(MAX_DURATION_MS)));
        // Bit 1 set: do not blend (each frame is a full canvas); bit 0 clear: keep.
        anmf.push(0b10);
        anmf.extend_from_slice(payload);
        push_chunk(&mut body, b"ANMF", &anmf);
    }

    let mut vp8x = Vec::with_capacity(10);
    vp8x.push(0x02 | if any_alpha { 0x10 } else { 0 }); // animation, alpha
    vp8x.extend_from_slice(&[0, 0, 0]);
    vp8x.extend_from_slice(&le24(width - 1));
    vp8x.extend_from_slice(&le24(height - 1));
    let mut anim = Vec::with_capacity(6);
    anim.extend_from_slice(&[0, 0, 0, 0]); // background colour hint: transparent
    anim.extend_from_slice(&loop_count.unwrap_or(1).to_le_bytes());

    let mut chunks = Vec::with_capacity(body.len() + 40);
    push_chunk(&mut chunks, b"VP8X", &vp8x);
    push_chunk(&mut chunks, b"ANIM", &anim);
    chunks.extend_from_slice(&body);
    let riff_size = u32::try_from(chunks.len() + 4)
        .map_err(|_| Error::limit_exceeded("webp animation is over 4 GB"))?;
    let mut out = Vec::with_capacity(chunks.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&chunks);
    Ok(out)
}

/// The image chunks of a still WebP (`ALPH` + `VP8 `, or `VP8 `, or `VP8L`), without
/// the RIFF header and `VP8X`: exactly what an `ANMF` frame holds.
fn frame_chunks(still: &[u8]) -> Result<&[u8]> {
    let bad = || Error::internal("webp: libwebp wrote an unexpected container");
    if still.len() < 20 || &still[0..4] != b"RIFF" || &still[8..12] != b"WEBP" {
        return Err(bad());
    }
    let mut pos = 12;
    if &still[12..16] == b"VP8X" {
        let size = u32::from_le_bytes(still[16..20].try_into().map_err(|_| bad())?) as usize;
        pos = 20 + size + (size & 1);
    }
    still.get(pos..).filter(|s| !s.is_empty()).ok_or_else(bad)
}

fn push_chunk(out: &mut Vec<u8>, fourcc: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(fourcc);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}

fn le24(v: u32) -> [u8; 3] {
    [v as u8, (v >> 8) as u8, (v >> 16) as u8]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::Raster;

    fn frame(rgba: [u8; 4], delay_ms: u32) -> AnimationFrame {
        AnimationFrame {
            raster: Raster::new(10, 6, Layout::Rgba, rgba.repeat(60)),
            delay_ms,
        }
    }

    #[test]
    fn frames_delays_and_loop_survive_a_decode() {
        let frames = vec![
            frame([200, 10, 10, 255], 120),
            frame([200, 10, 10, 255], 30),
            frame([10, 10, 200, 0], 50),
        ];
        let bytes = encode_animation(&frames, Some(4), 80).unwrap();
        let mut d = image_webp::WebPDecoder::new(std::io::Cursor::new(&bytes)).unwrap();
        assert!(d.is_animated());
        assert_eq!(d.dimensions(), (10, 6));
        assert_eq!(d.num_frames(), 3);
        assert_eq!(
            d.loop_count(),
            image_webp::LoopCount::Times(4.try_into().unwrap())
        );
        let mut buf = vec![0; d.output_buffer_size().unwrap()];
        let delays: Vec<u32> = (0..3).map(|_| d.read_frame(&mut buf).unwrap()).collect();
        assert_eq!(delays, vec![120, 30, 50]);
        // Last frame is fully transparent: no blending over the red frames.
        assert!(buf.chunks_exact(4).all(|p| p[3] == 0));
        let forever = encode_animation(&frames, Some(0), 80).unwrap();
        let d = image_webp::WebPDecoder::new(std::io::Cursor::new(&forever)).unwrap();
        assert_eq!(d.loop_count(), image_webp::LoopCount::Forever);
    }
}
