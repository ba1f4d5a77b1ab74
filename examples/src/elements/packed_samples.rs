//! `PackedSamples`: a packed record, fields at unaligned offsets.

use buffer_runtime::{Be, Element, Le};
use pyo3::prelude::*;

use super::samples::Vec3;
use super::{record_array, Record};

/// A packed record: fields at unaligned offsets, a nested record at offset 7, little- and
/// big-endian fields; 1 + 4 + 2 + 12 + 8 + 8 = 35 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Element)]
#[repr(C, packed)]
pub struct PackedSample {
    pub tag: u8,
    pub value: u32,
    pub big: Be<u16>,
    pub pos: Vec3,
    pub count: isize,
    pub little: Le<f64>,
}

impl Record for PackedSample {
    /// `(tag, value, big, (x, y, z), count, little)`.
    type Tuple = (u8, u32, u16, (f32, f32, f32), isize, f64);

    fn nth(i: usize) -> PackedSample {
        let f = i as f32;
        PackedSample {
            tag: (i % 256) as u8,
            value: 100_000 + i as u32,
            big: Be::new(i as u16),
            pos: Vec3 {
                x: f,
                y: -f,
                z: 0.5 * f,
            },
            count: -(i as isize),
            little: Le::new(i as f64 / 8.0),
        }
    }

    fn to_tuple(self) -> Self::Tuple {
        let pos = self.pos; // a copy: fields of a packed struct cannot be borrowed
        (
            self.tag,
            self.value,
            self.big.get(),
            (pos.x, pos.y, pos.z),
            self.count,
            self.little.get(),
        )
    }
}

record_array! {
    /// 1-D array of `PackedSample`s, writable. Sample `i`: `tag = i % 256`, `value = 100000+i`,
    /// `big = i`, `pos = (i, -i, i/2)`, `count = -i`, `little = i/8`.
    PackedSamples of PackedSample
}
