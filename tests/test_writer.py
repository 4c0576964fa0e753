"""The docs writer: a page is rewritten only when its content changes, and a page given as
a drawing is not even drawn when the file still holds what the same drawing gave."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from papershelf.outputs import work_leftovers
from papershelf.publish.templating import Drawing
from papershelf.publish.writer import PageWriter


class CountedDrawing:
    """A drawing that counts how often it is drawn (the writer asks only for these two)."""

    def __init__(self, key: str, text: str):
        self.key, self.text, self.drawn = key, text, 0

    def draw(self) -> str:
        self.drawn += 1
        return self.text


def _run(tmp_path, drawing, keys_name="keys.json"):
    writer = PageWriter(tmp_path / "docs", tmp_path / keys_name)
    writer.write_drawing("papers/a.md", drawing)
    writer.finish()
    return writer


def test_an_unchanged_drawing_is_not_drawn_again(tmp_path):
    first = CountedDrawing("k1", "# A\n")
    assert _run(tmp_path, first).written == ["papers/a.md"]
    again = CountedDrawing("k1", "# A\n")
    writer = _run(tmp_path, again)
    assert (again.drawn, writer.written, writer.unchanged) == (0, [], 1)
    assert (tmp_path / "docs" / "papers" / "a.md").read_text() == "# A\n"


def test_a_new_key_is_drawn_and_written(tmp_path):
    _run(tmp_path, CountedDrawing("k1", "# A\n"))
    changed = CountedDrawing("k2", "# A, changed\n")
    assert _run(tmp_path, changed).written == ["papers/a.md"]
    assert changed.drawn == 1
    assert (tmp_path / "docs" / "papers" / "a.md").read_text() == "# A, changed\n"


def test_a_file_changed_since_its_drawing_is_drawn_again(tmp_path):
    _run(tmp_path, CountedDrawing("k1", "# A\n"))
    page = tmp_path / "docs" / "papers" / "a.md"
    page.write_text("# edited by hand\n")
    os.utime(page, ns=(0, 0))
    again = CountedDrawing("k1", "# A\n")
    assert _run(tmp_path, again).written == ["papers/a.md"]
    assert again.drawn == 1 and page.read_text() == "# A\n"
    page.unlink()  # and a file that is gone
    assert _run(tmp_path, CountedDrawing("k1", "# A\n")).written == ["papers/a.md"]


def test_unreadable_keys_mean_every_page_is_drawn(tmp_path):
    _run(tmp_path, CountedDrawing("k1", "# A\n"))
    (tmp_path / "keys.json").write_text("{not json")
    again = CountedDrawing("k1", "# A\n")
    writer = _run(tmp_path, again)
    assert again.drawn == 1 and writer.unchanged == 1  # drawn, found equal, not rewritten


def test_a_drawing_s_key_follows_its_template_and_context():
    one = Drawing("paper.md.j2", {"title": "A", "related": [{"title": "B"}]})
    assert one.key == Drawing("paper.md.j2", {"title": "A", "related": [{"title": "B"}]}).key
    assert one.key != Drawing("paper.md.j2", {"title": "A", "related": [{"title": "C"}]}).key
    assert one.key != Drawing("topic.md.j2", one.inputs).key


KILLED_AT_RENAME = """
import os, pathlib, sys
from papershelf.publish.writer import PageWriter
pathlib.Path.replace = lambda self, target: os._exit(9)  # killed just before the rename
writer = PageWriter(pathlib.Path(sys.argv[1]) / "docs", pathlib.Path(sys.argv[1]) / "keys.json")
writer.finish()
"""


def test_keys_a_build_could_not_finish_writing_are_cleared_as_a_leftover(tmp_path):
    killed = subprocess.run([sys.executable, "-c", KILLED_AT_RENAME, str(tmp_path)])
    assert killed.returncode == 9
    left = work_leftovers(tmp_path)
    assert [path.parent for path in left] == [tmp_path]
    assert left[0].read_text().startswith("{")  # the keys it was writing


def test_a_write_that_fails_leaves_no_temporary_file(tmp_path):
    """A failed write (here the keys file's place is taken by a directory, as a full disk
    fails a write) removes its .tmp file: the build says why, and leaves nothing behind."""
    (tmp_path / "keys.json").mkdir()
    with pytest.raises(OSError):
        _run(tmp_path, CountedDrawing("k1", "# A\n"))
    assert work_leftovers(tmp_path) == []
    assert (tmp_path / "docs" / "papers" / "a.md").read_text() == "# A\n"


def test_stale_files_are_removed_and_listed_by_their_path_s_parts(tmp_path):
    root = tmp_path / "docs"
    for relative in ("a/y.md", "a-b/x.md", "a/kept.md", "b.md"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("old\n", encoding="utf-8")
    (root / "linked").symlink_to(root / "a", target_is_directory=True)
    writer = PageWriter(root)
    writer.write("a/kept.md", "old\n")
    # By parts, as paths sort: "a" before "a-b" (as strings, "a-b/" would come first).
    assert writer.remove_stale() == ["a/y.md", "a-b/x.md", "b.md"]
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "a/kept.md"
    ]
    assert (root / "linked").is_symlink()  # not followed: what it points to is not stale


def test_a_writer_rooted_at_the_working_directory_keeps_what_it_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stale.md").write_text("old\n", encoding="utf-8")
    writer = PageWriter(Path("."))
    writer.write("a/kept.md", "new\n")
    assert writer.remove_stale() == ["stale.md"]
    assert (tmp_path / "a" / "kept.md").read_text(encoding="utf-8") == "new\n"
