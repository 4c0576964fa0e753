"""Every error a user can act on, in one hierarchy (as ``mkdocs/exceptions.py``).

Each is a :class:`click.ClickException`: the command line shows it as ``Error: message``
and exits with code 1, so no command lists the exception types it expects. Anything else
that escapes is a bug in papershelf.
"""

from __future__ import annotations

from pathlib import Path

import click


class PapershelfError(click.ClickException):
    """The base of papershelf's errors: its message is for the user, without a traceback."""


class _Located(PapershelfError):
    """An error about one file (and for input, one line): ``path[:line]: message``."""

    unnamed: str | None = None  # the place given when there is no path

    def __init__(self, path: str | Path | None, line: int | None, message: str):
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(message)  # ``message``: without the place

    def __str__(self) -> str:
        where = self.path or self.unnamed
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}" if where else self.message

    def format_message(self) -> str:
        return str(self)


class InputError(_Located):
    """Bad input in a content file, e.g. ``content/listings/x.txt:17: truncated entry``."""

    unnamed = "<input>"


class OutputError(_Located):
    """The build could not write or replace its outputs (disk full, read-only, another
    build running). The previous outputs are left as they were."""

    def __init__(self, path: str | Path | None, message: str):
        super().__init__(path, None, message)


class StrictError(PapershelfError):
    """Warnings were found and ``--strict`` turns them into an error."""

    def __init__(self, warnings: list[str]):
        self.warnings = warnings
        lines = "\n".join(f"  {warning}" for warning in warnings)
        super().__init__(f"{len(warnings)} warning(s) and --strict is set:\n{lines}")


class FetchError(PapershelfError):
    """The papers could not be fetched; nothing was written."""

    def format_message(self) -> str:
        return f"{self.message}; nothing was written"


class EnrichError(PapershelfError):
    """Enrichment could not start or could not save."""


class RelatedError(PapershelfError):
    """Related papers could not be computed (the database is not written)."""


class DatabaseError(PapershelfError):
    """The database stage produced rows that break the schema: a bug, not bad input."""


class SiteError(PapershelfError):
    """MkDocs could not build the site (in strict mode, any warning)."""


class SearchError(PapershelfError):
    """Pagefind could not index the documents."""


class NotebookError(PapershelfError):
    """A notebook failed to run."""


class CurationError(PapershelfError):
    """The database cannot be measured (missing, or built without topic scores)."""


def display_path(path: str | Path) -> str:
    """The path relative to the working directory when it is below it, for messages."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def require_file(path: str | Path) -> None:
    """A named input file that is not there is an :class:`InputError` (``x: no such file``)."""
    if not Path(path).is_file():
        raise InputError(path, None, "no such file")
