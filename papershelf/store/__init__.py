"""The database stage: the schema, the rows of each table, and the build of ``papers.db``.

Imports from :mod:`papershelf.collection` and :mod:`papershelf.ingest`.
"""
