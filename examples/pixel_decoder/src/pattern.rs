//! A test pattern: element (y, x, c) is `(y*31 + x*7 + c*101) % 256`, padding 0.

use crate::error::Error;
use crate::layout::{Layout, Pixels};

pub fn synthetic(height: usize, width: usize, channels: usize) -> Result<Pixels, Error> {
    let layout = Layout::new(height, width, channels)?;
    let mut data = layout.alloc()?;
    // Loops over the buffer, not the dimensions: an empty image of 2**62 rows is instant.
    if layout.row() > 0 {
        for (y, row) in data.chunks_exact_mut(layout.pitch).enumerate() {
            for (x, pixel) in row[..layout.row()].chunks_exact_mut(channels).enumerate() {
                for (c, v) in pixel.iter_mut().enumerate() {
                    // `as u8` is `% 256`, and `% 256` commutes with `+` and `*`.
                    *v = (y as u8)
                        .wrapping_mul(31)
                        .wrapping_add((x as u8).wrapping_mul(7))
                        .wrapping_add((c as u8).wrapping_mul(101));
                }
            }
        }
    }
    Ok(Pixels { layout, data })
}
