//! Format detection and dispatch. Runs without the GIL on owned bytes.

use std::panic;

use crate::error::Error;
use crate::layout::Pixels;
use crate::{decode_jpeg, decode_png};

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = b"\xff\xd8\xff";

/// Decodes a PNG or JPEG file (detected by its magic bytes) into a padded pixel buffer.
pub fn decode(bytes: &[u8]) -> Result<Pixels, Error> {
    let run: fn(&[u8]) -> Result<Pixels, Error> = if bytes.starts_with(PNG_MAGIC) {
        decode_png::decode
    } else if bytes.starts_with(JPEG_MAGIC) {
        decode_jpeg::decode
    } else if bytes.is_empty() {
        return Err(Error::value(
            "decode: empty input, expected a PNG or JPEG file",
        ));
    } else {
        let head = &bytes[..bytes.len().min(8)];
        return Err(Error::value(format!(
            "decode: not a PNG or JPEG file (starts with {head:02x?})"
        )));
    };
    // A decoder bug must not surface as a `PanicException`: malformed input is a ValueError.
    panic::catch_unwind(|| run(bytes)).unwrap_or_else(|_| {
        Err(Error::value(
            "decode: the decoder failed on malformed input",
        ))
    })
}
