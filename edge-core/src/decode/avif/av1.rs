//! One AV1 frame through rav1d (the Rust port of dav1d), via its dav1d-style C API.
//! The unsafe surface is kept to this file: a context and a picture, each released
//! by `Drop`, and read-only plane views whose bounds come from the picture itself.

use std::mem::MaybeUninit;
use std::ptr::NonNull;

use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dLogger, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture,
    dav1d_open, dav1d_picture_unref, dav1d_send_data,
};

use crate::error::{Error, Result};

/// dav1d reports errors as negative errno values; "try again" is the only one that
/// is not a failure. Linux numbering, which the wasm build uses too (see
/// third_party/rav1d-libc).
const EAGAIN: i32 = -11;
const ENOMEM: i32 = -12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Subsampling {
    Monochrome,
    Yuv420,
    Yuv422,
    Yuv444,
}

/// A decoded frame. Dropping it returns the buffers to rav1d, then closes the
/// decoder it came from.
pub(super) struct Picture {
    raw: Dav1dPicture,
    context: Context,
}

/// A read-only view of one plane: `rows` rows of `width` samples, `stride` samples
/// apart.
pub(super) struct Plane<'a, T> {
    pub data: &'a [T],
    pub stride: usize,
    pub width: usize,
    pub rows: usize,
}

impl<T: Copy> Plane<'_, T> {
    pub fn row(&self, y: usize) -> &[T] {
        &self.data[y * self.stride..y * self.stride + self.width]
    }
}

impl Picture {
    pub fn width(&self) -> u32 {
        self.raw.p.w.max(0) as u32
    }
    pub fn height(&self) -> u32 {
        self.raw.p.h.max(0) as u32
    }
    pub fn bit_depth(&self) -> u8 {
        self.raw.p.bpc as u8
    }
    pub fn subsampling(&self) -> Subsampling {
        match self.raw.p.layout {
            DAV1D_PIXEL_LAYOUT_I400 => Subsampling::Monochrome,
            DAV1D_PIXEL_LAYOUT_I420 => Subsampling::Yuv420,
            DAV1D_PIXEL_LAYOUT_I422 => Subsampling::Yuv422,
            _ => Subsampling::Yuv444,
        }
    }

    /// (colour primaries, matrix coefficients, full range) from the AV1 sequence
    /// header.
    pub fn sequence_colour(&self) -> (u16, u16, bool) {
        match self.raw.seq_hdr {
            // SAFETY: rav1d keeps the sequence header alive while the picture holds
            // its reference (`seq_hdr_ref`), and only reads it.
            Some(h) => unsafe {
                let h = h.as_ref();
                (h.pri as u16, h.mtrx as u16, h.color_range != 0)
            },
            None => (2, 2, false),
        }
    }

    /// Plane `index` (0 = Y, 1 = U, 2 = V) with samples of type `T` (u8 for 8-bit,
    /// u16 for 10/12-bit pictures). None when the picture has no such plane or the
    /// sample type does not match.
    pub fn plane<T: Sample>(&self, index: usize) -> Option<Plane<'_, T>> {
        if (self.bit_depth() > 8) != (T::BYTES == 2) || index > 2 {
            return None;
        }
        let sub = self.subsampling();
        if index > 0 && sub == Subsampling::Monochrome {
            return None;
        }
        let (w, h) = (self.width() as usize, self.height() as usize);
        let (width, rows) = match (index, sub) {
            (0, _) | (_, Subsampling::Yuv444) => (w, h),
            (_, Subsampling::Yuv422) => (w.div_ceil(2), h),
            _ => (w.div_ceil(2), h.div_ceil(2)),
        };
        let stride_bytes = self.raw.stride[(index > 0) as usize];
        let ptr = self.raw.data[index]?;
        if width == 0 || rows == 0 || stride_bytes <= 0 {
            return None;
        }
        let stride_bytes = stride_bytes as usize;
        if stride_bytes % T::BYTES != 0 || stride_bytes < width * T::BYTES {
            return None;
        }
        let stride = stride_bytes / T::BYTES;
        let len = stride * (rows - 1) + width;
        if (ptr.as_ptr() as usize) % std::mem::align_of::<T>() != 0 {
            return None;
        }
        // SAFETY: dav1d allocates each plane as `stride * rows` bytes (rounded up)
        // for the picture's lifetime, which `&self` bounds; pixels of a high bit
        // depth picture are u16 and the pointer alignment was checked above.
        let data = unsafe { std::slice::from_raw_parts(ptr.as_ptr() as *const T, len) };
        Some(Plane {
            data,
            stride,
            width,
            rows,
        })
    }
}

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: `raw` came from dav1d_get_picture and is released exactly once.
        unsafe { dav1d_picture_unref(NonNull::new(&mut self.raw)) }
    }
}

/// Sample types of decoded planes.
pub(super) trait Sample: Copy + Into<u32> {
    const BYTES: usize;
}
impl Sample for u8 {
    const BYTES: usize = 1;
}
impl Sample for u16 {
    const BYTES: usize = 2;
}

struct Context(Option<Dav1dContext>);

impl Drop for Context {
    fn drop(&mut self) {
        if self.0.is_some() {
            // SAFETY: the context came from dav1d_open and is closed exactly once.
            unsafe { dav1d_close(NonNull::new(&mut self.0)) }
        }
    }
}

struct Data(Dav1dData);

impl Drop for Data {
    fn drop(&mut self) {
        // SAFETY: created by dav1d_data_create; unref of consumed data is a no-op.
        unsafe { dav1d_data_unref(NonNull::new(&mut self.0)) }
    }
}

fn failed(code: i32) -> Error {
    if code == ENOMEM {
        Error::limit_exceeded("AVIF decoding ran out of memory")
    } else {
        Error::corrupt_image(format!("AV1 data could not be decoded (error {code})"))
    }
}

/// Decode the first frame of `obus` (a sequence of AV1 OBUs, as stored in an AVIF
/// item). `max_pixels` bounds the frame size the bitstream may declare, so a
/// header that lies about the size cannot make rav1d allocate more;
/// `operating_point` comes from an `a1op` property (0 by default).
pub(super) fn decode(obus: &[u8], max_pixels: u64, operating_point: u8) -> Result<Picture> {
    if obus.is_empty() {
        return Err(Error::corrupt_image("AVIF image item is empty"));
    }
    if operating_point > 31 {
        return Err(Error::corrupt_image("AVIF a1op operating point is invalid"));
    }
    let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
    // SAFETY: dav1d_default_settings writes every field.
    let mut settings = unsafe {
        dav1d_default_settings(NonNull::new(settings.as_mut_ptr()).expect("non-null"));
        settings.assume_init()
    };
    // No worker threads (wasm has none), no frame pipelining, no logging to stderr.
    settings.n_threads = 1;
    settings.max_frame_delay = 1;
    settings.frame_size_limit = u32::try_from(max_pixels.max(1)).unwrap_or(u32::MAX);
    settings.operating_point = operating_point as i32;
    settings.all_layers = 0;
    // SAFETY: a logger without callback disables logging.
    settings.logger = unsafe { Dav1dLogger::new(None, None) };

    // SAFETY: an all-zero Dav1dPicture is the empty value dav1d_get_picture fills.
    let mut picture = Picture {
        raw: unsafe { std::mem::zeroed() },
        context: Context(None),
    };
    // SAFETY: both pointers are valid for the call.
    let r = unsafe {
        dav1d_open(
            NonNull::new(&mut picture.context.0),
            NonNull::new(&mut settings),
        )
    };
    let context = picture.context.0;
    if r.0 != 0 || context.is_none() {
        return Err(Error::internal(format!(
            "the AV1 decoder could not start (error {})",
            r.0
        )));
    }

    // SAFETY: an all-zero Dav1dData is the empty value dav1d_data_create overwrites.
    let mut data = Data(unsafe { std::mem::zeroed() });
    // SAFETY: dav1d_data_create allocates `len` bytes and returns them (or null).
    let buffer = unsafe { dav1d_data_create(NonNull::new(&mut data.0), obus.len()) };
    if buffer.is_null() {
        return Err(Error::limit_exceeded("AVIF item is too large to decode"));
    }
    // SAFETY: `buffer` points to `obus.len()` writable bytes owned by `data`.
    unsafe { std::ptr::copy_nonoverlapping(obus.as_ptr(), buffer, obus.len()) };

    // Feed until a picture comes out. Every round either consumes input or drains;
    // the bound only guards against a decoder that makes no progress.
    for _ in 0..1024 {
        if data.0.sz > 0 {
            // SAFETY: context and data are live.
            let r = unsafe { dav1d_send_data(context, NonNull::new(&mut data.0)) };
            if r.0 != 0 && r.0 != EAGAIN {
                return Err(failed(r.0));
            }
        }
        // SAFETY: context is live; `picture.raw` is empty and receives the frame.
        let r = unsafe { dav1d_get_picture(context, NonNull::new(&mut picture.raw)) };
        match r.0 {
            0 => {
                if picture.raw.data[0].is_none() || picture.width() == 0 {
                    return Err(Error::corrupt_image("AV1 decoder returned an empty frame"));
                }
                return Ok(picture);
            }
            EAGAIN if data.0.sz > 0 => continue,
            EAGAIN => {
                return Err(Error::corrupt_image(
                    "AVIF image item holds no complete AV1 frame",
                ))
            }
            code => return Err(failed(code)),
        }
    }
    Err(Error::corrupt_image("AV1 decoder made no progress"))
}
