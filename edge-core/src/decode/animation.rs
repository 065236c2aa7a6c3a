//! Animated GIF and WebP input.
//!
//! [`probe`] reads the frame count, canvas and loop count from the container without
//! decoding a pixel (GIF: a walk over the blocks, skipping LZW data; WebP: a walk over
//! the RIFF chunks), so the frame and total-pixel limits refuse an animation bomb
//! before anything is allocated. [`decode_frames`] then decodes one frame at a time,
//! composites it onto the canvas (blending and disposal applied, as a browser shows
//! it) and hands the full-canvas frame to a callback, so only one canvas is alive at
//! a time however many frames there are.

use std::io::Cursor;

use crate::config::Limits;
use crate::error::{Error, Result};
use crate::raster::{Layout, Raster};
use crate::sniff::{self, SourceFormat};

/// Container facts of an animated (or still) GIF/WebP, read without decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnimationInfo {
    pub format: SourceFormat,
    /// Canvas (logical screen) size.
    pub width: u32,
    pub height: u32,
    /// Number of frames declared in the file (a truncated file may hold fewer).
    pub frames: u32,
    /// Loop count as stored: `Some(0)` = forever, `Some(n)` = the container's `n`,
    /// `None` = no loop extension (GIF: play once).
    pub loop_count: Option<u16>,
    /// Largest single frame rectangle in pixels (GIF frames may exceed the canvas).
    pub max_frame_pixels: u64,
}

impl AnimationInfo {
    pub fn is_animated(&self) -> bool {
        self.frames > 1
    }

    /// Pixels decoded over the whole animation (every frame is composited onto a
    /// full canvas).
    pub fn total_pixels(&self) -> u64 {
        u64::from(self.frames) * u64::from(self.width) * u64::from(self.height)
    }

    /// Refuses an animation over the frame-count or total-pixel limit (413).
    pub fn check_limits(&self, limits: &Limits) -> Result<()> {
        if self.frames > limits.max_frames {
            return Err(Error::limit_exceeded(format!(
                "animation has {} frames, over the limit of {} frames",
                self.frames, limits.max_frames
            )));
        }
        if self.total_pixels() > limits.max_animation_pixels {
            return Err(Error::limit_exceeded(format!(
                "animation is {} frames of {}x{} = {} pixels, over the limit of {} pixels",
                self.frames,
                self.width,
                self.height,
                self.total_pixels(),
                limits.max_animation_pixels
            )));
        }
        if self.max_frame_pixels > limits.max_input_pixels {
            return Err(Error::limit_exceeded(format!(
                "a frame of {} pixels is over the limit of {} pixels",
                self.max_frame_pixels, limits.max_input_pixels
            )));
        }
        Ok(())
    }
}

/// One composited frame: the full canvas as it is shown, and how long.
#[derive(Debug)]
pub struct CanvasFrame<'a> {
    /// RGBA8 (straight alpha), canvas size.
    pub raster: &'a Raster,
    pub delay_ms: u32,
}

/// Reads the animation facts of a GIF or WebP; `Ok(None)` for other formats.
pub fn probe(bytes: &[u8]) -> Result<Option<AnimationInfo>> {
    match sniff::sniff(bytes)? {
        SourceFormat::Gif => probe_gif(bytes).map(Some),
        SourceFormat::Webp => probe_webp(bytes).map(Some),
        _ => Ok(None),
    }
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}
fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(s[0] as u32 | (s[1] as u32) << 8 | (s[2] as u32) << 16)
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Skips GIF data sub-blocks starting at `pos` (length byte, data, ..., 0);
/// returns the position after the terminator, or None when truncated.
fn skip_sub_blocks(b: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *b.get(pos)? as usize;
        pos += 1;
        if len == 0 {
            return Some(pos);
        }
        pos += len;
    }
}

/// GIF: logical screen descriptor, then every block up to the trailer. A truncated
/// file ends the walk (the decoder keeps the frames it can read).
pub fn probe_gif(b: &[u8]) -> Result<AnimationInfo> {
    let truncated = || Error::corrupt_image("GIF header is truncated");
    let width = le16(b, 6).ok_or_else(truncated)?;
    let height = le16(b, 8).ok_or_else(truncated)?;
    let flags = *b.get(10).ok_or_else(truncated)?;
    let mut pos = 13;
    if flags & 0x80 != 0 {
        pos += 3 << ((flags & 7) + 1);
    }
    let mut info = AnimationInfo {
        format: SourceFormat::Gif,
        width,
        height,
        frames: 0,
        loop_count: None,
        max_frame_pixels: 0,
    };
    while let Some(&introducer) = b.get(pos) {
        match introducer {
            0x3B => break,
            0x21 => {
                let Some(&label) = b.get(pos + 1) else { break };
                pos += 2;
                if label == 0xFF && b.get(pos) == Some(&11) {
                    let id = b.get(pos + 1..pos + 12);
                    if id == Some(b"NETSCAPE2.0") || id == Some(b"ANIMEXTS1.0") {
                        // Sub-block: 3, 1, loop count (LE16).
                        let sub = pos + 12;
                        if b.get(sub) == Some(&3) && b.get(sub + 1) == Some(&1) {
                            info.loop_count = le16(b, sub + 2).map(|n| n as u16);
                        }
                    }
                }
                match skip_sub_blocks(b, pos) {
                    Some(next) => pos = next,
                    None => break,
                }
            }
            0x2C => {
                let (Some(w), Some(h), Some(&packed)) =
                    (le16(b, pos + 5), le16(b, pos + 7), b.get(pos + 9))
                else {
                    break;
                };
                info.frames += 1;
                info.max_frame_pixels = info.max_frame_pixels.max(u64::from(w) * u64::from(h));
                pos += 10;
                if packed & 0x80 != 0 {
                    pos += 3 << ((packed & 7) + 1);
                }
                pos += 1; // LZW minimum code size
                match skip_sub_blocks(b, pos) {
                    Some(next) => pos = next,
                    None => break,
                }
            }
            // Garbage where a block should start: decoders stop here too.
            _ => break,
        }
    }
    Ok(info)
}

/// WebP: the RIFF chunk list. VP8X gives the canvas and the animation flag, ANIM the
/// loop count, each ANMF one frame.
pub fn probe_webp(b: &[u8]) -> Result<AnimationInfo> {
    let truncated = || Error::corrupt_image("WebP header is truncated");
    let riff_end = (le32(b, 4).ok_or_else(truncated)? as usize)
        .saturating_add(8)
        .min(b.len());
    let mut info = AnimationInfo {
        format: SourceFormat::Webp,
        width: 0,
        height: 0,
        frames: 0,
        loop_count: None,
        max_frame_pixels: 0,
    };
    let mut animated = false;
    let mut pos = 12;
    while pos + 8 <= riff_end {
        let fourcc = &b[pos..pos + 4];
        let size = le32(b, pos + 4).ok_or_else(truncated)? as usize;
        let data = pos + 8;
        match fourcc {
            b"VP8X" => {
                let flags = *b.get(data).ok_or_else(truncated)?;
                animated = flags & 0x02 != 0;
                info.width = le24(b, data + 4).ok_or_else(truncated)? + 1;
                info.height = le24(b, data + 7).ok_or_else(truncated)? + 1;
            }
            b"ANIM" => info.loop_count = le16(b, data + 4).map(|n| n as u16),
            b"ANMF" => {
                let (Some(w), Some(h)) = (le24(b, data + 6), le24(b, data + 9)) else {
                    break;
                };
                // image-webp sizes a frame's buffer by the ANMF header but fills it by the
                // frame's own bitstream size (it checks them only for frames without
                // alpha), and a mismatch panics. The animation ends before such a frame;
                // a first frame like it is a corrupt file.
                let end = data.saturating_add(size).min(riff_end);
                if !anmf_bitstream_matches(b, data + 16, end, w + 1, h + 1) {
                    if info.frames == 0 {
                        return Err(Error::corrupt_image(format!(
                            "WebP animation frame 1 is {}x{} in its header but not in its bitstream",
                            w + 1,
                            h + 1
                        )));
                    }
                    break;
                }
                info.frames += 1;
                info.max_frame_pixels = info
                    .max_frame_pixels
                    .max(u64::from(w + 1) * u64::from(h + 1));
            }
            _ => {}
        }
        pos = data.saturating_add(size).saturating_add(size & 1);
    }
    if !animated {
        // A still WebP: the header parser in `sniff` knows its size.
        let header = sniff::probe(b, &Limits::unlimited())?.header;
        info.width = header.width;
        info.height = header.height;
        info.frames = 1;
        info.loop_count = None;
        info.max_frame_pixels = u64::from(header.width) * u64::from(header.height);
    }
    Ok(info)
}

/// Whether the image bitstream inside an ANMF payload (sub-chunks from `pos` to `end`:
/// optional ALPH, then VP8 or VP8L) declares `width`x`height`; false when there is none.
fn anmf_bitstream_matches(b: &[u8], mut pos: usize, end: usize, width: u32, height: u32) -> bool {
    while pos + 8 <= end {
        let Some(size) = le32(b, pos + 4) else {
            return false;
        };
        let data = pos + 8;
        match &b[pos..pos + 4] {
            // Key frame: 3-byte frame tag (bit 0 clear), start code 9d 01 2a, then
            // 14-bit width and height.
            b"VP8 " => {
                let Some(head) = b.get(data..data + 10) else {
                    return false;
                };
                return head[0] & 1 == 0
                    && head[3..6] == [0x9d, 0x01, 0x2a]
                    && u32::from(u16::from_le_bytes([head[6], head[7]]) & 0x3fff) == width
                    && u32::from(u16::from_le_bytes([head[8], head[9]]) & 0x3fff) == height;
            }
            // Signature 0x2f, then 14-bit width - 1 and height - 1.
            b"VP8L" => {
                let (Some(&0x2f), Some(bits)) = (b.get(data), le32(b, data + 1)) else {
                    return false;
                };
                return (bits & 0x3fff) + 1 == width && ((bits >> 14) & 0x3fff) + 1 == height;
            }
            _ => {}
        }
        pos = data
            .saturating_add(size as usize)
            .saturating_add(size as usize & 1);
    }
    false
}

/// Refuses an animated WebP whose first frame's bitstream does not match its frame
/// header (see `probe_webp`), before a still decode reads that frame.
pub fn check_webp_frames(b: &[u8]) -> Result<()> {
    probe_webp(b).map(|_| ())
}

/// Decodes every frame of an animated GIF/WebP (after [`probe`] and
/// [`AnimationInfo::check_limits`]), calling `on_frame` with each composited canvas.
/// Returns the number of frames delivered. Damage after the first frame ends the
/// animation there (browsers show what they could read); damage before it is a 422.
pub fn decode_frames(
    bytes: &[u8],
    info: &AnimationInfo,
    limits: &Limits,
    on_frame: &mut dyn FnMut(CanvasFrame<'_>) -> Result<()>,
) -> Result<u32> {
    // Canvas, a saved canvas (GIF "restore previous") and one frame buffer.
    let canvas_bytes = u64::from(info.width) * u64::from(info.height) * 4;
    sniff::check_decode_bytes(canvas_bytes * 2 + info.max_frame_pixels * 4, limits)?;
    let delivered = match info.format {
        SourceFormat::Gif => super::guarded(|| decode_gif(bytes, info, limits, on_frame))?,
        SourceFormat::Webp => super::guarded(|| decode_webp(bytes, info, limits, on_frame))?,
        other => {
            return Err(Error::internal(format!(
                "animation decode called for {}",
                other.name()
            )))
        }
    };
    if delivered == 0 {
        return Err(Error::corrupt_image(format!(
            "{} has no readable frame",
            info.format.name().to_uppercase()
        )));
    }
    Ok(delivered)
}

fn decode_gif(
    bytes: &[u8],
    info: &AnimationInfo,
    limits: &Limits,
    on_frame: &mut dyn FnMut(CanvasFrame<'_>) -> Result<()>,
) -> Result<u32> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    if let Some(bytes) = std::num::NonZeroU64::new(limits.max_decode_bytes) {
        options.set_memory_limit(gif::MemoryLimit::Bytes(bytes));
    }
    let mut decoder = options
        .read_info(Cursor::new(bytes))
        .map_err(|e| Error::corrupt_image(format!("GIF is corrupt: {e}")))?;
    let (cw, ch) = (info.width as usize, info.height as usize);
    let mut canvas = Raster::new(info.width, info.height, Layout::Rgba, vec![0; cw * ch * 4]);
    let mut saved: Option<Vec<u8>> = None;
    let mut delivered = 0u32;
    while delivered < info.frames {
        let frame = match decoder.read_next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) if delivered == 0 => {
                return Err(Error::corrupt_image(format!("GIF is corrupt: {e}")))
            }
            Err(_) => break,
        };
        let (fx, fy) = (frame.left as usize, frame.top as usize);
        let (fw, fh) = (frame.width as usize, frame.height as usize);
        if frame.buffer.len() != fw * fh * 4 {
            return Err(Error::corrupt_image("GIF frame has the wrong size"));
        }
        let dispose = frame.dispose;
        if dispose == gif::DisposalMethod::Previous {
            saved = Some(canvas.data.clone());
        }
        // Draw: GIF alpha is 0 (transparent index: keep what is below) or 255. A frame
        // placed wholly right of or below the canvas draws nothing (its rows would
        // start past the canvas).
        let visible_w = fw.min(cw.saturating_sub(fx));
        let visible_h = if visible_w == 0 {
            0
        } else {
            fh.min(ch.saturating_sub(fy))
        };
        for row in 0..visible_h {
            let src = &frame.buffer[row * fw * 4..(row * fw + visible_w) * 4];
            let at = ((fy + row) * cw + fx) * 4;
            let dst = &mut canvas.data[at..at + visible_w * 4];
            for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                if s[3] != 0 {
                    d.copy_from_slice(s);
                }
            }
        }
        on_frame(CanvasFrame {
            raster: &canvas,
            delay_ms: u32::from(frame.delay) * 10,
        })?;
        delivered += 1;
        match dispose {
            // Browsers clear to transparent, not to the background colour.
            gif::DisposalMethod::Background => {
                for row in 0..visible_h {
                    let at = ((fy + row) * cw + fx) * 4;
                    canvas.data[at..at + visible_w * 4].fill(0);
                }
            }
            gif::DisposalMethod::Previous => {
                if let Some(previous) = saved.take() {
                    canvas.data = previous;
                }
            }
            _ => {}
        }
    }
    Ok(delivered)
}

fn decode_webp(
    bytes: &[u8],
    info: &AnimationInfo,
    limits: &Limits,
    on_frame: &mut dyn FnMut(CanvasFrame<'_>) -> Result<()>,
) -> Result<u32> {
    let err = |e: image_webp::DecodingError| Error::corrupt_image(format!("WebP is corrupt: {e}"));
    let mut decoder = image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(err)?;
    decoder.set_memory_limit(super::limit_usize(limits.max_decode_bytes));
    if !decoder.is_animated() || decoder.dimensions() != (info.width, info.height) {
        return Err(Error::corrupt_image(
            "WebP animation header is inconsistent",
        ));
    }
    // Disposal clears to transparent, as browsers do (the ANIM colour is a hint).
    decoder.set_background_color([0, 0, 0, 0]).map_err(err)?;
    let has_alpha = decoder.has_alpha();
    let (cw, ch) = (info.width as usize, info.height as usize);
    let mut buffer = vec![0u8; cw * ch * if has_alpha { 4 } else { 3 }];
    let mut canvas = Raster::new(info.width, info.height, Layout::Rgba, vec![0; cw * ch * 4]);
    let mut delivered = 0u32;
    while delivered < info.frames.min(decoder.num_frames()) {
        let delay_ms = match decoder.read_frame(&mut buffer) {
            Ok(delay) => delay,
            Err(image_webp::DecodingError::NoMoreFrames) => break,
            Err(e) if delivered == 0 => return Err(err(e)),
            Err(_) => break,
        };
        if has_alpha {
            canvas.data.copy_from_slice(&buffer);
        } else {
            for (d, s) in canvas.data.chunks_exact_mut(4).zip(buffer.chunks_exact(3)) {
                d[..3].copy_from_slice(s);
                d[3] = 255;
            }
        }
        on_frame(CanvasFrame {
            raster: &canvas,
            delay_ms,
        })?;
        delivered += 1;
    }
    Ok(delivered)
}
