"""The build's outputs: one build at a time, swapped into place atomically, leftovers of
killed builds removed, and write failures (disk full, read-only) reported by path."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from .errors import OutputError, display_path

# renameat2(2) flag: swap two existing paths in one step (Linux 3.15+, most local
# filesystems; not every network or FUSE filesystem).
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _libc_renameat2():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a libc older than glibc 2.28, or not glibc
        return None


_renameat2 = _libc_renameat2()


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one step. False where the system cannot (other OS, old
    libc, a filesystem without RENAME_EXCHANGE): the caller falls back to renames."""
    if _renameat2 is None:
        return False
    result = _renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


def replace_directory(new: Path, target: Path, keep_previous: Path | None = None) -> None:
    """Put the complete directory ``new`` at ``target``, which at every instant is either
    the previous directory or the new one, then remove the previous one, or rename it to
    ``keep_previous`` (replacing what is there) for the next build to start from.

    Where the exchange is unavailable, ``target`` is renamed aside and ``new`` renamed in:
    between those two renames ``target`` is missing (the next build removes the
    ``.old-`` directory a kill there would leave)."""
    if not target.exists():
        new.rename(target)
        return
    if exchange(new, target):
        _discard(new, keep_previous)  # now the previous directory
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    target.rename(old)
    new.rename(target)
    _discard(old, keep_previous)


def _discard(previous: Path, keep_at: Path | None) -> None:
    """Remove the replaced directory ``previous``, or rename it to ``keep_at``."""
    if keep_at is not None:
        shutil.rmtree(keep_at, ignore_errors=True)
        with suppress(OSError):
            previous.rename(keep_at)
            return
    shutil.rmtree(previous, ignore_errors=True)


def link_tree(source: Path, target: Path, skip: tuple[str, ...] = ()) -> None:
    """Make ``target`` a copy of ``source`` of hard links, but for the names ``skip`` at
    its top. What ``target`` already holds is reused where it is the same file (the same
    inode); anything else there is replaced or removed."""
    target.mkdir(parents=True, exist_ok=True)
    _link_entries(os.fspath(source), os.fspath(target), frozenset(skip), fresh=False)


def _link_entries(source: str, target: str, skip: frozenset[str], fresh: bool) -> None:
    """:func:`link_tree` of one directory (strings, not paths: 10,000 directories at
    10,000 papers); a ``fresh`` target was just made, so it holds nothing to look at."""
    with os.scandir(source) as entries:
        wanted = [entry for entry in entries if entry.name not in skip]
    present: dict[str, os.DirEntry] = {}
    if not fresh:
        with os.scandir(target) as entries:
            present = {entry.name: entry for entry in entries}
        kinds = {entry.name: _is_dir(entry) for entry in wanted}
        for name, entry in list(present.items()):
            if name not in kinds or kinds[name] != _is_dir(entry):
                _remove(entry)  # not in the source, or a file there and a folder here
                del present[name]
    for entry in wanted:
        copy = os.path.join(target, entry.name)
        if _is_dir(entry):
            made = entry.name not in present
            if made:
                os.mkdir(copy)
            _link_entries(entry.path, copy, frozenset(), fresh=made)
        elif (there := present.get(entry.name)) is None or there.inode() != entry.inode():
            if there is not None:
                os.unlink(copy)
            os.link(entry.path, copy)


def _is_dir(entry: os.DirEntry) -> bool:
    return entry.is_dir(follow_symlinks=False)


def _remove(entry: os.DirEntry) -> None:
    if _is_dir(entry):
        shutil.rmtree(entry.path)
    else:
        os.unlink(entry.path)


def previous_path(output: Path) -> Path:
    """Where an incremental build keeps the output it replaced (beside it, like
    :func:`temporary_path`): the next build brings it up to date to start from."""
    return output.with_name(f".{output.name}.previous")


def temporary_path(output: Path) -> Path:
    """Where ``output`` is built before it replaces the previous one (beside it, so the
    rename stays on one filesystem)."""
    return output.with_name(f".{output.name}.tmp-{os.getpid()}")


def write_replacing(path: Path, data: bytes) -> None:
    """Write ``path`` through a ``.NAME.tmp`` beside it, so a reader sees the old file or
    the new one; if writing fails (disk full), the temporary is removed, not left."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    except BaseException:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise


def leftovers(output: Path) -> list[Path]:
    """What killed builds of ``output`` can leave beside it: temporary outputs (with
    their MkDocs shares) and previous sites renamed aside."""
    if not output.parent.is_dir():
        return []
    # Only names the build makes (shares are .NAME.tmp-PID-shareN): a user's own
    # folder beside the output, such as site-shared-notes/, is never touched.
    prefixes = (f".{output.name}.tmp-", f".{output.name}.old-")
    return sorted(p for p in output.parent.iterdir() if p.name.startswith(prefixes))


def site_outputs(site_dir: Path) -> list[Path]:
    """The places a site build writes: a site that is a symbolic link is built beside the
    directory it points to (under that directory's name), so that place is locked, and
    cleared of what killed builds left there, as well as the link's."""
    target = Path(os.path.realpath(site_dir))
    return [site_dir, target] if target != physical_path(site_dir) else [site_dir]


def check_site_dir(site_dir: Path, kept: list[Path]) -> None:
    """Refuse a site folder that is, or holds, the project (the working directory) or one
    of the ``kept`` paths (its sources, pages, database): each build replaces the site
    folder whole, so what is inside it would be deleted."""
    site = Path(os.path.realpath(site_dir))
    project = Path.cwd().resolve()
    for path in [project, *kept]:
        there = Path(os.path.realpath(path))
        if there == site or site in there.parents:
            where = "the project" if there == project else display_path(path)
            raise OutputError(
                display_path(site_dir),
                f"the site folder would replace {where}, which it holds; name another",
            )
    # Whatever else a folder holds (a docs/ or tests/ of the project's own): a site has a
    # home page; an empty folder, or none, is fine.
    if site.is_dir() and not (site / "index.html").is_file() and any(site.iterdir()):
        raise OutputError(
            display_path(site_dir),
            "the folder holds files but no index.html: not a site, and each build replaces "
            "the site folder whole; name another, or empty it",
        )


def work_leftovers(work_dir: Path) -> list[Path]:
    """Temporary files and directories (``*.tmp``) under the build's work directory
    (generated pages, caches) that a killed build left."""
    found = []
    for directory, names, files in os.walk(work_dir):
        for name in [*names, *files]:
            if name.endswith(".tmp"):
                found.append(Path(directory, name))
        names[:] = [name for name in names if not name.endswith(".tmp")]
    return sorted(found)


def remove_leftovers(outputs: list[Path], work_dirs: list[Path] = ()) -> list[Path]:
    """Remove what killed builds left beside ``outputs`` and in ``work_dirs``. Only
    safe under :func:`build_lock`: another running build's temporaries look the same."""
    removed = [p for output in outputs for p in leftovers(output)]
    removed += [p for work_dir in work_dirs for p in work_leftovers(work_dir)]
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return removed


def lock_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.lock")


@contextmanager
def build_lock(outputs: list[Path]) -> Iterator[None]:
    """Hold the lock of every output for the whole build, or fail at once.

    Failing rather than waiting: a second build started by mistake would otherwise
    silently redo the first one's work after it; the message names the running one's pid.
    The lock is an flock on ``.NAME.lock`` beside each output, so the kernel releases it
    when a build dies, however it dies; the file is removed when the build ends (a killed
    build leaves it, ignored by git).
    """
    with ExitStack() as stack:
        for output in sorted({physical_path(Path(o)) for o in outputs}):
            stack.enter_context(_locked(output))
        yield


def physical_path(output: Path) -> Path:
    """Where ``output`` is on disk, its folder's links followed (not its own: a linked
    site is locked where the link is, and by :func:`site_outputs` where it points). The
    system follows them too, so ``a/../site`` with ``a`` a link is not ``./site``: the
    lock must be beside what the build writes and clears."""
    if output.name in ("", ".", ".."):  # a name to resolve, not one to lock beside
        return Path(os.path.realpath(output))
    return Path(os.path.realpath(output.parent), output.name)


@contextmanager
def _locked(output: Path) -> Iterator[None]:
    path = lock_path(output)
    descriptor = _lock_file(path, output)
    try:
        try:
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # opened read-only: the build itself will say why it cannot write
        yield
    finally:
        # Removed while still locked, so no other build can hold a lock on a file that
        # is gone (_lock_file checks that the file it locked is still the lock file).
        with suppress(OSError):  # a read-only disk: the next build locks the same file
            path.unlink(missing_ok=True)
        os.close(descriptor)  # releases the flock


def _lock_file(path: Path, output: Path) -> int:
    """The lock file of ``output``, opened and locked, or an OutputError at once."""
    while True:
        descriptor = _open_lock_file(path)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(descriptor)
            raise OutputError(
                display_path(output), f"another build is running (pid {holder})"
            ) from None
        try:
            if os.stat(path).st_ino == os.fstat(descriptor).st_ino:
                return descriptor
        except FileNotFoundError:
            pass
        os.close(descriptor)  # the build that held it removed it meanwhile: again


def _open_lock_file(path: Path) -> int:
    """The lock file, opened for writing the pid; on a read-only disk opened read-only
    (flock needs no more), so that the error names the output the build cannot write."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        if path.exists():
            return os.open(path, os.O_RDONLY)
        with writing(path.parent):
            raise error


# Why a write failed, for the errors a full or read-only disk gives.
_REASONS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "no space left on device (disk quota exceeded)",
    errno.EFBIG: "no space left on device (file size limit reached)",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted (read-only or immutable)",
}
# SQLite's messages for the same conditions (it does not pass errno on).
_SQLITE_REASONS = {
    "database or disk is full": _REASONS[errno.ENOSPC],
    "attempt to write a readonly database": "read-only file system",
    "unable to open database file": "cannot create the file (read-only or missing directory)",
    "disk I/O error": "disk I/O error (full or read-only disk?)",
}


def output_error(error: BaseException, path: Path) -> OutputError | None:
    """The :class:`OutputError` for a write that failed because of the disk, or None."""
    # The output, not the file that failed: that may be a temporary one, or the source
    # of a copy (shutil names it in the error).
    if isinstance(error, OSError) and error.errno in _REASONS:
        return OutputError(display_path(path), _REASONS[error.errno])
    if isinstance(error, sqlite3.OperationalError):
        for message, reason in _SQLITE_REASONS.items():
            if message in str(error):
                return OutputError(display_path(path), reason)
    return None


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn a full or read-only disk while writing ``path`` into an :class:`OutputError`."""
    try:
        yield
    except (OSError, sqlite3.OperationalError) as error:
        converted = output_error(error, path)
        if converted is None:
            raise
        raise converted from None


def site_work_dirs(docs_dir: Path) -> list[Path]:
    """Where the site stage writes besides the site: the pages, the search documents and
    the notebook cache (beside the pages)."""
    return [docs_dir, docs_dir.parent / "search", docs_dir.parent / "cache"]


@contextmanager
def exclusive_build(outputs: list[Path], work_dirs: list[Path] = ()) -> Iterator[None]:
    """Lock ``outputs`` for the whole build, then clear what killed builds left."""
    with build_lock(outputs):
        remove_leftovers([Path(o) for o in outputs], [Path(w) for w in work_dirs])
        yield
