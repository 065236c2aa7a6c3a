//! WebP header probe: VP8 / VP8L / VP8X.

use super::{le16, le24, le32, truncated, Detail};
use crate::error::{Error, Result};

// ---------------------------------------------------------------------------------
// WebP: the first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended).

// Out of line: a cold start compiles only the format it meets (V8 compiles per function).
#[inline(never)]
pub(super) fn webp_header(bytes: &[u8]) -> Result<(u32, u32, Detail)> {
    let fourcc = bytes.get(12..16).ok_or_else(|| truncated("WebP"))?;
    let data = bytes.get(20..).ok_or_else(|| truncated("WebP"))?;
    match fourcc {
        b"VP8 " => {
            // 3-byte frame tag, start code 9D 01 2A, then 14-bit sizes + 2-bit scale.
            if data.get(3..6) != Some(&[0x9D, 0x01, 0x2A]) {
                return Err(Error::corrupt_image("WebP VP8 frame has no start code"));
            }
            let w = le16(data, 6).ok_or_else(|| truncated("WebP"))? & 0x3FFF;
            let h = le16(data, 8).ok_or_else(|| truncated("WebP"))? & 0x3FFF;
            Ok((
                w as u32,
                h as u32,
                Detail::Webp {
                    lossy: true,
                    alpha: false,
                },
            ))
        }
        b"VP8L" => {
            if data.first() != Some(&0x2F) {
                return Err(Error::corrupt_image("WebP VP8L stream has no signature"));
            }
            let bits = le32(data, 1).ok_or_else(|| truncated("WebP"))?;
            let w = (bits & 0x3FFF) + 1;
            let h = ((bits >> 14) & 0x3FFF) + 1;
            let alpha = (bits >> 28) & 1 == 1;
            Ok((
                w,
                h,
                Detail::Webp {
                    lossy: false,
                    alpha,
                },
            ))
        }
        b"VP8X" => {
            let flags = *data.first().ok_or_else(|| truncated("WebP"))?;
            let w = le24(data, 4).ok_or_else(|| truncated("WebP"))? + 1;
            let h = le24(data, 7).ok_or_else(|| truncated("WebP"))? + 1;
            let alpha = flags & 0x10 != 0;
            // The extended header does not say lossy/lossless: assume the larger cost.
            Ok((
                w,
                h,
                Detail::Webp {
                    lossy: false,
                    alpha,
                },
            ))
        }
        _ => Err(Error::corrupt_image("WebP has no VP8/VP8L/VP8X chunk")),
    }
}
