# The README's two commands: `make demo` (build the examples, run the demo) and `make test`
# (every test). Both set up what they need: a virtual environment in .venv with everything in
# examples/requirements-test.txt (maturin, numpy, pytest, Pillow, pyarrow, mypy, ...; the
# README lists them and what uses each) from the package index.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.deps-installed

.PHONY: demo test develop cargo-test pytest clean

$(STAMP): examples/requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r examples/requirements-test.txt
	touch $(STAMP)

MATURIN := VIRTUAL_ENV=$(CURDIR)/$(VENV) $(CURDIR)/$(VENV)/bin/maturin develop --release --quiet

# The example modules: buffer_examples, and the two halves of the image pipeline
# (pixel_decoder exports decoded pixels, pixel_filter consumes any 3-d uint8 buffer).
develop: $(STAMP)
	cd examples && $(MATURIN)
	cd examples/pixel_decoder && $(MATURIN)
	cd examples/pixel_filter && $(MATURIN)

demo: develop
	$(PY) examples/demo.py

cargo-test: $(STAMP)
	PYO3_PYTHON=$(CURDIR)/$(PY) cargo test --workspace --quiet

pytest: develop
	$(PY) -m pytest -q examples/tests

test: cargo-test pytest

clean:
	rm -rf $(VENV) target

# The habits CI enforces (issue 13): formatting, clippy with the workspace lints as errors,
# and the published crates' docs without a warning (docs.rs's cfg, for the feature badges).
# A CPython 3.13 for the free-threaded compile check in `lint` (pyenv's; none: skipped).
PY313 := $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13))

.PHONY: lint
lint: $(STAMP)
	cargo fmt --all --check
	PYO3_PYTHON=$(CURDIR)/$(PY) cargo clippy --workspace --all-targets -- -D warnings
	PYO3_PYTHON=$(CURDIR)/$(PY) cargo clippy -p buffer-runtime --lib -- -D warnings
	PYO3_PYTHON=$(CURDIR)/$(PY) cargo clippy -p buffer-runtime --all-targets --all-features -- -D warnings
	PYO3_PYTHON=$(CURDIR)/$(PY) cargo clippy -p buffer-examples --all-targets --features abi3 -- -D warnings
	@# No free-threaded interpreter here: the Py_GIL_DISABLED code paths are type-checked
	@# against pyo3's free-threaded API, with a 3.13 interpreter's config and the cfg forced
	@# (a compile check only; `make test-ft` runs the suite where a 3.14t exists).
	if [ -n "$(PY313)" ]; then \
		PYO3_PYTHON=$(PY313) RUSTFLAGS="--cfg Py_GIL_DISABLED" CARGO_TARGET_DIR=$(CURDIR)/target/ft-check cargo clippy --workspace --all-targets -- -D warnings; \
	else echo "lint: no CPython 3.13 found, free-threaded compile check skipped"; fi
	@# docs.rs builds with nightly and --cfg docsrs (the feature badges); without a nightly
	@# toolchain, the same check on stable without the badges.
	if cargo +nightly --version >/dev/null 2>&1; then \
		PYO3_PYTHON=$(CURDIR)/$(PY) RUSTDOCFLAGS="-Dwarnings --cfg docsrs" cargo +nightly doc --no-deps --all-features -p buffer-runtime -p buffer-derive; \
	else \
		PYO3_PYTHON=$(CURDIR)/$(PY) RUSTDOCFLAGS="-Dwarnings" cargo doc --no-deps --all-features -p buffer-runtime -p buffer-derive; \
	fi

# Benchmark (examples/bench/README.md): builds its peers from source (C, Cython, pybind11,
# PyO3), then measures export cost against the generated providers. `bench` writes
# examples/bench/results.md and bench.png; `bench-smoke` uses tiny counts (used by the tests).
.PHONY: bench bench-smoke bench-pipeline
# The instruction counts need valgrind (callgrind); installed here like `make valgrind` does.
bench: develop
	command -v valgrind >/dev/null || (apt-get update -qq && apt-get install -y -qq valgrind)
	BENCH_COMMAND="make bench" $(PY) examples/bench/bench.py

bench-smoke: develop
	BENCH_COMMAND="make bench-smoke" $(PY) examples/bench/bench.py --smoke

# The decode -> blur -> grayscale pipeline on a 4000x3000x3 picture, zero-copy vs copying at
# each hand-over, against numpy, Pillow and OpenCV (examples/bench/pipeline.py; README table).
bench-pipeline: develop
	$(PY) -m pip install --quiet -r examples/bench/requirements-pipeline.txt
	BENCH_COMMAND="make bench-pipeline" $(PY) examples/bench/pipeline.py

# Pickling round trips of a 256 MiB object at protocol 4 and protocol 5 out of band, against
# numpy, and a Dask LocalCluster round trip (examples/bench/pickle_bench.py; README table).
.PHONY: bench-pickle
bench-pickle: develop
	$(PY) examples/bench/pickle_bench.py

# Compile cost of the derive: 100 derived classes vs 100 hand-written providers (release).
.PHONY: bench-compile
bench-compile: $(STAMP)
	PYO3_PYTHON=$(CURDIR)/$(PY) $(PY) examples/bench/compile_cost/compile_cost.py --runs 3

# Free-threaded CPython (no GIL): `make test-ft PYTHON=/path/to/python3.14t` builds the three
# example modules for that interpreter in .venv-ft and runs every pytest test plus the parallel
# stress (examples/stress/parallel.py). .ci/run calls it when such an interpreter is found.
.PHONY: test-ft
FT_VENV := .venv-ft
test-ft:
	$(PYTHON) -c "import sys; sys.exit(0 if not getattr(sys, '_is_gil_enabled', lambda: True)() else 'not a free-threaded interpreter: $(PYTHON)')"
	$(PYTHON) -m venv $(FT_VENV)
	$(FT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FT_VENV)/bin/python -m pip install --quiet -r examples/requirements-test.txt
	for d in examples examples/pixel_decoder examples/pixel_filter; do \
		(cd $$d && VIRTUAL_ENV=$(CURDIR)/$(FT_VENV) $(CURDIR)/$(FT_VENV)/bin/maturin develop --release --quiet) || exit 1; \
	done
	PYTHON_GIL=0 $(FT_VENV)/bin/python -m pytest -q examples/tests
	PYTHON_GIL=0 $(FT_VENV)/bin/python examples/stress/parallel.py --threads 8 --seconds 20

# The abi3 build, which keeps PyO3's own buffer slots (a limited-API type cannot be patched):
# buffer_examples built with `--features abi3` into its own directory, checked to be the module
# imported, and every pytest test run over it (but the bench smoke test and the fresh-venv
# wheel test, which build their own). .ci/run calls it.
.PHONY: test-abi3
ABI3_DIST := target/abi3-dist
ABI3_SITE := target/abi3-site
test-abi3: develop
	rm -rf $(ABI3_DIST) $(ABI3_SITE)
	cd examples && PYO3_PYTHON=$(CURDIR)/$(PY) $(CURDIR)/$(VENV)/bin/maturin build --release --quiet --features abi3 -o $(CURDIR)/$(ABI3_DIST)
	$(PY) -m pip install --quiet --no-deps --target $(ABI3_SITE) $(ABI3_DIST)/buffer_examples-*abi3*.whl
	PYTHONPATH=$(CURDIR)/$(ABI3_SITE) $(PY) -c "import buffer_examples, pathlib, sys; p = pathlib.Path(buffer_examples.__file__).parent; sys.exit(0 if list(p.glob('*.abi3.so')) else 'not the abi3 build: %s' % p)"
	PYTHONPATH=$(CURDIR)/$(ABI3_SITE) $(PY) -m pytest -q -p no:cacheprovider examples/tests --deselect examples/tests/test_bench_smoke.py -k "not test_abi3_wheel_installs"

# Export safety under load (buffer-runtime/docs/export-safety.md). `stress`: 1,000,000
# export/release cycles per example class through memoryview and numpy (refcounts unchanged,
# RSS growth < 1 MiB). `valgrind`: memcheck over the example tests (slow; not part of `test`);
# VALGRIND_TESTS picks the pytest arguments (default: all example tests but the bench smoke test).
.PHONY: stress valgrind
stress: develop
	$(PY) examples/stress/stress.py

VALGRIND_TESTS ?=
valgrind: develop
	command -v valgrind >/dev/null || (apt-get update -qq && apt-get install -y -qq valgrind)
	PY=$(CURDIR)/$(PY) examples/stress/valgrind.sh $(VALGRIND_TESTS)

# Sanitizers and fuzzing (nightly Rust; the scripts install cargo-fuzz, rust-src and atheris
# when missing, and say SKIPPED for what cannot run). `tsan`: ThreadSanitizer over the runtime's
# Python-free concurrency tests (buffer-runtime/tests/concurrency.rs) and unit tests, one
# process per test; `asan`: AddressSanitizer over its unit and integration tests; `fuzz`: every
# cargo-fuzz target in buffer-runtime/fuzz and the atheris harness (examples/fuzz), each for
# FUZZ_SECONDS (default 20).
.PHONY: tsan asan sanitizers fuzz
tsan: $(STAMP)
	PYO3_PYTHON=$(CURDIR)/$(PY) bash .ci/sanitizers.sh tsan

asan: $(STAMP)
	PYO3_PYTHON=$(CURDIR)/$(PY) bash .ci/sanitizers.sh asan

sanitizers: $(STAMP)
	PYO3_PYTHON=$(CURDIR)/$(PY) bash .ci/sanitizers.sh all

fuzz: $(STAMP)
	PYO3_PYTHON=$(CURDIR)/$(PY) bash .ci/fuzz.sh
