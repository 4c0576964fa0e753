"""The database stage: the schema, the rows of each table, and the build of ``papers.db``.

Imports from :mod:`papershelf.collection` and :mod:`papershelf.ingest`.
"""

from ..imports import pandas_hidden

# Before any module of the stage imports sqlite-utils: it would import pandas only to
# store pandas.Timestamp values as TEXT, and the stage gives it none.
with pandas_hidden():
    import sqlite_utils  # noqa: F401
