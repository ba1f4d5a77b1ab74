//! The padded pixel layout: rows of `width * channels` bytes, `pitch` bytes apart, where
//! `pitch` is the row length rounded up to a multiple of 64 bytes.

use crate::error::Error;

/// Rows start on multiples of this many bytes (from the start of the buffer).
pub const ROW_ALIGN: usize = 64;

/// An image's pixels in its layout: `data` holds `layout.total()` bytes.
#[derive(Debug)]
pub struct Pixels {
    pub layout: Layout,
    pub data: Vec<u8>,
}

/// An image's dimensions and row pitch; every byte count in it fits in `isize`.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub pitch: usize,
}

impl Layout {
    /// The layout of a `height x width x channels` image, or `ValueError` if its byte size
    /// does not fit in the address space.
    pub fn new(height: usize, width: usize, channels: usize) -> Result<Self, Error> {
        let too_large = || Error::value(format!("image {height}x{width}x{channels} is too large"));
        let row = width.checked_mul(channels).ok_or_else(too_large)?;
        let pitch = row
            .checked_next_multiple_of(ROW_ALIGN)
            .ok_or_else(too_large)?;
        let total = height.checked_mul(pitch).ok_or_else(too_large)?;
        if total > isize::MAX as usize {
            return Err(too_large());
        }
        Ok(Layout {
            height,
            width,
            channels,
            pitch,
        })
    }

    /// Bytes of pixel data in one row (without padding).
    pub fn row(&self) -> usize {
        self.width * self.channels
    }

    /// Bytes of the whole padded buffer.
    pub fn total(&self) -> usize {
        self.height * self.pitch
    }

    /// Bytes of the pixels packed without padding (what the decoders write).
    pub fn packed_len(&self) -> usize {
        self.height * self.row()
    }

    /// A zeroed buffer of `total()` bytes, or `MemoryError`.
    pub fn alloc(&self) -> Result<Vec<u8>, Error> {
        let n = self.total();
        let mut v = Vec::new();
        v.try_reserve_exact(n).map_err(|_| {
            Error::Memory(format!(
                "cannot allocate {n} bytes for a {}x{}x{} image",
                self.height, self.width, self.channels
            ))
        })?;
        v.resize(n, 0);
        Ok(v)
    }

    /// Moves packed rows at the front of `buf` (row `y` at `y * row()`) to their pitch
    /// (`y * pitch`), in place, and zeroes the padding. Last row first, so that no row is
    /// overwritten before it has moved: row `y`'s destination only overlaps rows `>= y`.
    pub fn spread_rows(&self, buf: &mut [u8]) {
        let (row, pitch) = (self.row(), self.pitch);
        debug_assert_eq!(buf.len(), self.total());
        for y in (0..self.height).rev() {
            let dst = y * pitch;
            buf.copy_within(y * row..(y + 1) * row, dst);
            buf[dst + row..dst + pitch].fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pitch_rounds_up_to_64() {
        assert_eq!(Layout::new(2, 3, 3).unwrap().pitch, 64);
        assert_eq!(Layout::new(2, 64, 1).unwrap().pitch, 64);
        assert_eq!(Layout::new(2, 65, 1).unwrap().pitch, 128);
        assert_eq!(Layout::new(2, 0, 3).unwrap().pitch, 0);
        assert!(Layout::new(usize::MAX, 2, 1).is_err());
        assert!(Layout::new(1, usize::MAX, 2).is_err());
    }

    #[test]
    fn spread_moves_rows_and_zeroes_padding() {
        let l = Layout::new(3, 5, 3).unwrap();
        let mut buf = vec![0xAA; l.total()];
        for (i, b) in buf[..l.packed_len()].iter_mut().enumerate() {
            *b = i as u8;
        }
        l.spread_rows(&mut buf);
        for y in 0..3 {
            let r = &buf[y * 64..(y + 1) * 64];
            assert!(r[..15]
                .iter()
                .enumerate()
                .all(|(x, &b)| b as usize == y * 15 + x));
            assert!(r[15..].iter().all(|&b| b == 0));
        }
    }
}
