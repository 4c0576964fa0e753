"""What a cached output depends on besides its inputs: papershelf's own code and the
versions of the libraries that make it. A cache keyed on these gives, after an upgrade,
what a build from nothing gives; and the interpreters the build starts (MkDocs' shares,
the notebooks' kernels) import the code the keys cover."""

from __future__ import annotations

import functools
import hashlib
import os
import site
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

# Not resolved: a package reached through a symbolic link is imported under the link's name.
PACKAGE = Path(os.path.abspath(__file__)).parents[1]


def distribution_versions(roots: Iterable[str]) -> dict[str, str]:
    """The versions of the distributions ``roots`` and of every distribution they
    require, by name: a newer Markdown extension, Pygments or Jinja2 changes pages whose
    Markdown did not. An extra one of them asks for (``bleach[css]``) brings its
    requirements; the extras nobody asks for, and requirements of other systems
    (Windows-only ones), are left out."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    versions: dict[str, str] = {}
    walked: dict[str, set[str]] = {}  # name -> the extras whose requirements were added
    wanted = [(name, frozenset()) for name in roots]
    while wanted:
        name, extras = wanted.pop()
        name = canonicalize_name(name)
        new = ({""} | extras) - walked.get(name, set())
        if not new:
            continue
        try:
            found = distribution(name)
        except PackageNotFoundError:
            continue
        versions[name] = found.version
        walked.setdefault(name, set()).update(new)
        for line in found.requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in new):
                wanted.append((requirement.name, frozenset(requirement.extras)))
    return dict(sorted(versions.items()))


@functools.cache
def code_digest() -> bytes:
    """papershelf's modules, by path and content (its version number does not change
    with its code)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + path.read_bytes())
    return digest.digest()


def child_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """``environment`` for a Python the build starts, with the directory that holds this
    papershelf first on ``PYTHONPATH``: otherwise the child finds the package wherever its
    path leads (an editable install elsewhere, or a project's ``papershelf/publish/theme``
    folder taken for it) and runs code :func:`code_digest` does not cover. Left as it is
    when that directory is a site directory, which the child searches anyway: ahead of the
    standard library, a module there named like one of its own would shadow it; then a
    parent that ignores ``PYTHONPATH`` (``python -E`` or ``-I``) gives none to the child,
    which would otherwise find papershelf where the parent did not look."""
    root = str(PACKAGE.parent)
    if root in {*site.getsitepackages(), site.getusersitepackages()}:
        if sys.flags.ignore_environment:
            return {name: value for name, value in environment.items() if name != "PYTHONPATH"}
        return dict(environment)
    rest = environment.get("PYTHONPATH")
    return {**environment, "PYTHONPATH": os.pathsep.join([root, rest]) if rest else root}
