//! A JPEG file's marker structure, walked without decoding: the file must reach its EOI
//! marker. zune-jpeg 0.5.15, even in strict mode, accepts a file cut inside its last row of
//! MCUs and makes up the missing pixels; Pillow (libjpeg) refuses such a file, and so do we.

use crate::error::Error;

const SOS: u8 = 0xDA;
const EOI: u8 = 0xD9;

/// `ValueError` unless `bytes` (which start with SOI) reach an EOI marker.
pub fn check_complete(bytes: &[u8]) -> Result<(), Error> {
    let mut i = 2; // past SOI
    loop {
        // Bytes other than 0xFF before a marker are tolerated (libjpeg warns and skips them),
        // as are runs of 0xFF fill bytes.
        i += bytes[i.min(bytes.len())..]
            .iter()
            .position(|&b| b == 0xFF)
            .ok_or_else(truncated)?;
        i += bytes[i..]
            .iter()
            .position(|&b| b != 0xFF)
            .ok_or_else(truncated)?;
        let code = bytes[i];
        i += 1;
        match code {
            EOI => return Ok(()),
            // Markers without a payload: RST0..RST7, TEM, SOI.
            0xD0..=0xD8 | 0x01 => {}
            _ => {
                let len = bytes.get(i..i + 2).ok_or_else(truncated)?;
                i += usize::from(u16::from_be_bytes([len[0], len[1]]));
                if code == SOS {
                    i = skip_entropy_data(bytes, i)?;
                }
            }
        }
    }
}

/// The offset of the marker that ends the entropy-coded data starting at `i`. In that data
/// an 0xFF is followed by 0x00 (a stuffed byte) or by RSTn; anything else is a marker.
fn skip_entropy_data(bytes: &[u8], mut i: usize) -> Result<usize, Error> {
    loop {
        i += bytes[i.min(bytes.len())..]
            .iter()
            .position(|&b| b == 0xFF)
            .ok_or_else(truncated)?;
        match bytes.get(i + 1) {
            None => return Err(truncated()),
            Some(0x00 | 0xD0..=0xD7) => i += 2,
            Some(_) => return Ok(i),
        }
    }
}

fn truncated() -> Error {
    Error::value("invalid JPEG data: truncated (no EOI marker)")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &[u8] =
        b"\xff\xd8\xff\xe0\x00\x04ab\xff\xda\x00\x03x\x12\xff\x00\x34\xff\xd0\x56\xff\xff\xd9";

    #[test]
    fn complete_file_passes() {
        assert!(check_complete(TINY).is_ok());
        let mut trailing = TINY.to_vec();
        trailing.extend_from_slice(b"junk");
        assert!(check_complete(&trailing).is_ok());
    }

    #[test]
    fn every_prefix_fails() {
        for cut in 2..TINY.len() - 1 {
            assert!(check_complete(&TINY[..cut]).is_err(), "cut at {cut}");
        }
    }
}
