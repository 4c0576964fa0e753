"""The curator's tools: measure topic memberships against labels, and propose new topics.

``measure(db, labels)`` compares the database's topic memberships (``paper_topics``,
``topic_scores``, ``topic_evidence``) with a labelled set (``content/topic-labels.yml``:
``papers: [{slug, title, topics: [primary, ...], reason}]``) and returns a :class:`Report`;
``format_report`` prints it as aligned tables. ``suggest_topics`` groups the papers that no
topic reaches, or reaches weakly, with TF-IDF and NMF and writes ready-to-edit YAML entries
in the schema of ``content/topics.yml``. Everything here only reads; nothing is written.

Precision and recall are micro-averaged over memberships: precision is the share of the
engine's memberships of labelled papers that the labels also give, recall the share of
labelled memberships that the engine gives.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import yaml

from ..errors import CurationError, InputError, display_path
from ..yamlfile import line_of, load_with_lines
from .topics import TopicRules, rule_pattern


@dataclass(frozen=True)
class Label:
    slug: str
    topics: tuple[str, ...]  # primary first; may be empty (no topic fits)
    line: int
    set: str | None = None  # e.g. "development" or "held-out"


@dataclass(frozen=True)
class SetFigures:
    """Micro precision and recall over the labelled papers of one set."""

    name: str
    papers: int
    precision: float | None
    recall: float | None


@dataclass(frozen=True)
class TopicFigures:
    slug: str
    name: str
    support: int  # labelled papers the labels put in the topic
    assigned: int  # labelled papers the engine puts in it
    right: int  # both
    precision: float | None  # None when nothing is assigned
    recall: float | None  # None when nothing is labelled


@dataclass(frozen=True)
class RuleFigures:
    rule: str
    topic: str
    papers: int  # papers where the rule is counted evidence for the topic
    labelled: int  # labelled papers where it supports a membership
    right: int  # of those, memberships the labels also give


@dataclass(frozen=True)
class Miss:
    """A disagreement on a labelled paper: a near-miss or a wrong membership."""

    paper: str
    topic: str
    score: float
    reason: str  # why the engine decided so, in words
    evidence: str  # the best evidence, in words ("" when there is none)


@dataclass(frozen=True)
class Report:
    db: str
    labels: str | None  # None when there is no labels file
    papers: int  # all papers of the database
    labelled: int  # labelled papers found in the database
    missing: tuple[str, ...]  # labelled slugs the database does not have
    assigned: int  # the engine's memberships of labelled papers
    expected: int  # the labels' memberships of labelled papers
    right: int  # memberships both give
    precision: float | None
    recall: float | None
    primary_right: int  # labelled papers whose primary topic is the label's first
    primary_accuracy: float | None
    exact_sets: int  # labelled papers whose whole topic set is the labelled set
    sets: tuple[SetFigures, ...]  # per labelled set, when the labels name sets
    per_topic: tuple[TopicFigures, ...]
    mean_topics_labelled: float | None  # engine's topics per labelled paper
    mean_topics_expected: float | None  # labels' topics per labelled paper
    mean_topics_all: float | None  # engine's topics per paper, over all papers
    distribution: tuple[tuple[int, int], ...]  # (topics, papers) over all papers
    no_topic: tuple[tuple[str, str], ...]  # (slug, title) of papers with no topic
    rules: tuple[RuleFigures, ...]
    near_misses: tuple[Miss, ...]  # labels say yes, the engine says no
    wrong: tuple[Miss, ...]  # the engine says yes, labels say no
    # Papers with no topic labelled in another set than the one measured: counted, not
    # listed in no_topic (a curator tuning on one set never sees the other's papers).
    no_topic_elsewhere: int = 0
    # (topic, rule) of every rule (strong phrases too) no paper's evidence names: written
    # for papers to come, or mistyped.
    silent_rules: tuple[tuple[str, str], ...] = ()
    rule_count: int = 0  # every rule of every topic

    @property
    def no_topic_share(self) -> float | None:
        return self.no_topic_count / self.papers if self.papers else None

    @property
    def no_topic_count(self) -> int:
        return len(self.no_topic) + self.no_topic_elsewhere


# --- labels -----------------------------------------------------------------------------


def load_labels(path: str | Path, known_topics: set[str]) -> list[Label]:
    """Read and check the labels file; problems raise :class:`InputError` with the line."""
    source = display_path(path)
    if not Path(path).is_file():
        raise InputError(source, None, "no such labels file")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(source, None, f"not UTF-8 text: {error}") from None
    return parse_labels(text, source, known_topics)


def parse_labels(text: str, source: str, known_topics: set[str]) -> list[Label]:
    data = load_with_lines(text, source)
    if not isinstance(data, dict) or not isinstance(data.get("papers"), list):
        raise InputError(source, 1, "expected a mapping with a 'papers:' list")
    labels: list[Label] = []
    seen: set[str] = set()
    for position, item in enumerate(data["papers"], start=1):
        if not isinstance(item, dict):
            line = line_of(data["papers"], position - 1, None)
            raise InputError(source, line, f"paper {position} is not a mapping")
        labels.append(_label(item, position, source, known_topics, seen))
    return labels


def _label(item: dict, position: int, source: str, known: set[str], seen: set[str]) -> Label:
    line = item["__line__"]
    slug, topics = item.get("slug"), item.get("topics")
    if not isinstance(slug, str) or not slug:
        raise InputError(source, line, f"paper {position} has no 'slug'")
    if slug in seen:
        raise InputError(source, line, f"paper {slug!r} is labelled twice")
    seen.add(slug)
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise InputError(source, line, f"paper {slug!r}: 'topics' must be a list of topic slugs")
    for topic in topics:
        if topic not in known:
            raise InputError(source, line, f"paper {slug!r}: unknown topic {topic!r}")
    if len(set(topics)) != len(topics):
        raise InputError(source, line, f"paper {slug!r}: a topic is listed twice")
    label_set = item.get("set")
    if label_set is not None and not isinstance(label_set, str):
        raise InputError(source, line, f"paper {slug!r}: 'set' must be a name")
    return Label(slug, tuple(topics), line, label_set)


def labels_path(start: Path | None = None) -> Path:
    """``content/topic-labels.yml`` of the repository holding ``start`` (default: the working
    directory), found like the notebooks' database: walking up to the one with ``mkdocs.yml``."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / "mkdocs.yml").exists() and (directory / "content").is_dir():
            return directory / LABELS
    return LABELS


LABELS = Path("content") / "topic-labels.yml"


# --- the database ------------------------------------------------------------------------

_REQUIRED = {
    "papers": {"slug", "title", "abstract"},
    "topics": {"slug", "name", "position"},
    "paper_topics": {"paper", "topic", "score", "is_primary", "rank"},
    "topic_scores": {"paper", "topic", "score", "member", "reason"},
    "topic_evidence": {"paper", "topic", "position", "rule", "field", "sentence_kind"},
}


def open_database(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to a database built with topic scores, or CurationError."""
    path = Path(path)
    if not path.exists():
        raise CurationError(f"{path}: no such database; run 'python build.py db' first")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    for table, columns in _REQUIRED.items():
        try:
            found = {row[1] for row in connection.execute(f"pragma table_info({table})")}
        except sqlite3.DatabaseError as error:  # not SQLite at all
            connection.close()
            raise CurationError(f"{path}: not a database ({error})") from None
        if not columns <= found:
            connection.close()
            raise CurationError(
                f"{path}: built without topic scores (table {table} lacks "
                f"{', '.join(sorted(columns - found))}); rebuild it with 'python build.py db'"
            )
    return connection


def has_topic_scores(path: str | Path) -> bool:
    """Whether the database exists and was built with the tables :func:`measure` reads."""
    try:
        open_database(path).close()
    except CurationError:
        return False
    return True


def topic_slugs(connection: sqlite3.Connection) -> set[str]:
    return {slug for (slug,) in connection.execute("select slug from topics")}


def _memberships(connection) -> dict[str, dict[str, tuple[float, int]]]:
    """paper -> topic -> (score, is_primary), for every paper (empty when it has none)."""
    members: dict[str, dict[str, tuple[float, int]]] = {
        slug: {} for (slug,) in connection.execute("select slug from papers order by slug")
    }
    rows = connection.execute("select paper, topic, score, is_primary from paper_topics")
    for paper, topic, score, is_primary in rows:
        members.setdefault(paper, {})[topic] = (score, is_primary)
    return members


def _best_evidence(connection, papers: Iterable[str]) -> dict[tuple[str, str], str]:
    """(paper, topic) -> its strongest piece of evidence, in words, for the ``papers``
    (the labelled ones: 130 of them, where the database may have 100,000 candidates)."""
    best: dict[tuple[str, str], str] = {}
    rows = connection.execute(
        "select paper, topic, matched, rule, field, sentence_kind from topic_evidence "
        "where paper in (select value from json_each(?)) "
        "order by paper, topic, weight desc, position",
        [json.dumps(sorted(papers))],
    )
    for paper, topic, matched, rule, field, kind in rows:
        if (paper, topic) not in best:
            best[(paper, topic)] = describe_evidence(matched or rule, field, kind)
    return best


def describe_evidence(matched: str, field: str, sentence_kind: str | None) -> str:
    """One piece of evidence in words: ``“LoRA” in the title``."""
    quoted = f"“{_one_line(matched)}”"
    if field == "title" or sentence_kind in (None, "title"):
        return f"{quoted} in the {field}"
    return f"{quoted} in a {sentence_kind} sentence"


def _one_line(text: str) -> str:
    """Untrusted text on one terminal line: controls and line breaks become spaces."""
    return " ".join("".join(" " if not c.isprintable() else c for c in text).split())


# --- measuring ---------------------------------------------------------------------------


def measure(
    db_path: str | Path,
    labels_path: str | Path | None,
    rules_limit: int = 20,
    only_set: str | None = None,
) -> tuple[Report, list[str]]:
    """The figures of ``topics check`` and the warnings (labelled papers not in the database).

    ``labels_path`` None or missing: the figures that need no labels only. ``only_set``:
    only the labelled papers of that set count and are shown (a curator tuning on the
    development set never sees a held-out paper).
    """
    connection = open_database(db_path)
    try:
        labels, unshown = None, frozenset()
        if labels_path is not None and Path(labels_path).exists():
            labels = load_labels(labels_path, topic_slugs(connection))
            if only_set is not None:
                unshown = frozenset(label.slug for label in labels if label.set != only_set)
                labels = _of_set(labels, only_set, labels_path)
        report, warnings = _measure(connection, str(db_path), labels_path, labels, rules_limit)
        shown = tuple(paper for paper in report.no_topic if paper[0] not in unshown)
        elsewhere = len(report.no_topic) - len(shown)
        return dataclasses.replace(report, no_topic=shown, no_topic_elsewhere=elsewhere), warnings
    finally:
        connection.close()


def _of_set(labels: list[Label], name: str, labels_path: str | Path) -> list[Label]:
    kept = [label for label in labels if label.set == name]
    if not kept:
        sets = ", ".join(sorted({label.set for label in labels if label.set})) or "none"
        raise CurationError(
            f"{display_path(labels_path)}: no labelled paper of set {name!r} (sets: {sets})"
        )
    return kept


def _measure(connection, db: str, labels_path, labels, rules_limit) -> tuple[Report, list[str]]:
    members = _memberships(connection)
    names = dict(connection.execute("select slug, name from topics order by position"))
    found = [label for label in labels or [] if label.slug in members]
    missing = tuple(label.slug for label in labels or [] if label.slug not in members)
    source = display_path(labels_path) if labels else None
    warnings = [
        f"{source}:{label.line}: labelled paper {label.slug!r} is not in the database"
        for label in labels or []
        if label.slug not in members
    ]
    truth = {label.slug: set(label.topics) for label in found}
    given = {label.slug: set(members[label.slug]) for label in found}
    right = sum(len(truth[p] & given[p]) for p in truth)
    assigned = sum(len(given[p]) for p in given)
    expected = sum(len(truth[p]) for p in truth)
    primary_right = sum(
        1 for label in found if label.topics and _primary(members[label.slug]) == label.topics[0]
    )
    counts = Counter(len(topics) for topics in members.values())
    evidence = _best_evidence(connection, truth)
    topic_rules = _topic_rules(connection)
    report = Report(
        db=db,
        labels=source,
        papers=len(members),
        labelled=len(found),
        missing=missing,
        assigned=assigned,
        expected=expected,
        right=right,
        precision=_ratio(right, assigned),
        recall=_ratio(right, expected),
        primary_right=primary_right,
        primary_accuracy=_ratio(primary_right, len(found)),
        exact_sets=sum(1 for p in truth if truth[p] == given[p]),
        sets=_sets(found, truth, given),
        per_topic=_per_topic(names, truth, given),
        mean_topics_labelled=_ratio(assigned, len(found)),
        mean_topics_expected=_ratio(expected, len(found)),
        mean_topics_all=_ratio(sum(len(t) for t in members.values()), len(members)),
        distribution=tuple(sorted(counts.items())),
        no_topic=_no_topic(connection, members),
        rules=_rules(connection, truth, members, rules_limit),
        silent_rules=_silent_rules(connection, topic_rules),
        rule_count=sum(len(rules) for _, rules in topic_rules),
        near_misses=_near_misses(connection, truth, given, evidence),
        wrong=_wrong(members, truth, evidence),
    )
    return report, warnings


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _primary(topics: dict[str, tuple[float, int]]) -> str | None:
    return next((topic for topic, (_, is_primary) in topics.items() if is_primary), None)


def _sets(found: list[Label], truth, given) -> tuple[SetFigures, ...]:
    figures = []
    for name in sorted({label.set for label in found if label.set}):
        papers = [label.slug for label in found if label.set == name]
        right = sum(len(truth[p] & given[p]) for p in papers)
        assigned = sum(len(given[p]) for p in papers)
        expected = sum(len(truth[p]) for p in papers)
        figures.append(
            SetFigures(name, len(papers), _ratio(right, assigned), _ratio(right, expected))
        )
    return tuple(figures)


def _per_topic(names: dict[str, str], truth, given) -> tuple[TopicFigures, ...]:
    figures = []
    for slug, name in names.items():
        support = sum(1 for p in truth if slug in truth[p])
        assigned = sum(1 for p in given if slug in given[p])
        right = sum(1 for p in truth if slug in truth[p] and slug in given[p])
        precision, recall = _ratio(right, assigned), _ratio(right, support)
        figures.append(TopicFigures(slug, name, support, assigned, right, precision, recall))
    return tuple(figures)


def _no_topic(connection, members) -> tuple[tuple[str, str], ...]:
    titles = dict(connection.execute("select slug, title from papers"))
    return tuple((slug, titles[slug]) for slug in sorted(members) if not members[slug])


def _topic_rules(connection) -> list[tuple[str, list[str]]]:
    """(slug, rules) of every topic; none from a database whose topics table does not
    record the rules (one holding only the tables the figures need)."""
    columns = {row[1] for row in connection.execute("pragma table_info(topics)")}
    if "rules" not in columns:
        return []
    rows = connection.execute("select slug, rules from topics order by position")
    return [(slug, json.loads(rules)) for slug, rules in rows]


def _silent_rules(connection, topic_rules) -> tuple[tuple[str, str], ...]:
    """(topic, rule) of the rules no paper's evidence names, in the taxonomy's order."""
    matched = set(connection.execute("select distinct topic, rule from topic_evidence"))
    return tuple(
        (slug, rule) for slug, rules in topic_rules for rule in rules if (slug, rule) not in matched
    )


def _rules(connection, truth, members, limit: int) -> tuple[RuleFigures, ...]:
    """The rules counted as evidence for the most papers, with how often they are right."""
    papers: dict[tuple[str, str], set[str]] = {}
    rows = connection.execute("select rule, topic, paper from topic_evidence where counted = 1")
    for rule, topic, paper in rows:
        papers.setdefault((rule, topic), set()).add(paper)
    figures = []
    for (rule, topic), found in papers.items():
        supported = [p for p in found if p in truth and topic in members.get(p, {})]
        right = sum(1 for p in supported if topic in truth[p])
        figures.append(RuleFigures(rule, topic, len(found), len(supported), right))
    figures.sort(key=lambda f: (-f.papers, f.rule.lower(), f.rule, f.topic))
    return tuple(figures[:limit])


def _scores(connection) -> dict[tuple[str, str], tuple[float, str | None]]:
    rows = connection.execute("select paper, topic, score, reason from topic_scores")
    return {(paper, topic): (score, reason) for paper, topic, score, reason in rows}


def _near_misses(connection, truth, given, evidence) -> tuple[Miss, ...]:
    scores = _scores(connection)
    misses = []
    for paper in truth:
        for topic in sorted(truth[paper] - given[paper]):
            score, reason = scores.get((paper, topic), (0.0, None))
            reason = reason or "no rule matched"
            misses.append(Miss(paper, topic, score, reason, evidence.get((paper, topic), "")))
    misses.sort(key=lambda m: (-m.score, m.paper, m.topic))
    return tuple(misses)


def _wrong(members, truth, evidence) -> tuple[Miss, ...]:
    wrong = []
    for paper in truth:
        for topic in sorted(set(members[paper]) - truth[paper]):
            score, is_primary = members[paper][topic]
            reason = "primary topic" if is_primary else "member"
            wrong.append(Miss(paper, topic, score, reason, evidence.get((paper, topic), "")))
    wrong.sort(key=lambda m: (-m.score, m.paper, m.topic))
    return tuple(wrong)


# --- two readings ------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A paper the two readings label differently."""

    paper: str
    only_first: tuple[str, ...]  # topics only the first reading gives
    only_second: tuple[str, ...]  # topics only the second reading gives
    primaries: tuple[str | None, str | None]  # (first's, second's) primary topic


@dataclass(frozen=True)
class EngineFigures:
    """The engine's memberships measured against one reading, on the papers both label."""

    labels: str
    papers: int  # of the papers both readings label, those in the database
    precision: float | None
    recall: float | None


@dataclass(frozen=True)
class Agreement:
    """How far a second reading agrees with the first, on the papers both label.

    Precision and recall are the second reading's memberships measured against the first's,
    micro-averaged as in :class:`Report`; the sets are those the first reading names."""

    first: str
    second: str
    papers: int  # labelled in both
    only_in_first: tuple[str, ...]  # slugs only the first file labels
    only_in_second: tuple[str, ...]  # slugs only the second file labels
    first_memberships: int
    second_memberships: int
    agreed: int  # memberships both give
    precision: float | None
    recall: float | None
    mean_topics_first: float | None
    mean_topics_second: float | None
    primary_agreed: int  # papers whose first topic is the same in both
    primary_agreement: float | None
    exact_sets: int  # papers with the same topic set in both
    sets: tuple[SetFigures, ...]
    differences: tuple[Difference, ...]
    db: str | None  # the database the engine was measured in, if any
    engine: tuple[EngineFigures, ...]  # empty when there is no database


def agree(
    first_path: str | Path,
    second_path: str | Path,
    known_topics: set[str],
    db_path: str | Path | None = None,
) -> Agreement:
    """Compare two labels files; with ``db_path``, also measure the engine against each
    reading on the papers both label (as ``topics check`` measures it)."""
    first = load_labels(first_path, known_topics)
    second = load_labels(second_path, known_topics)
    by_slug = {label.slug: label for label in second}
    common = [label for label in first if label.slug in by_slug]
    truth = {label.slug: set(label.topics) for label in common}
    given = {label.slug: set(by_slug[label.slug].topics) for label in common}
    agreed = sum(len(truth[p] & given[p]) for p in truth)
    first_count, second_count = sum(map(len, truth.values())), sum(map(len, given.values()))
    primary_agreed = sum(
        1 for label in common if label.topics[:1] == by_slug[label.slug].topics[:1]
    )
    engine = ()
    if db_path is not None:
        shared = set(truth)
        engine = tuple(
            _engine_figures(db_path, path, [label for label in labels if label.slug in shared])
            for path, labels in ((first_path, first), (second_path, second))
        )
    return Agreement(
        first=display_path(first_path),
        second=display_path(second_path),
        papers=len(common),
        only_in_first=tuple(label.slug for label in first if label.slug not in by_slug),
        only_in_second=tuple(label.slug for label in second if label.slug not in truth),
        first_memberships=first_count,
        second_memberships=second_count,
        agreed=agreed,
        precision=_ratio(agreed, second_count),
        recall=_ratio(agreed, first_count),
        mean_topics_first=_ratio(first_count, len(common)),
        mean_topics_second=_ratio(second_count, len(common)),
        primary_agreed=primary_agreed,
        primary_agreement=_ratio(primary_agreed, len(common)),
        exact_sets=sum(1 for p in truth if truth[p] == given[p]),
        sets=_sets(common, truth, given),
        differences=_differences(common, by_slug),
        db=str(db_path) if db_path is not None else None,
        engine=engine,
    )


def _differences(common: list[Label], second: dict[str, Label]) -> tuple[Difference, ...]:
    differences = []
    for label in common:
        other = second[label.slug].topics
        primaries = (label.topics[0] if label.topics else None, other[0] if other else None)
        if set(label.topics) != set(other) or primaries[0] != primaries[1]:
            only_first = tuple(t for t in label.topics if t not in other)
            only_second = tuple(t for t in other if t not in label.topics)
            differences.append(Difference(label.slug, only_first, only_second, primaries))
    return tuple(sorted(differences, key=lambda d: d.paper))


def _engine_figures(db_path: str | Path, labels_path, labels: list[Label]) -> EngineFigures:
    """``measure``'s figures for these labels only: the same code path, no rules table."""
    connection = open_database(db_path)
    try:
        report, _ = _measure(connection, str(db_path), labels_path, labels, rules_limit=0)
    finally:
        connection.close()
    return EngineFigures(
        display_path(labels_path), report.labelled, report.precision, report.recall
    )


# --- printing ----------------------------------------------------------------------------


def format_report(report: Report) -> str:
    """The report as plain text: aligned tables, the same bytes for the same database."""
    sections = [_heading(report)]
    if report.labelled:
        sections += [_overall(report), _topic_table(report)]
    sections += [_topics_per_paper(report), _no_topic_list(report), _rule_table(report)]
    if report.rule_count:  # the database records the rules (papershelf's always does)
        sections.append(_silent_rule_list(report))
    if report.labelled:
        sections += [
            _misses(
                "Near-misses among labelled papers (the label says yes, the engine no)",
                report.near_misses,
            ),
            _misses(
                "Wrong memberships among labelled papers (the engine says yes, the label no)",
                report.wrong,
            ),
        ]
    return "\n\n".join(sections) + "\n"


def _heading(report: Report) -> str:
    lines = [f"Topic quality of {report.db}: {_plural(report.papers, 'paper')}"]
    if report.labels is None:
        lines.append("No labels file: precision, recall and near-misses need one.")
    elif not report.labelled:
        lines.append(f"No paper of {report.labels} is in the database: nothing to compare.")
    else:
        lines.append(
            f"Labels: {report.labels}, {_plural(report.labelled, 'labelled paper')} "
            f"in the database ({len(report.missing)} missing)."
        )
    return "\n".join(lines)


def _overall(r: Report) -> str:
    rows = [
        ("precision", _fraction(r.precision), f"{r.right} of {r.assigned} assigned memberships"),
        ("recall", _fraction(r.recall), f"{r.right} of {r.expected} labelled memberships"),
        (
            "primary topic",
            _fraction(r.primary_accuracy),
            f"{r.primary_right} of {r.labelled} papers: the engine's primary is the label's first",
        ),
        (
            "exact sets",
            _fraction(_ratio(r.exact_sets, r.labelled)),
            f"{r.exact_sets} of {r.labelled} papers: the same topics as labelled",
        ),
    ]
    text = "Memberships of labelled papers\n" + _table(("", "", ""), rows, "lrl", header=False)
    if r.sets:
        sets = [
            (s.name, str(s.papers), _fraction(s.precision), _fraction(s.recall)) for s in r.sets
        ]
        headers = ("set", "papers", "precision", "recall")
        text += "\nBy labelled set\n" + _table(headers, sets, "lrrr")
    return text


def _topic_table(r: Report) -> str:
    rows = [
        (
            f.slug,
            str(f.support),
            str(f.assigned),
            str(f.right),
            _fraction(f.precision),
            _fraction(f.recall),
        )
        for f in r.per_topic
    ]
    headers = ("topic", "support", "assigned", "right", "precision", "recall")
    return "Per topic (over labelled papers)\n" + _table(headers, rows, "lrrrrr")


def _topics_per_paper(r: Report) -> str:
    lines = ["Topics per paper"]
    if r.labelled:
        lines.append(
            f"  labelled papers: {r.mean_topics_labelled:.2f} assigned, "
            f"{r.mean_topics_expected:.2f} labelled"
        )
    if r.mean_topics_all is not None:
        lines.append(f"  all {_plural(r.papers, 'paper')}: {r.mean_topics_all:.2f} assigned")
    rows = [(str(n), str(count)) for n, count in r.distribution]
    if rows:
        lines.append("  distribution over all papers:")
        lines.append(_table(("topics", "papers"), rows, "rr"))
    return "\n".join(lines)


def _no_topic_list(r: Report) -> str:
    if not r.no_topic_count:
        return "Papers with no topic: none"
    share = f"{r.no_topic_share:.1%}"
    lines = [f"Papers with no topic: {r.no_topic_count} of {r.papers} ({share})"]
    lines += [f"  {slug}  {_one_line(title)}" for slug, title in r.no_topic]
    if r.no_topic_elsewhere:
        lines.append(f"  and {_plural(r.no_topic_elsewhere, 'paper')} of another set")
    return "\n".join(lines)


def _rule_table(r: Report) -> str:
    if not r.rules:
        return "Rules that fire most: no rule matched any paper"
    rows = [
        (
            _shortened(f.rule),
            f.topic,
            str(f.papers),
            f"{f.right} of {f.labelled}" if f.labelled else "—",
        )
        for f in r.rules
    ]
    headers = ("rule", "topic", "papers", "right among labelled")
    return "Rules that fire most (counted evidence)\n" + _table(headers, rows, "llrr")


def _silent_rule_list(r: Report) -> str:
    if not r.silent_rules:
        return "Rules that match no paper: none"
    lines = [
        f"Rules that match no paper: {len(r.silent_rules)} of {r.rule_count} "
        "(written for papers to come, or mistyped)"
    ]
    for topic, group in groupby(r.silent_rules, key=lambda pair: pair[0]):
        lines.append(f"  {topic}: " + "; ".join(_shortened(rule) for _, rule in group))
    return "\n".join(lines)


# A rule of many spellings ("PEFT | parameter-efficient fine-tuning | …") would widen
# every row of its table; the whole rule is in topics.yml.
RULE_WIDTH = 48


def _shortened(rule: str) -> str:
    return rule if len(rule) <= RULE_WIDTH else rule[: RULE_WIDTH - 1].rstrip() + "…"


def _misses(title: str, misses: tuple[Miss, ...]) -> str:
    if not misses:
        return f"{title}: none"
    rows = [(f"{m.score:.2f}", m.topic, m.reason, m.paper) for m in misses]
    table = _table(("score", "topic", "why", "paper"), rows, "rlll").split("\n")
    lines = [f"{title}: {len(misses)}", table[0]]
    for line, miss in zip(table[1:], misses, strict=True):
        lines.append(line)
        if miss.evidence:
            lines.append(f"         best evidence: {miss.evidence}")
    return "\n".join(lines)


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]], align: str, header=True) -> str:
    """Rows as aligned columns (``align``: one ``l`` or ``r`` per column), indented by two."""
    every = ([headers] if header else []) + rows
    widths = [max(len(row[i]) for row in every) for i in range(len(headers))]
    lines = []
    for row in every:
        cells = [
            cell.rjust(width) if side == "r" else cell.ljust(width)
            for cell, width, side in zip(row, widths, align, strict=True)
        ]
        lines.append(("  " + "  ".join(cells)).rstrip())
    return "\n".join(lines)


def _fraction(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def format_agreement(agreement: Agreement) -> str:
    """The agreement as plain text, in the tables of :func:`format_report`."""
    a = agreement
    heading = (
        f"Agreement of two readings: {a.second} (second) against {a.first} (first)\n"
        f"{_plural(a.papers, 'paper')} labelled in both; {len(a.only_in_first)} only in the "
        f"first, {len(a.only_in_second)} only in the second (not compared)."
    )
    sections = [heading]
    if a.papers:
        sections += [_agreement_table(a), _engine_table(a), _difference_table(a)]
    for source, slugs in ((a.first, a.only_in_first), (a.second, a.only_in_second)):
        if slugs:
            lines = [f"Papers only in {source}: {len(slugs)}"]
            sections.append("\n".join(lines + [f"  {_one_line(slug)}" for slug in slugs]))
    return "\n\n".join(sections) + "\n"


def _agreement_table(a: Agreement) -> str:
    rows = [
        (
            "precision",
            _fraction(a.precision),
            f"{a.agreed} of {a.second_memberships} memberships of the second reading",
        ),
        (
            "recall",
            _fraction(a.recall),
            f"{a.agreed} of {a.first_memberships} memberships of the first reading",
        ),
        (
            "primary topic",
            _fraction(a.primary_agreement),
            f"{a.primary_agreed} of {a.papers} papers: the same first topic",
        ),
        (
            "exact sets",
            _fraction(_ratio(a.exact_sets, a.papers)),
            f"{a.exact_sets} of {a.papers} papers: the same topics",
        ),
    ]
    text = "The second reading's memberships against the first's\n"
    text += _table(("", "", ""), rows, "lrl", header=False)
    if a.sets:
        sets = [
            (s.name, str(s.papers), _fraction(s.precision), _fraction(s.recall)) for s in a.sets
        ]
        headers = ("set", "papers", "precision", "recall")
        text += "\nBy set of the first reading\n" + _table(headers, sets, "lrrr")
    return (
        f"{text}\nTopics per paper: {a.mean_topics_first:.2f} in the first reading, "
        f"{a.mean_topics_second:.2f} in the second"
    )


def _engine_table(a: Agreement) -> str:
    if a.db is None:
        return "The engine on these papers: not measured (no database built with topic scores)"
    rows = [
        (f.labels, str(f.papers), _fraction(f.precision), _fraction(f.recall)) for f in a.engine
    ]
    headers = ("against", "papers", "precision", "recall")
    return f"The engine on these papers ({a.db})\n" + _table(headers, rows, "lrrr")


def _difference_table(a: Agreement) -> str:
    title = "Papers the readings label differently"
    if not a.differences:
        return f"{title}: none"
    rows = [
        (
            _one_line(d.paper),
            ", ".join(d.only_first) or "—",
            ", ".join(d.only_second) or "—",
            "" if d.primaries[0] == d.primaries[1] else " → ".join(p or "—" for p in d.primaries),
        )
        for d in a.differences
    ]
    headers = ("paper", "only first", "only second", "primary first → second")
    return f"{title}: {len(rows)}\n" + _table(headers, rows, "llll")


# --- proposing topics --------------------------------------------------------------------

# Words every abstract in the field uses: distinctive of no group, useless as rules.
_COMMON_TEXT = """
model models language large llm llms paper propose proposed method methods approach approaches
results performance show shows shown work new existing based using use used demonstrate
demonstrates achieve achieves significantly experiments experimental state art various different
including study furthermore however recent recently specifically framework introduce introduces
present presents extensive effective effectively novel task tasks code available github com https
http www proposes particularly time versions widely previous improve improves improved
improvements leads term hand fine
"""
_COMMON_WORDS = frozenset(_COMMON_TEXT.split())
# Words of three or more characters, not numbers; a hyphenated word is one ("pre-trained",
# not "pre" and "trained").
_TOKEN = r"(?u)\b[^\W\d_][^\W_]*(?:-[^\W_]+)*(?<=\w\w\w)\b"
# Papers per group the default number of groups aims at: a topic is a handful of papers.
_PAPERS_PER_GROUP = 3
# A group's term is in at most this many times as many papers of the collection as of the
# group: "novelty" (2 of 2 papers, 4 in all) is distinctive, "proposes" (2 of 3, 40) is not.
_LIFT = 4
_RULES_PER_GROUP = 6
_TERMS_PER_GROUP = 10


@dataclass(frozen=True)
class Group:
    slug: str
    name: str
    terms: tuple[str, ...]  # most distinctive first
    rules: tuple[str, ...]
    papers: tuple[tuple[str, str], ...]  # (slug, title)


@dataclass(frozen=True)
class Suggestion:
    weak: int  # papers no topic reaches, or reaches below min_score
    min_score: float
    groups: tuple[Group, ...]
    ungrouped: tuple[str, ...]  # weak papers whose text matched no group's terms


def weak_papers(connection, min_score: float) -> list[tuple[str, str, str]]:
    """(slug, title, abstract) of papers with no member topic or a best score below min_score."""
    rows = connection.execute(
        "select papers.slug, papers.title, papers.abstract, max(paper_topics.score) from papers "
        "left join paper_topics on paper_topics.paper = papers.slug "
        "group by papers.slug order by papers.slug"
    )
    return [(s, t, a) for s, t, a, best in rows if best is None or best < min_score]


def suggest(
    db_path: str | Path,
    existing: set[str],
    groups: int | None,
    min_score: float,
    known: TopicRules | None = None,
) -> Suggestion:
    """Group the weakly reached papers of the database into proposed topics. Terms are
    weighed against the whole collection (a word most papers use is distinctive of no
    group); ``known``, the existing topics' rules: a term one of them matches is no new
    topic's rule."""
    connection = open_database(db_path)
    try:
        papers = weak_papers(connection, min_score)
        collection = [f"{t}. {a}" for t, a in connection.execute(_ALL_TEXTS)]
    finally:
        connection.close()
    wanted = groups if groups is not None else min(8, round(len(papers) / _PAPERS_PER_GROUP))
    texts = [f"{t}. {a}" for _, t, a in papers]
    clusters, ungrouped = _cluster(texts, max(1, wanted), collection)
    taken = set(existing)
    proposed = []
    for terms, members in clusters:
        group_texts = [texts[i] for i in members]
        usable = (t for t in terms if _matches(t, group_texts) and not _is_known(t, known))
        rules = _rules_from_terms(tuple(usable))
        if not rules:  # each term matches too few of its papers, or is an existing rule
            ungrouped += members
            continue
        slug = _free_slug("-".join(rules[:2]), taken)
        name = ", ".join(rules[:3]).capitalize()
        titles = tuple((papers[i][0], _one_line(papers[i][1])) for i in members)
        proposed.append(Group(slug, name, terms, rules, titles))
    return Suggestion(
        len(papers), min_score, tuple(proposed), tuple(papers[i][0] for i in sorted(ungrouped))
    )


_ALL_TEXTS = "select title, abstract from papers order by slug"


def _matches(term: str, texts: list[str]) -> bool:
    """Whether the term, as a rule, matches two of the texts (the only one, for one): a
    term of two words may have been made across punctuation ("fine-tuning (SFT)")."""
    pattern = rule_pattern(term)
    return sum(1 for text in texts if pattern.search(text)) >= min(2, len(texts))


def _is_known(term: str, known: TopicRules | None) -> bool:
    """Whether a rule of an existing topic matches the whole term."""
    if known is None:
        return False
    return any(
        e.matched.casefold() == term.casefold()
        for candidate in known.match(term, "")
        for e in candidate.evidence
    )


def _cluster(
    texts: list[str], wanted: int, collection: list[str]
) -> tuple[list[tuple[tuple[str, ...], list[int]]], list[int]]:
    """NMF topics of the texts' TF-IDF, its weights from the whole ``collection``:
    [(terms, member indexes)], and the indexes in no group. A group's terms are words at
    least two of its papers use (its only paper's, for a group of one); a group without
    such a word is no group."""
    import warnings

    import numpy
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    if not texts:
        return [], []
    several = len(collection) >= 10  # below that, a term in two papers is already rare
    vectorizer = TfidfVectorizer(
        stop_words=sorted(ENGLISH_STOP_WORDS | _COMMON_WORDS),
        token_pattern=_TOKEN,
        ngram_range=(1, 2),
        min_df=2 if several else 1,
        max_df=0.5 if several else 1.0,
        sublinear_tf=True,
    )
    try:
        papers_using = numpy.asarray((vectorizer.fit_transform(collection) > 0).sum(axis=0))
        matrix = vectorizer.transform(texts)
    except ValueError:  # no word left: nothing to group on
        return [], list(range(len(texts)))
    if not matrix.nnz:
        return [], list(range(len(texts)))
    vocabulary = vectorizer.get_feature_names_out()
    count = max(1, min(wanted, len(texts), len(vocabulary)))
    nmf = NMF(n_components=count, init="nndsvda", random_state=0, max_iter=1000)
    # Rounding can make NMF's error, which only its log reports, the root of a value just
    # below zero (two papers alike): a warning to the curator about nothing.
    with warnings.catch_warnings(), numpy.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        weights = nmf.fit_transform(matrix)
    members: dict[int, list[int]] = {}
    ungrouped = []
    for index, row in enumerate(weights):
        if row.max() <= 0:
            ungrouped.append(index)
        else:
            members.setdefault(int(numpy.argmax(row)), []).append(index)
    clusters = []
    for component, indexes in members.items():
        terms = _group_terms(
            nmf.components_[component], vocabulary, matrix[indexes] > 0, papers_using.ravel()
        )
        if terms:
            clusters.append((terms, indexes))
        else:
            ungrouped += indexes
    clusters.sort(key=lambda c: (-len(c[1]), c[1][0]))
    return clusters, ungrouped


def _group_terms(loadings, vocabulary, used, papers_using) -> tuple[str, ...]:
    """A group's terms, most loaded first: those at least two of its papers use (its only
    paper, for a group of one) and not much more common in the collection than in it.
    ``used``: which of the group's papers use which term."""
    import numpy

    in_group = numpy.asarray(used.sum(axis=0)).ravel()
    shared = (in_group >= min(2, used.shape[0])) & (papers_using <= _LIFT * in_group)
    order = sorted(range(len(vocabulary)), key=lambda i: (-loadings[i], vocabulary[i]))
    terms = [str(vocabulary[i]) for i in order if loadings[i] > 0 and shared[i]]
    return tuple(terms[:_TERMS_PER_GROUP])


def _rules_from_terms(terms: tuple[str, ...]) -> tuple[str, ...]:
    """The top terms, skipping a term whose every word a chosen term already has."""
    rules: list[str] = []
    covered: set[str] = set()
    for term in terms:
        words = set(term.split())
        if words <= covered:
            continue
        rules.append(term)
        covered |= words
        if len(rules) == _RULES_PER_GROUP:
            break
    return tuple(rules)


def _free_slug(text: str, taken: set[str]) -> str:
    from ..ingest.text import slugify

    base = slugify(text) or "topic"
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    taken.add(slug)
    return slug


def format_suggestion(suggestion: Suggestion) -> str:
    """Ready-to-edit YAML entries in the schema of ``content/topics.yml``."""
    weakly = f"no topic reaches, or reaches with a score below {suggestion.min_score:g}"
    if not suggestion.weak:
        return (
            f"# No weak papers: every paper has a topic scoring {suggestion.min_score:g} or more."
            "\ntopics: []\n"
        )
    # Entries at the left margin, as content/topics.yml writes its list: the lines under
    # "topics:" paste at the end of that list as they are.
    lines = [
        f"# {_plural(len(suggestion.groups), 'group')} proposed for the "
        f"{_plural(suggestion.weak, 'paper')} that {weakly},",
        "# grouped by TF-IDF and NMF over title and abstract. Edit each entry (name,",
        "# description, rules: an ordinary rule needs the title, or two rules in sentences",
        "# that say what a paper does; a phrase distinctive enough to carry the topic alone",
        "# goes under 'strong:'), then paste the lines under 'topics:' at the end of the",
        "# topics list of content/topics.yml.",
        "topics:" if suggestion.groups else "topics: []",
    ]
    for number, group in enumerate(suggestion.groups, start=1):
        lines.append(
            f"# Group {number}: {_plural(len(group.papers), 'paper')}; distinctive terms: "
            + ", ".join(group.terms)
        )
        lines += _entry_yaml(group).splitlines()
    if suggestion.ungrouped:
        lines.append(
            f"# In no group ({len(suggestion.ungrouped)}): no distinctive word shared with "
            "another of them, or none that is not an existing topic's rule"
        )
        lines += [f"#   {slug}" for slug in suggestion.ungrouped]
    return "\n".join(lines) + "\n"


def _entry_yaml(group: Group) -> str:
    titles = "; ".join(title for _, title in group.papers)
    entry = {
        "slug": group.slug,
        "name": group.name,
        "description": (
            "TODO: what these papers share. Excludes: what goes elsewhere. "
            f"Proposed for {_plural(len(group.papers), 'paper')}: {titles}"
        ),
        "rules": list(group.rules),
    }
    return yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=96)
