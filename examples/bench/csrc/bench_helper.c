/* The benchmark's measuring helper (not a peer).
 *
 *   raw_loop(obj, n, flags=PyBUF_FULL_RO) -> ns
 *       n x { PyObject_GetBuffer(obj, &view, flags); PyBuffer_Release(&view); }, timed inside C
 *       with clock_gettime(CLOCK_MONOTONIC).
 *   counted_loop(obj, n, flags, label) -> None
 *       the raw_loop body with callgrind's collection toggled on around the loop only and the
 *       counts dumped under `label` (run under valgrind --tool=callgrind --collect-atstart=no;
 *       outside valgrind the client requests do nothing). have_callgrind() -> bool says whether
 *       the helper was compiled with <valgrind/callgrind.h>.
 *   c_consumer_loop(obj, n) -> ns
 *       the C consumer of the consumer-side benchmark: n x { PyObject_GetBuffer(obj, &view,
 *       PyBUF_FORMAT | PyBUF_STRIDES); check format 'd' (native), itemsize, ndim, no suboffsets,
 *       len == product(shape) * itemsize; PyBuffer_Release }, what a typed f64 view checks.
 *   counted_call(callable, label) -> result
 *       callable() with callgrind collecting only during the call, dumped under label.
 *   count_allocs(obj, n, flags=PyBUF_FULL_RO) -> dict
 *       the same loop, counting libc allocation calls (needs LD_PRELOAD=liballoccount.so, found
 *       through dlsym(RTLD_DEFAULT, "bench_alloc_counters")) and calls into Python's MEM and OBJ
 *       allocator domains (PyMem_SetAllocator hooks, installed only around the loop).
 *   calibrate(k) -> dict
 *       k known malloc/free pairs and k PyMem_Malloc + k PyObject_Malloc pairs, counted by the same
 *       machinery: proof that the counters see what they claim to see.
 *   have_alloc_counters() -> bool
 *   probe(obj, flags) -> dict
 *       one export with a poisoned view, every field read back, released through a *copy* of the
 *       view (a consumer may do that); on failure the exception and what view->obj was left as.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* defines _GNU_SOURCE (RTLD_DEFAULT) */
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define HAVE_CALLGRIND 0
#define CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

static int64_t
now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static PyObject *
raw_loop(PyObject *mod, PyObject *args)
{
    PyObject *obj;
    Py_ssize_t n, i;
    int flags = PyBUF_FULL_RO;
    Py_buffer view;
    int64_t t0, t1;
    if (!PyArg_ParseTuple(args, "On|i:raw_loop", &obj, &n, &flags))
        return NULL;
    t0 = now_ns();
    for (i = 0; i < n; i++) {
        if (PyObject_GetBuffer(obj, &view, flags) < 0)
            return NULL;
        PyBuffer_Release(&view);
    }
    t1 = now_ns();
    return PyLong_FromLongLong((long long)(t1 - t0));
}

static PyObject *
counted_loop(PyObject *mod, PyObject *args)
{
    PyObject *obj;
    Py_ssize_t n, i;
    int flags;
    const char *label;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "Onis:counted_loop", &obj, &n, &flags, &label))
        return NULL;
    CALLGRIND_TOGGLE_COLLECT;
    for (i = 0; i < n; i++) {
        if (PyObject_GetBuffer(obj, &view, flags) < 0)
            break;
        PyBuffer_Release(&view);
    }
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT(label);
    if (i < n)
        return NULL;
    Py_RETURN_NONE;
}

static int
native_f64_format(const char *f)
{
    if (f == NULL)
        return 0;
    if (f[0] == '@' || f[0] == '=' || f[0] == '<')
        f++;
    return f[0] == 'd' && f[1] == '\0';
}

static PyObject *
c_consumer_loop(PyObject *mod, PyObject *args)
{
    PyObject *obj;
    Py_ssize_t n, i, d, count;
    Py_buffer view;
    int64_t t0, t1;
    if (!PyArg_ParseTuple(args, "On:c_consumer_loop", &obj, &n))
        return NULL;
    t0 = now_ns();
    for (i = 0; i < n; i++) {
        if (PyObject_GetBuffer(obj, &view, PyBUF_FORMAT | PyBUF_STRIDES) < 0)
            return NULL;
        count = 1;
        if (!native_f64_format(view.format) || view.itemsize != 8 || view.ndim < 0 ||
            view.ndim > 64 || view.suboffsets != NULL || (view.ndim > 0 && view.shape == NULL)) {
            PyBuffer_Release(&view);
            PyErr_SetString(PyExc_TypeError, "expected a float64 buffer");
            return NULL;
        }
        for (d = 0; d < view.ndim; d++)
            count *= view.shape[d];
        if (count * view.itemsize != view.len) {
            PyBuffer_Release(&view);
            PyErr_SetString(PyExc_TypeError, "len disagrees with the shape");
            return NULL;
        }
        PyBuffer_Release(&view);
    }
    t1 = now_ns();
    return PyLong_FromLongLong((long long)(t1 - t0));
}

static PyObject *
counted_call(PyObject *mod, PyObject *args)
{
    PyObject *fn, *res;
    const char *label;
    if (!PyArg_ParseTuple(args, "Os:counted_call", &fn, &label))
        return NULL;
    CALLGRIND_TOGGLE_COLLECT;
    res = PyObject_CallNoArgs(fn);
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT(label);
    return res;
}

static PyObject *
have_callgrind(PyObject *mod, PyObject *unused)
{
    return PyBool_FromLong(HAVE_CALLGRIND);
}

/* ---- allocation counting ---------------------------------------------------------------- */

struct bench_alloc_counters {
    uint64_t malloc, calloc, realloc, memalign, free;
};

static struct bench_alloc_counters *
libc_counters(void)
{
    return (struct bench_alloc_counters *)dlsym(RTLD_DEFAULT, "bench_alloc_counters");
}

static uint64_t py_counts[4]; /* malloc, calloc, realloc, free in the MEM and OBJ domains */
static PyMemAllocatorEx orig_mem, orig_obj;

static void *
hk_malloc(void *ctx, size_t n)
{
    PyMemAllocatorEx *a = ctx;
    py_counts[0]++;
    return a->malloc(a->ctx, n);
}

static void *
hk_calloc(void *ctx, size_t n, size_t size)
{
    PyMemAllocatorEx *a = ctx;
    py_counts[1]++;
    return a->calloc(a->ctx, n, size);
}

static void *
hk_realloc(void *ctx, void *p, size_t n)
{
    PyMemAllocatorEx *a = ctx;
    py_counts[2]++;
    return a->realloc(a->ctx, p, n);
}

static void
hk_free(void *ctx, void *p)
{
    PyMemAllocatorEx *a = ctx;
    if (p != NULL)
        py_counts[3]++;
    a->free(a->ctx, p);
}

static void
hooks_install(void)
{
    PyMemAllocatorEx hook_mem = {&orig_mem, hk_malloc, hk_calloc, hk_realloc, hk_free};
    PyMemAllocatorEx hook_obj = {&orig_obj, hk_malloc, hk_calloc, hk_realloc, hk_free};
    PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &orig_mem);
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &orig_obj);
    memset(py_counts, 0, sizeof py_counts);
    PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &hook_mem);
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &hook_obj);
}

static void
hooks_remove(void)
{
    PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &orig_mem);
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &orig_obj);
}

static PyObject *
counts_dict(const struct bench_alloc_counters *a, const struct bench_alloc_counters *b)
{
    return Py_BuildValue(
        "{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K}",
        "malloc", (unsigned long long)(b->malloc - a->malloc),
        "calloc", (unsigned long long)(b->calloc - a->calloc),
        "realloc", (unsigned long long)(b->realloc - a->realloc),
        "memalign", (unsigned long long)(b->memalign - a->memalign),
        "free", (unsigned long long)(b->free - a->free),
        "py_malloc", (unsigned long long)py_counts[0],
        "py_calloc", (unsigned long long)py_counts[1],
        "py_realloc", (unsigned long long)py_counts[2],
        "py_free", (unsigned long long)py_counts[3]);
}

static PyObject *
have_alloc_counters(PyObject *mod, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(libc_counters() != NULL);
}

static struct bench_alloc_counters *
require_counters(void)
{
    struct bench_alloc_counters *c = libc_counters();
    if (c == NULL)
        PyErr_SetString(PyExc_RuntimeError,
                        "bench_alloc_counters not found: run with LD_PRELOAD=liballoccount.so");
    return c;
}

/* count_allocs_call(callable) -> dict: allocations made while callable() runs (the consumer
 * loops of the consumer-side benchmark). The call's result is dropped after counting. */
static PyObject *
count_allocs_call(PyObject *mod, PyObject *fn)
{
    PyObject *res, *out;
    struct bench_alloc_counters *c, a, b;
    if ((c = require_counters()) == NULL)
        return NULL;
    hooks_install();
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    a = *c;
    res = PyObject_CallNoArgs(fn);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    b = *c;
    hooks_remove();
    if (res == NULL)
        return NULL;
    out = counts_dict(&a, &b);
    Py_DECREF(res);
    return out;
}

static PyObject *
count_allocs(PyObject *mod, PyObject *args)
{
    PyObject *obj;
    Py_ssize_t n, i;
    int flags = PyBUF_FULL_RO;
    Py_buffer view;
    struct bench_alloc_counters *c, a, b;
    if (!PyArg_ParseTuple(args, "On|i:count_allocs", &obj, &n, &flags))
        return NULL;
    if ((c = require_counters()) == NULL)
        return NULL;
    hooks_install();
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    a = *c;
    for (i = 0; i < n; i++) {
        if (PyObject_GetBuffer(obj, &view, flags) < 0) {
            hooks_remove();
            return NULL;
        }
        PyBuffer_Release(&view);
    }
    b = *c;
    hooks_remove();
    return counts_dict(&a, &b);
}

static PyObject *
calibrate(PyObject *mod, PyObject *args)
{
    Py_ssize_t k, i;
    struct bench_alloc_counters *c, a, b;
    /* Called through volatile pointers so the compiler cannot elide the pairs. */
    void *(*volatile m)(size_t) = malloc;
    void (*volatile f)(void *) = free;
    void *(*volatile pm)(size_t) = PyMem_Malloc;
    void (*volatile pf)(void *) = PyMem_Free;
    void *(*volatile om)(size_t) = PyObject_Malloc;
    void (*volatile of)(void *) = PyObject_Free;
    if (!PyArg_ParseTuple(args, "n:calibrate", &k))
        return NULL;
    if ((c = require_counters()) == NULL)
        return NULL;
    hooks_install();
    a = *c;
    for (i = 0; i < k; i++) {
        void *p = m(24);
        f(p);
    }
    for (i = 0; i < k; i++) {
        void *p = pm(24);
        pf(p);
    }
    for (i = 0; i < k; i++) {
        void *p = om(24);
        of(p);
    }
    b = *c;
    hooks_remove();
    return counts_dict(&a, &b);
}

/* ---- probe ------------------------------------------------------------------------------ */

#define POISON_BYTE 0xAB

static PyObject *
ssize_tuple(const Py_ssize_t *p, int ndim)
{
    PyObject *t;
    int i;
    if (p == NULL)
        Py_RETURN_NONE;
    if (ndim < 0 || ndim > 64)
        return PyUnicode_FromString("<unreadable: bad ndim>");
    t = PyTuple_New(ndim);
    if (t == NULL)
        return NULL;
    for (i = 0; i < ndim; i++) {
        PyObject *v = PyLong_FromSsize_t(p[i]);
        if (v == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

static PyObject *
probe(PyObject *mod, PyObject *args)
{
    PyObject *obj, *res = NULL, *fmt, *shape, *strides;
    int flags;
    Py_buffer view, copy;
    Py_ssize_t rc0, rc1, rc2;
    void *poison;
    if (!PyArg_ParseTuple(args, "Oi:probe", &obj, &flags))
        return NULL;
    memset(&poison, POISON_BYTE, sizeof poison);
    memset(&view, POISON_BYTE, sizeof view);
    rc0 = Py_REFCNT(obj);
    if (PyObject_GetBuffer(obj, &view, flags) < 0) {
        PyObject *type, *value, *tb, *msg;
        const char *left;
        rc1 = Py_REFCNT(obj);
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        msg = value ? PyObject_Str(value) : PyUnicode_FromString("");
        if (msg == NULL) {
            PyErr_Clear();
            msg = PyUnicode_FromString("<str() failed>");
        }
        if (view.obj == NULL)
            left = "null";
        else if ((void *)view.obj == poison)
            left = "untouched";
        else
            left = "other";
        res = Py_BuildValue("{s:O,s:s,s:N,s:s,s:n}", "ok", Py_False, "exc_type",
                            type ? ((PyTypeObject *)type)->tp_name : "<none>", "exc_msg", msg,
                            "obj_after", left, "refcnt_delta", rc1 - rc0);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return res;
    }
    rc1 = Py_REFCNT(obj);
    fmt = view.format ? PyUnicode_FromString(view.format) : Py_NewRef(Py_None);
    if (fmt == NULL) {
        PyErr_Clear();
        fmt = PyUnicode_FromString("<undecodable>");
    }
    shape = ssize_tuple(view.shape, view.ndim);
    strides = ssize_tuple(view.strides, view.ndim);
    if (fmt != NULL && shape != NULL && strides != NULL) {
        res = Py_BuildValue(
            "{s:O,s:O,s:O,s:n,s:n,s:n,s:i,s:i,s:O,s:O,s:O,s:O,s:O}",
            "ok", Py_True,
            "buf_null", view.buf == NULL ? Py_True : Py_False,
            "obj_is_exporter", view.obj == obj ? Py_True : Py_False,
            "refcnt_delta", rc1 - rc0,
            "len", view.len,
            "itemsize", view.itemsize,
            "ndim", view.ndim,
            "readonly", view.readonly,
            "format", fmt,
            "shape", shape,
            "strides", strides,
            "suboffsets_null", view.suboffsets == NULL ? Py_True : Py_False,
            "internal_poisoned", view.internal == poison ? Py_True : Py_False);
    }
    Py_XDECREF(fmt);
    Py_XDECREF(shape);
    Py_XDECREF(strides);
    /* Release through a copy, with the original scribbled over. */
    copy = view;
    memset(&view, 0xCD, sizeof view);
    PyBuffer_Release(&copy);
    rc2 = Py_REFCNT(obj);
    if (res != NULL) {
        PyObject *d = PyLong_FromSsize_t(rc2 - rc0);
        if (d == NULL || PyDict_SetItemString(res, "refcnt_after_release_delta", d) < 0) {
            Py_XDECREF(d);
            Py_CLEAR(res);
            return NULL;
        }
        Py_DECREF(d);
    }
    return res;
}

static PyMethodDef helper_methods[] = {
    {"raw_loop", raw_loop, METH_VARARGS, "raw_loop(obj, n, flags=PyBUF_FULL_RO) -> elapsed ns"},
    {"counted_loop", counted_loop, METH_VARARGS,
     "counted_loop(obj, n, flags, label): the loop alone counted by callgrind, dumped as label"},
    {"c_consumer_loop", c_consumer_loop, METH_VARARGS,
     "c_consumer_loop(obj, n) -> ns: GetBuffer(FORMAT|STRIDES) + f64 checks + Release, n times"},
    {"counted_call", counted_call, METH_VARARGS,
     "counted_call(callable, label): callable() counted by callgrind, dumped as label"},
    {"count_allocs_call", count_allocs_call, METH_O,
     "count_allocs_call(callable) -> allocations counted while callable() runs"},
    {"have_callgrind", have_callgrind, METH_NOARGS, "compiled with <valgrind/callgrind.h>?"},
    {"count_allocs", count_allocs, METH_VARARGS,
     "count_allocs(obj, n, flags=PyBUF_FULL_RO) -> dict of allocation calls during the loop"},
    {"calibrate", calibrate, METH_VARARGS, "calibrate(k) -> counts for k known allocations"},
    {"have_alloc_counters", have_alloc_counters, METH_NOARGS, "liballoccount.so preloaded?"},
    {"probe", probe, METH_VARARGS, "probe(obj, flags) -> dict describing one export"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef helper_module = {
    PyModuleDef_HEAD_INIT, "bench_helper", "Measuring helper for examples/bench.", -1,
    helper_methods,
};

PyMODINIT_FUNC
PyInit_bench_helper(void)
{
    PyObject *m = PyModule_Create(&helper_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "PyBUF_FULL_RO", PyBUF_FULL_RO) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
