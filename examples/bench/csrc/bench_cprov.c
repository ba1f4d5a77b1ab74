/* Peer 1: a hand-written C buffer provider, the baseline of the benchmark.
 *
 * bench_cprov.CBuffer(n=128): n float64 zeros, exported as a writable 1-D 'd' buffer.
 * It follows /work/shared/BUFFER-RULES.md:
 *   - shape and strides live in the object (no allocation per export; resize is refused while
 *     exported, so the pointers stay valid until the matching release);
 *   - every request is honoured field by field: format only with PyBUF_FORMAT, shape only with
 *     PyBUF_ND, strides only with PyBUF_STRIDES, suboffsets always NULL; without ND the view is
 *     1-D unsigned bytes (ndim 1, shape NULL), like CPython's own exporters;
 *   - contiguity requests always succeed (1-D, unit stride), WRITABLE always succeeds;
 *   - FORMAT without ND is served (policy: like bytes/array/numpy; memoryview refuses it on its
 *     own side);
 *   - view->obj is set last; an export counter makes resize() raise BufferError like bytearray.
 *
 * bench_cprov.CBorrowed(n=128): CBuffer whose getbuffer also takes and gives back a shared borrow of
 * an atomic borrow flag the way PyO3's BorrowChecker does (a relaxed load, a compare-exchange
 * (AcqRel) of count + 1, refused while mutably borrowed; then a fetch_sub (Release)): what a
 * mutable PyO3 class pays to read its fields in bf_getbuffer, so the floor of such a class.
 *
 * bench_cprov.CArray(shape, order='C'): float64 zeros of an N-d shape (up to 8 dims) in C or
 * Fortran order, the baseline for the generated classes of the same dims and order. Like
 * CBuffer, plus what N-d takes: a request without PyBUF_STRIDES (SIMPLE, ND) or for a
 * contiguity the layout lacks is refused with BufferError, as CPython's reference exporter
 * (_testbuffer.ndarray) does; without PyBUF_ND the view is 1-D bytes (ndim 1, shape NULL).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    PyObject_HEAD
    double *data;
    Py_ssize_t n;
    Py_ssize_t shape[1];
    Py_ssize_t strides[1];
    Py_ssize_t exports;
    size_t borrow; /* CBorrowed only: a PyO3-style borrow flag */
} CBuffer;

static int
cbuffer_set_size(CBuffer *self, Py_ssize_t n)
{
    double *p;
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "negative size");
        return -1;
    }
    if ((size_t)n > PY_SSIZE_T_MAX / sizeof(double)) {
        PyErr_NoMemory();
        return -1;
    }
    /* calloc(1) for n == 0 keeps buf non-NULL. */
    p = PyMem_Calloc(n ? (size_t)n : 1, sizeof(double));
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (self->data != NULL) {
        Py_ssize_t keep = self->n < n ? self->n : n;
        memcpy(p, self->data, (size_t)keep * sizeof(double));
        PyMem_Free(self->data);
    }
    self->data = p;
    self->n = n;
    self->shape[0] = n;
    self->strides[0] = (Py_ssize_t)sizeof(double);
    return 0;
}

static PyObject *
cbuffer_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"n", NULL};
    Py_ssize_t n = 128;
    CBuffer *self;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|n:CBuffer", kwlist, &n))
        return NULL;
    self = (CBuffer *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    if (cbuffer_set_size(self, n) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void
cbuffer_dealloc(CBuffer *self)
{
    /* No export can be alive: each holds a strong reference to self. */
    PyMem_Free(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
cbuffer_getbuffer(CBuffer *self, Py_buffer *view, int flags)
{
    if (view == NULL) {
        PyErr_SetString(PyExc_BufferError, "CBuffer: NULL view");
        return -1;
    }
    /* 1. Every request can be met: writable, 1-D, C- and F-contiguous, no suboffsets. */
    /* 2. Fill. */
    view->buf = self->data;
    view->len = self->n * (Py_ssize_t)sizeof(double);
    view->itemsize = (Py_ssize_t)sizeof(double);
    view->readonly = 0;
    view->ndim = 1;
    view->format = (flags & PyBUF_FORMAT) == PyBUF_FORMAT ? "d" : NULL;
    view->shape = (flags & PyBUF_ND) == PyBUF_ND ? self->shape : NULL;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? self->strides : NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    /* 3. Count. */
    self->exports++;
    /* 4. obj last. */
    view->obj = Py_NewRef((PyObject *)self);
    return 0;
}

static void
cbuffer_releasebuffer(CBuffer *self, Py_buffer *view)
{
    (void)view;
    self->exports--;
}

static PyObject *
cbuffer_resize(CBuffer *self, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (self->exports > 0) {
        PyErr_Format(PyExc_BufferError,
                     "Existing exports of data: object cannot be re-sized (%zd live)",
                     self->exports);
        return NULL;
    }
    if (cbuffer_set_size(self, n) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
cbuffer_exports(CBuffer *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSsize_t(self->exports);
}

static Py_ssize_t
cbuffer_len(CBuffer *self)
{
    return self->n;
}

static PyMethodDef cbuffer_methods[] = {
    {"resize", (PyCFunction)cbuffer_resize, METH_O,
     "resize(n): change the length; BufferError while exported."},
    {"exports", (PyCFunction)cbuffer_exports, METH_NOARGS, "Number of live exports."},
    {NULL, NULL, 0, NULL},
};

static PyBufferProcs cbuffer_as_buffer = {
    (getbufferproc)cbuffer_getbuffer,
    (releasebufferproc)cbuffer_releasebuffer,
};

static PySequenceMethods cbuffer_as_sequence = {
    .sq_length = (lenfunc)cbuffer_len,
};

static PyTypeObject CBuffer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "bench_cprov.CBuffer",
    .tp_basicsize = sizeof(CBuffer),
    .tp_dealloc = (destructor)cbuffer_dealloc,
    .tp_as_sequence = &cbuffer_as_sequence,
    .tp_as_buffer = &cbuffer_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "CBuffer(n=128): hand-written C provider of a writable 1-D float64 buffer.",
    .tp_methods = cbuffer_methods,
    .tp_new = cbuffer_new,
};

/* PyO3's BorrowFlag::HAS_MUTABLE_BORROW. */
#define CBORROWED_MUT ((size_t)-1)

static int
cborrowed_getbuffer(CBuffer *self, Py_buffer *view, int flags)
{
    size_t cur = __atomic_load_n(&self->borrow, __ATOMIC_RELAXED);
    int rc;
    do {
        if (cur == CBORROWED_MUT) {
            if (view != NULL)
                view->obj = NULL;
            PyErr_SetString(PyExc_BufferError, "CBorrowed: mutably borrowed");
            return -1;
        }
    } while (!__atomic_compare_exchange_n(&self->borrow, &cur, cur + 1, 0, __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED));
    rc = cbuffer_getbuffer(self, view, flags);
    __atomic_fetch_sub(&self->borrow, 1, __ATOMIC_RELEASE);
    return rc;
}

static PyBufferProcs cborrowed_as_buffer = {
    (getbufferproc)cborrowed_getbuffer,
    (releasebufferproc)cbuffer_releasebuffer,
};

static PyTypeObject CBorrowed_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "bench_cprov.CBorrowed",
    .tp_basicsize = sizeof(CBuffer),
    .tp_dealloc = (destructor)cbuffer_dealloc,
    .tp_as_sequence = &cbuffer_as_sequence,
    .tp_as_buffer = &cborrowed_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "CBorrowed(n=128): CBuffer plus a PyO3-style atomic borrow flag in getbuffer.",
    .tp_methods = cbuffer_methods,
    .tp_new = cbuffer_new,
};

#define CARRAY_MAX_NDIM 8

typedef struct {
    PyObject_HEAD
    double *data;
    Py_ssize_t n;
    int ndim;
    int c_contig;
    int f_contig;
    Py_ssize_t shape[CARRAY_MAX_NDIM];
    Py_ssize_t strides[CARRAY_MAX_NDIM];
    Py_ssize_t exports;
} CArray;

/* Whether the strides are those of a contiguous array in the given order (dims of 1 and
 * empty arrays as CPython's PyBuffer_IsContiguous counts them). */
static int
carray_is_contig(const CArray *self, int fortran)
{
    Py_ssize_t want = (Py_ssize_t)sizeof(double);
    int k;
    if (self->n == 0)
        return 1;
    for (k = 0; k < self->ndim; k++) {
        int i = fortran ? k : self->ndim - 1 - k;
        if (self->shape[i] > 1 && self->strides[i] != want)
            return 0;
        want *= self->shape[i];
    }
    return 1;
}

static PyObject *
carray_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"shape", "order", NULL};
    PyObject *shape_obj, *seq;
    const char *order = "C";
    CArray *self;
    Py_ssize_t ndim, i, n = 1, step;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|s:CArray", kwlist, &shape_obj, &order))
        return NULL;
    if ((order[0] != 'C' && order[0] != 'F') || order[1] != '\0') {
        PyErr_SetString(PyExc_ValueError, "order must be 'C' or 'F'");
        return NULL;
    }
    seq = PySequence_Fast(shape_obj, "shape must be a sequence of ints");
    if (seq == NULL)
        return NULL;
    ndim = PySequence_Fast_GET_SIZE(seq);
    if (ndim < 1 || ndim > CARRAY_MAX_NDIM) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "shape must have 1 to 8 dims");
        return NULL;
    }
    self = (CArray *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    self->ndim = (int)ndim;
    for (i = 0; i < ndim; i++) {
        Py_ssize_t d = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(seq, i));
        if (d == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            Py_DECREF(self);
            return NULL;
        }
        if (d < 0 || (d > 0 && n > PY_SSIZE_T_MAX / (Py_ssize_t)sizeof(double) / d)) {
            Py_DECREF(seq);
            Py_DECREF(self);
            PyErr_SetString(PyExc_ValueError, "bad shape");
            return NULL;
        }
        self->shape[i] = d;
        n *= d;
    }
    Py_DECREF(seq);
    step = (Py_ssize_t)sizeof(double);
    for (i = 0; i < ndim; i++) {
        Py_ssize_t k = order[0] == 'F' ? i : ndim - 1 - i;
        self->strides[k] = step;
        step *= self->shape[k];
    }
    self->n = n;
    self->data = PyMem_Calloc(n ? (size_t)n : 1, sizeof(double));
    if (self->data == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->c_contig = carray_is_contig(self, 0);
    self->f_contig = carray_is_contig(self, 1);
    return (PyObject *)self;
}

static void
carray_dealloc(CArray *self)
{
    PyMem_Free(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
carray_getbuffer(CArray *self, Py_buffer *view, int flags)
{
    const char *missing = NULL;
    if (view == NULL) {
        PyErr_SetString(PyExc_BufferError, "CArray: NULL view");
        return -1;
    }
    /* 1. Refuse what the layout cannot give (no suboffsets: INDIRECT is always met). */
    if ((flags & PyBUF_C_CONTIGUOUS) == PyBUF_C_CONTIGUOUS && !self->c_contig)
        missing = "C-contiguous";
    else if ((flags & PyBUF_F_CONTIGUOUS) == PyBUF_F_CONTIGUOUS && !self->f_contig)
        missing = "Fortran-contiguous";
    else if ((flags & PyBUF_ANY_CONTIGUOUS) == PyBUF_ANY_CONTIGUOUS && !self->c_contig &&
             !self->f_contig)
        missing = "contiguous";
    else if ((flags & PyBUF_STRIDES) != PyBUF_STRIDES && !self->c_contig)
        missing = "C-contiguous (no strides requested)";
    if (missing != NULL) {
        view->obj = NULL;
        PyErr_Format(PyExc_BufferError, "CArray: not %s", missing);
        return -1;
    }
    /* 2. Fill. */
    view->buf = self->data;
    view->len = self->n * (Py_ssize_t)sizeof(double);
    view->itemsize = (Py_ssize_t)sizeof(double);
    view->readonly = 0;
    view->format = (flags & PyBUF_FORMAT) == PyBUF_FORMAT ? "d" : NULL;
    if ((flags & PyBUF_ND) == PyBUF_ND) {
        view->ndim = self->ndim;
        view->shape = self->shape;
    }
    else {
        view->ndim = 1;
        view->shape = NULL;
    }
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? self->strides : NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    /* 3. Count. 4. obj last. */
    self->exports++;
    view->obj = Py_NewRef((PyObject *)self);
    return 0;
}

static void
carray_releasebuffer(CArray *self, Py_buffer *view)
{
    (void)view;
    self->exports--;
}

static PyObject *
carray_exports(CArray *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSsize_t(self->exports);
}

static PyMethodDef carray_methods[] = {
    {"exports", (PyCFunction)carray_exports, METH_NOARGS, "Number of live exports."},
    {NULL, NULL, 0, NULL},
};

static PyBufferProcs carray_as_buffer = {
    (getbufferproc)carray_getbuffer,
    (releasebufferproc)carray_releasebuffer,
};

static PyTypeObject CArray_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "bench_cprov.CArray",
    .tp_basicsize = sizeof(CArray),
    .tp_dealloc = (destructor)carray_dealloc,
    .tp_as_buffer = &carray_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "CArray(shape, order='C'): hand-written C provider of a writable N-d float64 buffer.",
    .tp_methods = carray_methods,
    .tp_new = carray_new,
};

static struct PyModuleDef cprov_module = {
    PyModuleDef_HEAD_INIT, "bench_cprov", "Hand-written C buffer provider (benchmark peer).",
    -1, NULL,
};

PyMODINIT_FUNC
PyInit_bench_cprov(void)
{
    PyObject *m;
    if (PyType_Ready(&CBuffer_Type) < 0 || PyType_Ready(&CBorrowed_Type) < 0 ||
        PyType_Ready(&CArray_Type) < 0)
        return NULL;
    m = PyModule_Create(&cprov_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "CBuffer", (PyObject *)&CBuffer_Type) < 0 ||
        PyModule_AddObjectRef(m, "CBorrowed", (PyObject *)&CBorrowed_Type) < 0 ||
        PyModule_AddObjectRef(m, "CArray", (PyObject *)&CArray_Type) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
