"""What a cached output depends on besides its inputs: papershelf's own code and the
versions of the libraries that make it. A cache keyed on these gives, after an upgrade,
what a build from nothing gives."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path

PACKAGE = Path(__file__).parents[1]


def distribution_versions(roots: Iterable[str]) -> dict[str, str]:
    """The versions of the distributions ``roots`` and of every distribution they
    require, by name: a newer Markdown extension, Pygments or Jinja2 changes pages whose
    Markdown did not. Requirements of extras, or of other systems (Windows-only ones),
    are left out."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    versions: dict[str, str] = {}
    wanted = list(roots)
    while wanted:
        name = canonicalize_name(wanted.pop())
        if name in versions:
            continue
        try:
            found = distribution(name)
        except PackageNotFoundError:
            continue
        versions[name] = found.version
        for line in found.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(requirement.name)
    return dict(sorted(versions.items()))


@functools.cache
def code_digest() -> bytes:
    """papershelf's modules, by path and content (its version number does not change
    with its code)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + path.read_bytes())
    return digest.digest()
