//! GIF header probe: the logical screen.

use super::{le16, truncated, Detail};
use crate::error::Result;

// ---------------------------------------------------------------------------------
// GIF: logical screen descriptor.

// Out of line: a cold start compiles only the format it meets (V8 compiles per function).
#[inline(never)]
pub(super) fn gif_header(bytes: &[u8]) -> Result<(u32, u32, Detail)> {
    let w = le16(bytes, 6).ok_or_else(|| truncated("GIF"))?;
    let h = le16(bytes, 8).ok_or_else(|| truncated("GIF"))?;
    Ok((w as u32, h as u32, Detail::Gif))
}
