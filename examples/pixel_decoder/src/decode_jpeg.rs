//! JPEG with `zune-jpeg`, decoded straight into the image's buffer: 1 channel for grayscale
//! files, RGB for colour ones; CMYK/YCCK files are refused. Strict mode: data the decoder
//! finds malformed is an error rather than a partly gray picture, and a file cut short of its
//! EOI marker is refused before decoding (see `jpeg_markers`). JPEG has no checksum, so
//! corrupt entropy-coded data may still decode to wrong pixels, as with any decoder.

use zune_jpeg::errors::DecodeErrors;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use crate::error::Error;
use crate::jpeg_markers;
use crate::layout::{Layout, Pixels};

pub fn decode(bytes: &[u8]) -> Result<Pixels, Error> {
    jpeg_markers::check_complete(bytes)?;
    let options = DecoderOptions::new_safe().set_strict_mode(true);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(invalid)?;
    let out = match decoder.input_colorspace() {
        Some(ColorSpace::Luma) => ColorSpace::Luma,
        Some(ColorSpace::YCbCr | ColorSpace::RGB) => ColorSpace::RGB,
        other => {
            return Err(Error::value(format!(
                "JPEG: unsupported colour space {other:?}"
            )));
        }
    };
    // Headers are parsed once; the output colour space is read again when decoding.
    decoder.set_options(options.jpeg_set_out_colorspace(out));
    let (width, height) = decoder
        .dimensions()
        .ok_or_else(|| Error::value("JPEG: no dimensions after the headers"))?;
    let layout = Layout::new(height, width, out.num_components())?;
    if decoder.output_buffer_size() != Some(layout.packed_len()) {
        return Err(Error::value(
            "JPEG: output size does not match the image header",
        ));
    }
    let mut data = layout.alloc()?;
    // The decoder writes packed rows at the front of the buffer; they are spread below.
    decoder
        .decode_into(&mut data[..layout.packed_len()])
        .map_err(invalid)?;
    layout.spread_rows(&mut data);
    Ok(Pixels { layout, data })
}

fn invalid(e: DecodeErrors) -> Error {
    Error::value(format!("invalid JPEG data: {}", e.to_string().trim_end()))
}
