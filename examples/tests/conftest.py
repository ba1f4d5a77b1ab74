"""Fixtures shared by the example tests. The shared code is in modules of its own:
``providers.py`` (the one registry of example providers, the stress run's included),
``cases.py`` (the case model), ``request_flags.py`` (the flag tables) and ``observation.py``
(what a consumer sees through one request)."""

import pytest

# --------------------------------------------------------------------------------------------
# gc.collect() with ~10^4 collected test items alive scans all of them (~0.3 s each call).
# Tests that call it freeze what exists before the module starts, so that a collection only
# looks at objects the tests themselves create; unfrozen again afterwards.
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cheap_gc():
    import gc

    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
