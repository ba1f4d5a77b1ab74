"""What each example exposes, and proof that numpy and memoryview read it without a copy.

Run with `make demo` (builds the module into .venv first).
"""

import numpy as np

import buffer_examples as be


def address(view: memoryview) -> int:
    """The address of a view's first byte (works for read-only views too)."""
    return np.asarray(view).__array_interface__["data"][0]


def show(name: str, obj) -> None:
    m = memoryview(obj)
    print(
        f"{name:<34} format={m.format!r:<5} itemsize={m.itemsize} ndim={m.ndim} "
        f"shape={m.shape} strides={m.strides} readonly={m.readonly} "
        f"C={m.c_contiguous} F={m.f_contiguous}"
    )
    m.release()


def describe_record(dtype: np.dtype) -> str:
    """A structured dtype as a person reads it: one line per field (name, numpy type, byte
    offset), then the padding bytes no field covers."""
    lines = []
    covered = set()
    for name in dtype.names:
        sub, offset = dtype.fields[name][:2]
        covered.update(range(offset, offset + sub.itemsize))
        lines.append(f"    {name:<6} {str(sub):<10} offset {offset:>2}, {sub.itemsize} bytes")
    gaps, start = [], None
    for b in range(dtype.itemsize + 1):
        if b < dtype.itemsize and b not in covered:
            start = b if start is None else start
        elif start is not None:
            gaps.append(f"{start}..{b - 1}")
            start = None
    lines.append(f"    padding: bytes {', '.join(gaps)}" if gaps else "    no padding")
    return "\n".join(lines)


def main() -> None:
    print("== What each example exposes (memoryview fields)")
    examples = {
        "IntArray([1, 2, 3])": be.IntArray([1, 2, 3]),
        "IntMatrix(2, 3)": be.IntMatrix(2, 3, list(range(6))),
        "FortranMatrix(2, 3, ...)": be.FortranMatrix(2, 3, [float(i) for i in range(6)]),
        "Frozen(b'hello')": be.Frozen(b"hello"),
        "Image(2, 3, 4, pitch=16)": be.Image(2, 3, 4, 16),
        "Mat4()": be.Mat4(),
        "Scalar(2.5)": be.Scalar(2.5),
        "Grid((2, 3, 4), 'F')": be.Grid((2, 3, 4), "F"),
        "Table(2, ...)": be.Table(2, [float(i) for i in range(6)]),
        "GrowableArray([0.5, 1.5])": be.GrowableArray([0.5, 1.5]),
    }
    for name, obj in examples.items():
        show(name, obj)

    print("\n== Zero copy: numpy and memoryview share the object's memory")
    m = be.IntMatrix(2, 3, list(range(6)))
    a = np.asarray(m)
    view = memoryview(m)
    same = a.__array_interface__["data"][0] == address(view)
    a[1, 2] = 100  # write through numpy ...
    print(f"numpy and memoryview see the same address: {same}")
    print(f"write through numpy, read through memoryview: {view[1, 2]}, through Rust: {m.tolist()}")
    view.release()
    del a

    img = be.Image(2, 3, 4, 16)
    a = np.asarray(img)
    print(f"Image row pitch 16 with 12 data bytes per row: numpy strides {a.strides}, "
          f"padding never exposed: {a.shape}, pixel (1, 2) = {a[1, 2].tolist()}")
    del a

    big = be.Grid((1 << 24,))  # 128 MiB of float64
    before = address(memoryview(big))
    arrays = [np.asarray(big) for _ in range(10)]
    print(f"10 numpy arrays over a 128 MiB Grid share one block: "
          f"{all(x.__array_interface__['data'][0] == before for x in arrays)}")
    del arrays

    print("\n== Export safety: a growable array cannot be resized while a view is alive")
    g = be.GrowableArray([1.0, 2.0, 3.0])
    with memoryview(g) as v:
        v[0] = 10.0
        try:
            g.append(4.0)
        except BufferError as e:
            print(f"append while exported -> BufferError: {e}")
        print(f"sum() sees the write made through the view: {g.sum()}")
    g.append(4.0)
    print(f"after the view is released, append works: {g.tolist()}")

    print("\n== Request flags are honoured (CPython's _testbuffer as the consumer)")
    try:
        import _testbuffer as tb

        for name, flags in [("PyBUF_SIMPLE", tb.PyBUF_SIMPLE), ("PyBUF_ND", tb.PyBUF_ND),
                            ("PyBUF_STRIDES", tb.PyBUF_STRIDES),
                            ("PyBUF_F_CONTIGUOUS", tb.PyBUF_F_CONTIGUOUS),
                            ("PyBUF_C_CONTIGUOUS", tb.PyBUF_C_CONTIGUOUS)]:
            try:
                n = tb.ndarray(be.FortranMatrix(2, 3, [0.0] * 6), getbuf=flags)
                print(f"FortranMatrix with {name:<20} ndim={n.ndim} shape={n.shape} strides={n.strides}")
            except BufferError as e:
                print(f"FortranMatrix with {name:<20} BufferError: {e}")
    except ImportError:
        print("(_testbuffer is not available in this Python)")

    print("\n== Rich element types: records, float16, explicit byte order, RGBA pixels")
    p = np.asarray(be.Particles(3))
    print(f"Particles(3): numpy sees records of {p.dtype.itemsize} bytes with these fields:")
    print(describe_record(p.dtype))
    print(f"  x = {p['x'].tolist()}, mass = {p['mass'].tolist()}")
    for dtype in ("float16", ">i4", "complex64"):
        a = np.asarray(be.TypedArray(dtype, [1, 2, 3]))
        print(f"TypedArray({dtype!r}): numpy dtype {a.dtype.str}, values {a.tolist()}")
    px = np.asarray(be.Pixels(2, 3))
    print(f"Pixels(2, 3): shape {px.shape}, dtype {px.dtype}, pixel (1, 2) = {px[1, 2].tolist()}")

    print("\n== A consumer: sum_array reads any native int32 buffer in place")
    print(f"sum_array(IntMatrix)            = {be.sum_array(be.IntMatrix(2, 3, list(range(6))))}")
    print(f"sum_array(numpy int32[::-2])    = {be.sum_array(np.arange(10, dtype=np.int32)[::-2])}")
    try:
        be.sum_array(np.arange(3, dtype=">i4"))
    except TypeError as e:
        print(f"sum_array(big-endian int32)     -> TypeError: {e}")
    import ctypes

    print(f"sum_array(ctypes c_int * 3)     = {be.sum_array((ctypes.c_int * 3)(1, 2, 3))} "
          f"(ctypes hands out NULL strides)")

    pipeline()


def pipeline() -> None:
    """Two extension modules that know nothing of each other share pixels with no copy."""
    import io
    import threading
    import time

    import pixel_decoder
    import pixel_filter
    from PIL import Image as PILImage

    print("\n== The pixel pipeline: pixel_decoder exports, pixel_filter reads in place")
    picture = np.asarray(pixel_decoder.synthetic(480, 630, 3))
    png = io.BytesIO()
    PILImage.fromarray(np.ascontiguousarray(picture)).save(png, format="PNG")
    img = pixel_decoder.decode(png.getvalue())
    a = np.asarray(img)
    print(f"decode(PNG) -> {img!r}: strides {a.strides} (rows padded to 64 bytes), "
          f"equal to Pillow's decode: {np.array_equal(a, np.asarray(PILImage.open(png)))}")

    blurred = pixel_filter.box_blur(img, radius=2)
    gray = pixel_filter.grayscale(blurred)
    print(f"box_blur(img) -> {blurred!r}")
    print(f"grayscale(blurred) -> {gray!r}, numpy sees {np.asarray(gray).shape} {np.asarray(gray).dtype}")

    before = address(memoryview(img))
    pixel_filter.invert_inplace(img)  # writes the decoder's own memory through a writable view
    print(f"invert_inplace(img) wrote the decoder's memory in place: same address "
          f"{address(memoryview(img)) == before}, pixel (0, 1) {a[0, 1].tolist()} "
          f"= 255 - {picture[0, 1].tolist()}")
    for src in (a[::-1, ::2], np.asfortranarray(a), a.transpose(1, 0, 2)):
        out = np.asarray(pixel_filter.grayscale(src))
        print(f"grayscale of a numpy view with strides {src.strides}: shape {out.shape}")
    try:
        pixel_filter.invert_inplace(b"read-only bytes")
    except TypeError as e:
        print(f"invert_inplace(bytes) -> TypeError: {e}")
    try:
        pixel_filter.box_blur(np.zeros((4, 4), dtype=np.int32))
    except TypeError as e:
        print(f"box_blur(2-d int32) -> TypeError: {e}")

    big = pixel_decoder.synthetic(2000, 2000, 3)
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1

    t = threading.Thread(target=count)
    t.start()
    start = time.perf_counter()
    pixel_filter.box_blur(big, radius=8)
    elapsed = time.perf_counter() - start
    done.set()
    t.join()
    print(f"box_blur of 2000x2000x3 took {elapsed * 1000:.0f} ms with the GIL released: "
          f"another Python thread counted to {ticks} meanwhile")


if __name__ == "__main__":
    main()
