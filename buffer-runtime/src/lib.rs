#![doc = include_str!("../docs/guide.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod class_methods;
mod dims;
mod direct;
pub mod dlpack;
mod dynamic;
mod element;
mod endian;
mod error;
mod export;
mod export_state;
mod fast;
pub mod flags;
mod foreign;
mod hold;
pub mod layout;
mod owned;
mod pickle;
mod provider;
mod record_format;
mod request_checks;
mod shared;
mod slots;
mod storage;
#[cfg(feature = "testing")]
pub mod testing;
pub mod view;

// pyo3's cfgs, from build.rs: `Py_buffer` and the buffer slots are in the limited API only
// from Python 3.11 on.
#[cfg(all(Py_LIMITED_API, not(Py_3_11)))]
compile_error!(
    "buffer-runtime needs Python 3.11 or newer under abi3: the buffer protocol is in the limited \
     API only from 3.11 on. Enable pyo3's `abi3-py311` (or newer) feature instead of an older abi3 \
     feature, or build without abi3."
);

pub use buffer_derive::{buffer_methods, Element, PyBuffer};
pub use dims::{Dim, DimsField, StridesField};
pub use dynamic::{AnyElement, ElementKind, SharedAnyVec};
pub use element::{ArrayDims, Element, Shaped};
pub use endian::{Be, EndianScalar, Le};
pub use error::ExportError;
pub use fast::add_class;
pub use flags::Request;
pub use foreign::SharedBlock;
pub use layout::Order;
pub use owned::OwnedBuffer;
pub use pickle::PickleStorage;
pub use provider::PyBuffer;
pub use shared::{ExportedError, GrowError, SharedArray, SharedVec, VecMut};
pub use slots::{getbuffer, releasebuffer};
pub use storage::{Storage, WritableStorage};

/// What generated code calls. Not public API: no semver guarantees.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
/// At the root so that rustc names it `BufferSlots` in the error for a missing
/// `#[buffer_methods]`.
#[doc(hidden)]
pub use __private::BufferSlots;
