"""Imports of libraries that would load pandas, which papershelf does not use in-process.

sqlite-utils and scikit-learn import pandas whenever it is installed (it is, for the
notebooks), only to handle pandas values papershelf never gives them. Loading it costs
0.2-0.25 s of every database stage's start-up, a twentieth of the stage at 10,000 papers.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def pandas_hidden() -> Iterator[None]:
    """Imports inside see pandas as not installed, unless it is imported already; it is
    importable again afterwards."""
    if "pandas" in sys.modules:
        yield
        return
    sys.modules["pandas"] = None  # an import of it raises ImportError, as if absent
    try:
        yield
    finally:
        if sys.modules.get("pandas", ...) is None:
            del sys.modules["pandas"]
