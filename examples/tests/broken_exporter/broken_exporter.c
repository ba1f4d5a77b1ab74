/* broken_exporter: a buffer provider with one switchable bug, to prove that the conformance kit
 * (buffer_runtime::testing::check_provider) catches each bug. A TEST FIXTURE ONLY.
 *
 * Exporter(layout, mode="correct"):
 *   layout  one of LAYOUTS below (format, shape, strides, read-only or not);
 *   mode    "correct" (follows every rule of CPython's Doc/c-api/buffer.rst) or one of the bug
 *           names in MODES, each breaking exactly one rule.
 * exporter.exports() -> live exports of this object (+1 per export, -1 per release).
 *
 * Built by examples/tests/test_kit_catches_bugs.py with the system C compiler against the
 * running interpreter's headers (no setup step, nothing installed). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *format;
    Py_ssize_t itemsize;
    int ndim;
    Py_ssize_t shape[2];
    Py_ssize_t strides[2];
    Py_ssize_t offset;  /* byte offset of element (0, 0) in the block */
    Py_ssize_t memsize; /* bytes in the block */
    int readonly;
    int c_contiguous, f_contiguous, pil;
} Layout;

/* Contiguity as CPython defines it, written out per layout. */
static Layout LAYOUTS[] = {
    /* name       fmt  isz nd  shape    strides    off  mem  ro   C  F  PIL */
    {"c",        "i",  4, 2, {3, 4}, {16, 4},    0, 48,  0,  1, 0, 0},
    {"ro",       "i",  4, 2, {3, 4}, {16, 4},    0, 48,  1,  1, 0, 0},
    {"fortran",  "i",  4, 2, {3, 4}, {4, 12},    0, 48,  0,  0, 1, 0},
    {"padded",   "i",  4, 2, {3, 4}, {24, 4},    0, 72,  0,  0, 0, 0},
    {"reversed", "i",  4, 2, {3, 4}, {-16, 4},  32, 48,  0,  0, 0, 0},
    {"wide",     "q",  8, 2, {3, 4}, {32, 8},    0, 96,  0,  1, 0, 0},
    {"scalar",   "d",  8, 0, {0, 0}, {0, 0},     0,  8,  0,  1, 1, 0},
    {"empty",    "i",  4, 2, {0, 4}, {16, 4},    0,  0,  0,  1, 1, 0},
    /* PIL-style: two row pointers (suboffsets {0, -1}) into a block of 3 rows of 4 bytes. */
    {"pil",      "B",  1, 2, {2, 4}, {sizeof(char *), 1}, 0, 0, 1, 0, 0, 1},
};
#define NLAYOUTS ((int)(sizeof LAYOUTS / sizeof LAYOUTS[0]))

/* One bug each. */
static const char *MODES[] = {
    "correct",
    "flags_ignored",        /* format, shape, strides filled whatever the request */
    "no_contig_refusals",   /* C/F/ANY_CONTIGUOUS served on layouts without that contiguity */
    "writable_ro0",         /* PyBUF_WRITABLE granted on read-only memory, readonly = 0 */
    "writable_ro1",         /* PyBUF_WRITABLE granted on read-only memory, readonly = 1 */
    "null_strides",         /* strides NULL although PyBUF_STRIDES was asked (ctypes' habit) */
    "wrong_itemsize",       /* itemsize twice the format's size */
    "wrong_format",         /* a format of the right size but the wrong type: "f" for int32 */
    "not_a_format",         /* "!!not a format" */
    "record_itemsize",      /* "T{i:a:}" (4 bytes) with itemsize 8 */
    "ndim0_without_nd",     /* ndim 0 instead of 1 without PyBUF_ND */
    "strides_bit",          /* tests flags & 0x10, so the lone 0x10 bit gets strides */
    "contiguity_lie",       /* C_CONTIGUOUS served with made-up C strides */
    "leak_ref",             /* one reference too many per export */
    "missing_ref",          /* view->obj set without a new reference */
    "freed_tables",         /* shape/strides malloc'ed per export, freed by the next export */
    "rewritten_tables",     /* one shape table per object, rewritten by every export */
    "memory_leak",          /* 64 bytes malloc'ed per export, never freed */
    "pymem_leak",           /* 64 bytes from PyMem_Malloc (pymalloc) per export, never freed */
    "buf_at_block_start",   /* buf = start of the block, not element (0, 0) */
    "readonly_differs",     /* readonly 1 for PyBUF_FORMAT requests, 0 for others */
    "bogus_suboffsets",     /* suboffsets = {-1, -1} for every request */
    "suboffsets_unwritten", /* suboffsets never written */
    "no_strides_refusal",   /* requests without PyBUF_STRIDES served on non-C-contiguous data */
    "len_items",            /* len counts items, not bytes */
    "shape_null_nd",        /* shape NULL although PyBUF_ND was asked */
    "obj_on_refusal",       /* view->obj set (with a reference) before refusing */
    "no_exception",         /* refuses by returning -1 without an exception */
    "valueerror_refusal",   /* refuses with ValueError instead of BufferError (numpy's habit) */
    "refuses_simple",       /* refuses PyBUF_SIMPLE on C-contiguous data */
    "stuck_export_count",   /* release does not count the export back */
};
#define NMODES ((int)(sizeof MODES / sizeof MODES[0]))
enum {
    CORRECT, FLAGS_IGNORED, NO_CONTIG_REFUSALS, WRITABLE_RO0, WRITABLE_RO1, NULL_STRIDES,
    WRONG_ITEMSIZE, WRONG_FORMAT, NOT_A_FORMAT, RECORD_ITEMSIZE, NDIM0_WITHOUT_ND, STRIDES_BIT,
    CONTIGUITY_LIE, LEAK_REF, MISSING_REF, FREED_TABLES, REWRITTEN_TABLES, MEMORY_LEAK, PYMEM_LEAK,
    BUF_AT_BLOCK_START, READONLY_DIFFERS, BOGUS_SUBOFFSETS, SUBOFFSETS_UNWRITTEN,
    NO_STRIDES_REFUSAL, LEN_ITEMS, SHAPE_NULL_ND, OBJ_ON_REFUSAL, NO_EXCEPTION,
    VALUEERROR_REFUSAL, REFUSES_SIMPLE, STUCK_EXPORT_COUNT,
};

static Py_ssize_t PIL_SUBOFFSETS[2] = {0, -1};
static Py_ssize_t BOGUS[2] = {-1, -1};

typedef struct {
    PyObject_HEAD
    const Layout *layout;
    int mode;
    char *data;                 /* the block: memsize bytes (PIL: row pointers, then rows) */
    Py_ssize_t exports;
    Py_ssize_t table[4];        /* rewritten_tables: shape[2], strides[2] shared by all views */
    Py_ssize_t *last_table;     /* freed_tables: the previous export's table */
    Py_ssize_t c_strides[2];    /* contiguity_lie */
} Exporter;

static int
exporter_init(Exporter *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"layout", "mode", NULL};
    const char *layout = NULL, *mode = "correct";
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s|s", kwlist, &layout, &mode))
        return -1;
    self->layout = NULL;
    for (int i = 0; i < NLAYOUTS; i++)
        if (strcmp(LAYOUTS[i].name, layout) == 0)
            self->layout = &LAYOUTS[i];
    if (self->layout == NULL) {
        PyErr_Format(PyExc_ValueError, "unknown layout %s", layout);
        return -1;
    }
    self->mode = -1;
    for (int i = 0; i < NMODES; i++)
        if (strcmp(MODES[i], mode) == 0)
            self->mode = i;
    if (self->mode < 0) {
        PyErr_Format(PyExc_ValueError, "unknown mode %s", mode);
        return -1;
    }
    const Layout *L = self->layout;
    free(self->data);
    if (L->pil) {
        /* Two row pointers, then three rows of 4 bytes; the rows are used in the order 2, 0. */
        self->data = malloc(2 * sizeof(char *) + 12);
        if (self->data == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        char *rows = self->data + 2 * sizeof(char *);
        for (int i = 0; i < 12; i++)
            rows[i] = (char)(10 + i);
        char *ptrs[2] = {rows + 8, rows};
        memcpy(self->data, ptrs, sizeof ptrs);
    }
    else {
        self->data = malloc(L->memsize + 1);
        if (self->data == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memset(self->data, 0xEE, L->memsize + 1); /* padding */
        /* Element at logical index (C order) k holds 100 + 7k (or 0.5 + k for doubles). */
        Py_ssize_t rows = L->ndim == 2 ? L->shape[0] : 1, cols = L->ndim == 2 ? L->shape[1] : 1;
        for (Py_ssize_t r = 0; r < rows; r++)
            for (Py_ssize_t c = 0; c < cols; c++) {
                Py_ssize_t k = r * cols + c;
                char *p = self->data + L->offset + (L->ndim == 2 ? r * L->strides[0] + c * L->strides[1] : 0);
                if (L->format[0] == 'i') {
                    int v = (int)(100 + 7 * k);
                    memcpy(p, &v, 4);
                }
                else if (L->format[0] == 'q') {
                    long long v = 100 + 7 * k;
                    memcpy(p, &v, 8);
                }
                else {
                    double v = 0.5 + (double)k;
                    memcpy(p, &v, 8);
                }
            }
    }
    self->c_strides[1] = L->itemsize;
    self->c_strides[0] = L->itemsize * L->shape[1];
    return 0;
}

static void
exporter_dealloc(Exporter *self)
{
    free(self->data);
    free(self->last_table);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

#define REQ(flags, x) (((flags) & (x)) == (x))

static int
refuse(Exporter *self, Py_buffer *view, const char *why)
{
    if (self->mode == NO_EXCEPTION) {
        view->obj = NULL;
        return -1;
    }
    PyErr_Format(self->mode == VALUEERROR_REFUSAL ? PyExc_ValueError : PyExc_BufferError,
                 "Exporter(%s): %s", self->layout->name, why);
    if (self->mode != OBJ_ON_REFUSAL)
        view->obj = NULL;
    return -1;
}

static int
exporter_getbuf(Exporter *self, Py_buffer *view, int flags)
{
    const Layout *L = self->layout;
    const int m = self->mode;
    int want_nd = REQ(flags, PyBUF_ND);
    int want_strides = m == STRIDES_BIT ? (flags & 0x10) != 0 : REQ(flags, PyBUF_STRIDES);
    int want_format = REQ(flags, PyBUF_FORMAT);
    int want_writable = REQ(flags, PyBUF_WRITABLE);
    int want_indirect = REQ(flags, PyBUF_INDIRECT);

    if (m == OBJ_ON_REFUSAL) {
        Py_INCREF(self);
        view->obj = (PyObject *)self; /* the bug: set before the checks */
    }
    /* 1. The request. */
    if (want_writable && L->readonly && m != WRITABLE_RO0 && m != WRITABLE_RO1)
        return refuse(self, view, "read-only");
    if (m != NO_CONTIG_REFUSALS) {
        if (REQ(flags, PyBUF_C_CONTIGUOUS) && !L->c_contiguous && m != CONTIGUITY_LIE)
            return refuse(self, view, "not C-contiguous");
        if (REQ(flags, PyBUF_F_CONTIGUOUS) && !L->f_contiguous)
            return refuse(self, view, "not Fortran-contiguous");
        if (REQ(flags, PyBUF_ANY_CONTIGUOUS) && !L->c_contiguous && !L->f_contiguous)
            return refuse(self, view, "not contiguous");
    }
    if (L->pil && !want_indirect)
        return refuse(self, view, "needs suboffsets (PyBUF_INDIRECT)");
    if (!want_strides && !L->c_contiguous && m != NO_STRIDES_REFUSAL)
        return refuse(self, view, "not C-contiguous: needs PyBUF_STRIDES");
    if (want_format && !want_nd)
        return refuse(self, view, "PyBUF_FORMAT needs PyBUF_ND");
    if (m == REFUSES_SIMPLE && !want_nd)
        return refuse(self, view, "refuses PyBUF_SIMPLE");

    /* 2. The fields. */
    Py_ssize_t nitems = L->ndim == 2 ? L->shape[0] * L->shape[1] : 1;
    view->buf = (L->pil || m == BUF_AT_BLOCK_START) ? self->data : self->data + L->offset;
    view->itemsize = m == WRONG_ITEMSIZE ? 2 * L->itemsize : L->itemsize;
    view->len = m == LEN_ITEMS ? nitems : nitems * view->itemsize;
    view->readonly = L->readonly;
    if (m == WRITABLE_RO0 && want_writable)
        view->readonly = 0;
    if (m == READONLY_DIFFERS && !want_writable)
        view->readonly = want_format;
    const char *format = L->format;
    if (m == WRONG_FORMAT)
        format = "f";
    else if (m == NOT_A_FORMAT)
        format = "!!not a format";
    else if (m == RECORD_ITEMSIZE)
        format = "T{i:a:}";
    view->format = (want_format || m == FLAGS_IGNORED) ? (char *)format : NULL;

    Py_ssize_t *shape = (Py_ssize_t *)L->shape, *strides = (Py_ssize_t *)L->strides;
    if (m == FREED_TABLES) {
        Py_ssize_t *t = malloc(4 * sizeof(Py_ssize_t));
        if (t == NULL) {
            PyErr_NoMemory();
            return refuse(self, view, "no memory");
        }
        memcpy(t, L->shape, 2 * sizeof(Py_ssize_t));
        memcpy(t + 2, L->strides, 2 * sizeof(Py_ssize_t));
        free(self->last_table); /* the bug: a live view may still point there */
        self->last_table = t;
        shape = t;
        strides = t + 2;
    }
    if (m == REWRITTEN_TABLES) {
        /* The bug: one table per object, used as scratch by every export. */
        if (want_nd) {
            memcpy(self->table, L->shape, 2 * sizeof(Py_ssize_t));
            memcpy(self->table + 2, L->strides, 2 * sizeof(Py_ssize_t));
        }
        else {
            self->table[0] = nitems;
            self->table[2] = L->itemsize;
        }
        shape = self->table;
        strides = self->table + 2;
    }
    if (m == CONTIGUITY_LIE && REQ(flags, PyBUF_C_CONTIGUOUS) && !L->c_contiguous)
        strides = self->c_strides;
    if (want_nd || m == FLAGS_IGNORED) {
        view->ndim = L->ndim;
        view->shape = (L->ndim > 0 && m != SHAPE_NULL_ND) ? shape : NULL;
    }
    else {
        view->ndim = m == NDIM0_WITHOUT_ND ? 0 : 1;
        view->shape = NULL;
    }
    if ((want_strides || m == FLAGS_IGNORED) && L->ndim > 0 && m != NULL_STRIDES)
        view->strides = strides;
    else
        view->strides = NULL;
    if (m == BOGUS_SUBOFFSETS)
        view->suboffsets = BOGUS;
    else if (m != SUBOFFSETS_UNWRITTEN)
        view->suboffsets = L->pil ? PIL_SUBOFFSETS : NULL;
    view->internal = NULL;
    if (m == MEMORY_LEAK)
        view->internal = malloc(64); /* the bug: never freed */
    if (m == PYMEM_LEAK)
        view->internal = PyMem_Malloc(64); /* the bug: never freed */

    /* 3. Count the export. 4. obj last. */
    self->exports++;
    if (m == OBJ_ON_REFUSAL)
        return 0; /* already holds its reference */
    view->obj = (PyObject *)self;
    if (m != MISSING_REF)
        Py_INCREF(self);
    if (m == LEAK_REF)
        Py_INCREF(self);
    return 0;
}

static void
exporter_releasebuf(Exporter *self, Py_buffer *view)
{
    (void)view;
    if (self->mode != STUCK_EXPORT_COUNT)
        self->exports--;
}

static PyObject *
exporter_exports(Exporter *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSsize_t(self->exports);
}

static PyObject *
exporter_repr(Exporter *self)
{
    return PyUnicode_FromFormat("Exporter(%s, %s)", self->layout ? self->layout->name : "?",
                                self->mode >= 0 ? MODES[self->mode] : "?");
}

static PyBufferProcs exporter_as_buffer = {
    (getbufferproc)exporter_getbuf,
    (releasebufferproc)exporter_releasebuf,
};

static PyMethodDef exporter_methods[] = {
    {"exports", (PyCFunction)exporter_exports, METH_NOARGS, "Live exports of this object."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ExporterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "broken_exporter.Exporter",
    .tp_basicsize = sizeof(Exporter),
    .tp_dealloc = (destructor)exporter_dealloc,
    .tp_repr = (reprfunc)exporter_repr,
    .tp_as_buffer = &exporter_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A buffer provider with one switchable bug (test fixture).",
    .tp_methods = exporter_methods,
    .tp_init = (initproc)exporter_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "broken_exporter", "Deliberately broken buffer providers.", -1, NULL,
};

PyMODINIT_FUNC
PyInit_broken_exporter(void)
{
    if (PyType_Ready(&ExporterType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    PyObject *modes = PyTuple_New(NMODES), *layouts = PyTuple_New(NLAYOUTS);
    if (modes == NULL || layouts == NULL)
        goto error;
    for (int i = 0; i < NMODES; i++)
        PyTuple_SET_ITEM(modes, i, PyUnicode_FromString(MODES[i]));
    for (int i = 0; i < NLAYOUTS; i++)
        PyTuple_SET_ITEM(layouts, i, PyUnicode_FromString(LAYOUTS[i].name));
    if (PyModule_AddObject(m, "MODES", modes) < 0)
        goto error;
    modes = NULL;
    if (PyModule_AddObject(m, "LAYOUTS", layouts) < 0)
        goto error;
    Py_INCREF(&ExporterType);
    if (PyModule_AddObject(m, "Exporter", (PyObject *)&ExporterType) < 0) {
        Py_DECREF(&ExporterType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
error:
    Py_XDECREF(modes);
    Py_XDECREF(layouts);
    Py_DECREF(m);
    return NULL;
}
