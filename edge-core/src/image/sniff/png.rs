//! PNG header probe: IHDR.

use super::{be32, truncated, Detail};
use crate::error::{Error, Result};

// ---------------------------------------------------------------------------------
// PNG: the IHDR chunk, which must come first.

// Out of line: a cold start compiles only the format it meets (V8 compiles per function).
#[inline(never)]
pub(super) fn png_header(bytes: &[u8]) -> Result<(u32, u32, Detail)> {
    let len = be32(bytes, 8).ok_or_else(|| truncated("PNG"))?;
    if bytes.get(12..16) != Some(b"IHDR") || len != 13 {
        return Err(Error::corrupt_image(
            "PNG does not start with a valid IHDR chunk",
        ));
    }
    let ihdr = bytes.get(16..29).ok_or_else(|| truncated("PNG"))?;
    let width = be32(ihdr, 0).unwrap_or(0);
    let height = be32(ihdr, 4).unwrap_or(0);
    let (bit_depth, color_type) = (ihdr[8], ihdr[9]);
    let depth_ok = match color_type {
        0 => matches!(bit_depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(bit_depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(bit_depth, 8 | 16),
        _ => false,
    };
    if !depth_ok {
        return Err(Error::corrupt_image(format!(
            "PNG declares an invalid colour type {color_type} / bit depth {bit_depth}"
        )));
    }
    if width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err(Error::corrupt_image("PNG dimensions are out of range"));
    }
    Ok((
        width,
        height,
        Detail::Png {
            bit_depth,
            color_type,
        },
    ))
}

/// Peak bytes the `png` crate needs to decode a `width`×`height` image with EXPAND:
/// the expanded output (tRNS may add an alpha channel), plus its row buffers (the
/// current and previous raw rows, and the expanded row), which are as large as the
/// image itself for a one-row image, plus a fixed allowance for the inflater state.
pub(super) fn decode_bytes(width: u32, height: u32, bit_depth: u8, color_type: u8) -> u64 {
    let (raw_channels, out_channels): (u64, u64) = match color_type {
        0 => (1, 2), // gray, maybe + tRNS alpha
        2 => (3, 4), // rgb, maybe + tRNS alpha
        3 => (1, 4), // palette → rgb(a)
        4 => (2, 2),
        _ => (4, 4),
    };
    let depth = u64::from(bit_depth.max(1));
    let sample = if bit_depth == 16 { 2 } else { 1 };
    let (w, h) = (u64::from(width), u64::from(height));
    let output = w * h * out_channels * sample;
    let raw_row = (w * raw_channels * depth).div_ceil(8) + 1;
    let out_row = w * out_channels * sample;
    output + 2 * raw_row + out_row + (1 << 20)
}
