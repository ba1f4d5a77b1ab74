# cython: language_level=3, boundscheck=False, wraparound=False
"""Peer 2: a Cython ``__getbuffer__`` / ``__releasebuffer__`` provider.

``CyBuffer(n=128)``: n float64 zeros, exported as a writable 1-D ``d`` buffer, with the same
rules as the C peer (bench_cprov.c): shape/strides stored in the object, fields filled per flag
with ``(flags & X) == X`` tests, ``format``/``shape``/``strides`` NULL unless asked for, ndim 1
without ND, an export counter that makes ``resize`` raise ``BufferError``.

Cython itself sets ``view.obj = None`` before the body and turns it into NULL (or clears it on
an exception) afterwards; the body sets ``view.obj = self`` last.
"""
from cpython.buffer cimport PyBUF_FORMAT, PyBUF_ND, PyBUF_STRIDES
from cpython.mem cimport PyMem_Calloc, PyMem_Free
from libc.string cimport memcpy


cdef class CyBuffer:
    cdef double *data
    cdef Py_ssize_t n
    cdef Py_ssize_t shape[1]
    cdef Py_ssize_t strides[1]
    cdef Py_ssize_t exports

    def __cinit__(self, Py_ssize_t n=128):
        self._set_size(n)

    cdef int _set_size(self, Py_ssize_t n) except -1:
        cdef double *p
        cdef Py_ssize_t keep
        if n < 0:
            raise ValueError("negative size")
        p = <double *>PyMem_Calloc(n if n else 1, sizeof(double))
        if p == NULL:
            raise MemoryError()
        if self.data != NULL:
            keep = self.n if self.n < n else n
            memcpy(p, self.data, keep * sizeof(double))
            PyMem_Free(self.data)
        self.data = p
        self.n = n
        self.shape[0] = n
        self.strides[0] = sizeof(double)
        return 0

    def __dealloc__(self):
        PyMem_Free(self.data)

    def __len__(self):
        return self.n

    def resize(self, Py_ssize_t n):
        """Change the length; BufferError while exported."""
        if self.exports > 0:
            raise BufferError(
                f"Existing exports of data: object cannot be re-sized ({self.exports} live)")
        self._set_size(n)

    def exports_alive(self):
        return self.exports

    def __getbuffer__(self, Py_buffer *view, int flags):
        # Every request can be met (writable, 1-D, contiguous both ways).
        view.buf = self.data
        view.len = self.n * <Py_ssize_t>sizeof(double)
        view.itemsize = sizeof(double)
        view.readonly = 0
        view.ndim = 1
        if (flags & PyBUF_FORMAT) == PyBUF_FORMAT:
            view.format = b"d"  # a C string literal: static storage
        else:
            view.format = NULL
        view.shape = self.shape if (flags & PyBUF_ND) == PyBUF_ND else NULL
        view.strides = self.strides if (flags & PyBUF_STRIDES) == PyBUF_STRIDES else NULL
        view.suboffsets = NULL
        view.internal = NULL
        self.exports += 1
        view.obj = self

    def __releasebuffer__(self, Py_buffer *view):
        self.exports -= 1
