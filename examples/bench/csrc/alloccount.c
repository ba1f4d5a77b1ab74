/* LD_PRELOAD allocation counter for the benchmark's allocations-per-export column.
 *
 * Interposes the libc allocation entry points, counts each call, and forwards to glibc's own
 * implementation through its exported __libc_* aliases (no dlsym(RTLD_NEXT), so there is no
 * bootstrap recursion). The counters live in one exported struct that bench_helper finds with
 * dlsym(RTLD_DEFAULT, "bench_alloc_counters"); without LD_PRELOAD the lookup fails and the
 * helper says so instead of reporting zeros.
 *
 * Built by examples/bench/build.py into examples/bench/build/liballoccount.so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

struct bench_alloc_counters {
    uint64_t malloc;   /* malloc */
    uint64_t calloc;   /* calloc */
    uint64_t realloc;  /* realloc, reallocarray */
    uint64_t memalign; /* posix_memalign, aligned_alloc, memalign, valloc, pvalloc */
    uint64_t free;     /* free (of a non-NULL pointer) */
};

__attribute__((visibility("default"))) struct bench_alloc_counters bench_alloc_counters;

#define COUNT(field) __atomic_fetch_add(&bench_alloc_counters.field, 1, __ATOMIC_RELAXED)

__attribute__((visibility("default"))) void *malloc(size_t n)
{
    COUNT(malloc);
    return __libc_malloc(n);
}

__attribute__((visibility("default"))) void *calloc(size_t n, size_t size)
{
    COUNT(calloc);
    return __libc_calloc(n, size);
}

__attribute__((visibility("default"))) void *realloc(void *p, size_t n)
{
    COUNT(realloc);
    return __libc_realloc(p, n);
}

__attribute__((visibility("default"))) void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    COUNT(realloc);
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(p, total);
}

__attribute__((visibility("default"))) void free(void *p)
{
    if (p != NULL)
        COUNT(free);
    __libc_free(p);
}

__attribute__((visibility("default"))) int posix_memalign(void **out, size_t align, size_t n)
{
    void *p;
    COUNT(memalign);
    if (align == 0 || align % sizeof(void *) != 0 || (align & (align - 1)) != 0)
        return EINVAL;
    p = __libc_memalign(align, n);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

__attribute__((visibility("default"))) void *aligned_alloc(size_t align, size_t n)
{
    COUNT(memalign);
    return __libc_memalign(align, n);
}

__attribute__((visibility("default"))) void *memalign(size_t align, size_t n)
{
    COUNT(memalign);
    return __libc_memalign(align, n);
}

__attribute__((visibility("default"))) void *valloc(size_t n)
{
    COUNT(memalign);
    return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), n);
}

__attribute__((visibility("default"))) void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    COUNT(memalign);
    return __libc_memalign(page, (n + page - 1) / page * page);
}
