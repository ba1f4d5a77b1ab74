#![allow(dead_code)] // each target uses a part of it
//! Reading structured values out of the fuzzer's bytes: small values most of the time, the
//! extremes that break arithmetic some of the time, zeros once the input runs out.

pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    /// A raw `c_int` of request flags: mostly combinations of CPython's bits, sometimes any
    /// int (PEP 688 lets Python pass -1 or anything else).
    pub fn flags(&mut self) -> i32 {
        match self.u8() % 8 {
            0 => self.u32() as i32,
            1 => -1,
            _ => i32::from(self.u16() & 0x1ff),
        }
    }

    /// A dimension: mostly 0..=4, sometimes a value that overflows a product.
    pub fn dim(&mut self) -> usize {
        match self.u8() {
            0..=219 => usize::from(self.u8() % 5),
            220..=229 => usize::from(self.u8()),
            230..=235 => isize::MAX as usize,
            236..=239 => usize::MAX,
            240..=245 => 1 << (self.u8() % 64),
            _ => (self.u64() as usize) >> (self.u8() % 64),
        }
    }

    /// A byte stride: mostly a small multiple of the item size, sometimes anything.
    pub fn stride(&mut self, itemsize: usize) -> isize {
        match self.u8() {
            0..=199 => (i64::from(self.u8() as i8 % 9) as isize).wrapping_mul(itemsize as isize),
            200..=229 => isize::from(self.u8() as i8),
            230..=235 => isize::MAX,
            236..=241 => isize::MIN,
            242..=247 => {
                let p = 1isize.wrapping_shl(u32::from(self.u8() % 64));
                if self.bool() { p.wrapping_neg() } else { p }
            }
            _ => self.u64() as isize,
        }
    }

    /// A byte offset or storage size: small, or extreme.
    pub fn offset(&mut self) -> isize {
        match self.u8() {
            0..=219 => isize::from(self.u8() as i8),
            220..=229 => isize::from(self.u16() as i16),
            230..=235 => isize::MAX,
            236..=241 => isize::MIN,
            _ => self.u64() as isize,
        }
    }

    pub fn size(&mut self) -> usize {
        match self.u8() {
            0..=219 => usize::from(self.u8()),
            220..=229 => usize::from(self.u16()),
            230..=235 => isize::MAX as usize,
            236..=241 => usize::MAX,
            _ => self.u64() as usize,
        }
    }

    /// An item size: 1, 2, 4, 8 mostly, sometimes 0 or odd ones.
    pub fn itemsize(&mut self) -> usize {
        match self.u8() % 16 {
            0 => 0,
            1 => 3,
            2 => 16,
            3 => usize::from(self.u8()),
            n => 1 << (n % 4),
        }
    }
}
