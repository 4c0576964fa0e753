"""A papershelf module run in a fresh interpreter (``python -m``), with the same papershelf
as the process that starts it.

The new interpreter's search path begins with its working directory; in a checkout that
holds ``papershelf/publish/theme`` but not the package (a build of other content), that
folder would be taken for the package and the module not found, or another papershelf
run than the build's. The package's own folder goes first on ``PYTHONPATH``: a regular
package there wins over a folder without ``__init__.py`` in the working directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The folder that holds the package, as this process imported it.
PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])


def module_command(module: str) -> list[str]:
    """``python -m module``, with this interpreter's choice of writing bytecode."""
    flags = ["-B"] if sys.flags.dont_write_bytecode else []
    return [sys.executable, *flags, "-m", module]


def module_environment() -> dict[str, str]:
    """This process's environment, with the package's folder first on ``PYTHONPATH``."""
    paths = [PACKAGE_PARENT, *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
