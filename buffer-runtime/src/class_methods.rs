//! The Python methods `#[buffer_methods]` gives a class besides its buffer slots: pickle and
//! copy support (`__reduce_ex__`, `_buffer_restore`, `__copy__`, `__deepcopy__`) and DLPack
//! (`__dlpack__`, `__dlpack_device__`).
//!
//! They are not PyO3 `#[pymethods]`: a PyO3 method costs its class a wrapper, argument
//! extraction and a trampoline of its own (about 13 ms of compile time per class and method).
//! Instead one class attribute, `_buffer_restore`, is computed when PyO3 creates the type: it
//! writes method descriptors for the other five into the type's dict and is itself the
//! classmethod descriptor of `_buffer_restore`. The descriptors are CPython's own
//! (`PyDescr_NewMethod`, `PyDescr_NewClassMethod`, in the stable ABI, so abi3 builds do the
//! same), so they bind, check the receiver's type and report their signature like any
//! built-in method. What each class compiles is a few-line thunk per pickle method, which
//! calls the class's [`ClassMethods`] through one non-generic [`trampoline`]; the argument
//! checks and the DLPack methods are compiled once. The same class attribute first writes the
//! plain buffer slots into the type (non-abi3; point 7 of `fast.rs`).
//!
//! # Why it is sound
//! - **When.** PyO3 computes class attributes once the type object exists and before it fills
//!   the type's dict (or freezes an `immutable_type` class), and `T::type_object` called from
//!   one returns that type (PyO3 allows class attributes that refer to their own class). So
//!   the type is a live heap type whose dict may be written.
//! - **The receiver.** A method descriptor calls its function only with an instance of the
//!   type it was made for (or of a subclass), a classmethod descriptor only with that type or
//!   a subclass: CPython checks, so `T::type_object`'s own check in the thunk (`cast::<T>()`)
//!   never fails, and is kept all the same.
//! - **The method table.** Each `PyMethodDef` must outlive its descriptors: the table is
//!   leaked, once per type created (a type lives as long as the process in PyO3).
//! - **Attached, errors and panics.** CPython calls the functions attached to the interpreter.
//!   [`trampoline`] runs the body inside `Python::attach` (so PyO3 drops references at once),
//!   turns an error into a raised exception and NULL, and catches a panic (a bug), which
//!   becomes a `RuntimeError`, never an unwind into C.

use std::ffi::CStr;
use std::os::raw::c_int;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::ffi;
use pyo3::types::{
    PyAnyMethods, PyInt, PyString, PyStringMethods, PyTuple, PyTupleMethods, PyType, PyTypeMethods,
};
use pyo3::{Bound, IntoPyObject, Py, PyAny, PyClass, PyErr, PyResult, PyTypeInfo, Python};

/// The class-specific part of the pickle methods: what `#[buffer_methods]` implements for
/// its class, forwarding to the pickle support (or to `object`'s behaviour, for a class that
/// does not pickle its storage).
#[doc(hidden)]
pub trait ClassMethods: PyClass + PyTypeInfo {
    /// Writes the plain buffer slots into the type being created (`fast.rs`; nothing under
    /// abi3).
    fn install_slots(py: Python<'_>) -> PyResult<()>;
    /// `__reduce_ex__(protocol)`.
    fn reduce_ex<'py>(slf: &Bound<'py, Self>, protocol: i64) -> PyResult<Bound<'py, PyAny>>;
    /// `_buffer_restore(data, meta, fields)`, a classmethod.
    fn restore<'py>(
        cls: &Bound<'py, PyType>,
        data: &Bound<'py, PyAny>,
        meta: &Bound<'py, PyAny>,
        fields: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>>;
    /// `__copy__()` (`memo` is `None`) and `__deepcopy__(memo)`.
    fn copy<'py>(
        slf: &Bound<'py, Self>,
        memo: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>>;
}

/// The value of the `_buffer_restore` class attribute of `T`: writes the plain buffer slots
/// into `T`'s type (non-abi3) and `T`'s other methods into its dict, and returns the
/// `_buffer_restore` classmethod descriptor.
#[doc(hidden)]
pub fn install<T: ClassMethods>(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let thunks = Thunks {
        reduce_ex: reduce_ex::<T>,
        copy: copy::<T>,
        deepcopy: deepcopy::<T>,
        restore: restore::<T>,
    };
    T::install_slots(py)?;
    // During type creation this is the type being made (module docs).
    install_thunks(&T::type_object(py), thunks)
}

/// The functions of one class's pickle methods.
struct Thunks {
    reduce_ex: ffi::PyCFunction,
    copy: ffi::PyCFunction,
    deepcopy: ffi::PyCFunction,
    restore: ffi::PyCFunctionFast,
}

/// [`install`] past what needs the class: compiled once.
#[inline(never)]
fn install_thunks(ty: &Bound<'_, PyType>, t: Thunks) -> PyResult<Py<PyAny>> {
    let defs: [ffi::PyMethodDef; 6] = [
        def(
            c"__reduce_ex__",
            ffi::PyMethodDefPointer {
                PyCFunction: t.reduce_ex,
            },
            ffi::METH_O,
            c"__reduce_ex__($self, protocol, /)\n--\n\nPickle support: protocol 5 ships the memory out of band, as one PickleBuffer.",
        ),
        def(
            c"__copy__",
            ffi::PyMethodDefPointer {
                PyCFunction: t.copy,
            },
            ffi::METH_NOARGS,
            c"__copy__($self, /)\n--\n\ncopy.copy: an object with memory of its own.",
        ),
        def(
            c"__deepcopy__",
            ffi::PyMethodDefPointer {
                PyCFunction: t.deepcopy,
            },
            ffi::METH_O,
            c"__deepcopy__($self, memo, /)\n--\n\ncopy.deepcopy: an object with memory of its own.",
        ),
        def(
            c"__dlpack__",
            ffi::PyMethodDefPointer {
                PyCFunctionFastWithKeywords: dlpack,
            },
            ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
            c"__dlpack__($self, /, *, stream=None, max_version=None, dl_device=None, copy=None)\n--\n\nA DLPack capsule over this object's buffer.",
        ),
        def(
            c"__dlpack_device__",
            ffi::PyMethodDefPointer {
                PyCFunction: dlpack_device,
            },
            ffi::METH_NOARGS,
            c"__dlpack_device__($self, /)\n--\n\nThe DLPack device: the CPU, (1, 0).",
        ),
        def(
            c"_buffer_restore",
            ffi::PyMethodDefPointer {
                PyCFunctionFast: t.restore,
            },
            ffi::METH_FASTCALL | ffi::METH_CLASS,
            c"_buffer_restore($cls, data, meta, fields, /)\n--\n\nRebuilds a pickled object.",
        ),
    ];
    install_defs(ty, Box::leak(Box::new(defs)))
}

const fn def(
    name: &'static CStr,
    meth: ffi::PyMethodDefPointer,
    flags: c_int,
    doc: &'static CStr,
) -> ffi::PyMethodDef {
    ffi::PyMethodDef {
        ml_name: name.as_ptr(),
        ml_meth: meth,
        ml_flags: flags,
        ml_doc: doc.as_ptr(),
    }
}

/// Writes descriptors for all but the last method into `ty`'s dict; returns the last one's,
/// a classmethod descriptor.
fn install_defs(
    ty: &Bound<'_, PyType>,
    defs: &'static mut [ffi::PyMethodDef; 6],
) -> PyResult<Py<PyAny>> {
    let py = ty.py();
    let tp = ty.as_type_ptr();
    let [methods @ .., last] = defs;
    for d in methods {
        // SAFETY: `tp` is a live type; `d` lives for the rest of the process (leaked).
        let descr = unsafe { ffi::PyDescr_NewMethod(tp, d) };
        // SAFETY: a new reference, or NULL with an exception set.
        let descr = unsafe { Bound::from_owned_ptr_or_err(py, descr) }?;
        // SAFETY: `tp` and `descr` are live; `ml_name` is one of the static names above.
        let rc = unsafe { ffi::PyObject_SetAttrString(tp.cast(), d.ml_name, descr.as_ptr()) };
        if rc < 0 {
            return Err(PyErr::fetch(py));
        }
    }
    // SAFETY: as above.
    let restore = unsafe { ffi::PyDescr_NewClassMethod(tp, last) };
    // SAFETY: as above.
    let restore = unsafe { Bound::from_owned_ptr_or_err(py, restore) }?;
    Ok(restore.unbind())
}

/// Runs a method body attached, turning its error into a raised exception and a panic into a
/// `RuntimeError`; compiled once for every method of every class.
fn trampoline(body: &mut dyn FnMut(Python<'_>) -> PyResult<Py<PyAny>>) -> *mut ffi::PyObject {
    let run = AssertUnwindSafe(|| {
        Python::attach(|py| match body(py) {
            Ok(v) => v.into_ptr(),
            Err(e) => {
                e.restore(py);
                ptr::null_mut()
            }
        })
    });
    panic::catch_unwind(run).unwrap_or_else(|_| {
        Python::attach(|py| {
            PyRuntimeError::new_err("internal error: a generated method panicked").restore(py)
        });
        ptr::null_mut()
    })
}

/// An argument CPython passes, borrowed for the call.
///
/// # Safety
/// `p` is a live object, borrowed for `'a`.
unsafe fn arg<'a, 'py>(py: Python<'py>, p: &'a *mut ffi::PyObject) -> &'a Bound<'py, PyAny> {
    // SAFETY: forwarded contract.
    unsafe { Bound::ref_from_ptr(py, p) }
}

/// `self` as a `T` (CPython's descriptor has checked it already, module docs).
fn receiver<'a, 'py, T: PyClass + PyTypeInfo>(
    slf: &'a Bound<'py, PyAny>,
) -> PyResult<&'a Bound<'py, T>> {
    Ok(slf.cast::<T>()?)
}

unsafe extern "C" fn reduce_ex<T: ClassMethods>(
    slf: *mut ffi::PyObject,
    protocol: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: called by CPython as a METH_O method.
    unsafe {
        method_o(slf, protocol, |slf, protocol| {
            let protocol = protocol_of(protocol)?;
            Ok(T::reduce_ex(receiver::<T>(slf)?, protocol)?.unbind())
        })
    }
}

/// A METH_O method's call: `body` gets the receiver and the argument, borrowed.
///
/// # Safety
/// `slf` and `arg` are live objects for the call (what CPython passes to METH_O methods).
unsafe fn method_o(
    slf: *mut ffi::PyObject,
    arg: *mut ffi::PyObject,
    body: for<'a, 'py> fn(&'a Bound<'py, PyAny>, &'a Bound<'py, PyAny>) -> PyResult<Py<PyAny>>,
) -> *mut ffi::PyObject {
    trampoline(&mut |py| {
        // SAFETY: live objects, borrowed for the call (contract).
        let slf = unsafe { self::arg(py, &slf) };
        // SAFETY: as above.
        let arg = unsafe { self::arg(py, &arg) };
        body(slf, arg)
    })
}

unsafe extern "C" fn copy<T: ClassMethods>(
    slf: *mut ffi::PyObject,
    _: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(&mut |py| {
        // SAFETY: CPython passes a live receiver (METH_NOARGS), borrowed for the call.
        let slf = unsafe { arg(py, &slf) };
        copy_of::<T>(slf, None)
    })
}

unsafe extern "C" fn deepcopy<T: ClassMethods>(
    slf: *mut ffi::PyObject,
    memo: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: called by CPython as a METH_O method.
    unsafe { method_o(slf, memo, |slf, memo| copy_of::<T>(slf, Some(memo))) }
}

/// The body of both copy methods, compiled once per class.
#[inline(never)]
fn copy_of<T: ClassMethods>(
    slf: &Bound<'_, PyAny>,
    memo: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    Ok(T::copy(receiver::<T>(slf)?, memo)?.unbind())
}

unsafe extern "C" fn restore<T: ClassMethods>(
    cls: *mut ffi::PyObject,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    trampoline(&mut |py| {
        // SAFETY: CPython passes the class (METH_CLASS) and `nargs` live arguments
        // (METH_FASTCALL), borrowed for the call.
        let (cls, [data, meta, fields]) = unsafe { restore_args(py, &cls, args, nargs) }?;
        Ok(T::restore(cls, data, meta, fields.cast::<PyTuple>()?)?.unbind())
    })
}

/// `_buffer_restore`'s class and its three arguments; compiled once.
///
/// # Safety
/// `cls` is a live object and `args` points to `nargs` live objects, borrowed for `'a`.
#[inline(never)]
unsafe fn restore_args<'a, 'py>(
    py: Python<'py>,
    cls: &'a *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> PyResult<(&'a Bound<'py, PyType>, [&'a Bound<'py, PyAny>; 3])> {
    // SAFETY: forwarded contract.
    let cls = unsafe { arg(py, cls) }.cast::<PyType>()?;
    // SAFETY: forwarded contract.
    let args = unsafe { fast_args(args, nargs) };
    let [data, meta, fields] = args else {
        return Err(PyTypeError::new_err(format!(
            "_buffer_restore() takes exactly 3 arguments ({} given)",
            args.len()
        )));
    };
    // SAFETY: live arguments, borrowed for `'a` (contract).
    Ok((cls, [data, meta, fields].map(|a| unsafe { arg(py, a) })))
}

/// The positional arguments of a METH_FASTCALL call.
///
/// # Safety
/// `args` points to `nargs` live objects (or `nargs` is 0), valid for the call.
unsafe fn fast_args<'a>(
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> &'a [*mut ffi::PyObject] {
    let n = usize::try_from(nargs).unwrap_or(0);
    if n == 0 {
        return &[];
    }
    // SAFETY: forwarded contract.
    unsafe { std::slice::from_raw_parts(args, n) }
}

/// `__reduce_ex__`'s protocol: an `int`, as `object.__reduce_ex__` takes it.
fn protocol_of(p: &Bound<'_, PyAny>) -> PyResult<i64> {
    p.extract::<i64>().map_err(|e| {
        if p.is_instance_of::<PyInt>() {
            return e; // an int too large: OverflowError
        }
        PyTypeError::new_err(format!(
            "__reduce_ex__() argument 'protocol' must be int, not {}",
            crate::pickle::class_name(p)
        ))
    })
}

/// `__dlpack__(*, stream=None, max_version=None, dl_device=None, copy=None)`.
unsafe extern "C" fn dlpack(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(&mut |py| {
        // SAFETY: CPython passes a live receiver, `nargs` positional arguments followed by one
        // value per name in `kwnames` (a tuple, or NULL without keywords), borrowed for the
        // call (METH_FASTCALL | METH_KEYWORDS).
        let slf = unsafe { arg(py, &slf) };
        if nargs != 0 {
            return Err(PyTypeError::new_err(format!(
                "__dlpack__() takes no positional arguments ({nargs} given)"
            )));
        }
        let mut kw: [Option<&Bound<'_, PyAny>>; 4] = [None; 4];
        if !kwnames.is_null() {
            // SAFETY: as above.
            let names = unsafe { arg(py, &kwnames) }.cast::<PyTuple>()?;
            // SAFETY: one value per keyword name, after the (zero) positional arguments.
            let values = unsafe { fast_args(args, names.len() as ffi::Py_ssize_t) };
            for (name, value) in names.iter().zip(values) {
                let slot = match name.cast::<PyString>()?.to_str()? {
                    "stream" => 0,
                    "max_version" => 1,
                    "dl_device" => 2,
                    "copy" => 3,
                    other => {
                        return Err(PyTypeError::new_err(format!(
                            "__dlpack__() got an unexpected keyword argument '{other}'"
                        )))
                    }
                };
                // SAFETY: a live argument, borrowed for the call (above).
                let value = unsafe { arg(py, value) };
                // `None` is the default.
                kw[slot] = Some(value).filter(|v| !v.is_none());
            }
        }
        let [stream, max_version, dl_device, copy] = kw;
        let capsule = crate::dlpack::dlpack(slf, stream, max_version, dl_device, copy)?;
        Ok(capsule.unbind())
    })
}

/// `__dlpack_device__()`: the CPU.
unsafe extern "C" fn dlpack_device(
    _: *mut ffi::PyObject,
    _: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(&mut |py| {
        let device = crate::dlpack::dlpack_device().into_pyobject(py)?;
        Ok(device.into_any().unbind())
    })
}
