"""HTML blocks Python-Markdown need not read.

Much of every page papershelf writes is HTML drawn by its templates (paper tables, a
paper's facts, topics and related papers), autoescaped and final. Python-Markdown would
parse each such block with its HTML parser to find where it ends, and that parsing was
most of MkDocs' time on the largest pages. A template marks a block it draws complete
with :data:`START` and :data:`END` lines; :class:`HtmlBlocks` hands the block to
Python-Markdown's own stash of raw HTML, where its parser would have put it, so the page
comes out the same, byte for byte, without the parse.

Text from a listing cannot forge a marker: the templates escape it, and a marker needs
``<`` and ``>``.
"""

from __future__ import annotations

from markdown import Extension
from markdown.preprocessors import Preprocessor

START = "<!--papershelf-html-->"
END = "<!--/papershelf-html-->"


class _StashBlocks(Preprocessor):
    """A marked block between blank lines goes to the stash as Python-Markdown's HTML
    block parser stores one followed by a blank line: its lines and a newline. A marked
    block elsewhere is left to Python-Markdown (its markers then show in the HTML, which
    the tests forbid)."""

    def run(self, lines: list[str]) -> list[str]:
        if START not in lines:
            return lines
        kept: list[str] = []
        at = 0
        while at < len(lines):
            end = _end_of_block(lines, at) if not kept or kept[-1] == "" else None
            if end is None:
                kept.append(lines[at])
                at += 1
                continue
            kept.append(self.md.htmlStash.store("\n".join(lines[at + 1 : end]) + "\n"))
            at = end + 1
        return kept


def _end_of_block(lines: list[str], at: int) -> int | None:
    """Where the marked block starting at ``at`` ends, if one does and a blank line (or
    the end) follows it."""
    if lines[at] != START:
        return None
    try:
        end = lines.index(END, at + 1)
    except ValueError:
        return None
    return end if end + 1 == len(lines) or lines[end + 1] == "" else None


class HtmlBlocks(Extension):
    """Stashes the marked blocks, after whitespace is normalised (as for any raw HTML)
    and before Python-Markdown looks for HTML blocks itself."""

    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.register(_StashBlocks(md), "papershelf_html", 25)
