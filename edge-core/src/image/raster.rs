//! The in-memory pixel buffer passed between pipeline steps.

use crate::error::{Error, Result};
/// Memory layout of one pixel, 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Gray,
    /// Gray + straight alpha.
    GrayAlpha,
    Rgb,
    /// RGB + straight (not premultiplied) alpha.
    Rgba,
    /// Plain CMYK as the ICC profile expects it (Adobe inversion already undone).
    Cmyk,
}

impl Layout {
    pub fn channels(self) -> usize {
        match self {
            Layout::Gray => 1,
            Layout::GrayAlpha => 2,
            Layout::Rgb => 3,
            Layout::Rgba | Layout::Cmyk => 4,
        }
    }
    pub fn has_alpha(self) -> bool {
        matches!(self, Layout::GrayAlpha | Layout::Rgba)
    }
}

/// Row-major, tightly packed pixels. `data.len() == width * height * layout.channels()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub data: Vec<u8>,
}

impl Raster {
    pub fn new(width: u32, height: u32, layout: Layout, data: Vec<u8>) -> Self {
        debug_assert_eq!(
            data.len(),
            width as usize * height as usize * layout.channels()
        );
        Raster {
            width,
            height,
            layout,
            data,
        }
    }
}

impl Raster {
    /// The pixels of `rect` (which must lie inside the raster) as a new raster;
    /// `limit_exceeded` when the buffer cannot be had.
    pub fn crop(&self, rect: crate::types::ops::Rect) -> Result<Raster> {
        let channels = self.layout.channels();
        let row_len = rect.width as usize * channels;
        let mut data = Vec::new();
        data.try_reserve_exact(row_len * rect.height as usize)
            .map_err(|_| Error::limit_exceeded("out of memory for the region"))?;
        for row in self
            .data
            .chunks_exact(self.width as usize * channels)
            .skip(rect.y as usize)
            .take(rect.height as usize)
        {
            let from = rect.x as usize * channels;
            data.extend_from_slice(&row[from..from + row_len]);
        }
        Ok(Raster::new(rect.width, rect.height, self.layout, data))
    }
}

/// A zeroed buffer of `len` bytes, or `limit_exceeded` when it cannot be had (an
/// allocation failure must be an error, never an abort).
pub(crate) fn try_zeroed(len: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| Error::limit_exceeded("out of memory for the output pixels"))?;
    v.resize(len, 0);
    Ok(v)
}
