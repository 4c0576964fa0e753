"""Outputs are replaced atomically, by one build at a time; killed builds leave nothing
behind for long; a full or read-only disk is a clear error with the old outputs intact."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from papershelf import outputs
from papershelf.outputs import (
    build_lock,
    leftovers,
    link_tree,
    replace_directory,
    site_outputs,
    work_leftovers,
)

from .conftest import FIXTURES, REPO, TOPICS

# Runs the CLI and SIGKILLs itself just before the COUNT-th audit event EVENT whose
# arguments match the regular expression NEEDLE: a kill at an exact moment, no timing.
KILL_AT = """
import os, re, signal, sys
event, needle, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.argv = ["papershelf", *sys.argv[4:]]
seen = 0
def kill_at(name, arguments):
    global seen
    if name == event and re.search(needle, str(arguments)):
        seen += 1
        if seen == count:
            os.kill(os.getpid(), signal.SIGKILL)
sys.addaudithook(kill_at)
from papershelf.cli import cli
cli()
"""


def _command(*arguments: str) -> list[str]:
    return [sys.executable, "-B", str(REPO / "build.py"), *arguments]


def _run(root: Path, *arguments: str, **options) -> subprocess.CompletedProcess:
    """``python build.py ARGUMENTS`` in ``root`` (no notebooks there: a fast site)."""
    return subprocess.run(_command(*arguments), cwd=root, capture_output=True, text=True, **options)


def _db(root: Path, name: str = "papers.db") -> list[str]:
    return ["db", "--listings", str(root / "listings"), "--topics", str(TOPICS), "--db", name]


def _site(root: Path) -> list[str]:
    return ["site", "--db", "papers.db", "--config", str(REPO / "mkdocs.yml")]


def _all(root: Path) -> list[str]:
    return ["all", *_db(root)[1:], "--config", str(REPO / "mkdocs.yml")]


def _collection(root: Path, *names: str) -> None:
    listings = root / "listings"
    shutil.rmtree(listings, ignore_errors=True)
    listings.mkdir(parents=True)
    for name in names:
        shutil.copy(FIXTURES / name, listings / name)


def _papers(db_path: Path) -> int:
    """The database's paper count, after SQLite's own integrity check."""
    with sqlite3.connect(db_path) as db:
        assert db.execute("pragma integrity_check").fetchall() == [("ok",)]
        return db.execute("select count(*) from papers").fetchone()[0]


def _all_leftovers(root: Path) -> list[Path]:
    return [
        *leftovers(root / "papers.db"),
        *leftovers(root / "site"),
        *work_leftovers(root / "build"),
    ]


@pytest.fixture(scope="module")
def old_and_new(tmp_path_factory) -> Path:
    """A built database and site from simple.txt (old), and listings that add rich.txt."""
    root = tmp_path_factory.mktemp("built")
    _collection(root, "simple.txt")
    assert _run(root, *_db(root)).returncode == 0
    assert _run(root, *_site(root)).returncode == 0
    _collection(root, "simple.txt", "rich.txt")
    return root


@pytest.fixture
def built(old_and_new, tmp_path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(old_and_new, root, symlinks=True)
    return root


def test_replace_directory_exchanges_the_new_directory_with_the_old(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "old.html").write_text("old")
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "new.html").write_text("new")
    assert outputs.exchange(tmp_path / "new", tmp_path / "site")  # this system has it
    outputs.exchange(tmp_path / "new", tmp_path / "site")  # and back

    replace_directory(tmp_path / "new", tmp_path / "site")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert [p.name for p in (tmp_path / "site").iterdir()] == ["new.html"]


def test_replace_directory_falls_back_to_two_renames(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs, "_renameat2", None)  # as on a system without it
    (tmp_path / "site").mkdir()
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "new.html").write_text("new")

    replace_directory(tmp_path / "new", tmp_path / "site")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert (tmp_path / "site" / "new.html").read_text() == "new"


@pytest.mark.parametrize("exchanges", [True, False])
def test_replace_directory_can_keep_the_previous_directory(tmp_path, monkeypatch, exchanges):
    if not exchanges:
        monkeypatch.setattr(outputs, "_renameat2", None)
    for name, text in (("site", "old"), ("new", "new"), ("kept", "older")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.html").write_text(text)

    replace_directory(tmp_path / "new", tmp_path / "site", keep_previous=tmp_path / "kept")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept", "site"]
    assert (tmp_path / "site" / "index.html").read_text() == "new"
    assert (tmp_path / "kept" / "index.html").read_text() == "old"


def test_link_tree_reuses_what_the_target_shares_and_replaces_the_rest(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    for relative, text in {
        "same.html": "same",
        "changed.html": "new",
        "new/index.html": "new page",
        "was-a-file/index.html": "now a directory",
        "was-a-directory": "now a file",
        "pagefind/index.js": "made anew",
    }.items():
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_text(text)
    target.mkdir()
    os.link(source / "same.html", target / "same.html")
    (target / "changed.html").write_text("old")
    (target / "gone").mkdir()
    (target / "gone" / "index.html").write_text("removed page")
    (target / "was-a-file").write_text("a file")
    (target / "was-a-directory").mkdir()
    (target / "was-a-directory" / "x").write_text("x")
    (target / "pagefind").mkdir()

    link_tree(source, target, skip=("pagefind",))

    def tree(root):
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))

    assert tree(target) == [p for p in tree(source) if not p.startswith("pagefind")]
    for path in source.rglob("*"):
        copy = target / path.relative_to(source)
        if path.is_file() and copy.exists():
            assert copy.stat().st_ino == path.stat().st_ino, path


# The site directory and its temporary and old copies, in the audit events' arguments.
SITE = r"root/\.?site\b"


@pytest.mark.parametrize("moment", [1, 2, 3])
def test_a_site_build_killed_at_the_swap_leaves_a_complete_site(built, moment):
    """Kill just before the moment-th rename or removal of a site directory; the old
    two-rename swap had no site/ at all before its second rename."""
    assert _run(built, *_db(built)).returncode == 0
    for event in ("os.rename", "shutil.rmtree"):
        killed = subprocess.run(
            [*_python_kill_at(event, SITE, moment), *_site(built)], cwd=built, capture_output=True
        )
        if killed.returncode == -signal.SIGKILL:
            break  # else there were fewer such events: the build completed
    assert (built / "site" / "index.html").exists()
    assert (built / "site" / "sitemap.xml").exists()

    assert _run(built, *_site(built)).returncode == 0
    assert _all_leftovers(built) == []
    assert (built / "site" / "papers").is_dir()


def _python_kill_at(event: str, needle: str, count: int) -> list[str]:
    return [sys.executable, "-B", "-c", KILL_AT, event, needle, str(count)]


def test_a_database_build_killed_before_its_rename_keeps_the_old_database(built):
    killed = subprocess.run(
        [*_python_kill_at("os.rename", r"papers\.db\.tmp-", 1), *_db(built)],
        cwd=built,
        capture_output=True,
    )
    assert killed.returncode == -signal.SIGKILL
    assert _papers(built / "papers.db") == 3  # simple.txt alone
    assert leftovers(built / "papers.db")  # the temporary database a kill leaves

    assert _run(built, *_db(built)).returncode == 0
    assert leftovers(built / "papers.db") == []
    assert _papers(built / "papers.db") == 6


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_build_killed_at_a_random_moment_leaves_old_or_new_outputs(built, seed):
    """``all`` killed (with its child processes) after a seeded delay."""
    build = subprocess.Popen(
        _command(*_all(built)),
        cwd=built,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(random.Random(seed).uniform(0.3, 3.0))
    os.killpg(build.pid, signal.SIGKILL)
    build.wait()
    assert _papers(built / "papers.db") in (3, 6)
    assert (built / "site" / "index.html").exists()

    assert _run(built, *_all(built)).returncode == 0
    assert _all_leftovers(built) == []
    assert _papers(built / "papers.db") == 6


def test_a_second_build_fails_at_once_while_one_is_running(built):
    with build_lock([built / "papers.db"]):
        second = _run(built, *_db(built))
    assert second.returncode == 1
    assert second.stderr == (f"Error: papers.db: another build is running (pid {os.getpid()})\n")
    assert _papers(built / "papers.db") == 3


def test_a_build_removes_what_a_killed_build_left(built):
    left = [
        built / ".papers.db.tmp-99999",
        built / ".site.tmp-99999" / "index.html",
        built / ".site.tmp-99999-share1" / "x.html",
        built / ".site.old-99999" / "index.html",
        built / "build" / "docs" / "papers" / ".x.md.tmp",
        built / "build" / "cache" / "notebooks" / "exploring.tmp" / "page.md",
    ]
    # What is the user's, beside the outputs, stays whatever its name.
    theirs = [built / "site-shared-notes" / "notes.md", built / "papers.db-share1.txt"]
    for path in left + theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("left by a killed build")
    assert _run(built, *_all(built)).returncode == 0
    assert not [path for path in left if path.exists()]
    assert all(path.exists() for path in theirs)
    assert _all_leftovers(built) == []


def _link_site(built: Path) -> Path:
    """Move the site to www/public and leave site/ a symbolic link to it."""
    www = built / "www"
    www.mkdir()
    (built / "site").rename(www / "public")
    (built / "site").symlink_to(www / "public")
    return www


def test_a_build_removes_what_a_killed_build_left_beside_a_linked_site(built):
    # A site that is a symbolic link is built beside the directory it points to, so a
    # killed build leaves its temporaries there, under that directory's name.
    www = _link_site(built)
    left = [
        www / ".public.tmp-99999" / "index.html",
        www / ".public.tmp-99999-pagefind" / "pagefind.js",
        www / ".public.tmp-99999-share1" / "x.html",
        www / ".public.old-99999" / "index.html",
    ]
    theirs = [www / "public-notes" / "notes.md", www / ".site.tmp-99999" / "theirs.txt"]
    for path in left + theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("left by a killed build")
    assert site_outputs(built / "site") == [built / "site", www / "public"]

    assert _run(built, *_site(built)).returncode == 0
    assert not [path for path in left if path.exists()]
    assert all(path.exists() for path in theirs)
    assert (built / "site").is_symlink() and (www / "public" / "index.html").exists()
    assert leftovers(www / "public") == []


def test_a_linked_site_is_locked_where_it_is_built(built):
    # Another build of the same directory (another checkout whose site links there) is
    # running: this one fails at once, and leaves that build's temporaries alone.
    www = _link_site(built)
    live = www / ".public.tmp-99999" / "index.html"
    live.parent.mkdir()
    live.write_text("another build's page")
    with build_lock([www / "public"]):
        second = _run(built, *_site(built))
    assert second.returncode == 1
    assert second.stderr == f"Error: www/public: another build is running (pid {os.getpid()})\n"
    assert live.exists()


def test_a_site_named_through_a_linked_folder_is_locked_where_it_is(built):
    # "l/../site" with l a link to x/y is x/site on disk (the system follows the link
    # before ".."), not ./site: the build writes and clears there, so it locks there.
    (built / "x" / "y").mkdir(parents=True)
    (built / "l").symlink_to(built / "x" / "y")
    live = built / "x" / ".site.tmp-99999" / "index.html"
    live.parent.mkdir()
    live.write_text("another build's page")
    with build_lock([built / "x" / "site"]):
        second = _run(built, *_site(built), "--site-dir", "l/../site")
    assert second.returncode == 1
    assert second.stderr == f"Error: x/site: another build is running (pid {os.getpid()})\n"
    assert live.exists()


@pytest.mark.parametrize(
    ("site_dir", "shown", "replaced"),
    [
        (".", ".", "the project"),
        ("sub/..", ".", "the project"),
        ("build/docs", "build/docs", "build/docs"),
        ("notebooks", "notebooks", "notebooks"),
        (".git", ".git", ".git"),
    ],
)
def test_a_site_folder_that_holds_the_project_or_its_pages_is_refused(
    built, site_dir, shown, replaced
):
    # Each build replaces the site folder whole: one that holds the project (or is the
    # pages' folder) would delete it.
    (built / "sub").mkdir()
    for source in ("notebooks", ".git"):  # sources the site stage does not write
        (built / source).mkdir()
        (built / source / "kept.txt").write_text("the project's")
    before = sorted(p.relative_to(built) for p in built.rglob("*"))
    for command in (_site(built), _all(built)):
        refused = _run(built, *command, "--site-dir", site_dir)
        assert refused.returncode == 1
        assert refused.stderr == (
            f"Error: {shown}: the site folder would replace {replaced}, which it holds; "
            "name another\n"
        )
    assert sorted(p.relative_to(built) for p in built.rglob("*")) == before


def test_a_site_folder_that_is_not_a_site_is_refused(built):
    # A folder of the project's own that no list names (docs/ here) is not replaced either:
    # what holds files but no home page is not a site.
    (built / "docs").mkdir()
    (built / "docs" / "notes.md").write_text("the project's")
    refused = _run(built, *_site(built), "--site-dir", "docs")
    assert refused.returncode == 1
    assert refused.stderr == (
        "Error: docs: the folder holds files but no index.html: not a site, and each build "
        "replaces the site folder whole; name another, or empty it\n"
    )
    assert (built / "docs" / "notes.md").read_text() == "the project's"
    (built / "empty").mkdir()
    assert _run(built, *_site(built), "--site-dir", "empty").returncode == 0


def test_the_lock_of_a_path_ending_in_dot_dot_is_beside_the_folder_it_names(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert outputs.physical_path(tmp_path / "a" / "b" / "..") == tmp_path / "a"


def test_a_project_reached_through_a_linked_folder_locks_its_site_once(built, tmp_path):
    linked = tmp_path / "linked"
    linked.symlink_to(built)
    assert site_outputs(linked / "site") == [linked / "site"]
    assert _run(linked, *_site(linked)).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A small tmpfs mounted at tmp_path/disk, to fill or remount read-only (needs root
    and mount(8), as on the CI machine)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a read-only file system needs root and mount(8)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _copy_outputs(old_and_new: Path, root: Path) -> dict[Path, bytes]:
    shutil.copytree(old_and_new, root, dirs_exist_ok=True, symlinks=True)
    _collection(root, "simple.txt", "rich.txt", "daily_papers.json", "daily.html")
    return {p: p.read_bytes() for p in (root / "papers.db", root / "site" / "index.html")}


@pytest.mark.parametrize("stage", ["db", "site"])
def test_a_full_disk_is_a_clear_error_and_keeps_the_old_outputs(old_and_new, small_disk, stage):
    root = small_disk
    before = _copy_outputs(old_and_new, root)
    free = os.statvfs(root)
    with open(root / "filler", "wb") as filler:  # leave 64 KiB free
        filler.truncate(0)
        filler.write(b"\0" * (free.f_bavail * free.f_frsize - 64 * 1024))

    full = _run(root, *(_db(root) if stage == "db" else _site(root)))

    assert full.returncode == 1
    assert "Traceback" not in full.stderr
    assert re.fullmatch(r"Error: [^:]+: no space left on device", full.stderr.splitlines()[-1])
    assert {p: p.read_bytes() for p in before} == before
    assert (root / "site" / "sitemap.xml").exists()
    assert _all_leftovers(root) == []


def test_a_read_only_disk_is_a_clear_error_and_keeps_the_old_outputs(old_and_new, small_disk):
    root = small_disk
    before = _copy_outputs(old_and_new, root)
    subprocess.run(["mount", "-o", "remount,ro", str(root)], check=True)

    for arguments in (_db(root), _site(root)):
        failed = _run(root, *arguments)
        assert failed.returncode == 1
        assert "Traceback" not in failed.stderr
        assert re.fullmatch(r"Error: [^:]+: read-only file system", failed.stderr.splitlines()[-1])
    assert {p: p.read_bytes() for p in before} == before
