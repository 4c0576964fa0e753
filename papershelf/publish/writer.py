"""Writing the site's sources: a file is rewritten only when its content changes.

An unchanged file keeps its modification time, so a rebuild (and ``mkdocs serve``) sees
only what changed, and the MkDocs build rebuilds only the pages whose Markdown is newer
than their HTML. Every step that writes into the docs directory shares one writer: what
none of them wrote in this run is stale and :meth:`PageWriter.remove_stale` removes it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from ..outputs import write_replacing
from .templating import Drawing


class PageWriter:
    """Writes files under ``root`` only when their content changes.

    With a ``keys_file``, a page given as a :class:`~.templating.Drawing` is not even
    drawn when the file holds what the same drawing gave last time: its key and the
    file's size and modification time are as recorded then (:meth:`save_keys`)."""

    def __init__(self, root: Path, keys_file: Path | None = None):
        self.root = root
        self.written: list[str] = []
        self.unchanged = 0
        self.seen: set[Path] = set()
        self.keys_file = keys_file
        self._previous_keys = _read_keys(keys_file)
        self._keys: dict[str, list] = {}

    def write_drawing(self, relative: str, drawing: Drawing) -> str:
        """Write what ``drawing`` draws, or keep the file if it holds that already;
        returns the drawing's key."""
        path, key = self.root / relative, drawing.key
        kept = self._previous_keys.get(relative)
        if kept and kept[0] == key and kept[1:] == _identity(path):
            self.seen.add(path)
            self.unchanged += 1
        else:
            self.write(relative, drawing.draw())
            kept = [key, *_identity(path)]
        self._keys[relative] = kept
        return key

    def finish(self) -> list[str]:
        """Once every page is written: remove the stale files (returned) and record the
        keys of this run's drawings."""
        removed = self.remove_stale()
        self.save_keys()
        return removed

    def save_keys(self) -> None:
        if self.keys_file is None:
            return
        # Through a .tmp name: what a killed build leaves in the work directory is
        # cleared (outputs.work_leftovers), as the writer's own temporary pages are.
        write_replacing(self.keys_file, json.dumps(self._keys, sort_keys=True).encode())

    def write(self, relative: str, content: str | bytes) -> None:
        path = self.root / relative
        self.seen.add(path)
        data = content.encode("utf-8") if isinstance(content, str) else content
        if path.exists() and path.stat().st_size == len(data) and path.read_bytes() == data:
            self.unchanged += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        write_replacing(path, data)
        self.written.append(relative)

    def copy(self, relative: str, source: Path) -> None:
        path = self.root / relative
        self.seen.add(path)
        if path.exists() and _same_file(path, source):
            self.unchanged += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        self.written.append(relative)

    def remove_stale(self) -> list[str]:
        """Remove the files under ``root`` not written (or kept) in this run; returns them,
        relative to ``root``, in the order of their path's parts."""
        # As strings: sorting and hashing 10,000 Paths took 0.3 s a build.
        # Normalised: a root of "." walks as "./a.md" what was written as "a.md".
        seen = {os.path.normpath(path) for path in self.seen}
        root = os.fspath(self.root)
        if not os.path.isdir(root):
            return []  # nothing was written, nor is there anything to remove
        stale = [path for path in _files(root) if os.path.normpath(path) not in seen]
        removed = sorted((os.path.relpath(path, root) for path in stale), key=_parts)
        for path in stale:
            os.unlink(path)
        return removed


def _files(directory: str) -> Iterator[str]:
    """Every file under ``directory`` (not in a symbolic link to a directory)."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _files(entry.path)
            elif entry.is_file():
                yield entry.path


def _parts(relative: str) -> list[str]:
    return relative.split(os.sep)


def _identity(path: Path) -> list[int]:
    """The file's size and modification time (nanoseconds), or nothing if it is gone."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return []
    return [status.st_size, status.st_mtime_ns]


def _read_keys(keys_file: Path | None) -> dict[str, list]:
    """The keys a previous run recorded; none if there are none or they are unreadable
    (then every page is drawn, as in a first build)."""
    if keys_file is None:
        return {}
    try:
        keys = json.loads(keys_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return keys if isinstance(keys, dict) else {}


def _same_file(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()
