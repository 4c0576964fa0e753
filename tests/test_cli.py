import re
import subprocess
import sys

import pytest
import sqlite_utils
from click.testing import CliRunner

from papershelf.cli import cli
from papershelf.collection.topics import load_topics

from .conftest import REPO, TOPICS

HEADER = "new\n\nSubscribe\n\nMar 14\n\n"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def db_args(listings, db, *extra):
    return ("db", "--listings", listings, "--topics", TOPICS, "--db", db, *extra)


def test_db_builds_and_summarises(fixture_listings, tmp_path):
    db = tmp_path / "out" / "papers.db"
    result = run(*db_args(fixture_listings, db))
    assert result.exit_code == 0, result.output
    assert (
        f"Wrote {db}: 2 listings, 7 entries, 6 papers, {len(load_topics(TOPICS))} topics, "
        "1 uncategorised, 0 warnings." in result.output
    )
    assert (
        "a-paper-about-nothing-in-particular  A Paper About Nothing In Particular" in result.output
    )
    assert sqlite_utils.Database(db)["papers"].count == 6


def test_shared_paper_is_merged_across_listings(fixture_listings, tmp_path):
    db = tmp_path / "papers.db"
    run(*db_args(fixture_listings, db))
    row = sqlite_utils.Database(db)["papers"].get(
        "chain-of-hindsight-aligns-language-models-with-feedback"
    )
    assert (row["listing_count"], row["published"], row["upvotes"]) == (2, "2023-02-06", 12)


def test_conflicting_metadata_is_a_warning_and_strict_fails(fixture_listings, tmp_path):
    text = (fixture_listings / "rich.txt").read_text(encoding="utf-8")
    (fixture_listings / "z_more.txt").write_text(
        HEADER + "LiNeS: Post-training Layer Scaling Prevents Forgetting and Enhances Model Merging"
        "\n\nAn abstract.\n\n  • 7 authors\n·\nOct 22, 2024\n",
        encoding="utf-8",
    )
    assert text  # the fixture is there too
    db = tmp_path / "papers.db"
    result = run(*db_args(fixture_listings, db))
    assert result.exit_code == 0
    warning = re.search(r"Warning: (.*)", result.output).group(1)
    assert warning.startswith(
        f"{fixture_listings / 'z_more.txt'}:7: abstract (12 characters) differs"
    )
    assert "2 warnings." in result.output
    strict = run(*db_args(fixture_listings, tmp_path / "strict.db", "--strict"))
    assert strict.exit_code == 1
    assert "Error: 2 warning(s) and --strict is set:" in strict.output
    assert not (tmp_path / "strict.db").exists()


BAD_INPUTS = {
    "abstract-without-title": (
        HEADER + "A Title\n\nIts abstract.\n\n" + "Another abstract. " * 20 + "\n\nX\n\nY\n",
        "bad.txt:11: expected a paper title, found a paragraph of 359 characters "
        "(an abstract without a title?)",
    ),
    "truncated-entry": (
        HEADER + "A Title\n\nIts abstract.\n\nA Lonely Title\n",
        "bad.txt:11: truncated entry: the title 'A Lonely Title' has no abstract",
    ),
    "bad-date": (
        HEADER + "A Title\n\nIts abstract.\n\n  • 2 authors\n·\nFeb 30, 2024\n",
        "bad.txt:13: unparseable date 'Feb 30, 2024': day is out of range for month",
    ),
    "no-entries": (HEADER, "bad.txt:5: no entries found after the listing date"),
    "not-utf8": (
        (HEADER + "Caf\u00e9\n\nAbstract.\n").encode("latin-1"),
        "bad.txt:7: not UTF-8 text (byte 0xe9 at column 4); save the listing as UTF-8",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_file_and_line_and_keeps_the_old_database(case, fixture_listings, tmp_path):
    db = tmp_path / "papers.db"
    assert run(*db_args(fixture_listings, db)).exit_code == 0
    before = db.read_bytes()

    content, message = BAD_INPUTS[case]
    bad = fixture_listings / "bad.txt"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content, encoding="utf-8")
    result = run(*db_args(fixture_listings, db))
    assert result.exit_code == 1
    assert f"Error: {fixture_listings / message}" in result.output
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["listings", "papers.db"]


def test_missing_listings_directory(tmp_path):
    result = run(*db_args(tmp_path / "nope", tmp_path / "papers.db"))
    assert result.exit_code == 1
    assert f"Error: {tmp_path / 'nope'}: no such listings directory" in result.output


def test_serve_needs_a_database(tmp_path):
    result = run("serve", "--db", tmp_path / "missing.db")
    assert result.exit_code == 1
    assert "no such database; run 'python build.py db' first" in result.output


def test_every_command_has_help_and_is_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert command.help, name
        assert f"build.py {name}" in readme, name
        result = run(name, "--help")
        assert result.exit_code == 0 and command.help.splitlines()[0] in result.output


def test_code_is_ruff_clean():
    import subprocess
    import sys

    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_site_builds_from_another_working_directory_with_a_fresh_checkout_config(
    tmp_path, monkeypatch
):
    """``build/docs`` on the command line is relative to the working directory; MkDocs
    reads a relative ``docs_dir`` against the configuration's folder, where (in a clean
    checkout) no ``build/docs`` exists. The site build must not confuse the two."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    config = checkout / "mkdocs.yml"
    theme = REPO / "papershelf" / "publish" / "theme"
    config.write_text(
        (REPO / "mkdocs.yml")
        .read_text(encoding="utf-8")
        .replace("custom_dir: papershelf/publish/theme", f"custom_dir: {theme}"),
        encoding="utf-8",
    )
    work = tmp_path / "work"
    (work / "listings").mkdir(parents=True)
    (work / "listings" / "simple.txt").write_text(
        (REPO / "tests" / "fixtures" / "simple.txt").read_text(encoding="utf-8"), "utf-8"
    )
    monkeypatch.chdir(work)
    built = run(*db_args(work / "listings", work / "papers.db"))
    assert built.exit_code == 0, built.output
    result = run("site", "--db", "papers.db", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert (work / "site" / "index.html").is_file()
    assert not (checkout / "build").exists()


def test_the_database_stage_loads_neither_mkdocs_nor_pandas(fixture_listings, tmp_path):
    """Start-up is part of the stage's time (issue 18): the main process of 'build.py db'
    imports neither the site's modules, nor MkDocs' configuration (only its YAML loader),
    nor pandas (which sqlite-utils would import)."""
    heavy = ("pandas", "mkdocs.config", "papershelf.publish.site", "papershelf.publish.pages")
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from papershelf.cli import cli\n"
        f"args = {[str(a) for a in db_args(fixture_listings, tmp_path / 'papers.db')]!r}\n"
        "result = CliRunner().invoke(cli, args, catch_exceptions=False)\n"
        "assert result.exit_code == 0, result.output\n"
        f"print(sorted(name for name in {heavy!r} if name in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout == "[]\n"
    assert (tmp_path / "papers.db").exists()
