//! `Samples`: a record with every kind of field.

use buffer_runtime::{Be, Element};
use half::f16;
use num_complex::Complex;
use pyo3::prelude::*;

use super::{record_array, Record};

/// A nested record.
#[derive(Clone, Copy, Debug, PartialEq, Element)]
#[repr(C)]
pub struct Vec3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

/// bool, nested record, subarrays, float16, a big-endian field, complex, usize.
#[derive(Clone, Copy, Debug, PartialEq, Element)]
#[repr(C)]
pub struct Sample {
    pub flag: bool,
    pub pos: Vec3,
    pub rgb: [u8; 3],
    pub level: f16,
    pub big: Be<u32>,
    pub matrix: [[i16; 2]; 2],
    pub z: Complex<f64>,
    pub count: usize,
}

/// Summary of one sample as Python sees it, read by Rust:
/// `(flag, (x, y, z), rgb, level, big, matrix, z, count)`.
type SampleTuple = (
    bool,
    (f32, f32, f32),
    [u8; 3],
    f64,
    u32,
    [[i16; 2]; 2],
    (f64, f64),
    usize,
);

impl Record for Sample {
    type Tuple = SampleTuple;

    fn nth(i: usize) -> Sample {
        let (f, s) = (i as f32, i as i16);
        Sample {
            flag: i % 2 == 1,
            pos: Vec3 {
                x: f,
                y: f + 0.5,
                z: -f,
            },
            rgb: [(i % 256) as u8, (2 * i % 256) as u8, (3 * i % 256) as u8],
            level: f16::from_f32(f * 0.25),
            big: Be::new(1000 + i as u32),
            matrix: [[s, -s], [2 * s, -2 * s]],
            z: Complex::new(i as f64, -(i as f64)),
            count: 7 * i,
        }
    }

    fn to_tuple(self) -> SampleTuple {
        (
            self.flag,
            (self.pos.x, self.pos.y, self.pos.z),
            self.rgb,
            self.level.to_f64(),
            self.big.get(),
            self.matrix,
            (self.z.re, self.z.im),
            self.count,
        )
    }
}

record_array! {
    /// 1-D array of `Sample` records, writable. Sample `i`: `flag = i odd`,
    /// `pos = (i, i+0.5, -i)`, `rgb = (i, 2i, 3i) % 256`, `level = i/4`, `big = 1000+i`,
    /// `matrix = [[i, -i], [2i, -2i]]`, `z = i - i·j`, `count = 7i`.
    Samples of Sample
}
