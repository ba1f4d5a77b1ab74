"""Builds every benchmark peer from source, on this machine, into examples/bench/build/.

    python examples/bench/build.py        # what bench.py does first

- pip-installs requirements.txt (cython, pybind11, matplotlib) into the running interpreter's
  environment (the project's .venv) when a pinned version is missing;
- compiles with the system C/C++ compiler ($CC/$CXX, default cc/c++), flags -O2:
    build/py/bench_helper.*.so   the measuring helper (csrc/bench_helper.c)
    build/py/bench_cprov.*.so    peer 1, hand-written C provider (csrc/bench_cprov.c)
    build/py/bench_cy.*.so       peer 2, Cython (cython/bench_cy.pyx)
    build/py/bench_pb11.*.so     peer 3, pybind11 (pybind11/bench_pb11.cpp)
    build/liballoccount.so       LD_PRELOAD allocation counter (csrc/alloccount.c)
- builds peer 4 (pyo3_peer/, PyO3 0.30.1) and the consumer-side loops (consumer/, on
  buffer-runtime) with `maturin develop --release` into the venv, with
  CARGO_TARGET_DIR=build/cargo.

Each product is rebuilt only when a hash of its inputs and command line changes (stamps in
build/stamps/), so a second run costs well under a second.
"""
from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import os
import shlex
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BUILD = BENCH / "build"
PYDIR = BUILD / "py"
GEN = BUILD / "gen"
STAMPS = BUILD / "stamps"
CARGO_TARGET = BUILD / "cargo"
PRELOAD = BUILD / "liballoccount.so"
EXT = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
PY_INCLUDE = sysconfig.get_paths()["include"]


def log(msg: str) -> None:
    print(f"[bench-build] {msg}", flush=True)


def run(cmd: list[str], **kw) -> None:
    log("+ " + " ".join(shlex.quote(str(c)) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def digest(inputs: list[Path], cmd: list[str]) -> str:
    h = hashlib.sha256()
    h.update(sys.version.encode())
    h.update(sys.prefix.encode())
    for c in cmd:
        h.update(str(c).encode() + b"\0")
    for p in inputs:
        h.update(os.path.relpath(p, BENCH).encode() + b"\0")
        h.update(p.read_bytes() if p.exists() else b"<missing>")
    return h.hexdigest()


def fresh(name: str, outputs: list[Path], key: str) -> bool:
    stamp = STAMPS / f"{name}.sha256"
    return all(o.exists() for o in outputs) and stamp.exists() and stamp.read_text() == key


def mark(name: str, key: str) -> None:
    STAMPS.mkdir(parents=True, exist_ok=True)
    (STAMPS / f"{name}.sha256").write_text(key)


# ---- requirements ---------------------------------------------------------------------------


def pinned() -> dict[str, str]:
    pins = {}
    for line in (BENCH / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, ver = line.split("==", 1)
            pins[name.strip()] = ver.strip()
    return pins


def ensure_requirements() -> None:
    missing = []
    for name, ver in pinned().items():
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            have = None
        if have != ver:
            missing.append(f"{name}=={ver} (have {have})")
    if missing:
        log("installing " + ", ".join(missing))
        run([sys.executable, "-m", "pip", "install", "--quiet", "-r", BENCH / "requirements.txt"])
        importlib.invalidate_caches()


# ---- C / Cython / C++ -----------------------------------------------------------------------

CC = os.environ.get("CC", "cc")
CXX = os.environ.get("CXX", "c++")
COMMON = ["-O2", "-fPIC", "-shared", "-DNDEBUG", "-fno-strict-aliasing", f"-I{PY_INCLUDE}"]


def compile_to(cmd: list[str], out: Path) -> None:
    """Runs a compiler command ending in `-o out` into a temporary file, then renames it over
    `out`: a process that has the old library loaded keeps its (unlinked) copy intact."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    assert cmd[-2:] == ["-o", str(out)]
    try:
        run(cmd[:-1] + [str(tmp)])
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def compile_c(name: str, src: Path, out: Path, extra: list[str] = (), inputs: list[Path] = ()) -> None:
    cmd = [CC, *COMMON, "-Wall", *extra, str(src), "-o", str(out)]
    key = digest([src, *inputs], cmd)
    if fresh(name, [out], key):
        return
    compile_to(cmd, out)
    mark(name, key)


def build_cython() -> None:
    pyx = BENCH / "cython" / "bench_cy.pyx"
    c_out = GEN / "bench_cy.c"
    so = PYDIR / f"bench_cy{EXT}"
    import Cython

    gen_cmd = [sys.executable, "-m", "cython", "-3", str(pyx), "-o", str(c_out)]
    cc_cmd = [CC, *COMMON, "-w", str(c_out), "-o", str(so)]
    key = digest([pyx], gen_cmd + cc_cmd + [Cython.__version__])
    if fresh("bench_cy", [so], key):
        return
    GEN.mkdir(parents=True, exist_ok=True)
    run(gen_cmd)
    compile_to(cc_cmd, so)
    mark("bench_cy", key)


def build_pybind11() -> None:
    import pybind11

    src = BENCH / "pybind11" / "bench_pb11.cpp"
    so = PYDIR / f"bench_pb11{EXT}"
    cmd = [CXX, "-std=c++17", "-fvisibility=hidden", *COMMON, f"-I{pybind11.get_include()}",
           str(src), "-o", str(so)]
    key = digest([src], cmd + [pybind11.__version__])
    if fresh("bench_pb11", [so], key):
        return
    compile_to(cmd, so)
    mark("bench_pb11", key)


# ---- Rust crates: the PyO3 peer and the consumer-side loops ------------------------------

PYO3_DIR = BENCH / "pyo3_peer"
CONSUMER_DIR = BENCH / "consumer"
RUNTIME_DIR = BENCH.parent.parent / "buffer-runtime"
# (stamp name, crate dir, module, extra inputs): each built with `maturin develop --release`.
RUST_CRATES = [("bench_pyo3", PYO3_DIR, "bench_pyo3", []),
               ("bench_consumer", CONSUMER_DIR, "bench_consumer", [RUNTIME_DIR])]


def crate_inputs(crate_dir: Path, extra: list[Path]) -> list[Path]:
    files = [crate_dir / "Cargo.toml", crate_dir / "Cargo.lock", crate_dir / "pyproject.toml",
             *sorted((crate_dir / "src").glob("*.rs"))]
    for d in extra:  # a path dependency: its sources and manifest
        files += [d / "Cargo.toml", *sorted(d.glob("src/**/*.rs"))]
    return files


def pyo3_inputs() -> list[Path]:
    return crate_inputs(PYO3_DIR, [])


def installed(module: str) -> bool:
    spec = importlib.util.find_spec(module)
    return spec is not None and spec.origin is not None and \
        Path(spec.origin).resolve().is_relative_to(Path(sys.prefix).resolve())


def pyo3_installed() -> bool:
    return installed("bench_pyo3")


def crate_command(crate_dir: Path) -> list[str]:
    maturin = Path(sys.executable).parent / "maturin"
    return [str(maturin), "develop", "--release", "--quiet", "-m", str(crate_dir / "Cargo.toml")]


def pyo3_command() -> list[str]:
    return crate_command(PYO3_DIR)


def start_pyo3() -> subprocess.Popen | None:
    """Starts the Rust builds that are out of date, one after the other (they share a target
    directory, so cargo would serialise them anyway); returns a handle or None."""
    todo = [c for c in RUST_CRATES
            if not (fresh(c[0], [], digest(crate_inputs(c[1], c[3]), crate_command(c[1])))
                    and installed(c[2]))]
    if not todo:
        return None
    maturin = Path(sys.executable).parent / "maturin"
    if not maturin.exists():
        run([sys.executable, "-m", "pip", "install", "--quiet", "maturin>=1.9,<2"])
    script = " && ".join(" ".join(shlex.quote(a) for a in crate_command(c[1])) for c in todo)
    env = dict(os.environ, VIRTUAL_ENV=sys.prefix, CARGO_TARGET_DIR=str(CARGO_TARGET),
               PYO3_PYTHON=sys.executable)
    log("+ " + script + f"   (CARGO_TARGET_DIR={CARGO_TARGET})")
    proc = subprocess.Popen(["sh", "-c", script], env=env, cwd=BENCH)
    proc.crates = todo  # type: ignore[attr-defined]
    return proc


def finish_pyo3(proc: subprocess.Popen | None) -> None:
    if proc is None:
        return
    if proc.wait() != 0:
        raise SystemExit(f"[bench-build] maturin develop failed (exit {proc.returncode})")
    importlib.invalidate_caches()
    # Cargo.lock exists only after the first build: hash after building.
    for name, crate_dir, _module, extra in proc.crates:  # type: ignore[attr-defined]
        mark(name, digest(crate_inputs(crate_dir, extra), crate_command(crate_dir)))


# ---- the example module built for abi3 (PyO3's slots: the type object cannot be patched) ---

ABI3_SITE = BUILD / "abi3" / "site"
EXAMPLES_DIR = BENCH.parent


def abi3_inputs() -> list[Path]:
    root = BENCH.parent.parent
    files = [root / "Cargo.toml", root / "Cargo.lock", EXAMPLES_DIR / "Cargo.toml"]
    for d in (root / "buffer-runtime", root / "buffer-derive", EXAMPLES_DIR):
        files += sorted(d.glob("src/**/*.rs"))
    return files + pyo3_inputs()


def ensure_abi3() -> Path | None:
    """`buffer_examples` and the hand-written PyO3 peer (`bench_pyo3`), both built with
    `--features abi3` into build/abi3/site (its own import path, never the venv's: there the
    abi3 peer shadows the venv's, so the abi3 comparison is of one build against the same);
    returns the directory, or None if a build failed."""
    maturin = Path(sys.executable).parent / "maturin"
    dist = BUILD / "abi3" / "dist"
    builds = [("buffer_examples", EXAMPLES_DIR, {}),
              ("bench_pyo3_peer", PYO3_DIR, {"CARGO_TARGET_DIR": str(CARGO_TARGET)})]
    cmds = [[str(maturin), "build", "--release", "--quiet", "--features", "abi3",
             "-m", str(d / "Cargo.toml"), "-o", str(dist)] for _, d, _ in builds]
    key = digest(abi3_inputs(), [a for c in cmds for a in c])
    if fresh("abi3", [ABI3_SITE / "buffer_examples", ABI3_SITE / "bench_pyo3"], key):
        return ABI3_SITE
    for old in dist.glob("*.whl") if dist.exists() else []:
        old.unlink()
    try:
        for (wheel, crate_dir, extra), cmd in zip(builds, cmds):
            run(cmd, env=dict(os.environ, PYO3_PYTHON=sys.executable, **extra), cwd=crate_dir)
            wheels = sorted(dist.glob(f"{wheel}-*abi3*.whl"))
            if not wheels:
                return None
            run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade",
                 "--target", str(ABI3_SITE), str(wheels[-1])])
    except subprocess.CalledProcessError:
        return None
    mark("abi3", key)
    return ABI3_SITE


# ---- everything -----------------------------------------------------------------------------


def ensure_all() -> None:
    """Builds what is out of date. Concurrent runs (a test suite and `make bench`) take turns."""
    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _ensure_all()


def _ensure_all() -> None:
    t0 = time.monotonic()
    ensure_requirements()
    # The Rust build is the long pole: run it while the C/C++ peers compile.
    proc = start_pyo3()
    try:
        csrc = BENCH / "csrc"
        # The callgrind client requests come from valgrind's header when it is installed (a
        # helper built before valgrind was installed is rebuilt: the header is an input).
        compile_c("bench_helper", csrc / "bench_helper.c", PYDIR / f"bench_helper{EXT}", ["-ldl"],
                  inputs=[Path("/usr/include/valgrind/callgrind.h")])
        compile_c("bench_cprov", csrc / "bench_cprov.c", PYDIR / f"bench_cprov{EXT}")
        compile_c("alloccount", csrc / "alloccount.c", PRELOAD)
        build_cython()
        build_pybind11()
    except BaseException:
        if proc is not None:
            proc.kill()
            proc.wait()
        raise
    finish_pyo3(proc)
    log(f"peers up to date ({time.monotonic() - t0:.1f} s)")


if __name__ == "__main__":
    ensure_all()
