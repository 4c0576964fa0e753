"""The one exception for bad input: it names the file and the line."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input in a content file, e.g. ``content/listings/x.txt:17: truncated entry``."""

    def __init__(self, path: str | Path | None, line: int | None, message: str):
        self.path = str(path) if path is not None else None
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


def display_path(path: str | Path) -> str:
    """The path relative to the working directory when it is below it, for messages."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class OutputError(Exception):
    """The build could not write or replace its outputs (disk full, read-only, another
    build running). The previous outputs are left as they were."""

    def __init__(self, path: str | Path | None, message: str):
        self.path = str(path) if path is not None else None
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message
