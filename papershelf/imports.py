"""Imports of libraries that would load, for nothing papershelf asks of them, a module
that is slow to import.

- sqlite-utils and scikit-learn import pandas whenever it is installed (it is, for the
  notebooks), only to handle pandas values papershelf never gives them. Loading it costs
  0.2-0.25 s of every database stage's start-up, a twentieth of the stage at 10,000
  papers.
- nbformat imports jsonschema, which imports rfc3987_syntax when it is installed (Jupyter
  installs it) to check the "iri" format, which no notebook schema uses; rfc3987_syntax
  compiles 38 grammars at import: 0.9 of the 1.1 s that importing nbclient takes, in the
  site stage's process while it writes the pages.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def hidden(name: str) -> Iterator[None]:
    """Imports inside see the module ``name`` as not installed, unless it is imported
    already; it is importable again afterwards."""
    if name in sys.modules:
        yield
        return
    sys.modules[name] = None  # an import of it raises ImportError, as if absent
    try:
        yield
    finally:
        if sys.modules.get(name, ...) is None:
            del sys.modules[name]


def pandas_hidden():
    """pandas hidden (see :func:`hidden`)."""
    return hidden("pandas")


def import_notebook_runner() -> None:
    """Import nbformat, nbclient and nbconvert without rfc3987_syntax (see above). Once,
    before the notebooks run on their threads, so that no other thread imports them
    while the module is hidden."""
    with hidden("rfc3987_syntax"):
        import nbclient  # noqa: F401
        import nbconvert  # noqa: F401
        import nbformat  # noqa: F401
