"""One exception hierarchy: every error a user can act on is a PapershelfError, which the
command line shows as ``Error: message`` with exit code 1, never as a traceback."""

from __future__ import annotations

import os
import signal
import sqlite3

import click
import pytest
import sqlite_utils
from click.testing import CliRunner

from papershelf import errors
from papershelf.cli import cli
from papershelf.collection.related import MAX_TOPICS, Background, related_papers
from papershelf.store.database import insert
from papershelf.store.pipeline import build_database, check_foreign_keys
from papershelf.store.schema import ensure_db_shape

from .conftest import TOPICS


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_every_project_error_is_a_click_exception_under_one_base():
    classes = [
        errors.InputError,
        errors.OutputError,
        errors.StrictError,
        errors.FetchError,
        errors.EnrichError,
        errors.RelatedError,
        errors.DatabaseError,
        errors.SiteError,
        errors.SearchError,
        errors.NotebookError,
        errors.CurationError,
    ]
    for error_class in classes:
        assert issubclass(error_class, errors.PapershelfError), error_class
    assert issubclass(errors.PapershelfError, click.ClickException)


def test_the_modules_raise_the_classes_of_the_hierarchy():
    from papershelf.collection.curation import CurationError
    from papershelf.ingest.enrich import EnrichError
    from papershelf.ingest.fetch import FetchError
    from papershelf.publish.analysis import NotebookError
    from papershelf.publish.search import SearchError
    from papershelf.publish.site import SiteError

    assert CurationError is errors.CurationError
    assert FetchError is errors.FetchError
    assert EnrichError is errors.EnrichError
    assert NotebookError is errors.NotebookError
    assert SearchError is errors.SearchError
    assert SiteError is errors.SiteError


def test_input_error_names_the_file_and_line_and_keeps_its_parts():
    error = errors.InputError("content/listings/x.txt", 17, "truncated entry")
    assert str(error) == error.format_message() == "content/listings/x.txt:17: truncated entry"
    assert (error.path, error.line, error.message) == (
        "content/listings/x.txt",
        17,
        "truncated entry",
    )
    assert str(errors.InputError(None, 3, "bad")) == "<input>:3: bad"
    assert str(errors.InputError("topics.yml", None, "bad")) == "topics.yml: bad"
    assert str(errors.OutputError("site", "read-only file system")) == "site: read-only file system"
    assert str(errors.OutputError(None, "another build is running")) == "another build is running"


def test_a_missing_topics_file_is_one_line_not_a_traceback(tmp_path, fixture_listings):
    missing = tmp_path / "nope.yml"
    result = run(
        "db",
        "--listings",
        str(fixture_listings),
        "--topics",
        str(missing),
        "--db",
        str(tmp_path / "p.db"),
    )
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {missing}: no such file"
    assert not (tmp_path / "p.db").exists()
    suggested = run("topics", "suggest", "--db", str(tmp_path / "p.db"), "--topics", str(missing))
    assert suggested.exit_code == 1
    assert suggested.output.strip() == f"Error: {missing}: no such file"


def test_fetch_errors_say_nothing_was_written(tmp_path):
    result = run("fetch", "--date", "2025-08-14", "--week", "2025-W33", "--listings", str(tmp_path))
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: give exactly one of --date, --week or --month; nothing was written"
    )
    assert list(tmp_path.iterdir()) == []


def _many_topics(tmp_path, count: int):
    """A listing of ``count`` papers and a taxonomy with one topic for each of them."""
    words = [f"zq{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(count)]
    listings = tmp_path / "listings"
    listings.mkdir()
    entries = "".join(f"Studies of {w}\n\nWe study {w} at length.\n\n" for w in words)
    (listings / "many.txt").write_text(f"byAK and the research community\n\nMar 14\n\n{entries}")
    topics = tmp_path / "topics.yml"
    topics.write_text(
        "topics:\n"
        + "".join(
            f"  - slug: {w}\n    name: Topic {w}\n    description: Papers on {w}.\n"
            f"    rules: [{w}]\n"
            for w in words
        )
    )
    return listings, topics


def test_more_topics_with_papers_than_related_papers_support_is_a_clear_error(tmp_path):
    listings, topics = _many_topics(tmp_path, MAX_TOPICS + 1)
    db_path = tmp_path / "papers.db"
    result = run("db", "--listings", str(listings), "--topics", str(topics), "--db", str(db_path))
    assert result.exit_code == 1, result.output
    assert (
        f"Error: {MAX_TOPICS + 1} topics have papers, and related papers are computed for at "
        f"most {MAX_TOPICS}: merge or retire some topics"
    ) in result.output
    assert "Traceback" not in result.output
    assert not db_path.exists()


def test_as_many_topics_as_related_papers_support_build(tmp_path):
    listings, topics = _many_topics(tmp_path, MAX_TOPICS)
    result = build_database(listings, topics, tmp_path / "papers.db")
    assert result.papers == MAX_TOPICS and not result.uncategorised


def test_a_related_papers_process_that_dies_is_a_related_error():
    background = Background()
    background.start(["a", "b"], ["Low-rank adapters.", "Adapters of low rank."])
    os.kill(background._process.pid, signal.SIGKILL)
    background.score([set(), set()])
    with pytest.raises(errors.RelatedError, match=r"ended with code -9 before sending its result"):
        background.result()


def test_a_failure_inside_the_related_papers_process_is_one_line():
    background = Background()
    background.start(["a", "b"], [1, 2])  # not text: scikit-learn fails in the child
    background.score([set(), set()])
    with pytest.raises(errors.RelatedError) as raised:
        background.result()
    message = raised.value.format_message()
    assert message.startswith("computing related papers failed: AttributeError: ")
    assert "Traceback" not in message and "\n" not in message


def test_papers_whose_text_is_only_stop_words_build_without_related_papers(tmp_path):
    listings = tmp_path / "listings"
    listings.mkdir()
    (listings / "words.txt").write_text(
        "byAK and the research community\n\nMar 14\n\nThe A\n\nIt is.\n\nOn Us\n\nWe are.\n"
    )
    db_path = tmp_path / "papers.db"
    result = build_database(listings, TOPICS, db_path)
    assert result.papers == 2
    db = sqlite_utils.Database(db_path)
    assert db["related_papers"].count == 0
    assert related_papers(["a", "b"], ["The. The. ", "A. A. "], [{"x", "y"}, {"x", "y"}]) != []


def test_a_broken_reference_is_a_database_error_naming_the_rows(tmp_path):
    db = sqlite_utils.Database(sqlite3.connect(tmp_path / "broken.db"))
    db["papers"].create({"slug": str}, pk="slug")
    db["links"].create(
        {"paper": str, "position": int},
        pk=("paper", "position"),
        foreign_keys=[("paper", "papers", "slug")],
    )
    db["links"].insert({"paper": "missing", "position": 1})
    with pytest.raises(errors.DatabaseError) as raised:
        check_foreign_keys(db, "broken.db")
    assert raised.value.format_message() == (
        "broken.db: 1 broken reference(s), e.g. links row 1 refers to a missing row of papers; "
        "this is a bug in papershelf, please report it"
    )


def test_a_broken_reference_of_a_table_without_rowid_names_its_table(tmp_path):
    db = sqlite_utils.Database(sqlite3.connect(tmp_path / "broken.db"))
    ensure_db_shape(db)
    db.execute("pragma foreign_keys = off")
    insert(db, "topic_evidence", [("missing", "nlp", 1, "r", "title", "title", "m", "s", 1.0, 1)])
    with pytest.raises(errors.DatabaseError) as raised:
        check_foreign_keys(db, "broken.db")
    message = raised.value.format_message()
    assert "e.g. a row of topic_evidence refers to a missing row of " in message
