"""The module in the Python ecosystem: zero-copy use by third-party and standard-library
consumers, the typing stub (checked against the module and by mypy), and the abi3 wheel
(built with maturin, installed into a fresh virtual environment, imported and used)."""

import array
import ast
import ctypes
import io
import os
import socket
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image as PILImage

import buffer_examples as bx
from providers import has_getbuffer

EXAMPLES = Path(__file__).resolve().parent.parent
STUB = EXAMPLES / "buffer_examples.pyi"
BIN = Path(sys.executable).parent


def address(obj):
    """Address of the first byte of ``obj``'s buffer, as numpy sees it (numpy does not copy)."""
    return np.asarray(obj).__array_interface__["data"][0]


# --------------------------------------------------------------------------------------------
# Consumers
# --------------------------------------------------------------------------------------------


def test_pillow_frombuffer_shares_the_pixels():
    px = bx.Pixels(2, 3)  # height 2, width 3, RGBA
    im = PILImage.frombuffer("RGBA", px.size, px, "raw", "RGBA", 0, 1)
    assert im.size == (3, 2)
    for y in range(2):
        for x in range(3):
            assert im.getpixel((x, y)) == tuple(px.get(x, y)) == (x, y, x + y, 255)
    assert im.readonly  # Pillow's mark for an image that maps someone else's memory
    px.set(1, 0, [9, 8, 7, 6])  # a write by Rust is seen by Pillow: no copy was made
    assert im.getpixel((1, 0)) == (9, 8, 7, 6)
    # Pillow's own copy is independent, as documented.
    copy = im.copy()
    px.set(1, 0, [1, 2, 3, 4])
    assert copy.getpixel((1, 0)) == (9, 8, 7, 6)
    assert im.getpixel((1, 0)) == (1, 2, 3, 4)


def test_pyarrow_py_buffer_and_array_are_zero_copy():
    g = bx.GrowableArray([1.5, 2.5, -3.0])
    buf = pa.py_buffer(g)
    assert buf.size == 24
    assert buf.address == address(g)
    assert buf.to_pybytes() == struct.pack("3d", 1.5, 2.5, -3.0)

    arr = pa.Array.from_buffers(pa.float64(), 3, [None, buf])
    via_numpy = pa.array(np.asarray(g))
    assert via_numpy.buffers()[1].address == address(g)
    assert arr.to_pylist() == via_numpy.to_pylist() == [1.5, 2.5, -3.0]
    g[0] = 42.0  # written by Rust, read by Arrow: the memory is shared
    assert arr.to_pylist()[0] == via_numpy.to_pylist()[0] == 42.0
    # While Arrow holds the export, the Rust side refuses to move the memory.
    with pytest.raises(BufferError):
        g.append(1.0)
    del arr, via_numpy, buf
    g.append(1.0)
    assert g.tolist() == [42.0, 2.5, -3.0, 1.0]


def test_pyarrow_reads_read_only_providers():
    t = bx.Table(2, [float(i) for i in range(6)])
    buf = pa.py_buffer(t)
    assert not buf.is_mutable
    assert buf.address == address(t)
    assert pa.Array.from_buffers(pa.float64(), 6, [None, buf]).to_pylist() == [float(i) for i in range(6)]


def test_bytesio_readinto_writes_into_the_object():
    a = bx.IntArray([0, 0, 0])
    payload = struct.pack("3i", 7, -8, 2**31 - 1)
    assert io.BytesIO(payload).readinto(a) == 12
    assert a.tolist() == [7, -8, 2**31 - 1]  # read back by Rust from its own memory


def test_file_write_and_readinto(tmp_path):
    m = bx.IntMatrix(2, 3, [1, 2, 3, 4, 5, 6])
    path = tmp_path / "m.bin"
    with open(path, "wb") as f:
        assert f.write(m) == 24
    assert path.read_bytes() == struct.pack("6i", 1, 2, 3, 4, 5, 6)

    target = bx.IntMatrix(2, 3)
    with open(path, "rb", buffering=0) as f:
        assert f.readinto(target) == 24
    assert target.tolist() == [[1, 2, 3], [4, 5, 6]]

    # Padded rows are not C-contiguous: a consumer that needs plain bytes gets BufferError.
    with open(path, "wb") as f, pytest.raises(BufferError, match="not C-contiguous"):
        f.write(bx.Image(3, 4, 3, 16))
    # Read-only data refuses PyBUF_WRITABLE; CPython's argument parser reports it as TypeError.
    with pytest.raises(TypeError, match="read-write bytes-like object"):
        io.BytesIO(b"xyz").readinto(bx.Frozen(b"abc"))


def test_socket_recv_into_and_send():
    a, b = socket.socketpair()
    with a, b:
        assert a.send(bx.IntMatrix(2, 2, [1, 2, 3, 4])) == 16
        target = bx.GrowableArray([0.0] * 4)
        assert b.recv_into(target) == 16
        assert struct.unpack("4i", struct.pack("2d", *target.tolist()[:2])) == (1, 2, 3, 4)
        a.sendall(struct.pack("2d", -1.0, 0.5))
        view = memoryview(target)
        assert b.recv_into(view[2:], 16) == 16  # into a slice of a view: still our memory
        view.release()
        assert target.tolist()[2:] == [-1.0, 0.5]
        # Fortran order is not C-contiguous: a plain-bytes consumer is refused, not misled.
        with pytest.raises(BufferError, match="not C-contiguous"):
            a.send(bx.FortranMatrix(2, 2, [1.0, 2.0, 3.0, 4.0]))


def test_array_frombytes_reads_the_buffer():
    arr = array.array("B")
    arr.frombytes(bx.Frozen(b"hello"))
    arr.frombytes(bx.Pixels(1, 2))
    assert arr.tobytes() == b"hello" + bytes([0, 0, 0, 255, 1, 0, 1, 255])
    # frombytes wants itemsize 1, as for CPython's own array('i'): same TypeError for both.
    with pytest.raises(TypeError, match="a bytes-like object is required"):
        array.array("i").frombytes(array.array("i", [5]))
    with pytest.raises(TypeError, match="a bytes-like object is required"):
        array.array("i").frombytes(bx.IntArray([5]))
    # Through a byte cast of a view it works, with the data intact.
    ints = array.array("i")
    with memoryview(bx.IntArray([5, -6, 7])) as m:
        ints.frombytes(m.cast("B"))
    assert ints.tolist() == [5, -6, 7]


def test_ctypes_from_buffer_shares_writable_memory():
    a = bx.IntArray([1, 2, 3])
    c = (ctypes.c_int32 * 3).from_buffer(a)
    assert ctypes.addressof(c) == address(a)
    c[1] = 99
    assert a.tolist() == [1, 99, 3]
    del c


# --------------------------------------------------------------------------------------------
# Typing
# --------------------------------------------------------------------------------------------


def stub_tree():
    return ast.parse(STUB.read_text())


def stub_classes():
    return {n.name: n for n in stub_tree().body if isinstance(n, ast.ClassDef) and not n.name.startswith("_")}


def test_stub_names_match_the_module():
    public = {n for n in dir(bx) if not n.startswith("_") and n != "buffer_examples"}
    tree = stub_tree()
    stubbed = {
        n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and not n.name.startswith("_")
    }
    assert stubbed == public
    all_ = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "__all__")
    assert sorted(ast.literal_eval(all_.value)) == sorted(public)


def test_stub_buffer_classes_are_exactly_the_providers():
    classes = stub_classes()
    providers = {name for name in classes if has_getbuffer(getattr(bx, name))}
    assert providers == set(classes)
    assert not has_getbuffer(int)
    for name, node in classes.items():
        assert [b.id for b in node.bases] == ["_Provider"], name


def test_stub_methods_match_the_classes():
    dunders = {"__len__", "__getitem__", "__setitem__"}
    for name, node in stub_classes().items():
        cls = getattr(bx, name)
        runtime = {m for m in vars(cls) if not m.startswith("_") or m in dunders}
        stubbed = {n.name for n in node.body if isinstance(n, ast.FunctionDef) and n.name != "__init__"}
        stubbed |= {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
        assert stubbed == runtime, name


def stub_params(fn):
    """Parameter names of a stub function (without self), with whether each has a default."""
    args = fn.args.posonlyargs + fn.args.args
    defaults = [False] * (len(args) - len(fn.args.defaults)) + [True] * len(fn.args.defaults)
    return [(a.arg, d) for a, d in zip(args, defaults) if a.arg != "self"]


def runtime_params(obj):
    import inspect

    try:
        sig = inspect.signature(obj)
    except ValueError:
        return None  # no text signature (slot wrappers of dunder methods)
    return [(p.name, p.default is not p.empty) for p in sig.parameters.values() if p.name != "self"]


def test_stub_signatures_match_the_module():
    for name, node in stub_classes().items():
        cls = getattr(bx, name)
        for fn in (n for n in node.body if isinstance(n, ast.FunctionDef)):
            if fn.decorator_list:  # properties
                continue
            target = cls if fn.name == "__init__" else getattr(cls, fn.name)
            runtime = runtime_params(target)
            if runtime is not None:
                assert stub_params(fn) == runtime, f"{name}.{fn.name}"
    for fn in (n for n in stub_tree().body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")):
        assert stub_params(fn) == runtime_params(getattr(bx, fn.name)), fn.name


def run_mypy(tmp_path, code, python=sys.executable):
    src = tmp_path / "snippet.py"
    src.write_text(textwrap.dedent(code))
    return subprocess.run(
        [
            sys.executable, "-m", "mypy", "--strict", "--no-incremental",
            "--python-executable", str(python), "--cache-dir", str(tmp_path / ".mypy_cache"), str(src),
        ],
        capture_output=True, text=True, cwd=tmp_path,
    )


def test_mypy_accepts_buffers_and_rejects_non_buffers(tmp_path):
    good = run_mypy(tmp_path, """
        import hashlib
        from typing_extensions import Buffer
        import buffer_examples as bx

        def nbytes(b: Buffer) -> int:
            with memoryview(b) as m:
                return m.nbytes

        a = bx.IntArray([1])
        m: memoryview = memoryview(a)
        raw: bytes = bytes(bx.IntMatrix(2, 3))
        total: int = bx.sum_array(a) + nbytes(bx.Image(2, 2, 3, 8)) + nbytes(bx.Scalar(1.0))
        digest = hashlib.sha256(bx.Frozen(b"x")).hexdigest()
        shape: tuple[int, int] = bx.IntMatrix(2, 2).shape
        report: str = bx.check_provider(a)
    """)
    assert good.returncode == 0, good.stdout + good.stderr

    bad = run_mypy(tmp_path, """
        import buffer_examples as bx

        bx.sum_array([1, 2, 3])
        memoryview(object())
        bytes(object())
        bx.IntArray(["x"])
        n: str = len(bx.IntArray([1]))
    """)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    lines = [line for line in bad.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in lines] == ["4", "5", "6", "7", "8"], bad.stdout
    assert 'Argument 1 to "sum_array" has incompatible type "list[int]"; expected "Buffer"' in bad.stdout


# --------------------------------------------------------------------------------------------
# abi3
# --------------------------------------------------------------------------------------------


def newer_pythons():
    """CPython >= 3.12 interpreters on this machine (pyenv's, or on PATH), one per version."""
    import glob
    import shutil

    found = {}
    candidates = glob.glob(str(Path.home() / ".pyenv/versions/3.*/bin/python3"))
    candidates += [shutil.which(f"python3.{minor}") for minor in range(12, 20)]
    for exe in filter(None, candidates):
        out = subprocess.run(
            [exe, "-c", "import sys; print(sys.implementation.name, *sys.version_info[:2])"],
            capture_output=True, text=True,
        )
        if out.returncode == 0:
            impl, major, minor = out.stdout.split()
            if impl == "cpython" and (int(major), int(minor)) >= (3, 12):
                found.setdefault(f"{major}.{minor}", exe)
    return found


#: The interpreter running the tests (the wheel's minimum, 3.11) and every newer one found.
INTERPRETERS = {f"{sys.version_info[0]}.{sys.version_info[1]}": sys._base_executable, **newer_pythons()}

#: The versions the guide says the abi3 wheel is tested under: each is a test case, skipped
#: (with the reason, in pytest's summary) on a machine that lacks that interpreter.
CLAIMED = ("3.11", "3.12", "3.13")


@pytest.fixture(scope="module")
def abi3_wheel(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [str(BIN / "maturin"), "build", "--release", "--features", "abi3", "--quiet", "-o", str(dist)],
        cwd=EXAMPLES, check=True,
    )
    (wheel,) = dist.glob("*.whl")
    return wheel


def test_abi3_wheel_contents(abi3_wheel):
    assert "-cp311-abi3-" in abi3_wheel.name
    names = zipfile.ZipFile(abi3_wheel).namelist()
    assert "buffer_examples/__init__.pyi" in names
    assert "buffer_examples/py.typed" in names
    assert [n for n in names if n.endswith(".so")] == ["buffer_examples/buffer_examples.abi3.so"]


ABI3_SCRIPT = textwrap.dedent("""
    import collections.abc
    import hashlib
    import sys
    import buffer_examples as bx
    assert bx.buffer_examples.__file__.endswith(".abi3.so"), bx.buffer_examples.__file__
    m = bx.IntMatrix(2, 3, [1, 2, 3, 4, 5, 6])
    with memoryview(m) as v:
        assert (v.format, v.shape, v.strides) == ("i", (2, 3), (12, 4))
        v[1, 2] = 60
    assert m.tolist() == [[1, 2, 3], [4, 5, 60]]
    assert bx.sum_array(m) == 75
    assert hashlib.sha256(bx.Frozen(b"abc")).hexdigest() == hashlib.sha256(b"abc").hexdigest()
    if sys.version_info >= (3, 12):  # PEP 688 at run time: the class is a Buffer, __buffer__ works
        assert isinstance(m, collections.abc.Buffer)
        assert not isinstance(object(), collections.abc.Buffer)
        with m.__buffer__(0) as raw:
            assert raw.nbytes == 24
    for obj in (m, bx.Image(3, 4, 3, 16), bx.Scalar(2.5), bx.Particles(2), bx.Readings([1.0])):
        print(bx.check_provider(obj).splitlines()[0])
""")


@pytest.mark.parametrize("version", sorted(set(INTERPRETERS) | set(CLAIMED), key=lambda v: tuple(map(int, v.split(".")))))
def test_abi3_wheel_installs_into_a_fresh_venv_and_works(abi3_wheel, version, tmp_path):
    if version not in INTERPRETERS:
        pytest.skip(f"CPython {version} is not installed here (pyenv or PATH): the abi3 wheel is not checked under it")
    env_dir = tmp_path / "venv"
    subprocess.run([INTERPRETERS[version], "-m", "venv", str(env_dir)], check=True)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", str(abi3_wheel)], check=True
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    out = subprocess.run([str(py), "-c", ABI3_SCRIPT], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count(" 0 failed") == 5, out.stdout

    # The installed stub is what a type checker of that environment sees.
    typed = run_mypy(tmp_path, "import buffer_examples as bx\nbx.sum_array(1)\n", python=py)
    assert 'incompatible type "int"; expected "Buffer"' in typed.stdout, typed.stdout + typed.stderr


def test_abi3_below_311_is_one_clear_error(tmp_path):
    out = subprocess.run(
        ["cargo", "check", "--quiet", "-p", "buffer-runtime", "--features", "pyo3/abi3-py310"],
        cwd=EXAMPLES.parent, capture_output=True, text=True,
    )
    assert out.returncode != 0
    assert "buffer-runtime needs Python 3.11 or newer under abi3 (pyo3 targets abi3-py310)" in out.stderr
    assert "Py_buffer" not in out.stderr, out.stderr  # no missing-symbol errors after it


# --------------------------------------------------------------------------------------------
# Package metadata
# --------------------------------------------------------------------------------------------

PUBLISHED = ["buffer-runtime", "buffer-derive"]


def cargo(*args):
    return subprocess.run(["cargo", *args], cwd=EXAMPLES.parent, capture_output=True, text=True, check=True).stdout


def test_crate_metadata():
    import json

    packages = {p["name"]: p for p in json.loads(cargo("metadata", "--no-deps", "--format-version", "1"))["packages"]}
    for name in PUBLISHED:
        p = packages[name]
        for key in ("description", "license", "rust_version", "readme"):
            assert p[key], (name, key)
        # No public repository exists yet: no placeholder address either.
        assert p["repository"] is None, (name, p["repository"])
        assert 1 <= len(p["keywords"]) <= 5 and p["categories"], name
        assert p["publish"] is None, name
    for name in ("buffer-examples", "ui-tests"):
        assert packages[name]["publish"] == [], name  # publish = false


@pytest.mark.parametrize("name", PUBLISHED)
def test_cargo_package_list_is_clean(name):
    files = cargo("package", "--list", "--allow-dirty", "-p", name).split()
    assert {"Cargo.toml", "README.md", "src/lib.rs"} <= set(files)
    unexpected = [f for f in files if f.startswith(("target/", ".")) and f != ".cargo_vcs_info.json"]
    unexpected += [f for f in files if f.endswith((".pyc", ".so", ".whl", ".orig~"))]
    assert not unexpected, unexpected
    if name == "buffer-runtime":
        assert "docs/guide.md" in files  # the crate documentation includes it
