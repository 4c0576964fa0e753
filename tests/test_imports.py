"""Slow imports are hidden from the libraries that would load them for nothing (pandas from
sqlite-utils and scikit-learn, rfc3987_syntax from nbformat: issue 18), and only there."""

from __future__ import annotations

import subprocess
import sys

from .conftest import REPO


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_inside_pandas_is_not_installed_and_afterwards_it_is_importable():
    code = (
        "from papershelf.imports import pandas_hidden\n"
        "with pandas_hidden():\n"
        "    try:\n"
        "        import pandas\n"
        "        print('imported')\n"
        "    except ImportError:\n"
        "        print('hidden')\n"
        "import pandas\n"
        "print(pandas.DataFrame({'a': [1, 2]}).shape)\n"
    )
    assert _run(code) == "hidden\n(2, 1)\n"


def test_a_pandas_already_imported_stays():
    code = (
        "import pandas\n"
        "from papershelf.imports import pandas_hidden\n"
        "with pandas_hidden():\n"
        "    import pandas as again\n"
        "print(again is pandas)\n"
    )
    assert _run(code) == "True\n"


def test_the_related_papers_imports_load_scikit_learn_without_pandas():
    code = (
        "import sys\n"
        "from papershelf.collection.related import _import_for_vectors, related_papers\n"
        "_import_for_vectors()\n"
        "rows = related_papers(['a', 'b'], ['lora adapters', 'lora tuning'], [set(), set()])\n"
        "print('pandas' in sys.modules, [(r.paper, r.related) for r in rows])\n"
    )
    assert _run(code) == "False [('a', 'b'), ('b', 'a')]\n"


def test_the_notebook_runner_is_imported_without_rfc3987_syntax_and_still_validates():
    code = (
        "import sys\n"
        "from papershelf.imports import import_notebook_runner\n"
        "import_notebook_runner()\n"
        "import nbformat\n"
        "notebook = nbformat.read('notebooks/querying.ipynb', as_version=4)\n"
        "nbformat.validate(notebook)\n"
        "print('rfc3987_syntax' in sys.modules, len(notebook.cells) > 0)\n"
    )
    assert _run(code) == "False True\n"
