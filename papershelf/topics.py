"""Topics: a curated taxonomy in YAML, and the rules that put papers in it.

A rule is a word or phrase matched whole-word and case-insensitively over a paper's
title, then its abstract. Inside a phrase a space or hyphen also matches the other
(and nothing: ``fine-tuning`` matches ``finetuning``); a trailing ``*`` matches any
word ending (``adapter*`` matches ``adapters``). The first rule that matches is
stored with the membership so that every one can be explained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import InputError, display_path

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Topic:
    slug: str
    name: str
    description: str
    rules: tuple[str, ...]
    position: int  # order in the YAML file


@dataclass(frozen=True)
class TopicMatch:
    topic: str
    rule: str
    field: str  # "title" or "abstract"
    matched: str  # the text as it appears in the paper


def rule_pattern(rule: str) -> re.Pattern:
    """Compile a rule (see the module docstring) to a regular expression."""
    words = re.split(r"[\s\-]+", rule.strip())
    parts = []
    for word in words:
        stem = word.removesuffix("*")
        parts.append(re.escape(stem) + (r"\w*" if word.endswith("*") else ""))
    return re.compile(r"(?<!\w)" + r"[\s\-]?".join(parts) + r"(?!\w)", re.IGNORECASE)


class TopicRules:
    """Topics with their rules, ready to match papers.

    Matching scans each text once with an Aho-Corasick automaton of every spelling of
    every rule (``fine-tuning``, ``fine tuning``, ``finetuning``), then checks word
    boundaries: the result is what :func:`rule_pattern` finds, at a cost that does not
    grow with the number of rules. :meth:`match_with_regexes` is that reference.
    """

    def __init__(self, topics: list[Topic]):
        import ahocorasick

        self.topics = topics
        self._rules: list[tuple[int, str, bool]] = []  # (topic index, rule, wildcard)
        self._patterns: list[re.Pattern] = []
        self._automaton = ahocorasick.Automaton()
        spellings: dict[str, list[int]] = {}
        for topic_index, topic in enumerate(topics):
            for rule in topic.rules:
                rule_index = len(self._rules)
                wildcard = rule.strip().endswith("*")
                self._rules.append((topic_index, rule, wildcard))
                self._patterns.append(rule_pattern(rule))
                for spelling in _spellings(rule):
                    spellings.setdefault(spelling, []).append(rule_index)
        for spelling, rule_indexes in spellings.items():
            self._automaton.add_word(spelling, (len(spelling), tuple(rule_indexes)))
        self._automaton.make_automaton()

    def match(self, title: str, abstract: str) -> list[TopicMatch]:
        best: dict[int, tuple[int, int, str, int, int]] = {}  # topic -> its first match
        for field_order, (field, text) in enumerate((("title", title), ("abstract", abstract))):
            folded = text.lower().translate(_SPACES)
            if len(folded) != len(text):  # lower() changed lengths: offsets would be wrong
                return self.match_with_regexes(title, abstract)
            for end, (length, rule_indexes) in self._automaton.iter(folded):
                start = end + 1 - length
                if start > 0 and _is_word(text[start - 1]):
                    continue
                stop = end + 1
                for rule_index in rule_indexes:
                    topic_index, _, wildcard = self._rules[rule_index]
                    last = stop
                    if wildcard:
                        while last < len(text) and _is_word(text[last]):
                            last += 1
                    elif last < len(text) and _is_word(text[last]):
                        continue
                    key = (field_order, rule_index, start)
                    if topic_index not in best or key < best[topic_index][:3]:
                        best[topic_index] = (*key, field, last)
        found = []
        for topic_index in sorted(best):
            field_order, rule_index, start, field, last = best[topic_index]
            text = title if field_order == 0 else abstract
            found.append(
                TopicMatch(
                    self.topics[topic_index].slug,
                    self._rules[rule_index][1],
                    field,
                    text[start:last],
                )
            )
        return found

    def match_with_regexes(self, title: str, abstract: str) -> list[TopicMatch]:
        """The same result with one regular expression per rule (slow, the reference)."""
        found = []
        rule_index = 0
        for topic in self.topics:
            rules = [(rule, self._patterns[rule_index + i]) for i, rule in enumerate(topic.rules)]
            rule_index += len(topic.rules)
            hit = _first_match(rules, "title", title) or _first_match(rules, "abstract", abstract)
            if hit:
                found.append(TopicMatch(topic.slug, *hit))
        return found


# Every character ``\\s`` matches becomes a space (one for one, so offsets stay valid).
_SPACES = str.maketrans({c: " " for c in map(chr, range(0x3001)) if c.isspace()})


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _spellings(rule: str) -> set[str]:
    """Every text the rule's words can match, lowercased, without a wildcard's ending."""
    words = [w.lower() for w in re.split(r"[\s\-]+", rule.strip().removesuffix("*")) if w]
    spellings = {words[0]}
    for word in words[1:]:
        spellings = {s + sep + word for s in spellings for sep in ("", " ", "-")}
    return spellings


def _first_match(rules, field: str, text: str):
    for rule, pattern in rules:
        if match := pattern.search(text):
            return rule, field, match.group(0)
    return None


class _LineLoader(yaml.SafeLoader):
    """Records the line of every mapping, so errors can name it."""


def _construct_mapping(loader, node):
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_topics(path: str | Path) -> list[Topic]:
    """Read and check ``topics.yml``; problems raise :class:`InputError` with the line."""
    source = display_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(source, None, f"not UTF-8 text: {error}") from None
    return parse_topics(text, source)


def parse_topics(text: str, source: str) -> list[Topic]:
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise InputError(
            source, line, f"invalid YAML: {getattr(error, 'problem', error)}"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("topics"), list):
        raise InputError(source, 1, "expected a mapping with a 'topics:' list")
    topics: list[Topic] = []
    seen: set[str] = set()
    for position, item in enumerate(data["topics"]):
        if not isinstance(item, dict):
            raise InputError(source, None, f"topic {position + 1} is not a mapping")
        line = item["__line__"]
        for key in ("slug", "name", "description", "rules"):
            if not item.get(key):
                raise InputError(source, line, f"topic {position + 1} has no {key!r}")
        slug = item["slug"]
        if not isinstance(slug, str) or not _SLUG.match(slug):
            raise InputError(
                source, line, f"topic slug {slug!r} must be lowercase letters, digits and hyphens"
            )
        if slug in seen:
            raise InputError(source, line, f"duplicate topic slug {slug!r}")
        seen.add(slug)
        rules = item["rules"]
        if not isinstance(rules, list) or not all(isinstance(r, str) and r.strip() for r in rules):
            raise InputError(source, line, f"topic {slug!r}: 'rules' must be a list of phrases")
        topics.append(
            Topic(
                slug=slug,
                name=str(item["name"]).strip(),
                description=" ".join(str(item["description"]).split()),
                rules=tuple(rule.strip() for rule in rules),
                position=position,
            )
        )
    if not topics:
        raise InputError(source, 1, "no topics defined")
    return topics
