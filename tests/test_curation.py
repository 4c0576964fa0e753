"""The curator's commands: ``topics check`` figures and ``topics suggest`` proposals."""

import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
import yaml
from click.testing import CliRunner

from papershelf.collection.curation import (
    CurationError,
    agree,
    format_agreement,
    format_report,
    format_suggestion,
    measure,
    parse_labels,
    suggest,
)
from papershelf.collection.topics import TopicRules, load_topics, parse_topics
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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "papers:\n  - slug: p1\n    topics: [alpha]\n  - p2\n",
            "l.yml:4: paper 2 is not a mapping",
        ),
        (
            "papers:\n  - slug: p1\n    topics: [alpha]\n    topics: [beta]\n",
            "l.yml:4: invalid YAML: the key 'topics' is given twice",
        ),
    ],
)
def test_bad_labels_name_the_line(text, message):
    with pytest.raises(InputError) as raised:
        parse_labels(text, "l.yml", {"alpha", "beta"})
    assert str(raised.value) == message


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


def test_suggested_rules_are_distinctive_of_their_group_not_of_the_field(tmp_path):
    # Found by a review: on the real listings one group was proposed with the rules
    # "fine", "learning", "pre", "trained": words most papers use, and pieces of
    # hyphenated words. Terms are now weighed against the whole collection, and a
    # hyphenated word is one term.
    field = "Learning with transformers. We study learning with transformers for {}."
    papers = {f"k{i}": (f"Known {i}", field.format(f"thing {i}")) for i in range(30)}
    members = {f"k{i}": [("alpha", 2.0, 1)] for i in range(30)}
    voices = ["Text-to-speech voices", "Expressive text-to-speech", "Text-to-speech prosody"]
    hands = ["Robot grasping hands", "Grasping with robot hands", "Robot hands for grasping"]
    for i, title in enumerate(voices + hands):
        papers[f"w{i}"] = (title, field.format(title.lower()) if i % 3 == 0 else title + ".")
    db = make_db(tmp_path / "field.db", papers, members)
    entries = yaml.safe_load(format_suggestion(suggest(db, {"alpha"}, 2, 1.0)))["topics"]
    rules = {rule for entry in entries for rule in entry["rules"]}
    assert {"text-to-speech", "grasping"} <= rules
    assert not rules & {"text", "learning", "transformers"}


def test_papers_that_share_no_distinctive_word_make_no_group(tmp_path):
    papers = {
        "a": ("Quantum widgets", "Widgets of quantum kind."),
        "b": ("Gardening robots", "Tomatoes and soil."),
        "c": ("Medieval poetry", "Ballads and sonnets."),
    }
    text = format_suggestion(suggest(make_db(tmp_path / "apart.db", papers, {}), set(), 1, 1.0))
    assert yaml.safe_load(text) == {"topics": []}
    assert "# In no group (3)" in text


def test_a_term_an_existing_rule_matches_is_no_new_rule(tmp_path):
    db = suggest_fixture(tmp_path)
    known = TopicRules(parse_topics("topics:\n" + _topic_yaml("speech", "speech recognition"), "t"))
    entries = yaml.safe_load(format_suggestion(suggest(db, {"alpha"}, 2, 1.0, known)))["topics"]
    rules = {rule for entry in entries for rule in entry["rules"]}
    assert "speech recognition" not in rules and "grasping" in rules


def _topic_yaml(slug: str, rule: str) -> str:
    return f"  - slug: {slug}\n    name: {slug}\n    description: d\n    rules: [{rule}]\n"


def test_suggested_entries_paste_into_topics_yml_as_printed(tmp_path):
    # Found by a new user's walk-through: the entries were indented under their own
    # "topics:", and pasted into content/topics.yml they were invalid YAML.
    text = format_suggestion(suggest(suggest_fixture(tmp_path), {"alpha"}, 2, 1.0))
    entries = text.split("\ntopics:\n", 1)[1]
    taxonomy = REPO / "content" / "topics.yml"
    pasted = taxonomy.read_text(encoding="utf-8").replace("\nretired:", "\n" + entries + "retired:")
    if pasted == taxonomy.read_text(encoding="utf-8"):
        pasted += entries
    slugs = [t.slug for t in parse_topics(pasted, "topics.yml")]
    assert slugs[-2:] == [e["slug"] for e in yaml.safe_load(text)["topics"]]


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
        (("topics", "agree"), "Print how far a second reading of the labels agrees"),
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
    # A floor under what the taxonomy measured when it was tuned (precision 0.884, recall
    # 0.727, both labelled sets within 0.05 of each other; 8 of 290 papers in no topic): a
    # change to the rules that loses quality fails here.
    report, warnings = measure(real_db, REPO / "content" / "topic-labels.yml")
    assert warnings == [] and report.labelled >= 80
    assert report.precision >= 0.85 and report.recall >= 0.70
    assert report.no_topic_share <= 0.03
    # Found by a review: one rule of many spellings padded the rules table to 140 columns.
    text = format_report(report)
    table = text[text.index("Rules that fire most") :].split("\n\n")[0]
    assert max(map(len, table.splitlines())) <= 120


def test_check_names_the_rules_that_match_no_paper(real_db, tmp_path):
    # Found by a new user's walk-through: a rule that can never match ("robust+") built
    # a topic of no paper, and nothing said so.
    report, _ = measure(real_db, None)
    connection = sqlite3.connect(real_db)
    matched = set(connection.execute("select distinct topic, rule from topic_evidence"))
    every = [
        (slug, rule)
        for slug, rules in connection.execute("select slug, rules from topics order by position")
        for rule in json.loads(rules)
    ]
    assert report.rule_count == len(every) > 400
    assert list(report.silent_rules) == [pair for pair in every if pair not in matched] != []
    text = format_report(report)
    assert f"Rules that match no paper: {len(report.silent_rules)} of {len(every)}" in text
    assert "  parameter-efficient-fine-tuning: BitFit" in text


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


# --- agreement of two readings ---------------------------------------------------------

# A second reading of the fixture: p1..p4 as in LABELS, differently; p5 only here (ghost
# only in LABELS).
SECOND_READING = """\
papers:
  - slug: p1
    topics: [alpha, beta]
  - slug: p2
    topics: [beta]
  - slug: p3
    topics: [gamma]
  - slug: p4
    topics: [beta, alpha]
  - slug: p5
    topics: [alpha]
"""
KNOWN = {slug for slug, _ in TOPICS}
FIXTURE_TOPICS = "topics:\n" + "".join(
    f"  - slug: {slug}\n    name: {name}\n    description: {name}.\n    rules: [{slug}]\n"
    for slug, name in TOPICS
)


@pytest.fixture
def readings(labelled, tmp_path):
    """(database, first labels, second labels, taxonomy) of the small fixture."""
    db, first = labelled
    second = tmp_path / "second.yml"
    second.write_text(SECOND_READING, encoding="utf-8")
    topics = tmp_path / "topics.yml"
    topics.write_text(FIXTURE_TOPICS, encoding="utf-8")
    return db, first, second, topics


def test_agreement_figures_on_two_small_readings(readings):
    # Hand-counted: the first reading gives 5 memberships to p1..p4, the second 6; 4 agree
    # (alpha of p1, beta of p2, gamma of p3, alpha of p4).
    db, first, second, _ = readings
    a = agree(first, second, KNOWN, db)
    assert (a.papers, a.only_in_first, a.only_in_second) == (4, ("ghost",), ("p5",))
    assert (a.agreed, a.second_memberships, a.first_memberships) == (4, 6, 5)
    assert (a.precision, a.recall) == (4 / 6, 0.8)
    assert (a.mean_topics_first, a.mean_topics_second) == (1.25, 1.5)
    assert (a.primary_agreed, a.primary_agreement, a.exact_sets) == (2, 0.5, 1)
    assert [(s.name, s.papers, s.precision, s.recall) for s in a.sets] == [
        ("development", 2, 2 / 3, 2 / 3),
        ("held-out", 2, 2 / 3, 1.0),
    ]
    assert [(d.paper, d.only_first, d.only_second, d.primaries) for d in a.differences] == [
        ("p1", (), ("beta",), ("alpha", "alpha")),
        ("p2", ("gamma",), (), ("gamma", "beta")),
        ("p4", (), ("beta",), ("alpha", "beta")),
    ]
    # The engine (MEMBERS) on p1..p4: as 'topics check' measures it against the first
    # reading; against the second, 4 of its 4 memberships are right, of 6.
    assert [(e.papers, e.precision, e.recall) for e in a.engine] == [
        (4, 0.75, 0.6),
        (4, 1.0, 4 / 6),
    ]


def test_agreement_prints_aligned_tables(readings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the files are named as given, relative to here
    text = format_agreement(agree("labels.yml", "second.yml", KNOWN, "papers.db"))
    assert text == EXPECTED_AGREEMENT


EXPECTED_AGREEMENT = """\
Agreement of two readings: second.yml (second) against labels.yml (first)
4 papers labelled in both; 1 only in the first, 1 only in the second (not compared).

The second reading's memberships against the first's
  precision      0.667  4 of 6 memberships of the second reading
  recall         0.800  4 of 5 memberships of the first reading
  primary topic  0.500  2 of 4 papers: the same first topic
  exact sets     0.250  1 of 4 papers: the same topics
By set of the first reading
  set          papers  precision  recall
  development       2      0.667   0.667
  held-out          2      0.667   1.000
Topics per paper: 1.25 in the first reading, 1.50 in the second

The engine on these papers (papers.db)
  against     papers  precision  recall
  labels.yml       4      0.750   0.600
  second.yml       4      1.000   0.667

Papers the readings label differently: 3
  paper  only first  only second  primary first → second
  p1     —           beta
  p2     gamma       —            gamma → beta
  p4     —           beta         alpha → beta

Papers only in labels.yml: 1
  ghost

Papers only in second.yml: 1
  p5
"""


def test_topics_agree_command_prints_the_figures_as_text_and_json(readings):
    db, first, second, topics = readings
    args = ("topics", "agree", "--labels", first, "--topics", topics, "--db", db, second)
    result = run(*args)
    assert result.exit_code == 0
    assert result.output == format_agreement(agree(first, second, KNOWN, db))
    figures = json.loads(run(*args, "--json").stdout)
    assert (figures["papers"], figures["agreed"], figures["recall"]) == (4, 4, 0.8)
    assert (figures["only_in_first"], figures["only_in_second"]) == (["ghost"], ["p5"])
    assert figures["differences"][1] == {
        "paper": "p2",
        "only_first": ["gamma"],
        "only_second": [],
        "primaries": ["gamma", "beta"],
    }
    assert [(e["precision"], e["recall"]) for e in figures["engine"]] == [(0.75, 0.6), (1.0, 4 / 6)]


def test_topics_agree_without_the_default_database_compares_the_readings_only(
    readings, tmp_path, monkeypatch
):
    _, first, second, topics = readings
    monkeypatch.chdir(tmp_path)  # no datasets/papers.db here
    result = run("topics", "agree", "--labels", first, "--topics", topics, second)
    assert result.exit_code == 0
    assert "precision      0.667  4 of 6 memberships of the second reading" in result.output
    assert (
        "The engine on these papers: not measured (no database built with topic scores)\n"
        in result.output
    )
    figures = json.loads(
        run("topics", "agree", "--labels", first, "--topics", topics, "--json", second).stdout
    )
    assert figures["db"] is None and figures["engine"] == []


def test_topics_agree_errors_name_file_and_line(readings, tmp_path):
    db, first, second, topics = readings
    base = ("topics", "agree", "--labels", first, "--topics", topics, "--db", db)
    for text, error in [
        (
            SECOND_READING + "  - slug: p2\n    topics: [gamma]\n",
            "12: paper 'p2' is labelled twice",
        ),
        (SECOND_READING.replace("[beta]", "[omega]"), "4: paper 'p2': unknown topic 'omega'"),
    ]:
        second.write_text(text, encoding="utf-8")
        result = run(*base, second)
        assert (result.exit_code, result.output) == (1, f"Error: {second}:{error}\n")
    missing = run(*base, tmp_path / "typo.yml")
    assert missing.exit_code == 1
    assert missing.output == f"Error: {tmp_path / 'typo.yml'}: no such labels file\n"
    second.write_text(SECOND_READING, encoding="utf-8")
    not_sqlite = run(*base[:-1], topics, second)
    assert not_sqlite.exit_code == 1 and "Traceback" not in not_sqlite.output
    assert not_sqlite.output.startswith(f"Error: {topics}: not a database")


def test_real_second_reading_agreement_and_the_engine_against_it(real_db):
    # The ceiling context of issue 13's targets (precision 0.90, recall 0.85): two readers
    # agree to 0.939 / 0.885 on the 40 papers both labelled (see README, Topics).
    first = REPO / "content" / "topic-labels.yml"
    second = REPO / "content" / "topic-labels-second-reader.yml"
    known = {topic.slug for topic in load_topics(REPO / "content" / "topics.yml")}
    a = agree(first, second, known, real_db)
    assert (a.papers, len(a.only_in_first), a.only_in_second) == (40, 90, ())
    assert (round(a.precision, 3), round(a.recall, 3)) == (0.939, 0.885)
    assert (a.agreed, a.second_memberships, a.first_memberships) == (77, 82, 87)
    assert (a.primary_agreed, a.exact_sets, len(a.differences)) == (39, 29, 11)
    assert [(s.name, round(s.precision, 3), round(s.recall, 3)) for s in a.sets] == [
        ("development", 0.930, 0.851),
        ("held-out", 0.949, 0.925),
    ]
    engine = [(e.papers, round(e.precision, 3), round(e.recall, 3)) for e in a.engine]
    assert engine == [(40, 0.889, 0.736), (40, 0.833, 0.732)]


def test_check_of_one_set_counts_and_shows_only_its_papers(labelled):
    db, labels = labelled
    report, warnings = measure(db, labels, only_set="development")
    assert (report.labelled, [s.name for s in report.sets]) == (2, ["development"])
    whole = measure(db, labels)[0]
    every = {m.paper for m in whole.near_misses + whole.wrong}
    shown = {m.paper for m in report.near_misses + report.wrong}
    assert shown <= {"p1", "p2"} and every - shown  # held-out papers were shown before
    assert warnings == []  # 'ghost' is a held-out paper
    # Found by a review: the papers with no topic were listed from every set.
    assert "  p4  " in format_report(whole) and "  p4  " not in format_report(report)
    assert "Papers with no topic: 1 of 5 (20.0%)\n  and 1 paper of another set" in (
        format_report(report)
    )
    as_json = run(
        "topics", "check", "--db", db, "--labels", labels, "--set", "development", "--json"
    )
    figures = json.loads(as_json.stdout)
    assert (figures["no_topic"], figures["no_topic_elsewhere"], figures["no_topic_share"]) == (
        [],
        1,
        0.2,
    )
    output = run("topics", "check", "--db", db, "--labels", labels, "--set", "held-out").output
    assert "p1" not in output and "p2" not in output
    wrong = run("topics", "check", "--db", db, "--labels", labels, "--set", "test")
    assert wrong.exit_code == 1
    assert wrong.output == (
        f"Error: {labels}: no labelled paper of set 'test' (sets: development, held-out)\n"
    )


def test_every_suggested_rule_matches_a_paper_of_its_group(tmp_path):
    # review21: on the real listings `topics suggest --min-score 2` proposes the rule
    # "fine-tuning sft" (from "fine-tuning (SFT)"), which matches no paper; 12 of the 182
    # rules of --min-score 1/1.5/2 x --groups 1..8 match none ("natural processing").
    from papershelf.collection.topics import rule_pattern

    papers = {f"k{i}": (f"Known {i}", f"Known things about item {i}.") for i in range(12)}
    members = {f"k{i}": [("alpha", 2.0, 1)] for i in range(12)}
    papers["w0"] = ("Tuning of widgets", "We tune widgets with supervised fine-tuning (SFT).")
    papers["w1"] = ("Widgets again", "Widgets trained by supervised fine-tuning (SFT).")
    db = make_db(tmp_path / "sft.db", papers, members)
    (entry,) = yaml.safe_load(format_suggestion(suggest(db, {"alpha"}, 1, 1.0)))["topics"]
    texts = [f"{papers[s][0]}. {papers[s][1]}" for s in ("w0", "w1")]
    assert [r for r in entry["rules"] if not any(rule_pattern(r).search(t) for t in texts)] == []
