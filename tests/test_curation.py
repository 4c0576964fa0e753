"""The curator's commands: ``topics check`` figures and ``topics suggest`` proposals."""

import json
from pathlib import Path

import pytest
import sqlite_utils
import yaml
from click.testing import CliRunner

from papershelf.collection.curation import (
    CurationError,
    format_report,
    format_suggestion,
    measure,
    suggest,
)
from papershelf.errors import InputError

from .conftest import REPO

TOPICS = [("alpha", "Alpha"), ("beta", "Beta"), ("gamma", "Gamma")]

# paper: [(topic, score, is_primary)] — the engine's memberships
MEMBERS = {
    "p1": [("alpha", 2.0, 1), ("beta", 1.2, 0)],
    "p2": [("beta", 1.5, 1)],
    "p3": [("gamma", 1.0, 1)],
    "p4": [],
    "p5": [("alpha", 1.1, 1)],
}
NEAR_MISSES = [("p2", "gamma", 0.6), ("p4", "alpha", 0.2)]
# (paper, topic, position, rule, field, sentence_kind, matched, weight, counted)
EVIDENCE = [
    ("p1", "alpha", 1, "alpha*", "title", "title", "Alphas", 1.0, 1),
    ("p1", "alpha", 2, "alpha*", "abstract", "contribution", "alpha", 0.5, 0),
    ("p1", "beta", 1, "beta", "abstract", "contribution", "beta", 0.5, 1),
    ("p2", "beta", 1, "beta", "title", "title", "Beta", 1.0, 1),
    ("p2", "gamma", 1, "gamma ray", "abstract", "background", "gamma-ray", 0.5, 1),
    ("p2", "gamma", 2, "gamma ray", "abstract", "background", "gamma ray", 0.1, 1),
    ("p3", "gamma", 1, "gamma ray", "title", "title", "Gamma-Ray", 1.0, 1),
    ("p4", "alpha", 1, "alpha*", "abstract", "background", "alphabet", 0.2, 1),
    ("p5", "alpha", 1, "alpha*", "title", "title", "Alpha", 1.0, 1),
]
LABELS = """\
papers:
  - slug: p1
    set: development
    topics: [alpha]
  - slug: p2
    set: development
    topics: [gamma, beta]
  - slug: p3
    set: held-out
    topics: [gamma]
  - slug: p4
    set: held-out
    topics: [alpha]
  - slug: ghost
    set: held-out
    topics: [alpha]
"""


def make_db(path: Path, papers: dict[str, tuple[str, str]], members, near=(), evidence=()):
    """A database with the contract's topic tables, rows inserted directly."""
    db = sqlite_utils.Database(path)
    db["papers"].insert_all(
        ({"slug": s, "title": t, "abstract": a} for s, (t, a) in papers.items()), pk="slug"
    )
    db["topics"].insert_all(
        ({"slug": s, "name": n, "position": i} for i, (s, n) in enumerate(TOPICS)), pk="slug"
    )
    memberships = [
        {"paper": p, "topic": t, "score": score, "is_primary": primary, "rank": rank}
        for p, topics in members.items()
        for rank, (t, score, primary) in enumerate(topics, start=1)
    ]
    db["paper_topics"].create(_MEMBER_COLUMNS, pk=("paper", "topic"))
    db["paper_topics"].insert_all(memberships)
    scores = [{**m, "member": 1, "reason": None} for m in memberships] + [
        {"paper": p, "topic": t, "score": s, "member": 0, "reason": "below threshold 1.0"}
        for p, t, s in near
    ]
    columns = {"paper": str, "topic": str, "score": float, "member": int, "reason": str}
    db["topic_scores"].create(columns, pk=("paper", "topic"))
    db["topic_scores"].insert_all({k: row[k] for k in columns} for row in scores)
    db["topic_evidence"].create(_EVIDENCE_COLUMNS)
    db["topic_evidence"].insert_all(
        dict(zip(_EVIDENCE_COLUMNS, row, strict=True)) for row in evidence
    )
    return path


_MEMBER_COLUMNS = {"paper": str, "topic": str, "score": float, "is_primary": int, "rank": int}
_EVIDENCE_COLUMNS = {
    "paper": str,
    "topic": str,
    "position": int,
    "rule": str,
    "field": str,
    "sentence_kind": str,
    "matched": str,
    "weight": float,
    "counted": int,
}


@pytest.fixture
def labelled(tmp_path):
    """(database, labels file) of the small labelled fixture."""
    papers = {slug: (f"Paper {slug[1]}", "An abstract.") for slug in MEMBERS}
    db = make_db(tmp_path / "papers.db", papers, MEMBERS, NEAR_MISSES, EVIDENCE)
    labels = tmp_path / "labels.yml"
    labels.write_text(LABELS, encoding="utf-8")
    return db, labels


def test_check_figures_on_the_labelled_fixture(labelled):
    db, labels = labelled
    report, warnings = measure(db, labels)
    assert (report.right, report.assigned, report.expected) == (3, 4, 5)
    assert (report.precision, report.recall) == (0.75, 0.6)
    assert (report.primary_right, report.primary_accuracy, report.exact_sets) == (2, 0.5, 1)
    assert [(f.slug, f.support, f.assigned, f.right) for f in report.per_topic] == [
        ("alpha", 2, 1, 1),
        ("beta", 1, 2, 1),
        ("gamma", 2, 1, 1),
    ]
    assert (report.mean_topics_labelled, report.mean_topics_expected) == (1.0, 1.25)
    assert report.mean_topics_all == 1.0
    assert report.distribution == ((0, 1), (1, 3), (2, 1))
    assert report.no_topic == (("p4", "Paper 4"),) and report.no_topic_share == 0.2
    assert report.missing == ("ghost",)
    assert warnings == [f"{labels}:14: labelled paper 'ghost' is not in the database"]


def test_check_prints_aligned_tables(labelled):
    db, labels = labelled
    report, _ = measure(db, labels)
    assert format_report(report) == EXPECTED_REPORT.format(db=db, labels=labels)


EXPECTED_REPORT = """\
Topic quality of {db}: 5 papers
Labels: {labels}, 4 labelled papers in the database (1 missing).

Memberships of labelled papers
  precision      0.750  3 of 4 assigned memberships
  recall         0.600  3 of 5 labelled memberships
  primary topic  0.500  2 of 4 papers: the engine's primary is the label's first
  exact sets     0.250  1 of 4 papers: the same topics as labelled
By labelled set
  set          papers  precision  recall
  development       2      0.667   0.667
  held-out          2      1.000   0.500

Per topic (over labelled papers)
  topic  support  assigned  right  precision  recall
  alpha        2         1      1      1.000   0.500
  beta         1         2      1      0.500   1.000
  gamma        2         1      1      1.000   0.500

Topics per paper
  labelled papers: 1.00 assigned, 1.25 labelled
  all 5 papers: 1.00 assigned
  distribution over all papers:
  topics  papers
       0       1
       1       3
       2       1

Papers with no topic: 1 of 5 (20.0%)
  p4  Paper 4

Rules that fire most (counted evidence)
  rule       topic  papers  right among labelled
  alpha*     alpha       3                1 of 1
  beta       beta        2                1 of 2
  gamma ray  gamma       2                1 of 1

Near-misses among labelled papers (the label says yes, the engine no): 2
  score  topic  why                  paper
   0.60  gamma  below threshold 1.0  p2
         best evidence: “gamma-ray” in a background sentence
   0.20  alpha  below threshold 1.0  p4
         best evidence: “alphabet” in a background sentence

Wrong memberships among labelled papers (the engine says yes, the label no): 1
  score  topic  why     paper
   1.20  beta   member  p1
         best evidence: “beta” in a contribution sentence
"""


def test_check_without_labels_prints_the_figures_that_need_none(labelled, tmp_path):
    db, _ = labelled
    report, warnings = measure(db, tmp_path / "no-labels.yml")
    text = format_report(report)
    assert warnings == [] and report.precision is None
    assert "No labels file: precision, recall and near-misses need one." in text
    assert "Papers with no topic: 1 of 5 (20.0%)" in text
    assert "Near-misses" not in text and "Per topic" not in text


def test_unknown_topic_in_labels_names_file_and_line(labelled):
    db, labels = labelled
    labels.write_text(LABELS.replace("topics: [gamma]", "topics: [gamma, delta]"), "utf-8")
    with pytest.raises(InputError) as raised:
        measure(db, labels)
    assert str(raised.value) == f"{labels}:8: paper 'p3': unknown topic 'delta'"


def test_database_without_topic_scores_is_a_clear_error(tmp_path):
    db = sqlite_utils.Database(tmp_path / "old.db")
    db["papers"].insert({"slug": "p", "title": "T", "abstract": "A"})
    with pytest.raises(CurationError, match="built without topic scores"):
        measure(tmp_path / "old.db", None)


# --- suggest ---------------------------------------------------------------------------

SPEECH = [
    "Streaming speech recognition with acoustic transducers",
    "Speech recognition for accented speakers",
    "Acoustic models for noisy speech recognition",
    "Speech synthesis and acoustic vocoders",
    "Low-latency streaming speech recognition",
]
ROBOTS = [
    "Robot grasping from tactile sensors",
    "Tactile feedback for robot manipulation",
    "Robot manipulation of deformable objects with grasping policies",
    "Grasping unseen objects with a robot arm",
    "Tactile robot hands that learn grasping",
]


def suggest_fixture(tmp_path: Path) -> Path:
    papers = {f"s{i}": (t, f"{t}. We study {t.lower()}.") for i, t in enumerate(SPEECH)}
    papers |= {f"r{i}": (t, f"{t}. We study {t.lower()}.") for i, t in enumerate(ROBOTS)}
    papers["known"] = ("Alpha particles", "Alpha particles everywhere.")
    return make_db(tmp_path / "weak.db", papers, {"known": [("alpha", 2.0, 1)]})


def test_suggest_groups_weak_papers_into_valid_yaml_twice_the_same(tmp_path):
    db = suggest_fixture(tmp_path)
    first = format_suggestion(suggest(db, {"alpha"}, 2, 1.0))
    assert first == format_suggestion(suggest(db, {"alpha"}, 2, 1.0))
    entries = yaml.safe_load(first)["topics"]
    groups = [sorted(e["description"].split("papers: ", 1)[1].split("; ")) for e in entries]
    assert groups == [sorted(ROBOTS), sorted(SPEECH)]
    for entry in entries:
        assert set(entry) == {"slug", "name", "description", "rules"}
        assert entry["rules"] and all(isinstance(rule, str) for rule in entry["rules"])
    assert "grasping" in entries[0]["rules"] and "speech" in entries[1]["rules"]
    assert "known" not in first and "Alpha particles" not in first


def test_suggest_with_fewer_papers_than_groups(tmp_path):
    db = make_db(tmp_path / "one.db", {"only": ("Quantum widgets", "Widgets, quantum.")}, {})
    text = format_suggestion(suggest(db, set(), 5, 1.0))
    entries = yaml.safe_load(text)["topics"]
    assert len(entries) == 1 and "Quantum widgets" in entries[0]["description"]


def test_suggest_says_when_no_paper_is_weak(tmp_path):
    db = make_db(tmp_path / "strong.db", {"p": ("Alpha", "Alpha.")}, {"p": [("alpha", 3.0, 1)]})
    text = format_suggestion(suggest(db, set(), None, 1.0))
    assert text == ("# No weak papers: every paper has a topic scoring 1 or more.\ntopics: []\n")
    assert yaml.safe_load(text) == {"topics": []}


def test_suggested_slugs_avoid_existing_ones(tmp_path):
    db = make_db(tmp_path / "one.db", {"only": ("Quantum widgets", "Widgets, quantum.")}, {})
    first = yaml.safe_load(format_suggestion(suggest(db, set(), 1, 1.0)))["topics"][0]["slug"]
    again = yaml.safe_load(format_suggestion(suggest(db, {first}, 1, 1.0)))["topics"][0]["slug"]
    assert again == f"{first}-2"


# --- the command line ------------------------------------------------------------------


def run(*args):
    from papershelf.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_topics_commands_have_help():
    for args, first_line in [
        (("topics",), "Measure topic memberships against labels"),
        (("topics", "check"), "Print precision, recall and what explains them"),
        (("topics", "suggest"), "Propose topics for the papers no topic reaches"),
    ]:
        result = run(*args, "--help")
        assert result.exit_code == 0 and first_line in result.output


def test_topics_check_command(labelled):
    db, labels = labelled
    result = run("topics", "check", "--db", db, "--labels", labels)
    assert result.exit_code == 0
    assert result.output == (
        f"Warning: {labels}:14: labelled paper 'ghost' is not in the database\n"
        + EXPECTED_REPORT.format(db=db, labels=labels)
    )
    figures = json.loads(run("topics", "check", "--db", db, "--labels", labels, "--json").stdout)
    assert (figures["precision"], figures["recall"], figures["no_topic_share"]) == (0.75, 0.6, 0.2)


def test_topics_alone_runs_check_with_its_defaults(labelled, tmp_path, monkeypatch):
    db, labels = labelled
    (tmp_path / "datasets").mkdir()
    db.rename(tmp_path / "datasets" / "papers.db")
    (tmp_path / "content").mkdir()
    labels.rename(tmp_path / "content" / "topic-labels.yml")
    monkeypatch.chdir(tmp_path)
    result = run("topics")
    assert result.exit_code == 0
    assert result.stdout == run("topics", "check").stdout
    assert "precision      0.750  3 of 4 assigned memberships" in result.stdout


def test_topics_check_command_errors(labelled, tmp_path):
    db, labels = labelled
    labels.write_text(LABELS.replace("[alpha]", "[alpha, omega]", 1), encoding="utf-8")
    result = run("topics", "check", "--db", db, "--labels", labels)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output == f"Error: {labels}:2: paper 'p1': unknown topic 'omega'\n"
    missing = run("topics", "check", "--db", tmp_path / "none.db")
    assert missing.exit_code == 1
    assert "none.db: no such database; run 'python build.py db' first" in missing.output


def test_topics_suggest_command(tmp_path):
    db = suggest_fixture(tmp_path)
    topics = tmp_path / "topics.yml"
    topics.write_text(
        "topics:\n  - slug: alpha\n    name: Alpha\n    description: A.\n    rules: [alpha]\n",
        encoding="utf-8",
    )
    result = run("topics", "suggest", "--db", db, "--topics", topics, "--groups", 2)
    assert result.exit_code == 0
    assert result.output == format_suggestion(suggest(db, {"alpha"}, 2, 1.0))


# --- the real listings -----------------------------------------------------------------


def test_real_listings_keep_the_measured_topic_quality(real_db):
    # A floor under what the taxonomy measured when it was tuned (precision 0.881, recall
    # 0.726, both labelled sets within 0.05 of each other): a change to the rules that
    # loses quality fails here.
    report, warnings = measure(real_db, REPO / "content" / "topic-labels.yml")
    assert warnings == [] and report.labelled >= 80
    assert report.precision >= 0.85 and report.recall >= 0.70
    assert report.no_topic_share <= 0.04


@pytest.mark.xfail(strict=True, reason="issue 13's targets are not met yet (see README, Topics)")
def test_real_listings_meet_the_done_when_figures(real_db):
    report, warnings = measure(real_db, REPO / "content" / "topic-labels.yml")
    assert warnings == [] and report.labelled >= 80
    assert report.precision >= 0.90 and report.recall >= 0.85
    assert 1.8 <= report.mean_topics_all <= 3.0
    assert report.no_topic_share <= 0.03


def test_a_named_labels_file_that_is_missing_is_an_error_not_silence(labelled, tmp_path):
    db, _ = labelled
    result = run("topics", "check", "--db", db, "--labels", tmp_path / "typo.yml")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path / 'typo.yml'}: no such labels file"
