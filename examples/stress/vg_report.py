"""Summarises memcheck logs written by valgrind.sh. Exit status 1 on:
- any invalid read, write or free, wherever it happens;
- any other memcheck error (uninitialised values, ...) whose stack passes through the
  buffer_examples extension;
- any definite leak whose allocation stack passes through the extension.
CPython's own findings (its interpreter reports uninitialised values from its random seeding
even for `python -c "import random"`, and leaks some objects at exit) are counted and listed,
not failed on."""

from __future__ import annotations

import re
import sys
from collections import Counter

PROJECT = re.compile(r"buffer_examples|buffer_runtime|buffer_derive")
PID = re.compile(r"^==\d+== ?")


def records(path):
    """(header, frames) for every error or leak record in one log."""
    header, frames = None, []
    with open(path, errors="replace") as f:
        for raw in f:
            line = PID.sub("", raw.rstrip("\n"))
            if not line.strip():
                if header is not None:
                    yield header, frames
                header, frames = None, []
            elif header is None:
                header = line
            else:
                frames.append(line.strip())
    if header is not None:
        yield header, frames


def main(paths):
    errors, project_leaks, other_leaks, other_errors = [], [], Counter(), Counter()
    summary = []
    for path in paths:
        for header, frames in records(path):
            if header.startswith(("HEAP SUMMARY", "LEAK SUMMARY", "ERROR SUMMARY", "Memcheck,",
                                  "Copyright", "Using Valgrind", "Command:", "Parent PID",
                                  "For lists", "For counts", "Rerun with", "To see them")):
                if header.startswith(("ERROR SUMMARY", "LEAK SUMMARY")):
                    summary.append(f"{path}: {header}")
                    summary += [f"    {f}" for f in frames if "lost" in f]
                continue
            if not frames or not frames[0].startswith(("at ", "Address", "by ")):
                continue
            if "definitely lost" in header:
                if any(PROJECT.search(f) for f in frames):
                    project_leaks.append((header, frames))
                else:
                    # Attribute CPython's leak to its first non-allocator frame.
                    site = next((f for f in frames[1:] if "alloc" not in f), frames[0])
                    other_leaks[re.sub(r"0x[0-9A-F]+: ", "", site)] += 1
            elif "lost in loss record" not in header:
                if header.startswith(("Invalid ", "Mismatched free")) or any(PROJECT.search(f) for f in frames):
                    errors.append((header, frames))
                else:
                    other_errors[header] += 1

    print("\n".join(summary))
    print(f"invalid reads/writes/frees anywhere, or errors through this project's code: {len(errors)}")
    for header, frames in errors[:20]:
        print(" ", header, *frames[:12], sep="\n    ")
    print(f"definite leaks through this project's code: {len(project_leaks)}")
    for header, frames in project_leaks[:20]:
        print(" ", header, *frames[:16], sep="\n    ")
    print(f"definite leaks elsewhere (CPython/numpy at exit), by site: {sum(other_leaks.values())}")
    for site, n in other_leaks.most_common(10):
        print(f"    {n:4d}  {site}")
    print(f"other memcheck errors (none through this project's code): {sum(other_errors.values())}")
    for header, n in other_errors.most_common(5):
        print(f"    {n:4d}  {header}")
    return 1 if errors or project_leaks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
