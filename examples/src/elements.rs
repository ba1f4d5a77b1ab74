//! Rich element types: records (`Particles`, `Samples`, `PackedSamples`), an element type
//! chosen at run time (`TypedArray`) and RGBA pixels (`Pixels`).

use buffer_runtime::{
    buffer_methods, Be, Element, ElementKind, Le, PyBuffer, SharedAnyVec, SharedVec,
};
use half::f16;
use num_complex::Complex;
use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyComplex, PyString};

use crate::alloc::{built, checked_count, filled};

fn index_error(i: usize, len: usize) -> PyErr {
    PyIndexError::new_err(format!("index {i} out of range for length {len}"))
}

// ---------------------------------------------------------------------------------------------
// Particles: the record from the issue.
// ---------------------------------------------------------------------------------------------

/// One particle: 3 `f32`, 4 bytes of padding, an `f64`, a `u32`, 4 bytes of padding = 32 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Element)]
#[repr(C)]
pub struct Particle {
    pub x: f32,
    pub y: f32,
    pub z: f32,
    pub mass: f64,
    pub id: u32,
}

/// 1-D array of `Particle` records, writable: `numpy.asarray(p)` is a structured array with
/// fields `x, y, z, mass, id` and itemsize 32.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct Particles {
    #[buffer]
    data: SharedVec<Particle>,
}

#[buffer_methods]
#[pymethods]
impl Particles {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.data.exports()
    }

    /// Particle `i` has `x=i, y=2i, z=3i, mass=i*0.5, id=i`.
    #[new]
    fn new(n: usize) -> PyResult<Self> {
        checked_count(&[n], size_of::<Particle>())?;
        let data = built(n, |i| {
            let f = i as f32;
            Particle {
                x: f,
                y: 2.0 * f,
                z: 3.0 * f,
                mass: i as f64 * 0.5,
                id: i as u32,
            }
        })?;
        Ok(Particles { data: data.into() })
    }

    /// The record format every export gives.
    #[classattr]
    fn format() -> &'static str {
        Particle::FORMAT.to_str().expect("ASCII")
    }

    #[classattr]
    fn itemsize() -> usize {
        size_of::<Particle>()
    }

    /// Particle `i` as `(x, y, z, mass, id)`, read by Rust.
    fn get(&self, i: usize) -> PyResult<(f32, f32, f32, f64, u32)> {
        let p = self
            .data
            .get(i)
            .ok_or_else(|| index_error(i, self.data.len()))?;
        Ok((p.x, p.y, p.z, p.mass, p.id))
    }

    /// Overwrites particle `i` from Rust (allowed while exported).
    fn set(&mut self, i: usize, value: (f32, f32, f32, f64, u32)) -> PyResult<()> {
        let (x, y, z, mass, id) = value;
        let len = self.data.len();
        self.data
            .set(i, Particle { x, y, z, mass, id })
            .map(drop)
            .ok_or_else(|| index_error(i, len))
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }
}

// ---------------------------------------------------------------------------------------------
// Samples: a record with every kind of field.
// ---------------------------------------------------------------------------------------------

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

impl Sample {
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

fn sample_tuple(s: Sample) -> SampleTuple {
    (
        s.flag,
        (s.pos.x, s.pos.y, s.pos.z),
        s.rgb,
        s.level.to_f64(),
        s.big.get(),
        s.matrix,
        (s.z.re, s.z.im),
        s.count,
    )
}

/// 1-D array of `Sample` records, writable. Sample `i`: `flag = i odd`,
/// `pos = (i, i+0.5, -i)`, `rgb = (i, 2i, 3i) % 256`, `level = i/4`, `big = 1000+i`,
/// `matrix = [[i, -i], [2i, -2i]]`, `z = i - i·j`, `count = 7i`.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct Samples {
    #[buffer]
    data: SharedVec<Sample>,
}

#[buffer_methods]
#[pymethods]
impl Samples {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.data.exports()
    }

    #[new]
    fn new(n: usize) -> PyResult<Self> {
        checked_count(&[n], size_of::<Sample>())?;
        Ok(Samples {
            data: built(n, Sample::nth)?.into(),
        })
    }

    #[classattr]
    fn format() -> &'static str {
        Sample::FORMAT.to_str().expect("ASCII")
    }

    #[classattr]
    fn itemsize() -> usize {
        size_of::<Sample>()
    }

    fn get(&self, i: usize) -> PyResult<SampleTuple> {
        self.data
            .get(i)
            .map(sample_tuple)
            .ok_or_else(|| index_error(i, self.data.len()))
    }

    /// Sets sample `i` to `Sample::nth(j)` from Rust.
    fn set_nth(&mut self, i: usize, j: usize) -> PyResult<()> {
        let len = self.data.len();
        self.data
            .set(i, Sample::nth(j))
            .map(drop)
            .ok_or_else(|| index_error(i, len))
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }
}

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

impl PackedSample {
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
}

/// 1-D array of `PackedSample`s, writable. Sample `i`: `tag = i % 256`, `value = 100000+i`,
/// `big = i`, `pos = (i, -i, i/2)`, `count = -i`, `little = i/8`.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct PackedSamples {
    #[buffer]
    data: SharedVec<PackedSample>,
}

#[buffer_methods]
#[pymethods]
impl PackedSamples {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.data.exports()
    }

    #[new]
    fn new(n: usize) -> PyResult<Self> {
        checked_count(&[n], size_of::<PackedSample>())?;
        Ok(PackedSamples {
            data: built(n, PackedSample::nth)?.into(),
        })
    }

    #[classattr]
    fn format() -> &'static str {
        PackedSample::FORMAT.to_str().expect("ASCII")
    }

    #[classattr]
    fn itemsize() -> usize {
        size_of::<PackedSample>()
    }

    /// `(tag, value, big, (x, y, z), count, little)`, read by Rust.
    #[allow(clippy::type_complexity)]
    fn get(&self, i: usize) -> PyResult<(u8, u32, u16, (f32, f32, f32), isize, f64)> {
        let s = self
            .data
            .get(i)
            .ok_or_else(|| index_error(i, self.data.len()))?;
        let pos = s.pos;
        Ok((
            s.tag,
            s.value,
            s.big.get(),
            (pos.x, pos.y, pos.z),
            s.count,
            s.little.get(),
        ))
    }

    fn set_nth(&mut self, i: usize, j: usize) -> PyResult<()> {
        let len = self.data.len();
        self.data
            .set(i, PackedSample::nth(j))
            .map(drop)
            .ok_or_else(|| index_error(i, len))
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }
}

// ---------------------------------------------------------------------------------------------
// TypedArray: the element type is a numpy dtype name given at run time.
// ---------------------------------------------------------------------------------------------

/// Conversion of one element type from and to Python values.
trait PyValue: Sized {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self>;
    fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}

macro_rules! py_value_via {
    ($($ty:ty),*) => {$(
        impl PyValue for $ty {
            fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
                v.extract()
            }
            fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(self.into_pyobject(py)?.to_owned().into_any())
            }
        }
    )*};
}
py_value_via!(bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64);

impl PyValue for f16 {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(f16::from_f64(v.extract()?))
    }
    fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.to_f64().to_py(py)
    }
}

fn py_complex(v: &Bound<'_, PyAny>) -> PyResult<(f64, f64)> {
    let c = v.py().get_type::<PyComplex>().call1((v,))?;
    let c = c.cast::<PyComplex>().map_err(PyErr::from)?;
    Ok((c.real(), c.imag()))
}

impl PyValue for Complex<f32> {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (re, im) = py_complex(v)?;
        Ok(Complex::new(re as f32, im as f32))
    }
    fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyComplex::from_doubles(py, self.re.into(), self.im.into()).into_any())
    }
}

impl PyValue for Complex<f64> {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (re, im) = py_complex(v)?;
        Ok(Complex::new(re, im))
    }
    fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyComplex::from_doubles(py, self.re, self.im).into_any())
    }
}

impl<T: buffer_runtime::EndianScalar + PyValue> PyValue for Le<T> {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        T::from_py(v).map(Le::new)
    }
    fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get().to_py(py)
    }
}

impl<T: buffer_runtime::EndianScalar + PyValue> PyValue for Be<T> {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        T::from_py(v).map(Be::new)
    }
    fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get().to_py(py)
    }
}

/// Runs `$body` with `$T` the Rust type of the `ElementKind` `$kind` (in a function returning
/// `PyResult`: a kind this list lacks is a `ValueError`).
macro_rules! with_type {
    ($kind:expr, $T:ident => $body:expr) => {{
        use ElementKind as K;
        match $kind {
            K::Bool => {
                type $T = bool;
                $body
            }
            K::I8 => {
                type $T = i8;
                $body
            }
            K::U8 => {
                type $T = u8;
                $body
            }
            K::I16 => {
                type $T = i16;
                $body
            }
            K::U16 => {
                type $T = u16;
                $body
            }
            K::I32 => {
                type $T = i32;
                $body
            }
            K::U32 => {
                type $T = u32;
                $body
            }
            K::I64 => {
                type $T = i64;
                $body
            }
            K::U64 => {
                type $T = u64;
                $body
            }
            K::F16 => {
                type $T = f16;
                $body
            }
            K::F32 => {
                type $T = f32;
                $body
            }
            K::F64 => {
                type $T = f64;
                $body
            }
            K::C64 => {
                type $T = Complex<f32>;
                $body
            }
            K::C128 => {
                type $T = Complex<f64>;
                $body
            }
            K::LeI16 => {
                type $T = Le<i16>;
                $body
            }
            K::BeI16 => {
                type $T = Be<i16>;
                $body
            }
            K::LeU16 => {
                type $T = Le<u16>;
                $body
            }
            K::BeU16 => {
                type $T = Be<u16>;
                $body
            }
            K::LeI32 => {
                type $T = Le<i32>;
                $body
            }
            K::BeI32 => {
                type $T = Be<i32>;
                $body
            }
            K::LeU32 => {
                type $T = Le<u32>;
                $body
            }
            K::BeU32 => {
                type $T = Be<u32>;
                $body
            }
            K::LeI64 => {
                type $T = Le<i64>;
                $body
            }
            K::BeI64 => {
                type $T = Be<i64>;
                $body
            }
            K::LeU64 => {
                type $T = Le<u64>;
                $body
            }
            K::BeU64 => {
                type $T = Be<u64>;
                $body
            }
            K::LeF16 => {
                type $T = Le<f16>;
                $body
            }
            K::BeF16 => {
                type $T = Be<f16>;
                $body
            }
            K::LeF32 => {
                type $T = Le<f32>;
                $body
            }
            K::BeF32 => {
                type $T = Be<f32>;
                $body
            }
            K::LeF64 => {
                type $T = Le<f64>;
                $body
            }
            K::BeF64 => {
                type $T = Be<f64>;
                $body
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "no Rust type listed for {other:?}"
                )))
            }
        }
    }};
}

/// 1-D, writable, of the numpy dtype named at construction: `"bool"`, `"int8"`..`"uint64"`,
/// `"float16"`, `"float32"`, `"float64"`, `"complex64"`, `"complex128"`, or an explicit byte
/// order such as `">i4"`, `"<f8"`, `">f2"`.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct TypedArray {
    #[buffer]
    data: SharedAnyVec,
}

#[buffer_methods]
#[pymethods]
impl TypedArray {
    #[new]
    fn new(dtype: &Bound<'_, PyString>, values: Vec<Bound<'_, PyAny>>) -> PyResult<Self> {
        let name = dtype.to_str()?;
        let kind = ElementKind::from_numpy_name(name).ok_or_else(|| {
            let known: Vec<_> = ElementKind::ALL.iter().map(|k| k.numpy_name()).collect();
            PyValueError::new_err(format!(
                "unsupported dtype {name:?}: expected one of {}",
                known.join(", ")
            ))
        })?;
        checked_count(&[values.len()], kind.itemsize())?;
        let data = with_type!(kind, T => {
            let mut v: Vec<T> = filled(values.len(), T::default())?;
            for (slot, value) in v.iter_mut().zip(&values) {
                *slot = T::from_py(value).map_err(|e| {
                    PyTypeError::new_err(format!("cannot store {} as {name}: {e}", value.repr().map(|r| r.to_string()).unwrap_or_default()))
                })?;
            }
            SharedAnyVec::from(v)
        });
        Ok(TypedArray { data })
    }

    /// The numpy dtype name given at construction.
    #[getter]
    fn dtype(&self) -> &'static str {
        self.data.kind().numpy_name()
    }

    /// The buffer format.
    #[getter]
    fn format(&self) -> &'static str {
        self.data.kind().format().to_str().expect("ASCII")
    }

    /// The elements as Python values, read by Rust.
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        with_type!(self.data.kind(), T => {
            let v = self.data.downcast_ref::<T>().expect("kind matches the storage");
            v.iter().map(|x| x.to_py(py)).collect()
        })
    }

    /// Overwrites element `i` from Rust (allowed while exported).
    fn set(&mut self, i: usize, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let len = self.data.len();
        with_type!(self.data.kind(), T => {
            let x = T::from_py(value)?;
            let v = self.data.downcast_mut::<T>().expect("kind matches the storage");
            v.set(i, x).map(drop).ok_or_else(|| index_error(i, len))
        })
    }

    fn exports(&self) -> usize {
        self.data.exports()
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }
}

// ---------------------------------------------------------------------------------------------
// Pixels: RGBA image as [u8; 4] elements.
// ---------------------------------------------------------------------------------------------

/// RGBA pixels, `Vec<[u8; 4]>` row-major, exported as shape `(height, width, 4)` format `B`
/// (the `[u8; 4]` becomes the trailing dimension). Pixel `(y, x)` is
/// `(x % 256, y % 256, (x + y) % 256, 255)`.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct Pixels {
    #[buffer(shape = [height, width, 4])]
    data: SharedVec<[u8; 4]>,
    height: usize,
    width: usize,
}

#[buffer_methods]
#[pymethods]
impl Pixels {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.data.exports()
    }

    #[new]
    fn new(height: usize, width: usize) -> PyResult<Self> {
        let n = checked_count(&[height, width], 4)?;
        let data = built(n, |i| {
            let (y, x) = (i / width, i % width);
            [(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8, 255]
        })?;
        Ok(Pixels {
            data: data.into(),
            height,
            width,
        })
    }

    #[getter]
    fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Pixel `(x, y)` as `(r, g, b, a)`, read by Rust.
    fn get(&self, x: usize, y: usize) -> PyResult<[u8; 4]> {
        self.check(x, y)?;
        Ok(self.data.get(y * self.width + x).expect("checked"))
    }

    /// Overwrites pixel `(x, y)` from Rust (allowed while exported).
    fn set(&mut self, x: usize, y: usize, rgba: [u8; 4]) -> PyResult<()> {
        self.check(x, y)?;
        self.data.set(y * self.width + x, rgba);
        Ok(())
    }
}

impl Pixels {
    fn check(&self, x: usize, y: usize) -> PyResult<()> {
        if x < self.width && y < self.height {
            Ok(())
        } else {
            Err(PyIndexError::new_err(format!(
                "pixel ({x}, {y}) outside {}x{}",
                self.width, self.height
            )))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A test hook: the record-format builder the derive uses, run on a layout given at run time.
// ---------------------------------------------------------------------------------------------

/// One field for `record_format`: `(name, offset, size, align, element format, dims)`.
type FieldSpec = (String, usize, usize, usize, String, Vec<usize>);

/// The `T{...}` format `#[derive(Element)]` would build for a struct of `size` bytes aligned to
/// `align` with these fields (offsets, sizes and alignments as the compiler lays them out).
/// For tests that check the builder against layouts computed independently (ctypes).
#[pyfunction]
pub fn record_format(fields: Vec<FieldSpec>, size: usize, align: usize) -> PyResult<String> {
    use buffer_runtime::__private::{format_string, Field};
    use buffer_runtime::Dims;
    use std::ffi::CString;

    let formats = fields
        .iter()
        .map(|f| CString::new(f.4.as_str()).map_err(|e| PyValueError::new_err(e.to_string())))
        .collect::<PyResult<Vec<_>>>()?;
    let mut built = Vec::with_capacity(fields.len());
    for (f, format) in fields.iter().zip(&formats) {
        let (name, offset, fsize, falign, _, dims) = f;
        if *falign == 0 || dims.len() > 16 {
            // 16: the runtime's array nesting limit.
            return Err(PyValueError::new_err("bad field spec"));
        }
        let dims = dims
            .iter()
            .rev()
            .fold(Dims::SCALAR, |inner, &n| Dims::outer(n, inner));
        built.push(Field {
            name,
            offset: *offset,
            size: *fsize,
            align: *falign,
            format,
            dims,
            padding: false,
        });
    }
    // The builder's own checks panic (at compile time in the derive): report them as errors.
    let tiled = built
        .windows(2)
        .all(|w| w[0].offset + w[0].size <= w[1].offset)
        && built.last().is_none_or(|f| f.offset + f.size <= size)
        && !built.is_empty()
        && size > 0
        && align > 0;
    if !tiled {
        return Err(PyValueError::new_err(
            "fields do not tile the struct in order",
        ));
    }
    Ok(format_string(&built, size, align))
}
