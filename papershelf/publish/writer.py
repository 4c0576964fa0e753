"""Writing the site's sources: a file is rewritten only when its content changes.

An unchanged file keeps its modification time, so a rebuild (and ``mkdocs serve``) sees
only what changed, and the MkDocs build rebuilds only the pages whose Markdown is newer
than their HTML. Every step that writes into the docs directory shares one writer: what
none of them wrote in this run is stale and :meth:`PageWriter.remove_stale` removes it.
"""

from __future__ import annotations

import shutil
from pathlib import Path


class PageWriter:
    """Writes files under ``root`` only when their content changes."""

    def __init__(self, root: Path):
        self.root = root
        self.written: list[str] = []
        self.unchanged = 0
        self.seen: set[Path] = set()

    def write(self, relative: str, content: str | bytes) -> None:
        path = self.root / relative
        self.seen.add(path)
        data = content.encode("utf-8") if isinstance(content, str) else content
        if path.exists() and path.stat().st_size == len(data) and path.read_bytes() == data:
            self.unchanged += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
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
        """Remove the files under ``root`` not written (or kept) in this run."""
        removed = []
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and path not in self.seen:
                removed.append(str(path.relative_to(self.root)))
                path.unlink()
        return removed


def _same_file(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()
