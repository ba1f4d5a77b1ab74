"""The README's quick start, followed from an empty directory: the files marked
``<!-- quickstart: PATH -->`` in README.md are written to a temporary directory exactly as
they stand there, built with maturin, and the README's ``check.py`` is run against the wheel.

Only two things are added to the README's files, both outside them:

- ``.cargo/config.toml`` with a ``[patch.crates-io]`` pointing ``buffer-runtime`` and
  ``buffer-derive`` at this checkout (the crates are not published yet; the README shows the
  same two lines);
- the workspace's ``Cargo.lock``, so that the build uses the versions already in the local
  cargo cache (cargo drops the workspace's own entries from it).

``CARGO_TARGET_DIR`` is ``target/quickstart`` of the workspace, kept between runs, so that pyo3
is compiled once, not at every run.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

#: ``<!-- quickstart: path -->`` on the line before a fenced block.
MARKED_BLOCK = re.compile(r"^<!-- quickstart: (\S+) -->\n```[a-z]*\n(.*?)^```$", re.M | re.S)


def quickstart_files() -> dict[str, str]:
    files = {}
    for path, body in MARKED_BLOCK.findall(README.read_text()):
        assert path not in files, f"README marks {path} twice"
        files[path] = body
    return files


def test_readme_marks_the_whole_project():
    # The four files the README promises, and nothing else: a renamed or dropped marker fails
    # here instead of silently shrinking what the build test covers.
    assert sorted(quickstart_files()) == ["Cargo.toml", "check.py", "pyproject.toml", "src/lib.rs"]


def test_readme_patch_lines_match_the_test():
    # The README's `.cargo/config.toml` names the same crates the test patches.
    text = README.read_text()
    for crate in ("buffer-runtime", "buffer-derive"):
        assert f'{crate} = {{ path = "/path/to/pybuffer-derive/{crate}" }}' in text


@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")
def test_quickstart_builds_and_runs(tmp_path):
    pytest.importorskip("maturin")
    project = tmp_path / "quickstart"
    for path, body in quickstart_files().items():
        target = project / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    (project / ".cargo").mkdir()
    (project / ".cargo" / "config.toml").write_text(
        "[patch.crates-io]\n"
        f'buffer-runtime = {{ path = "{ROOT / "buffer-runtime"}" }}\n'
        f'buffer-derive = {{ path = "{ROOT / "buffer-derive"}" }}\n'
    )
    shutil.copy(ROOT / "Cargo.lock", project / "Cargo.lock")

    env = dict(os.environ, CARGO_TARGET_DIR=str(ROOT / "target" / "quickstart"))
    env.pop("VIRTUAL_ENV", None)  # `maturin build` needs none; a stale one would only confuse it
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "maturin", "build", "--quiet", "-i", sys.executable, "--out", str(wheels)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("quickstart-0.1.0-*.whl")

    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    run = subprocess.run(
        [sys.executable, "check.py"],
        cwd=project,
        env=dict(os.environ, PYTHONPATH=str(site)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == "ok (2, 3) d"
