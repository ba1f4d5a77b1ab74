//! PNG with the `png` crate, decoded straight into the image's buffer.
//!
//! Output is normalized to 8 bits per sample with `Transformations::normalize_to_color8()`
//! (`EXPAND | STRIP_16`): palette images become RGB (RGBA if they carry transparency), 1/2/4-bit
//! gray becomes 8-bit gray scaled to 0..=255, a `tRNS` colour key on gray or RGB adds an alpha
//! channel, and 16-bit samples keep their high byte.

use std::io::Cursor;

use png::{BitDepth, Decoder, Transformations};

use crate::error::Error;
use crate::layout::{Layout, Pixels};

/// Deflate expands at most 1032:1 and `EXPAND` at most 32:1 (1-bit palette to RGBA), so a
/// file of `n` bytes holds under `n << 16` bytes of output. A header claiming more is refused
/// before the pixel buffer is allocated, so a tiny file cannot make us zero gigabytes.
const MAX_EXPANSION: usize = 1 << 16;

pub fn decode(bytes: &[u8]) -> Result<Pixels, Error> {
    let mut decoder = Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(invalid)?;
    let (color, depth) = reader.output_color_type();
    if depth != BitDepth::Eight {
        return Err(Error::value(format!(
            "PNG: unexpected output bit depth {depth:?}"
        )));
    }
    let (width, height) = reader.info().size();
    let layout = Layout::new(height as usize, width as usize, color.samples())?;
    if layout.packed_len() / MAX_EXPANSION > bytes.len() {
        return Err(Error::value(format!(
            "invalid PNG data: a {width}x{height} image cannot fit in {} bytes",
            bytes.len()
        )));
    }
    let mut data = layout.alloc()?;
    // The decoder writes packed rows at the front of the buffer; they are spread below.
    let out = reader
        .next_frame(&mut data[..layout.packed_len()])
        .map_err(invalid)?;
    if out.line_size != layout.row() || (out.width, out.height) != (width, height) {
        return Err(Error::value(
            "PNG: the first frame does not match the image header",
        ));
    }
    layout.spread_rows(&mut data);
    Ok(Pixels { layout, data })
}

fn invalid(e: png::DecodingError) -> Error {
    Error::value(format!("invalid PNG data: {e}"))
}
