//! PNG header probe: IHDR.

use super::{be32, truncated, Detail};
use crate::error::{Error, Result};

// ---------------------------------------------------------------------------------
// PNG: the IHDR chunk, which must come first.

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
