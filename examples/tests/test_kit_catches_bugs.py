"""The conformance kit (``buffer_examples.check_provider``) against deliberately broken providers.

``broken_exporter/broken_exporter.c`` is a C exporter with one switchable bug per mode, over
several layouts; this module compiles it with the system C compiler against this interpreter's
headers (into a temporary directory: no build step, nothing installed). Each bug must be caught
on every layout where it shows, with the report naming it; the correct mode must never be
flagged. Everything runs in this process: a kit that crashed on a broken provider would take
the test run down with it.

The layouts and their contents are written out here from the C source's specification, not
read from the exporter: they build the independent references (``_testbuffer.ndarray``) that
the kit compares contents with.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import _testbuffer as tb
import pytest

import buffer_examples as bx

SOURCE = Path(__file__).parent / "broken_exporter" / "broken_exporter.c"

ALL = ("c", "ro", "fortran", "padded", "reversed", "wide", "scalar", "empty", "pil")

#: layout -> (format, shape, read-only, C-order values)
LAYOUTS = {
    "c": ("i", [3, 4], False),
    "ro": ("i", [3, 4], True),
    "fortran": ("i", [3, 4], False),
    "padded": ("i", [3, 4], False),
    "reversed": ("i", [3, 4], False),
    "wide": ("q", [3, 4], False),
    "scalar": ("d", [], False),
    "empty": ("i", [0, 4], False),
    "pil": ("B", [2, 4], True),
}


def values(layout):
    fmt, shape, _ = LAYOUTS[layout]
    if layout == "pil":
        return [18, 19, 20, 21, 10, 11, 12, 13]  # rows 2 and 0 of 10..21
    if not shape:
        return [0.5]
    return [100 + 7 * k for k in range(shape[0] * shape[1])]


def reference(layout):
    """What the exporter must show, as CPython's reference exporter (C-contiguous)."""
    fmt, shape, readonly = LAYOUTS[layout]
    flags = 0 if readonly else tb.ND_WRITABLE
    if not shape:
        return tb.ndarray(values(layout)[0], shape=[], format=fmt, flags=flags)
    items = values(layout) or [0]
    return tb.ndarray(items, shape=shape, format=fmt, flags=flags)


C_CONTIGUOUS = ("c", "ro", "wide", "scalar", "empty")
NOT_C = ("fortran", "padded", "reversed")
WITH_DIMS = tuple(x for x in ALL if x != "scalar")

#: mode -> (layouts where the bug shows, what the kit needs to see it, a regex the FAIL lines
#: of the report must match). "reference": contents/format only an independent reference
#: shows; "exports": the provider's own count of live exports.
BUGS = {
    "flags_ignored": (ALL, None, r"format is set although PyBUF_FORMAT was not requested"),
    "no_contig_refusals": (
        ("c", "ro", "fortran", "padded", "reversed", "wide"),
        None,
        r"PyBUF_(C|F|ANY)_CONTIGUOUS\S*\s+.*served, but must be refused",
    ),
    "writable_ro0": (("ro", "pil"), None, r"WRITABLE\S*\s+(.*; )?served, but must be refused"),
    "writable_ro1": (("ro", "pil"), None, r"readonly is 1 although PyBUF_WRITABLE was requested"),
    "null_strides": (WITH_DIMS, None, r"strides is NULL although PyBUF_STRIDES was requested"),
    "wrong_itemsize": (ALL, None, r"(struct\.calcsize\(\"\w\"\) is \d+|describes \d+-byte items .*) but itemsize is"),
    "wrong_format": (("c", "ro", "fortran", "padded", "reversed", "empty"), "reference", r"format \"f\" describes other items than the reference's \"i\""),
    "not_a_format": (ALL, None, r"format \"!!not a format\" is not a valid format"),
    "record_itemsize": (("wide", "scalar"), None, r"format \"T\{i:a:\}\" describes 4-byte items .* but itemsize is 8"),
    "ndim0_without_nd": (C_CONTIGUOUS, None, r"ndim is 0 without PyBUF_ND"),
    "strides_bit": (
        ("c", "ro", "wide", "empty") + NOT_C,
        None,
        r"\(flags 0x10\)\s+(.*; )?strides is set although PyBUF_STRIDES was not requested",
    ),
    "contiguity_lie": (NOT_C, None, r"PyBUF_C_CONTIGUOUS\S*\s+strides \[.*\] differ from the PyBUF_FULL_RO view's"),
    "leak_ref": (ALL, None, r"reference count is \d+ after release, \d+ before the request"),
    "missing_ref": (ALL, None, r"the view holds no reference to view\.obj"),
    "freed_tables": (WITH_DIMS, None, r"view changed (after later exports|before its release|when )"),
    "rewritten_tables": (("c", "ro", "wide", "empty"), None, r"view changed (after later exports|before its release|when )"),
    "memory_leak": (ALL, None, r"malloc: .* memory leaked per export"),
    "pymem_leak": (ALL, None, r"pymalloc \(sys\.getallocatedblocks\): .* memory leaked per export"),
    "buf_at_block_start": (("reversed",), "reference", r"contents differ from the reference"),
    "readonly_differs": (
        ("c", "fortran", "padded", "reversed", "wide", "scalar", "empty"),
        None,
        r"readonly is \d but the PyBUF_FULL_RO view's is \d: every consumer must get one answer",
    ),
    "bogus_suboffsets": (ALL, None, r"suboffsets is set although PyBUF_INDIRECT was not requested|suboffsets \[-1, -1\] are all negative"),
    "suboffsets_unwritten": (ALL, None, r"suboffsets was not written"),
    "no_strides_refusal": (NOT_C, None, r"PyBUF_(SIMPLE|ND|WRITABLE|FORMAT)\S*\s+(.*; )?served, but must be refused"),
    "len_items": (
        ("c", "ro", "fortran", "padded", "reversed", "wide", "scalar"),
        None,
        r"len is \d+ but (product\(shape\) \* itemsize is|the PyBUF_FULL_RO view's is)",
    ),
    "shape_null_nd": (WITH_DIMS, None, r"shape is NULL although PyBUF_ND was requested"),
    "obj_on_refusal": (ALL, None, r"view\.obj is not NULL after a failed request"),
    "no_exception": (ALL, None, r"failed without setting an exception"),
    "valueerror_refusal": (ALL, None, r"refused with ValueError: .*; CPython's rule is BufferError"),
    "refuses_simple": (C_CONTIGUOUS, None, r"PyBUF_SIMPLE\S*\s+refused a request the layout can serve"),
    "stuck_export_count": (ALL, "exports", r"the provider counts \d+ live exports"),
}


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """The compiled ``broken_exporter`` module."""
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler (cc, gcc or clang) to build broken_exporter.c")
    out = tmp_path_factory.mktemp("broken_exporter") / ("broken_exporter" + sysconfig.get_config_var("EXT_SUFFIX"))
    cmd = [cc, "-shared", "-fPIC", "-O1", "-Wall", "-I", sysconfig.get_paths()["include"], str(SOURCE), "-o", str(out)]
    if sys.platform == "darwin":
        cmd[1:1] = ["-undefined", "dynamic_lookup"]
    subprocess.run(cmd, check=True)
    spec = importlib.util.spec_from_file_location("broken_exporter", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_kit(obj, layout, extras):
    """The report and whether the kit passed the object."""
    kwargs = dict(reference=reference(layout), exports=obj.exports) if extras else {}
    try:
        return bx.check_provider(obj, **kwargs), True
    except AssertionError as e:
        return str(e), False


def fail_lines(report):
    return [line for line in report.splitlines() if line.lstrip().startswith("FAIL")]


def test_every_mode_and_layout_is_covered(broken):
    assert set(broken.MODES) == {"correct"} | set(BUGS), "add the new mode to BUGS"
    assert set(broken.LAYOUTS) == set(ALL) == set(LAYOUTS)


@pytest.mark.parametrize("layout", ALL)
@pytest.mark.parametrize("extras", [False, True], ids=["alone", "with-reference-and-exports"])
def test_correct_mode_is_never_flagged(broken, layout, extras):
    obj = broken.Exporter(layout)
    before = sys.getrefcount(obj)
    report, ok = run_kit(obj, layout, extras)
    assert ok, report
    assert " 0 failed" in report.splitlines()[0]
    assert sys.getrefcount(obj) == before
    assert obj.exports() == 0
    if layout != "pil":  # the kit's PIL policy: suboffsets are not followed
        assert "ok    consumer memoryview" in report
        assert "ok    views held together stay valid until released" in report
        assert "ok    contents through every view" in report
    if extras and layout != "pil":
        assert "ok    contents against the reference" in report
    else:
        assert "note  contents against the reference" in report or layout == "pil"


def test_the_reference_really_is_independent(broken):
    # The same correct exporter against a reference with other contents fails: the comparison
    # is not vacuous.
    obj = broken.Exporter("padded")
    wrong = tb.ndarray([1] * 12, shape=[3, 4], format="i", flags=tb.ND_WRITABLE)
    with pytest.raises(AssertionError, match=r"element \[0, 0\] is 64000000 but the reference's is 01000000"):
        bx.check_provider(obj, reference=wrong)


CASES = [
    pytest.param(mode, layout, id=f"{mode}-{layout}")
    for mode, (layouts, _, _) in BUGS.items()
    for layout in layouts
]


@pytest.mark.parametrize("mode, layout", CASES)
def test_bug_is_caught_with_reference_and_exports(broken, mode, layout):
    layouts, _, pattern = BUGS[mode]
    obj = broken.Exporter(layout, mode)
    before = sys.getrefcount(obj)
    report, ok = run_kit(obj, layout, extras=True)
    assert not ok, f"{mode} on {layout} passed the kit:\n{report}"
    lines = fail_lines(report)
    assert any(re.search(pattern, line) for line in lines), f"{mode} on {layout}: no FAIL line matches {pattern!r}:\n{report}"
    if mode != "leak_ref":  # the provider leaks; the kit itself must not
        assert sys.getrefcount(obj) == before, report


@pytest.mark.parametrize("mode, layout", [c for c in CASES if BUGS[c.values[0]][1] is None])
def test_bug_is_caught_by_the_kit_alone(broken, mode, layout):
    _, _, pattern = BUGS[mode]
    report, ok = run_kit(broken.Exporter(layout, mode), layout, extras=False)
    assert not ok, f"{mode} on {layout} passed the kit:\n{report}"
    assert any(re.search(pattern, line) for line in fail_lines(report)), f"{mode} on {layout}:\n{report}"


@pytest.mark.parametrize("mode, layout", [c for c in CASES if BUGS[c.values[0]][1] is not None])
def test_what_only_a_reference_shows_is_said_to_be_unchecked(broken, mode, layout):
    # Without the reference or the export count, these bugs are invisible: the kit must say
    # what it did not check instead of implying it did.
    report, ok = run_kit(broken.Exporter(layout, mode), layout, extras=False)
    need = BUGS[mode][1]
    if need == "reference":
        assert "note  contents against the reference" in report and "not checked" in report
    else:
        assert "export count" not in report
    assert ok, report  # the kit alone passes them: a limit the report states


@pytest.mark.parametrize("mode", ["missing_ref", "suboffsets_unwritten", "bogus_suboffsets", "shape_null_nd"])
def test_dangerous_providers_are_not_handed_to_consumers(broken, mode):
    # A real consumer (memoryview, numpy) would crash on these: the kit runs none of them.
    report, _ = run_kit(broken.Exporter("c", mode), "c", extras=False)
    assert "note  consumers" in report and "not run:" in report
    assert "consumer memoryview" not in report
    assert "a write through one view is seen by another" in report


def test_table_of_what_is_caught(broken, capsys):
    """One line per mode: caught with and without the extras (printed with -s)."""
    rows = []
    for mode, (layouts, need, _) in BUGS.items():
        alone = all(not run_kit(broken.Exporter(x, mode), x, False)[1] for x in layouts)
        extra = all(not run_kit(broken.Exporter(x, mode), x, True)[1] for x in layouts)
        rows.append((mode, ",".join(layouts), "caught" if alone else f"needs {need}", "caught" if extra else "MISSED"))
        assert extra, mode
        assert alone or need is not None, mode
    with capsys.disabled():
        if os.environ.get("KIT_TABLE"):
            print()
            for row in rows:
                print("| " + " | ".join(row) + " |")
