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
    """Topics with their compiled rules, ready to match papers."""

    def __init__(self, topics: list[Topic]):
        self.topics = topics
        self._compiled = [
            (topic.slug, [(rule, rule_pattern(rule)) for rule in topic.rules]) for topic in topics
        ]

    def match(self, title: str, abstract: str) -> list[TopicMatch]:
        found = []
        for slug, rules in self._compiled:
            hit = _first_match(rules, "title", title) or _first_match(rules, "abstract", abstract)
            if hit:
                found.append(TopicMatch(slug, *hit))
        return found


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
