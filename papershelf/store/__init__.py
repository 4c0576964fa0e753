"""The database stage: the schema, the rows of each table, and the build of ``papers.db``.

Imports from :mod:`papershelf.collection` and :mod:`papershelf.ingest`.
"""

import sys


def _import_sqlite_utils_without_pandas() -> None:
    """Import sqlite-utils with pandas hidden, unless either is imported already.

    sqlite-utils imports pandas whenever it is installed, only to store
    ``pandas.Timestamp`` values as TEXT; the stage never gives it one, and the import cost
    0.2 s, a twentieth of the stage at 10,000 papers. pandas stays importable afterwards.
    """
    if "sqlite_utils" in sys.modules or "pandas" in sys.modules:
        return
    sys.modules["pandas"] = None  # an import of it raises ImportError, as if absent
    try:
        import sqlite_utils  # noqa: F401
    finally:
        del sys.modules["pandas"]


_import_sqlite_utils_without_pandas()
