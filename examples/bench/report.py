"""Text, Markdown and PNG output of bench.py's results dictionary."""
from __future__ import annotations

METRICS = [("raw", "raw get+release"), ("mv", "memoryview(x).release()"),
           ("np", "np.asarray(x)")]


def _median(p: dict, metric: str):
    t = p.get("timing") or {}
    m = t.get(metric) or {}
    return m.get("median")


def _peer(results: dict, key: str) -> dict | None:
    return next((p for p in results["peers"] if p["key"] == key), None)


C_PEERS = {"c": "hand-written, 1-D (128 f64)", "c_2d": "hand-written, 2-D C order (16 x 8 f64)",
           "c_2d_f": "hand-written, 2-D Fortran order (16 x 8 f64)",
           "c_3d": "hand-written, 3-D C order (8 x 4 x 4 f64)"}
# Peers whose export reads the object under PyO3's atomic borrow flag (a mutable #[pyclass]),
# as the classes with `borrows` do: their floor is `c_borrow`.
BORROWING_PEERS = ("c_borrow", "pyo3_bound", "pyo3_ref", "pyo3_raw")


def _borrows(row: dict) -> bool:
    return row.get("borrows", row.get("key") in BORROWING_PEERS)


# The layout column of the other hand-written peers listed beside the classes.
REF_LAYOUTS = {**C_PEERS, "c_borrow": "hand-written, 1-D, plus PyO3's atomic borrow flag "
                                      "(the floor of a mutable class)"}


def _c_base(results: dict, row: dict) -> tuple[dict | None, float | None]:
    """The hand-written C peer a row is compared with, and its instructions per FULL_RO export:
    the row itself for a C peer, the C peer of the same dims and order for a class (its
    `c_peer`), 1-D C for the other peers."""
    key = row["key"] if row.get("key") in C_PEERS else row.get("c_peer", "c")
    instr = results.get("instructions") or {}
    return _peer(results, key), (instr.get(key) or {}).get("FULL_RO")


def _flags_cell(p: dict) -> str:
    c = p.get("conformance")
    if c is None:
        return "-"
    n = len(c["issues"])
    return "ok" if n == 0 else f"{n} issue{'s' if n > 1 else ''}"


def rows(results: dict) -> list[list[str]]:
    base = _peer(results, "c")
    out = []
    for p in results["peers"]:
        if p["status"] != "ok":
            word = "missing" if p["status"] == "missing" else "error"
            out.append([p["label"]] + [word] * 9)
            continue
        row = [p["label"]]
        for metric, _ in METRICS:
            v = _median(p, metric)
            b = _median(base, metric) if base else None
            if v is None:
                row += ["error", "-"]
            else:
                row += [f"{v:.1f}", f"{v / b:.2f}x" if b else "-"]
        a = p.get("allocs") or {}
        if a.get("status") == "ok":
            row += [f"{a['libc']:.2f}", f"{a['py']:.2f}"]
        else:
            row += ["n/a", "n/a"]
        row.append(_flags_cell(p))
        out.append(row)
    return out


HEADER = ["peer", "raw get+release ns", "vs C", "memoryview ns", "vs C", "np.asarray ns",
          "vs C", "malloc/export", "PyMem/export", "flag probe"]


def table(results: dict) -> str:
    body = rows(results)
    widths = [max(len(r[i]) for r in [HEADER] + body) for i in range(len(HEADER))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":") if i else ("-" * (w + 2))
                         for i, w in enumerate(widths)) + "|"
    return "\n".join([line(HEADER), sep] + [line(r) for r in body])


def _mib(b: float) -> str:
    return f"{b / (1 << 20):+.1f} MiB"


def bigmem_text(results: dict) -> str:
    b = results.get("bigmem") or {}
    if b.get("status") != "ok":
        return f"Zero-copy check: {b.get('status', 'error')} ({b.get('reason') or b.get('error')})"
    ns = b["ns"]
    size = b["nbytes"] / (1 << 20)
    lines = [
        f"Zero-copy check: {b['constructor']} with n = {b['elements']} "
        f"({size:.0f} MiB, built in {b['build_seconds']:.1f} s) vs the same with n = 128 (1 KiB)",
        "",
        f"| operation | 1 KiB ns | {size:.0f} MiB ns | ratio |",
        "|---|---:|---:|---:|",
    ]
    for metric, label in METRICS:
        s, g = ns["small"][metric], ns["big"][metric]
        lines.append(f"| {label} | {s:.1f} | {g:.1f} | {g / s:.2f}x |")
    lines += [
        "",
        f"| memory (RSS before export: {b['rss_before'] / (1 << 20):.0f} MiB) | RSS | peak RSS |",
        "|---|---:|---:|",
        f"| after memoryview(x) | {_mib(b['rss_after_memoryview'] - b['rss_before'])} | "
        f"{_mib(b['peak_after_memoryview'] - b['rss_before'])} |",
        f"| after np.asarray(x) | {_mib(b['rss_after_asarray'] - b['rss_before'])} | "
        f"{_mib(b['peak_after_asarray'] - b['rss_before'])} |",
        f"| control: bytes(memoryview(x)), a real copy | | "
        f"{_mib(b['copy_control_peak_growth'])} |",
        "",
        f"Peak reset via /proc/self/clear_refs: {'yes' if b['peak_reset'] else 'NO (peak is lifetime)'}; "
        f"a write through np.asarray(x) seen by memoryview(x) and back: "
        f"{ {True: 'yes', False: 'NO', None: 'n/a (read-only)'}[b['shared_write_seen']] }; "
        f"np.shares_memory: {'yes' if b['np_shares_memory'] else 'NO'}.",
    ]
    return "\n".join(lines)


def conformance_text(results: dict, limit: int = 8) -> str:
    lines = ["Flag probe (29 requests per peer, BUFFER-RULES):"]
    for p in results["peers"]:
        c = p.get("conformance")
        if c is None:
            lines.append(f"- {p['label']}: {p['status']}")
            continue
        issues, notes = c["issues"], c["notes"]
        if not issues:
            lines.append(f"- {p['label']}: ok" + (f" ({len(notes)} policy notes)" if notes else ""))
            continue
        lines.append(f"- {p['label']}: {len(issues)} issue(s)")
        for i in issues[:limit]:
            lines.append(f"    - {i}")
        if len(issues) > limit:
            lines.append(f"    - ... and {len(issues) - limit} more")
    return "\n".join(lines)


def by_request_table(results: dict) -> str:
    lines = ["| peer | SIMPLE ns | ND ns | FULL_RO ns |", "|---|---:|---:|---:|"]
    for p in results["peers"]:
        if p["status"] != "ok":
            lines.append(f"| {p['label']} | {p['status']} | | |")
            continue
        cells = []
        for metric in ("raw_simple", "raw_nd", "raw"):
            v = _median(p, metric)
            cells.append("error" if v is None else f"{v:.1f}")
        lines.append(f"| {p['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def generated_vs_hand(results: dict) -> str:
    lines = []
    hands = [h for h in (_peer(results, "pyo3_bound"), _peer(results, "pyo3_ref"))
             if h and h["status"] == "ok"]
    for p in results["peers"]:
        if p["kind"] != "generated" or p["status"] != "ok":
            continue
        for metric, label in METRICS:
            v = _median(p, metric)
            if v is None:
                continue
            parts = []
            for h in hands:
                hv = _median(h, metric)
                if hv:
                    parts.append(f"{v / hv:.2f}x {h['label']} ({v - hv:+.1f} ns)")
            lines.append(f"- {p['label']}, {label}: {v:.1f} ns = " + ", ".join(parts))
    if not lines:
        return "No generated provider was importable."
    return "\n".join(lines)


def _ratio(v, b) -> str:
    return f"{v / b:.2f}x" if v is not None and b else "-"


def _num(v, fmt="{:.1f}") -> str:
    return "-" if v is None else fmt.format(v)


def classes_table(results: dict) -> str:
    """Every example class beside the C baseline and the PyO3 peers: times (same interleaved
    rounds) and callgrind instructions per get+release pair."""
    instr = results.get("instructions") or {}
    head = ("| provider | layout | raw ns | vs C | vs C + borrow flag | Ir/export | vs C | "
            "SIMPLE Ir | ND Ir | memoryview ns | vs C | np.asarray ns | vs C | "
            "malloc+PyMem/export |")
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    floor = _median(_peer(results, "c_borrow") or {}, "raw")
    refs = [(p["label"], REF_LAYOUTS.get(p["key"], "hand-written"), p, instr.get(p["key"]) or {},
             p.get("allocs"))
            for p in results["peers"]
            if p["key"] in (*C_PEERS, "c_borrow", "cython", "pyo3_bound", "pyo3_ref", "pyo3_raw")]
    cases = [(c["label"], c["layout"], c, c.get("instructions") or {}, c.get("allocs"))
             for c in results.get("classes", [])]
    for label, layout, p, ir, a in refs + cases:
        if p.get("status") != "ok":
            lines.append(f"| {label} | {layout} | {p.get('status')} |" + " |" * 11)
            continue
        cells = [label, layout]
        base, c_ir = _c_base(results, p)
        raw = _median(p, "raw")
        cells += [_num(raw), _ratio(raw, _median(base, "raw") if base else None),
                  _ratio(raw, floor) if _borrows(p) else "-"]
        full = ir.get("FULL_RO")
        cells += [_num(full, "{:.0f}"), _ratio(full, c_ir)]
        cells += [_num(ir.get("SIMPLE"), "{:.0f}"), _num(ir.get("ND"), "{:.0f}")]
        for metric in ("mv", "np"):
            v = _median(p, metric)
            cells += [_num(v), _ratio(v, _median(base, metric) if base else None)]
        if a and a.get("status") == "ok":
            cells.append(f"{a['libc'] + a['py']:.2f}")
        else:
            cells.append("n/a")
        lines.append("| " + " | ".join(cells) + " |")
    if "error" in instr:
        lines.append("")
        lines.append(f"Instruction counts unavailable: {instr['error']}")
    return "\n".join(lines)


def consumer_table(results: dict) -> str:
    c = results.get("consumer") or {}
    t, a, ir = c.get("timing") or {}, c.get("allocs") or {}, c.get("instructions") or {}
    if not t:
        return "Consumer side: bench_consumer not importable (build.py builds it)."
    labels = c.get("labels") or {}
    base_t = (t.get("c_consumer") or {}).get("median")
    base_ir = ir.get("c_consumer")
    lines = ["| consumer (typed f64 view of a 1 KiB numpy array, created and dropped) | ns/view "
             "| vs C | Ir/view | vs C | malloc+PyMem/view |", "|---|---:|---:|---:|---:|---:|"]
    for key, m in t.items():
        al = a.get(key) or {}
        alloc = f"{al['libc'] + al['py']:.3f}" if al.get("status") == "ok" else "n/a"
        lines.append(f"| {labels.get(key, key)} | {m['median']:.1f} | {_ratio(m['median'], base_t)} "
                     f"| {_num(ir.get(key), '{:.0f}')} | {_ratio(ir.get(key), base_ir)} | {alloc} |")
    return "\n".join(lines)


def abi3_table(results: dict) -> str:
    a = results.get("abi3") or {}
    if "timing" not in a:
        return f"abi3 build: {a.get('error', 'not measured')}"
    t = a["timing"]
    ir = a.get("instructions") or {}
    names = {c["key"]: c["label"] for c in results.get("classes", [])}
    names.update({"c": "C hand-written", "pyo3_bound": "PyO3 hand (Bound)",
                  "pyo3_ref": "PyO3 hand (PyRef)"})

    def value(key, metric):
        if metric == "ir":
            return (ir.get(key) or {}).get("FULL_RO")
        return ((t.get(key) or {}).get(metric) or {}).get("median")

    lines = ["| provider (abi3 builds: PyO3's slots) | raw ns | vs PyO3 hand | Ir / export "
             "| vs PyO3 hand | memoryview ns | vs PyO3 hand | np.asarray ns | vs PyO3 hand |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key in t:
        cells = [names.get(key, key)]
        for metric in ("raw", "ir", "mv", "np"):
            v, h = value(key, metric), value("pyo3_bound", metric)
            cells += [_num(v, "{:.0f}" if metric == "ir" else "{:.1f}"), _ratio(v, h)]
        lines.append("| " + " | ".join(cells) + " |")
    if "error" in ir:
        lines.append(f"\nabi3 instructions: {ir['error']}")
    return "\n".join(lines)


README_START = "<!-- bench-table:start (written by `make bench`) -->"
README_END = "<!-- bench-table:end -->"


def readme_table(results: dict) -> str:
    """The README's performance table: every example class and the references, times and
    instructions as ratios to hand-written C, from one interleaved run."""
    instr = results.get("instructions") or {}

    def cell(v, b, fmt="{:.1f}"):
        return "-" if v is None else f"{fmt.format(v)} ({_ratio(v, b)})"

    lines = [f"`{results['command']}`, {results['date']}, {results['config']['rounds']} "
             "interleaved rounds (ns per operation, medians; Ir = instructions per get+release "
             "pair, callgrind; in brackets the ratio to hand-written C of the same dims and order: "
             "a class's C row, 1-D C for the other peers):", "",
             "| provider | layout | raw get+release ns | raw vs C + borrow flag | Ir / export | "
             "`memoryview(x).release()` ns | `np.asarray(x)` ns | allocations / export |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    floor = _median(_peer(results, "c_borrow") or {}, "raw")
    rows = [(p["label"], REF_LAYOUTS.get(p["key"], "hand-written"), p, instr.get(p["key"]) or {},
             p.get("allocs"))
            for p in results["peers"]
            if p["key"] in (*C_PEERS, "c_borrow", "cython", "pybind11", "pyo3_bound", "pyo3_raw")]
    rows += [(f"**{c['label']}**", c["layout"], c, c.get("instructions") or {}, c.get("allocs"))
             for c in results.get("classes", [])]
    for label, layout, p, ir, a in rows:
        if p.get("status") != "ok":
            lines.append(f"| {label} | {layout} | {p.get('status')} | | | | | |")
            continue
        alloc = f"{a['libc'] + a['py']:.0f}" if a and a.get("status") == "ok" else "n/a"
        base, c_ir = _c_base(results, p)
        lines.append(
            f"| {label} | {layout} | {cell(_median(p, 'raw'), _median(base, 'raw'))} | "
            f"{_ratio(_median(p, 'raw'), floor) if _borrows(p) else '-'} | "
            f"{cell(ir.get('FULL_RO'), c_ir, '{:.0f}')} | "
            f"{cell(_median(p, 'mv'), _median(base, 'mv'))} | "
            f"{cell(_median(p, 'np'), _median(base, 'np'))} | {alloc} |")
    lines += ["", "Consumer side, a typed f64 view of a 1 KiB numpy array created and dropped:", "",
              consumer_table(results), "", abi3_table(results)]
    return "\n".join(lines)


def update_readme(results: dict, path) -> bool:
    """Replaces the table between the README's markers; False if the markers are missing."""
    text = path.read_text()
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(head + README_START + "\n" + readme_table(results) + "\n" + README_END + tail)
    return True


def _load(results: dict, which: str) -> str:
    la = (results.get("load") or {}).get(which)
    return "/".join(f"{x:.2f}" for x in la) if la else "?"


def markdown(results: dict) -> str:
    v = results["versions"]
    cal = results.get("alloc_calibration") or {}
    cfg = results["config"]
    parts = [
        "# Buffer export benchmark",
        "",
        f"Command: `{results['command']}` ({results['mode']} run, {results['seconds']} s)  ",
        f"Date: {results['date']}  ",
        f"Machine: {v['cpu']}, {v['cores']} cores, Linux {v['kernel']}; Python {v['python']}, "
        f"numpy {v['numpy']}, Cython {v['cython']}, pybind11 {v['pybind11']}, "
        f"PyO3 {v['pyo3']}, {v['rustc']}, {v['cc']}.  ",
        f"Project: commit {v.get('commit', '?')}"
        + (" plus uncommitted changes in the work tree" if v.get("dirty") else "") + ".  ",
        f"Load average (1/5/15 min) at start {_load(results, 'start')}, at end "
        f"{_load(results, 'end')}, on {v['cores']} cores: other jobs running at the same time "
        "inflate every peer's absolute numbers; interleaving keeps the ratios comparable.",
        "",
        "Every peer exports 1 KiB (128 float64, or 1024 bytes for bytearray/Frozen, 256 int32-"
        "sized items for IntArray). Times are medians over "
        f"{cfg['rounds']} interleaved rounds (peers round-robin, order rotated each round), "
        "in ns per operation; `vs C` is the ratio to the hand-written C provider.",
        "",
        table(results),
        "",
        "- **raw get+release**: `PyObject_GetBuffer(x, &view, PyBUF_FULL_RO); "
        f"PyBuffer_Release(&view);` looped {cfg['raw_n']} times in C, timed with "
        "`clock_gettime(CLOCK_MONOTONIC)`.",
        f"- **memoryview ns**: `memoryview(x).release()` in a timeit loop of {cfg['mv_n']}.",
        f"- **np.asarray ns**: `np.asarray(x)` in a timeit loop of {cfg['np_n']} (result "
        "dropped each time).",
        "- **malloc/export**: libc `malloc`/`calloc`/`realloc`/`memalign`-family calls per "
        f"get+release pair over {cfg['alloc_n']} pairs, counted by an LD_PRELOAD library "
        "(`csrc/alloccount.c`) in a subprocess; **PyMem/export**: calls into Python's MEM and OBJ "
        "allocator domains (PyMem_SetAllocator hooks). A large PyMem request also reaches libc, "
        "so the two columns can overlap. Calibration before counting: "
        f"{cal.get('got', {}).get('malloc', '?')} libc mallocs counted for "
        f"{cal.get('expected', {}).get('malloc', '?')} made, "
        f"{cal.get('got', {}).get('py_malloc', '?')} Python-allocator calls for "
        f"{cal.get('expected', {}).get('py_malloc', '?')} made "
        f"({'ok' if cal.get('ok') else 'FAILED'}).",
        "- **flag probe**: 29 requests (7 bases x WRITABLE x FORMAT, and -1) checked field by "
        "field against BUFFER-RULES, plus a shared-write check and, for the peers built here, "
        "resize-while-exported; details below.",
    ]
    if results.get("alloc_error"):
        parts.append(f"- allocation counting failed: {results['alloc_error']}")
    parts += ["", "## Generated providers vs the hand-written PyO3 peers", "",
              generated_vs_hand(results), "",
              "Raw get+release by request (where the per-export cost comes from: SIMPLE asks "
              "for no shape/strides/format, ND for a shape, FULL_RO for everything):", "",
              by_request_table(results), "",
              "## Every example class", "",
              "Each class as a ~1 KiB provider, measured in the same interleaved rounds as the "
              "peers above (times: medians, ns per operation, `vs C` against the hand-written C "
              "provider), with callgrind's instruction count (Ir) per get+release pair "
              "(`instr.py`: collection on only inside the C loop, the loop's few instructions "
              "included for every provider; FULL_RO unless named).", "",
              classes_table(results), "",
              "## Consumer side", "",
              "A typed float64 view of `np.zeros(128)` created and dropped in a Rust (or C) loop: "
              "`PyView::<f64>::new` requests FORMAT|STRIDES and checks format, itemsize, ndim, "
              "len, suboffsets and extent; pyo3's `PyBuffer::<f64>::get` requests FULL_RO; the C "
              "consumer (`bench_helper.c_consumer_loop`) requests FORMAT|STRIDES and checks the "
              "format, itemsize, ndim, suboffsets and len.", "",
              consumer_table(results), "",
              "## abi3 build", "",
              "The example module built with `--features abi3` (`pyo3/abi3-py311`), where the "
              "type object is opaque and the classes keep PyO3's slot trampolines around the same "
              "export body; measured in a worker process against the hand-written PyO3 peers, "
              "built with `--features abi3` too (interleaved rounds; Ir from callgrind, "
              "`PyBUF_FULL_RO`; ratios to `PyO3 hand (Bound)`, a 1-D class).", "",
              abi3_table(results), "",
              f"## Zero-copy check ({results['config']['big_elements'] * 8 >> 20} MiB)", "",
              bigmem_text(results), "", "## Flag probe details", "",
              conformance_text(results, limit=40), "", "## Peers", ""]
    for p in results["peers"]:
        parts.append(f"- **{p['label']}** (`{p['key']}`, {p['kind']})"
                     + (f": {p['note']}" if p["note"] else ""))
    parts += ["", "Chart: `bench.png`. Rebuild and rerun with `make bench` "
              "(`make bench-smoke` for tiny counts). Sources: `examples/bench/`."]
    return "\n".join(parts) + "\n"


COLORS = {"baseline": "#4c72b0", "hand": "#8172b3", "reference": "#999999",
          "generated": "#dd8452"}


def chart(results: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peers = results["peers"]
    labels = [p["label"] for p in peers]
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    panels = [(m, f"{lab} (ns/op)") for m, lab in METRICS] + [
        ("allocs", "allocations/export (solid: libc malloc family, hatched: PyMem/PyObject)")]
    y = list(range(len(peers)))
    for idx, (ax, (metric, title)) in enumerate(zip(axes.flat, panels)):
        vals, extra, colors, texts = [], [], [], []
        for p in peers:
            colors.append(COLORS[p["kind"]])
            extra.append(0.0)
            if p["status"] != "ok":
                vals.append(0.0)
                texts.append(p["status"].split(":")[0])
                continue
            if metric == "allocs":
                a = p.get("allocs") or {}
                ok = a.get("status") == "ok"
                vals.append(a["libc"] if ok else 0.0)
                extra[-1] = a["py"] if ok else 0.0
                texts.append(f"{a['libc']:.2f} + {a['py']:.2f}" if ok else "n/a")
            else:
                v = _median(p, metric)
                vals.append(v or 0.0)
                texts.append("error" if v is None else f"{v:.0f}")
        ax.barh(y, vals, color=colors)
        if metric == "allocs":
            ax.barh(y, extra, left=vals, color=colors, hatch="//", alpha=0.55)
        ends = [v + e for v, e in zip(vals, extra)]
        top = max(ends) if max(ends) > 0 else 1.0
        for yi, v, t in zip(y, ends, texts):
            ax.text(v + top * 0.01, yi, t, va="center", fontsize=8)
        ax.set_xlim(0, top * 1.22)
        ax.set_title(title, fontsize=10)
        ax.set_yticks(y)
        ax.set_yticklabels(labels if idx % 2 == 0 else [], fontsize=8)
        ax.set_ylim(len(peers) - 0.5, -0.5)  # first peer on top
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Buffer export cost, 1 KiB providers ({results['mode']} run, "
                 f"{results['date']}; orange = generated by #[derive(PyBuffer)])", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def chart_classes(results: dict, path) -> None:
    """Every example class: raw get+release time and instructions per export, as ratios to
    hand-written C of the same dims and order (1.0 = C), with the PyO3 peer for reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    instr = results.get("instructions") or {}
    rows = [(p["label"], p, instr.get(p["key"]) or {}, COLORS[p["kind"]])
            for p in results["peers"] if p["key"] in ("cython", "pyo3_bound")]
    rows += [(c["label"], c, c.get("instructions") or {}, COLORS["generated"])
             for c in results.get("classes", []) if c.get("status") == "ok"]
    labels = [r[0] for r in rows]
    y = list(range(len(rows)))
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.38 * len(rows) + 1.6))
    for ax, (title, values) in zip(axes, [
        ("raw get+release time / C", [(_median(p, "raw") or 0)
                                      / (_median(_c_base(results, p)[0] or {}, "raw") or 1)
                                      for _, p, _, _ in rows]),
        ("instructions per export / C (callgrind)",
         [(ir.get("FULL_RO") or 0) / (_c_base(results, p)[1] or 1) for _, p, ir, _ in rows]),
    ]):
        ax.barh(y, values, color=[r[3] for r in rows])
        for yi, v in zip(y, values):
            ax.text(v + 0.03, yi, f"{v:.2f}x", va="center", fontsize=8)
        ax.axvline(1.0, color="#4c72b0", lw=1)
        ax.axvline(1.3, color="#c44e52", lw=1, ls="--")
        ax.set_title(title + " (dashed: the 1.3x goal)", fontsize=10)
        ax.set_yticks(y)
        ax.set_yticklabels(labels if ax is axes[0] else [], fontsize=8)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Every example class vs hand-written C of its dims and order ({results['mode']} run, "
                 f"{results['date']})", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
