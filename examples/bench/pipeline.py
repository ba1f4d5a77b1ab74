"""Image pipeline benchmark: decode -> box blur -> grayscale through the buffer protocol.

    make bench-pipeline                     # full run: writes pipeline-results.md and pipeline.png here
    python examples/bench/pipeline.py --smoke   # tiny picture, 1 round: writes into build/smoke/

One picture (4000 x 3000 x 3 uint8 by default: shape (height, width, channels) = (4000, 3000, 3)),
made from the synthetic pattern plus noise and encoded to PNG once with Pillow (untimed).  Then,
in ONE process, interleaved round-robin over every contender (the order rotated each round) for
several rounds; medians reported with their spread (min-max over the rounds):

  chains   a. buffer protocol: pixel_decoder.decode -> pixel_filter.box_blur -> pixel_filter.grayscale
           b. the same chain with a copy at each hand-over (decode->blur, blur->grayscale,
              grayscale->caller): b1 memoryview(img).tobytes() re-wrapped with np.frombuffer,
              b2 np.array(img, order="C", copy=True)
           c. pixel_decoder.decode, then the numpy references (examples/tests/pixel_reference.py)
           d. Pillow: Image.open -> filter(ImageFilter.BoxBlur(1)) -> convert("L")
           e. OpenCV: cv2.imdecode -> cv2.blur((3,3), BORDER_REPLICATE) -> cv2.cvtColor, at 1 thread
              (cv2.setNumThreads(1)) and at OpenCV's default thread count
  alone    decode; box blur r=1; grayscale; invert in place (pixel_filter.invert_inplace vs
           np.subtract(255, a, out=a) and cv2.bitwise_not); memory: a.copy() and np.copyto
           (the memory bandwidth limit for a filter that reads one picture and writes another)

GB/s is the decoded picture's bytes (height * width * 3) divided by the time, for every row, so
rows are comparable.  Contenders that cannot be imported are skipped with a printed note.
Pillow's BoxBlur rounds differently from the specified formula: it is timed, not compared.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import importlib.metadata as md
import io
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent.parent
sys.path.insert(0, str(ROOT / "examples" / "tests"))

import numpy as np  # noqa: E402

import pixel_reference as ref  # noqa: E402

FULL = dict(height=4000, width=3000, rounds=11, sample_s=0.05)
SMOKE = dict(height=48, width=64, rounds=1, sample_s=0.002)


def log(msg: str) -> None:
    print(f"[pipeline] {msg}", flush=True)


def try_import(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as e:
        log(f"note: {name} is not importable ({e}); its contenders are skipped")
        return None


# ---- the picture ----------------------------------------------------------------------------


def make_picture(h: int, w: int, pd) -> np.ndarray:
    """The synthetic pattern plus noise: compresses (and decodes) more like a photo than the
    bare pattern or pure noise would."""
    base = np.asarray(pd.synthetic(h, w, 3)) if pd is not None else ref.synthetic(h, w, 3)
    noise = np.random.default_rng(7).integers(-12, 13, size=(h, w, 3), dtype=np.int16)
    return np.clip(base.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def encode_png(a: np.ndarray, Image) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


# ---- contenders -----------------------------------------------------------------------------


class Contender:
    def __init__(self, group, key, label, fn, pre=None, note="", check=None):
        self.group, self.key, self.label, self.fn = group, key, label, fn
        self.pre = pre  # called before each sample, untimed (thread settings)
        self.note = note
        self.check = check  # () -> str: the output compared with the reference, once
        self.reps = 1
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.error: str | None = None


GROUPS = [
    ("chain", "Chains: decode -> box blur r=1 -> grayscale (PNG bytes in, gray array out)"),
    ("decode", "Decode alone (PNG bytes in, RGB pixels out)"),
    ("blur", "Box blur r=1 alone (edge-clamped 3x3 mean)"),
    ("gray", "Grayscale alone"),
    ("invert", "Invert in place (255 - a)"),
    ("memory", "Memory bandwidth: copy the picture"),
]
# The row every other row of its group is compared with ("time / ours").
OURS = {"chain": "chain-zero", "decode": "dec-pd", "blur": "blur-pf-img", "gray": "gray-pf-img",
        "invert": "inv-pf-img", "memory": "copy"}


def compare(got, want) -> str:
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        if got.size == want.size:
            got = got.reshape(want.shape)
        else:
            return f"shape {got.shape} != {want.shape}"
    if np.array_equal(got, want):
        return "exact"
    d = np.abs(got.astype(np.int16) - want.astype(np.int16))
    return f"max diff {int(d.max())}, {100 * np.count_nonzero(d) / d.size:.2g}% differ"


def build_contenders(png: bytes, pic: np.ndarray, mods: dict) -> list[Contender]:
    pd, pf, cv2, Image, ImageFilter = (mods[k] for k in ("pd", "pf", "cv2", "Image", "ImageFilter"))
    h, w, c = pic.shape
    out: list[Contender] = []
    add = out.append

    def handover(img) -> np.ndarray:
        """A copying hand-over through bytes: what a library returning `bytes` costs. CPython
        gathers the padded rows into C order (memmove per innermost run: 3 bytes per pixel)."""
        m = memoryview(img)
        return np.frombuffer(m.tobytes(), dtype=np.uint8).reshape(m.shape)

    def handover_np(img) -> np.ndarray:
        """A copying hand-over through numpy: always a fresh C-ordered copy."""
        return np.array(img, dtype=np.uint8, order="C", copy=True)

    # references for the checks (computed once, untimed)
    want_blur = ref.box_blur(pic, 1)
    want_gray = ref.grayscale(pic)
    want_chain = ref.grayscale(want_blur)
    arr = np.ascontiguousarray(pic)  # the numpy / OpenCV / Pillow input
    pim = Image.fromarray(arr)

    cv_default = mods.get("cv2_default_threads")

    def cv_threads(n):
        return lambda: cv2.setNumThreads(n)

    # ---- chains
    if pd is not None and pf is not None:
        def chain_zero():
            return np.asarray(pf.grayscale(pf.box_blur(pd.decode(png), 1)))

        def chain_copy():
            a = handover(pd.decode(png))
            b = handover(pf.box_blur(a, 1))
            return handover(pf.grayscale(b))

        add(Contender("chain", "chain-zero", "a. buffer protocol (pixel_decoder -> pixel_filter)",
                      chain_zero, check=lambda: compare(chain_zero(), want_chain)))
        def chain_copy_np():
            a = handover_np(pd.decode(png))
            b = handover_np(pf.box_blur(a, 1))
            return handover_np(pf.grayscale(b))

        add(Contender("chain", "chain-copy", "b1. same, bytes copy at each hand-over (memoryview.tobytes)",
                      chain_copy, check=lambda: compare(chain_copy(), want_chain)))
        add(Contender("chain", "chain-copy-np", "b2. same, numpy copy at each hand-over (np.array)",
                      chain_copy_np, check=lambda: compare(chain_copy_np(), want_chain)))
    if pd is not None:
        def chain_numpy():
            return ref.grayscale(ref.box_blur(np.asarray(pd.decode(png)), 1))
        numpy_decoder = "pixel_decoder"
    else:
        def chain_numpy():
            return ref.grayscale(ref.box_blur(np.asarray(Image.open(io.BytesIO(png))), 1))
        numpy_decoder = "Pillow"
    add(Contender("chain", "chain-numpy", f"c. {numpy_decoder}.decode + numpy filters", chain_numpy,
                  check=lambda: compare(chain_numpy(), want_chain)))

    def chain_pil():
        return np.asarray(Image.open(io.BytesIO(png)).filter(ImageFilter.BoxBlur(1)).convert("L"))

    add(Contender("chain", "chain-pil", "d. Pillow", chain_pil,
                  note="BoxBlur/convert(\"L\") round differently: not compared"))
    if cv2 is not None:
        def chain_cv():
            a = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)  # BGR
            b = cv2.blur(a, (3, 3), borderType=cv2.BORDER_REPLICATE)
            return cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)

        cv_check = lambda: compare(chain_cv(), want_chain)  # noqa: E731
        add(Contender("chain", "chain-cv1", "e. OpenCV, 1 thread", chain_cv, pre=cv_threads(1),
                      check=cv_check))
        add(Contender("chain", "chain-cvN", f"e. OpenCV, default ({cv_default} threads)", chain_cv,
                      pre=cv_threads(cv_default)))

    # ---- decode alone
    if pd is not None:
        add(Contender("decode", "dec-pd", "pixel_decoder.decode", lambda: pd.decode(png),
                      check=lambda: compare(pd.decode(png), pic)))
    add(Contender("decode", "dec-pil", "Pillow Image.open + load",
                  lambda: np.asarray(Image.open(io.BytesIO(png))),
                  check=lambda: compare(np.asarray(Image.open(io.BytesIO(png))), pic)))
    if cv2 is not None:
        dec_cv = lambda: cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)  # noqa: E731
        add(Contender("decode", "dec-cv1", "cv2.imdecode, 1 thread", dec_cv, pre=cv_threads(1),
                      note="BGR order", check=lambda: compare(dec_cv()[:, :, ::-1], pic)))
        add(Contender("decode", "dec-cvN", f"cv2.imdecode, default ({cv_default} threads)", dec_cv,
                      pre=cv_threads(cv_default), note="BGR order"))

    # ---- filters alone
    img = pd.decode(png) if pd is not None else None  # the decoder's padded Image
    if pf is not None and img is not None:
        add(Contender("blur", "blur-pf-img", "pixel_filter.box_blur(decoder Image)",
                      lambda: pf.box_blur(img, 1), check=lambda: compare(pf.box_blur(img, 1), want_blur)))
        add(Contender("gray", "gray-pf-img", "pixel_filter.grayscale(decoder Image)",
                      lambda: pf.grayscale(img), check=lambda: compare(pf.grayscale(img), want_gray)))
    if pf is not None:
        add(Contender("blur", "blur-pf-np", "pixel_filter.box_blur(numpy array)",
                      lambda: pf.box_blur(arr, 1), check=lambda: compare(pf.box_blur(arr, 1), want_blur)))
        add(Contender("gray", "gray-pf-np", "pixel_filter.grayscale(numpy array)",
                      lambda: pf.grayscale(arr), check=lambda: compare(pf.grayscale(arr), want_gray)))
    add(Contender("blur", "blur-np", "numpy reference (pad + running sums)", lambda: ref.box_blur(arr, 1),
                  check=lambda: compare(ref.box_blur(arr, 1), loop_free_blur(arr))))
    add(Contender("gray", "gray-np", "numpy reference", lambda: ref.grayscale(arr)))
    add(Contender("blur", "blur-pil", "Pillow filter(BoxBlur(1))", lambda: pim.filter(ImageFilter.BoxBlur(1)),
                  note="rounds differently: not compared"))
    add(Contender("gray", "gray-pil", "Pillow convert(\"L\")", lambda: pim.convert("L"),
                  note="ITU-R 601 weights, own rounding: not compared"))
    if cv2 is not None:
        blur_cv = lambda: cv2.blur(arr, (3, 3), borderType=cv2.BORDER_REPLICATE)  # noqa: E731
        gray_cv = lambda: cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY)  # noqa: E731
        add(Contender("blur", "blur-cv1", "cv2.blur, 1 thread", blur_cv, pre=cv_threads(1),
                      check=lambda: compare(blur_cv(), want_blur)))
        add(Contender("blur", "blur-cvN", f"cv2.blur, default ({cv_default} threads)", blur_cv,
                      pre=cv_threads(cv_default)))
        add(Contender("gray", "gray-cv1", "cv2.cvtColor RGB2GRAY, 1 thread", gray_cv, pre=cv_threads(1),
                      check=lambda: compare(gray_cv(), want_gray)))
        add(Contender("gray", "gray-cvN", f"cv2.cvtColor, default ({cv_default} threads)", gray_cv,
                      pre=cv_threads(cv_default)))

    # ---- invert in place: each contender owns its target (inverting toggles it)
    if pf is not None and pd is not None:
        inv_img = pd.decode(png)
        add(Contender("invert", "inv-pf-img", "pixel_filter.invert_inplace(decoder Image)",
                      lambda: pf.invert_inplace(inv_img), check=lambda: check_invert(pf.invert_inplace, inv_img)))
    if pf is not None:
        inv_a = arr.copy()
        add(Contender("invert", "inv-pf-np", "pixel_filter.invert_inplace(numpy array)",
                      lambda: pf.invert_inplace(inv_a), check=lambda: check_invert(pf.invert_inplace, inv_a)))
    inv_b = arr.copy()
    np_invert = lambda a: np.subtract(np.uint8(255), a, out=a)  # noqa: E731
    add(Contender("invert", "inv-np", "np.subtract(255, a, out=a)", lambda: np_invert(inv_b),
                  check=lambda: check_invert(np_invert, inv_b)))
    if cv2 is not None:
        inv_c = arr.copy()
        cv_invert = lambda a: cv2.bitwise_not(a, dst=a)  # noqa: E731
        add(Contender("invert", "inv-cv1", "cv2.bitwise_not(a, dst=a), 1 thread", lambda: cv_invert(inv_c),
                      pre=cv_threads(1), check=lambda: check_invert(cv_invert, inv_c)))
        add(Contender("invert", "inv-cvN", f"cv2.bitwise_not, default ({cv_default} threads)",
                      lambda: cv_invert(inv_c), pre=cv_threads(cv_default)))

    # ---- memory
    dst = np.empty_like(arr)
    add(Contender("memory", "copy", "numpy a.copy() (fresh memory)", lambda: arr.copy()))
    add(Contender("memory", "copyto", "np.copyto(dst, a) (memory already mapped)", lambda: np.copyto(dst, arr)))
    return out


def loop_free_blur(a: np.ndarray) -> np.ndarray:
    """r = 1 by direct summation of the 9 shifted, edge-padded copies (a second, independent
    formula for the check of the reference itself)."""
    p = np.pad(a, ((1, 1), (1, 1), (0, 0)), mode="edge").astype(np.uint16)
    h, w = a.shape[:2]
    s = sum(p[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3))
    return ((s + 4) // 9).astype(np.uint8)


def check_invert(fn, target) -> str:
    before = np.array(target)
    fn(target)
    r = compare(target, 255 - before)
    fn(target)
    return r


# ---- measuring ------------------------------------------------------------------------------


def sample(c: Contender) -> None:
    if c.pre:
        c.pre()
    fn, reps = c.fn, c.reps
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(reps):
        fn()
    w1, c1 = time.perf_counter(), time.process_time()
    c.wall.append((w1 - w0) / reps)
    c.cpu.append((c1 - c0) / reps)


def measure(cs: list[Contender], rounds: int, sample_s: float) -> None:
    for c in cs:  # warm-up: first-call costs, page faults of the first allocations; sets reps
        try:
            if c.pre:
                c.pre()
            t0 = time.perf_counter()
            c.fn()
            t = time.perf_counter() - t0
            c.reps = max(1, min(1000, math.ceil(sample_s / max(t, 1e-7))))
            if c.check:
                c.note = (c.note + "; " if c.note else "") + c.check()
        except Exception as e:  # noqa: BLE001 - reported in the table
            c.error = f"{type(e).__name__}: {e}"
            log(f"{c.key}: {c.error}")
        gc.collect()
    live = [c for c in cs if c.error is None]
    for r in range(rounds):
        k = r % len(live)
        for c in live[k:] + live[:k]:
            try:
                sample(c)
            except Exception as e:  # noqa: BLE001
                c.error = f"{type(e).__name__}: {e}"
                log(f"{c.key}: {c.error}")
        gc.collect()
        log(f"round {r + 1}/{rounds} done")


# ---- report ---------------------------------------------------------------------------------


def summarize(cs: list[Contender], nbytes: int) -> list[dict]:
    rows = []
    by_key = {c.key: c for c in cs}
    med = {c.key: statistics.median(c.wall) for c in cs if c.wall}
    for c in cs:
        row = dict(group=c.group, key=c.key, label=c.label, note=c.note, error=c.error, reps=c.reps,
                   samples=len(c.wall))
        if c.wall:
            m = med[c.key]
            row.update(median_s=m, min_s=min(c.wall), max_s=max(c.wall),
                       gbps=nbytes / m / 1e9, gbps_min=nbytes / max(c.wall) / 1e9,
                       gbps_max=nbytes / min(c.wall) / 1e9,
                       cpu_per_wall=statistics.median(c.cpu) / m if m > 0 else None)
            ours = OURS[c.group]
            row["vs_ours"] = m / med[ours] if ours in med else None
            row["vs_copy"] = m / med["copy"] if "copy" in med else None
        rows.append(row)
    assert len(by_key) == len(cs)
    return rows


def fmt_ms(s: float) -> str:
    ms = s * 1e3
    return f"{ms:.3g}" if ms < 1 else f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def md_table(rows: list[dict], group: str) -> str:
    head = ["contender", "median ms", "spread ms (min-max)", "GB/s", "time / ours", "time / a.copy()",
            "cpu/wall", "output vs reference"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * 6 + ["---"]) + "|"]
    for r in rows:
        if r["group"] != group:
            continue
        label = f"**{r['label']}**" if r["key"] == OURS[group] else r["label"]
        if "median_s" not in r:
            lines.append(f"| {label} | error | | | | | | {r['error']} |")
            continue
        spread = f"{fmt_ms(r['min_s'])}-{fmt_ms(r['max_s'])} ({100 * (r['max_s'] - r['min_s']) / r['median_s']:.0f}%)"
        vs = f"{r['vs_ours']:.2f}x" if r.get("vs_ours") else "-"
        vc = f"{r['vs_copy']:.1f}x" if r.get("vs_copy") else "-"
        cw = f"{r['cpu_per_wall']:.2f}" if r.get("cpu_per_wall") is not None else "-"
        lines.append(f"| {label} | {fmt_ms(r['median_s'])} | {spread} | {r['gbps']:.2f} | {vs} | {vc} | {cw} | {r['note'] or '-'} |")
    return "\n".join(lines)


def headline(rows: list[dict], nbytes: int) -> list[str]:
    med = {r["key"]: r["median_s"] for r in rows if "median_s" in r}
    out = []
    if "chain-zero" in med:
        z = med["chain-zero"]
        line = f"- Buffer protocol chain (a): {fmt_ms(z)} ms."
        for k, how in (("chain-copy", "bytes copies (b1)"), ("chain-copy-np", "numpy copies (b2)")):
            if k in med:
                line += f" With {how} at the 3 hand-overs: {fmt_ms(med[k])} ms ({100 * (med[k] - z) / z:+.0f}%)."
        if "copy" in med:
            # bytes copied: the RGB picture twice, the gray result once (1/3 of it)
            copied = nbytes * (2 + 1 / 3)
            line += (f" The copies move {copied / 1e6:.3g} MB: {fmt_ms(copied / nbytes * med['copy'])} ms "
                     f"at the measured a.copy() rate.")
        out.append(line)
    for k, name in (("chain-numpy", "numpy"), ("chain-pil", "Pillow"), ("chain-cv1", "OpenCV (1 thread)"),
                    ("chain-cvN", "OpenCV (default threads)")):
        if "chain-zero" in med and k in med:
            out.append(f"- {name} chain: {fmt_ms(med[k])} ms = {med[k] / med['chain-zero']:.2f}x the buffer-protocol chain.")
    return out


def versions(mods: dict) -> dict:
    v = {"python": platform.python_version(), "numpy": np.__version__}
    for dist in ("pillow", "opencv-python-headless", "matplotlib", "pixel-decoder", "pixel-filter"):
        try:
            v[dist] = md.version(dist)
        except md.PackageNotFoundError:
            v[dist] = "not installed"
    if mods.get("cv2") is not None:
        v["cv2.__version__"] = mods["cv2"].__version__
    try:
        git = ["git", "-C", str(ROOT)]
        v["git"] = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        if dirty:
            v["git"] += " (+ uncommitted changes)"
    except (OSError, subprocess.SubprocessError):
        v["git"] = "?"
    return v


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def markdown(res: dict) -> str:
    rows, meta = res["rows"], res["meta"]
    h, w, c = meta["shape"]
    L = []
    L.append("# Image pipeline benchmark: decode -> blur -> grayscale through the buffer protocol\n")
    L.append(f"- Command: `{meta['command']}` ({'smoke: tiny picture, 1 round' if meta['smoke'] else 'full run'})")
    L.append(f"- Date: {meta['date']}; machine: {meta['cpu']}, {meta['ncpu']} CPUs, {platform.system()} "
             f"{platform.release()}")
    L.append(f"- `os.getloadavg()`: before {fmt_load(meta['load_before'])}, after {fmt_load(meta['load_after'])}")
    L.append(f"- Picture: shape {h} x {w} x {c} uint8 (height x width x channels), {meta['nbytes'] / 1e6:.1f} MB "
             f"decoded; the synthetic pattern `(y*31 + x*7 + c*101) % 256` plus uniform noise in [-12, 12]; "
             f"PNG {meta['png_bytes'] / 1e6:.1f} MB (Pillow, default compression, untimed)")
    L.append(f"- Method: {meta['rounds']} rounds in one process, round-robin over all {len(rows)} contenders "
             f"(order rotated each round); each sample times `reps` back-to-back calls (sized to "
             f">= {meta['sample_s'] * 1e3:.0f} ms) and records wall time (`perf_counter`) and process CPU "
             f"time; the median over rounds is reported, the spread is min-max over rounds")
    L.append("- GB/s = decoded picture bytes (h * w * 3) / median time, for every row (so rows compare); "
             "`time / ours` = this row's median / the bold row's of the same table; `time / a.copy()` = "
             "this row's median / numpy copying the picture into fresh memory; `cpu/wall` = process CPU "
             "time / wall time (about the number of busy threads)")
    L.append("- Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    t = meta["threads"]
    L.append(f"- Threads: OpenCV's default is {t['cv2_default']} threads (`cv2.getNumThreads()` at import, "
             f"{t['cpu_count']} CPUs); rows marked \"1 thread\" call `cv2.setNumThreads(1)` before each "
             f"sample, \"default\" rows `cv2.setNumThreads({t['cv2_default']})`. numpy (these ufuncs, "
             f"cumsum, pad) and Pillow run single-threaded. pixel_decoder / pixel_filter: as built (their "
             f"`cpu/wall` column shows how many threads they kept busy). Environment: {t['env']}")
    if meta["missing"]:
        L.append(f"- Skipped (not importable): {', '.join(meta['missing'])}")
    L.append("")
    hl = headline(rows, meta["nbytes"])
    if hl:
        L.append("## Summary\n")
        L.extend(hl)
        L.append("")
    for g, title in GROUPS:
        if any(r["group"] == g for r in rows):
            L.append(f"## {title}\n")
            L.append(md_table(rows, g))
            L.append("")
    L.append("Hand-overs in chain b1: `np.frombuffer(memoryview(x).tobytes(), np.uint8).reshape(shape)`, in b2: "
             "`np.array(x, order=\"C\", copy=True)`, after decode, after blur and after grayscale (the "
             "decoder's and the filter's Images have padded rows, so each copy is a strided gather into C "
             "order; CPython's `tobytes` does it with one memmove per 3-byte pixel, numpy row by row). Chain a hands the same objects over with no copy "
             "and ends with `np.asarray(gray)` (zero-copy). OpenCV's chain decodes to BGR and converts with "
             "`COLOR_BGR2GRAY` (same work as RGB2GRAY on RGB). `output vs reference` compares with the numpy "
             "references (examples/tests/pixel_reference.py) once, after warm-up.")
    L.append("")
    L.append(f"Plot: [{meta['png_name']}]({meta['png_name']}).")
    return "\n".join(L) + "\n"


def fmt_load(t) -> str:
    return "(" + ", ".join(f"{x:.2f}" for x in t) + ")"


def chart(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in res["rows"] if "median_s" in r]
    groups = [(g, t) for g, t in GROUPS if any(r["group"] == g for r in rows)]
    heights = [sum(1 for r in rows if r["group"] == g) for g, _ in groups]
    fig, axes = plt.subplots(len(groups), 1, figsize=(10, 0.42 * sum(heights) + 1.1 * len(groups)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    h, w, c = res["meta"]["shape"]
    for ax, (g, title) in zip(axes[:, 0], groups):
        rs = [r for r in rows if r["group"] == g]
        y = np.arange(len(rs))
        vals = [r["gbps"] for r in rs]
        err = np.array([[r["gbps"] - r["gbps_min"] for r in rs], [r["gbps_max"] - r["gbps"] for r in rs]])
        colors = ["tab:red" if r["key"] == OURS[g] else "tab:blue" if r["key"].startswith(("chain-zero", "chain-copy", "blur-pf", "gray-pf", "inv-pf", "dec-pd")) else "tab:gray" for r in rs]
        ax.barh(y, vals, xerr=err, color=colors, capsize=3)
        ax.set_yticks(y, [r["label"] for r in rs], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9, loc="left")
        for yi, r in zip(y, rs):
            ax.text(r["gbps_max"], yi, f"  {r['gbps']:.2f}", va="center", fontsize=7)
        ax.margins(x=0.15)
    axes[-1, 0].set_xlabel(f"GB/s of decoded picture ({h}x{w}x{c} uint8), median; bars: min-max over rounds")
    fig.suptitle(f"Image pipeline ({res['meta']['date'][:10]}, load {res['meta']['load_before'][0]:.2f})", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---- main -----------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny picture, 1 round: checks the plumbing")
    ap.add_argument("--out", type=Path, help="output folder (default: here; build/smoke/ with --smoke)")
    ap.add_argument("--rounds", type=int, help="override the number of rounds")
    ap.add_argument("--shape", type=int, nargs=2, metavar=("HEIGHT", "WIDTH"), help="override the picture size")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args(argv)
    cfg = dict(SMOKE if args.smoke else FULL)
    if args.rounds:
        cfg["rounds"] = args.rounds
    if args.shape:
        cfg["height"], cfg["width"] = args.shape
    out_dir = args.out or (BENCH / "build" / "smoke" if args.smoke else BENCH)
    out_dir.mkdir(parents=True, exist_ok=True)

    load_before = os.getloadavg()
    mods = {"pd": try_import("pixel_decoder"), "pf": try_import("pixel_filter"), "cv2": try_import("cv2")}
    try:
        from PIL import Image, ImageFilter
    except ImportError:
        log("Pillow is required (pip install -r examples/bench/requirements-pipeline.txt)")
        return 2
    mods["Image"], mods["ImageFilter"] = Image, ImageFilter
    if mods["cv2"] is not None:
        mods["cv2_default_threads"] = mods["cv2"].getNumThreads()  # before any setNumThreads
    missing = [n for n, k in (("pixel_decoder", "pd"), ("pixel_filter", "pf"), ("OpenCV", "cv2"))
               if mods[k] is None]

    h, w = cfg["height"], cfg["width"]
    log(f"picture {h}x{w}x3, encoding PNG (untimed)")
    pic = make_picture(h, w, mods["pd"])
    png = encode_png(pic, Image)
    log(f"PNG {len(png) / 1e6:.2f} MB; building contenders")
    cs = build_contenders(png, pic, mods)
    log(f"{len(cs)} contenders, {cfg['rounds']} rounds")
    measure(cs, cfg["rounds"], cfg["sample_s"])
    if mods["cv2"] is not None:
        mods["cv2"].setNumThreads(mods["cv2_default_threads"])

    nbytes = pic.nbytes
    rows = summarize(cs, nbytes)
    meta = dict(
        command=os.environ.get("BENCH_COMMAND") or " ".join([Path(sys.executable).name, *sys.argv]),
        smoke=args.smoke, date=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        cpu=cpu_model(), ncpu=os.cpu_count(), load_before=load_before, load_after=os.getloadavg(),
        shape=list(pic.shape), nbytes=nbytes, png_bytes=len(png), rounds=cfg["rounds"],
        sample_s=cfg["sample_s"], versions=versions(mods), missing=missing, png_name="pipeline.png",
        threads=dict(cv2_default=mods.get("cv2_default_threads", "n/a"), cpu_count=os.cpu_count(),
                     env=", ".join(f"{k}={os.environ.get(k, 'unset')}" for k in
                                   ("OMP_NUM_THREADS", "RAYON_NUM_THREADS", "OPENCV_FOR_THREADS_NUM"))),
    )
    res = {"meta": meta, "rows": rows}
    md_path, png_path = out_dir / "pipeline-results.md", out_dir / "pipeline.png"
    md_path.write_text(markdown(res))
    try:
        chart(res, png_path)
    except ImportError as e:
        log(f"note: no plot ({e})")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    print()
    for g, title in GROUPS:
        if any(r["group"] == g for r in rows):
            print(f"{title}\n{md_table(rows, g)}\n")
    for line in headline(rows, nbytes):
        print(line)
    log(f"wrote {md_path} and {png_path}")
    errors = [r for r in rows if r["error"]]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
