"""Topics: a curated taxonomy in YAML, and the evidence that puts papers in it.

A rule is a word or phrase matched whole-word and case-insensitively over a paper's
title and abstract. Inside a phrase a space or hyphen also matches the other (and
nothing: ``fine-tuning`` matches ``finetuning``); a trailing ``*`` matches any word
ending (``adapter*`` matches ``adapters``).

Every occurrence of a rule is evidence, weighed by where it is: in the title; in a
*contribution* sentence of the abstract (one that says what the paper does: "we
propose …", "in this work …", "our method …"); or in a *background* sentence. A topic's
score adds the best weight of each of its distinct rules, plus a little for rules that
recur. A paper is in a topic when the score reaches the topic's threshold, and in its
:data:`MAX_TOPICS` strongest topics at most; the strongest is its primary topic. Every
piece of evidence is kept, so that every membership — and every near-miss — can be
explained.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from itertools import groupby, islice
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from ..errors import InputError, display_path
from ..yamlfile import line_of, load_with_lines

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# Weights of one match, by where it is. A title names what a paper is about; an abstract
# names much in passing, so only the sentence that states the contribution counts for
# much, and only a phrase declared strong counts alone there.
TITLE_WEIGHT = 1.0
STRONG_CONTRIBUTION_WEIGHT = 1.0
STRONG_BACKGROUND_WEIGHT = 0.5
RULE_CONTRIBUTION_WEIGHT = 0.5
RULE_BACKGROUND_WEIGHT = 0.2
# Each further occurrence of a topic's rules in the abstract adds a little, up to a cap:
# a subject an abstract keeps returning to is its subject, but repetition is not proof.
RECURRENCE_WEIGHT = 0.1
RECURRENCE_CAP = 0.3
DEFAULT_THRESHOLD = 1.0
MAX_TOPICS = 3  # most papers are about one to three things

# Scores are added in tenths, as integers: 0.2 + 0.2 + 0.2 + 0.2 + 0.2 must be 1.0.
_TENTHS = 10

TOPIC_KEYS = ("slug", "name", "description", "rules", "strong", "exclude", "threshold")


@dataclass(frozen=True)
class Topic:
    slug: str
    name: str
    description: str
    rules: tuple[str, ...]  # every evidence phrase, the strong ones included
    position: int  # order in the YAML file
    strong: tuple[str, ...] = ()  # phrases that count for much even in the abstract
    exclude: tuple[str, ...] = ()  # phrases that cancel a rule match they overlap
    threshold: float = DEFAULT_THRESHOLD


@dataclass(frozen=True)
class Taxonomy:
    topics: list[Topic]
    retired: dict[str, str] = field(default_factory=dict)  # old slug -> kept slug


class Evidence(NamedTuple):
    """One match of one of a topic's rules in a paper."""

    position: int  # 1, 2, … in the order of the text, title first
    rule: str
    field: str  # "title" or "abstract"
    sentence_kind: str  # "title", "contribution" or "background"
    matched: str  # the text as it appears in the paper
    snippet: str  # the sentence, or at most 200 characters around the match
    weight: float  # by where it is (see the weights above)
    counted: bool  # adds to the score: its rule's best match, or a recurrence under the cap


class Candidate(NamedTuple):
    """A topic some rule of which matched a paper: a membership or a near-miss."""

    topic: str
    score: float
    member: bool
    rank: int | None  # 1 … MAX_TOPICS among the paper's memberships
    reason: str | None  # why not a member; None for a member
    explanation: str  # the counted evidence in plain words, as the paper's page shows it
    evidence: tuple[Evidence, ...]

    @property
    def primary(self) -> bool:
        return self.rank == 1


def alternatives(rule: str) -> list[str]:
    """The spellings of one rule: ``DPO | direct preference optimization`` is one rule
    (an abbreviation and its expansion are one piece of evidence, not two)."""
    return [part.strip() for part in rule.split("|") if part.strip()]


def rule_pattern(rule: str) -> re.Pattern:
    """Compile a rule (see the module docstring) to a regular expression."""
    words = re.split(r"[\s\-]+", rule.strip())
    parts = []
    for word in words:
        stem = word.removesuffix("*")
        parts.append(re.escape(stem) + (r"\w*" if word.endswith("*") else ""))
    return re.compile(r"(?<!\w)" + r"[\s\-]?".join(parts) + r"(?!\w)", re.IGNORECASE)


# ---- sentences -------------------------------------------------------------------------

# A sentence ends at . ! or ? (and closing quotes or brackets) before a capital, a digit
# or an opening quote: "e.g. the" and "0.5 points" do not end one.
_SENTENCE_END = re.compile(r"[.!?][\"”’')\]]*\s+(?=[A-Z0-9\"“‘'(\[])")
_FULL_STOP_END = re.compile(_SENTENCE_END.pattern.replace("[.!?]", r"\.", 1))

_CONTRIBUTION_VERBS = [
    "propose",
    "introduce",
    "present",
    "develop",
    "design",
    "study",
    "investigate",
    "show",
    "find",
    "demonstrate",
    "explore",
    "analyse",
    "analyze",
    "train",
    "release",
    "build",
    "evaluate",
    "examine",
    "leverage",
    "formulate",
    "construct",
    "describe",
    "provide",
    "address",
    "tackle",
    "extend",
    "apply",
    "fine-tune",
    "finetune",
    "identify",
    "reveal",
    "compare",
    "achieve",
    "conduct",
    "create",
    "curate",
    "establish",
    "offer",
    "report",
    "obtain",
]
_IRREGULAR = {"find": ["found"], "build": ["built"], "show": ["shown"]}


def _verb_forms(verb: str) -> list[str]:
    if verb.endswith("y"):
        forms = [verb, verb[:-1] + "ies", verb[:-1] + "ied", verb + "ing"]
    elif verb.endswith("e"):
        forms = [verb, verb + "s", verb + "d", verb[:-1] + "ing"]
    elif verb.endswith("s"):
        forms = [verb, verb + "es", verb + "ed", verb + "ing"]
    else:
        forms = [verb, verb + "s", verb + "ed", verb + "ing"]
    return forms + _IRREGULAR.get(verb, [])


_VERB_FORMS = frozenset(f for v in _CONTRIBUTION_VERBS for f in _verb_forms(v))
# Where a contribution can be stated: cheap to find, then checked one by one. An
# alternation of every verb form after "we" would be tried at every character.
_MARKER_WORDS = ("we", "this", "present", "here", "our")
_MARKER = re.compile(r"\b(?:" + "|".join(_MARKER_WORDS) + r")\b", re.IGNORECASE)
_STATEMENT = re.compile(
    r"we((?:[\s,]+[\w-]+){1,4})"  # "we" and the next words: a verb among them?
    r"|(?:this|present) (?:paper|work|study|article)\b"  # "this paper", "in this work"
    r"|here,? we\b"
    r"|our (?:method|approach|framework|model|result|finding|analysis|analyses|experiment)s?\b",
    re.IGNORECASE,
)


def contribution_offsets(text: str, markers: list[int] | None = None) -> list[int]:
    """Where ``text`` states what the paper does: "we" and a contribution verb at most
    three words later ("we first propose"), or a phrase that points at the paper itself
    ("this paper", "in this work", "here, we", "our method"). ``markers``: where the
    marker words are, when already known."""
    if markers is None:
        markers = [marker.start() for marker in _MARKER.finditer(text)]
    found = []
    for at in markers:
        statement = _STATEMENT.match(text, at)
        if statement is None:
            continue
        words = statement.group(1)
        if words is None or not _VERB_FORMS.isdisjoint(words.lower().replace(",", " ").split()):
            found.append(at)
    return found


def sentence_kind(sentence: str) -> str:
    """'contribution' when the sentence states what the paper does, else 'background'."""
    return "contribution" if contribution_offsets(sentence) else "background"


def sentence_starts(abstract: str) -> list[int]:
    """Where each sentence of the abstract starts."""
    # A pattern that starts with one literal character is searched for much faster than
    # one that starts with a set, and most abstracts end every sentence with a full stop.
    ends = _SENTENCE_END if "!" in abstract or "?" in abstract else _FULL_STOP_END
    return [0] + [match.end() for match in ends.finditer(abstract)]


# ---- matching and scoring --------------------------------------------------------------

_ORDINARY, _STRONG, _EXCLUDE = 0, 1, 2
# Weights in tenths by (strong, contribution sentence).
_ABSTRACT_TENTHS = {
    (True, True): round(STRONG_CONTRIBUTION_WEIGHT * _TENTHS),
    (True, False): round(STRONG_BACKGROUND_WEIGHT * _TENTHS),
    (False, True): round(RULE_CONTRIBUTION_WEIGHT * _TENTHS),
    (False, False): round(RULE_BACKGROUND_WEIGHT * _TENTHS),
}
_TITLE_TENTHS = round(TITLE_WEIGHT * _TENTHS)
_TITLE_EVIDENCE_WEIGHT = _TITLE_TENTHS / _TENTHS
_RECURRENCE_TENTHS = round(RECURRENCE_WEIGHT * _TENTHS)
_MAX_RECURRENCES = round(RECURRENCE_CAP / RECURRENCE_WEIGHT)
_BEYOND = f"beyond the {MAX_TOPICS} strongest topics"

# The scanned text is ``EDGE title EDGE abstract EDGE``, lowercased, where every
# whitespace character and every hyphen is a space (a rule takes one for the other) and
# every other character that is not part of a word is EDGE. A key of the automaton is a
# spelling between two of these separators, so it has few spellings and keys: building
# it costs little next to the matching.
_EDGE = "\x01"
_SEPARATORS = (" ", _EDGE)
_NOT_WORD = re.compile(r"\W")
_TO_EDGE = re.compile(r"[^\w\s-]")  # in text that is not ASCII (see _FOLD_ASCII)

# A hit is (topic index, start, -stop, phrase index, to check) in the scanned text: sorted,
# a topic's hits are together and in text order (the title's first), the longest first at
# a place. The marker words a contribution sentence starts from are hits of topic -1.
# A phrase with punctuation ("code, data") has EDGE for it in its keys, so its hits are
# to check with its regular expression ("code; data" is not one).
_MARKER_TOPIC = -1
# Evidence and candidates are made with tuple.__new__: the same tuples as their
# constructors make, at less than half the cost (there are about 25 per paper).
_new = tuple.__new__
_TOPIC = itemgetter(0)
_SCORE = itemgetter(1)
_TO_CHECK = itemgetter(4)


class TopicRules:
    """Topics with their rules, ready to score papers.

    Matching scans title and abstract once with an Aho-Corasick automaton whose keys are
    every spelling of every phrase (``fine tuning``, ``finetuning``) between two word
    separators: every hit is a whole-word match, so the work per paper follows the
    number of matches, not of rules or of partial words. The result is what
    :func:`rule_pattern` finds; :meth:`match_with_regexes` is that reference. The same
    scan finds the words a contribution sentence starts from.
    """

    def __init__(self, topics: list[Topic]):
        self.topics = topics
        # Per phrase, in parallel tuples (the scan reads them for every hit).
        phrases: list[tuple[int, str, int, str]] = []  # (topic, phrase, kind, its rule)
        for topic_index, topic in enumerate(topics):
            strong = set(topic.strong)
            for rule in topic.rules:
                kind = _STRONG if rule in strong else _ORDINARY
                phrases += [(topic_index, p, kind, rule) for p in alternatives(rule)]
            phrases += [
                (topic_index, p, _EXCLUDE, e) for e in topic.exclude for p in alternatives(e)
            ]
        self._topic = tuple(p[0] for p in phrases)
        self._kind = tuple(p[2] for p in phrases)
        self._rule = tuple(p[3] for p in phrases)
        # Per phrase: its weight in tenths in a background and in a contribution sentence.
        self._weights = tuple(
            (_ABSTRACT_TENTHS[p[2] == _STRONG, False], _ABSTRACT_TENTHS[p[2] == _STRONG, True])
            for p in phrases
        )
        self._excludes = tuple(bool(t.exclude) for t in topics)
        self._thresholds = tuple(t.threshold * _TENTHS - 1e-9 for t in topics)
        self._below = tuple(f"below threshold {t.threshold}" for t in topics)
        self._slugs = tuple(t.slug for t in topics)
        self._phrases = tuple(p[1] for p in phrases)
        self._patterns: list[re.Pattern] = []  # the reference's, compiled when first used
        self._punctuated = {
            index: rule_pattern(p[1])
            for index, p in enumerate(phrases)
            if _NOT_WORD.search(re.sub(r"[\s\-]+", "", p[1].removesuffix("*")))
        }
        self._automaton = _automaton(phrases, self._punctuated)

    def match(self, title: str, abstract: str) -> list[Candidate]:
        """The paper's candidate topics: members by rank, then near-misses by score."""
        text = f"{_EDGE}{title}{_EDGE}{abstract}{_EDGE}"
        if text.isascii():
            scanned = text.translate(_FOLD_ASCII)
        else:
            folded = text.lower()
            if len(folded) != len(text):  # lower() changed lengths: offsets would be wrong
                return self.match_with_regexes(title, abstract)
            scanned = _TO_EDGE.sub(_EDGE, folded).translate(_SPACES)
        hits = _scan(self._automaton, scanned)
        if self._punctuated and any(map(_TO_CHECK, hits)):
            punctuated = self._punctuated
            hits = [h for h in hits if not h[4] or punctuated[h[3]].fullmatch(text, h[1], -h[2])]
        return self._candidates(title, abstract, hits)

    def match_with_regexes(self, title: str, abstract: str) -> list[Candidate]:
        """The same result with one regular expression per phrase (slow, the reference)."""
        topic_of = self._topic
        if not self._patterns:
            self._patterns = [rule_pattern(phrase) for phrase in self._phrases]
        hits = [
            (topic_of[index], m.start() + at, -m.end() - at, index, False)
            for text, at in ((title, 1), (abstract, len(title) + 2))
            for index, pattern in enumerate(self._patterns)
            for m in pattern.finditer(text)
        ]
        at = len(title) + 2
        hits += [
            (_MARKER_TOPIC, m.start() + at, -m.end() - at, 0, False)
            for m in _MARKER.finditer(abstract)
        ]
        return self._candidates(title, abstract, hits)

    def _candidates(self, title: str, abstract: str, hits: list[tuple]) -> list[Candidate]:
        hits.sort()
        first = bisect.bisect_left(hits, (0,))  # the marker words come first
        if first == len(hits):
            return []
        places = _Places(title, abstract, hits[:first])
        only, rules, weights = places.only, self._rule, self._weights
        kinds, excludes, thresholds = self._kind, self._excludes, self._thresholds
        slugs, below = self._slugs, self._below
        passing: list[tuple] = []  # (-score in tenths, topic index, evidence)
        failing: list[Candidate] = []  # in the order of the topics
        for topic_index, group in groupby(islice(hits, first, None), _TOPIC):
            kept = list(group)
            if len(kept) > 1:
                kept = self._kept(kept, excludes[topic_index])
            elif kinds[kept[0][3]] == _EXCLUDE:
                continue
            if len(kept) == 1:  # the common case, made short
                _, start, minus_stop, index, _ = kept[0]
                tenths, evidence = only(start, -minus_stop, rules[index], weights[index])
            elif kept:
                tenths, evidence = self._evidence(kept, places)
            else:
                continue
            if tenths >= thresholds[topic_index]:
                passing.append((-tenths, topic_index, evidence))
            else:
                reason = below[topic_index]
                fields = (slugs[topic_index], tenths / _TENTHS, False, None, reason, "", evidence)
                failing.append(_new(Candidate, fields))
        return self._decide(passing, failing)

    def _kept(self, hits: list[tuple], has_excludes: bool) -> list[tuple]:
        """The hits that are evidence, in text order: not cancelled by an exclusion, and
        each piece of text once (at a place, a strong phrase, else the longest match)."""
        kinds = self._kind
        excluded = [h for h in hits if kinds[h[3]] == _EXCLUDE] if has_excludes else ()
        if excluded:
            hits = [
                h
                for h in hits
                if kinds[h[3]] != _EXCLUDE
                and not any(e[1] < -h[2] and h[1] < -e[2] for e in excluded)
            ]
        if not hits:
            return []
        kept = hits[:1]
        taken_until = -hits[0][2]  # the text up to here is evidence already
        for hit in islice(hits, 1, None):
            last = kept[-1]
            if hit[1] >= taken_until:
                kept.append(hit)
                taken_until = -hit[2]
            elif hit[1] == last[1] and kinds[hit[3]] == _STRONG and kinds[last[3]] != _STRONG:
                # At one place a strong phrase outweighs an ordinary rule, however long:
                # an ordinary rule a curator adds ("LoRA" beside the strong "LoRA | …",
                # or "LoRA fine-tuning") takes no weight away. The text after the strong
                # phrase is free again, as it would be without that rule.
                kept[-1] = hit
                taken_until = -hit[2]
        return kept

    def _evidence(self, kept: list[tuple], places: _Places) -> tuple[int, tuple[Evidence, ...]]:
        """A topic's score in tenths and its evidence, from two kept hits or more: what
        counts is each rule's best match, and the first few other mentions in the
        abstract (stored with what they add, so that counted weights sum to the score)."""
        place, weights = places.of, self._weights
        where = [place(h[1], -h[2], weights[h[3]]) for h in kept]
        rule_of = [self._rule[h[3]] for h in kept]
        best: dict[str, int] = {}  # rule -> index in kept of its best match
        for i, rule in enumerate(rule_of):
            if rule not in best or where[i][0] > where[best[rule]][0]:
                best[rule] = i
        counted = set(best.values())
        recurrences, score, evidence = _MAX_RECURRENCES, 0, []
        for i, (tenths, field_name, kind, matched, snippet) in enumerate(where):
            counts = i in counted
            if not counts and recurrences and field_name == "abstract":
                counts, tenths, recurrences = True, _RECURRENCE_TENTHS, recurrences - 1
            if counts:
                score += tenths
            fields = (i + 1, rule_of[i], field_name, kind, matched, snippet, tenths / _TENTHS)
            evidence.append(_new(Evidence, (*fields, counts)))
        return score, tuple(evidence)

    def _decide(self, passing: list[tuple], failing: list[Candidate]) -> list[Candidate]:
        """Members (the strongest topics over their thresholds) by rank, then near-misses
        by score. ``passing``: (-score in tenths, topic index, evidence) of each topic
        over its threshold; ``failing``: the near-misses in the order of the topics."""
        passing.sort()
        slugs = self._slugs
        candidates = []
        for rank, (minus_tenths, topic_index, evidence) in enumerate(passing, start=1):
            if rank > MAX_TOPICS:
                rank, reason, explanation = None, _BEYOND, ""
            else:
                reason, explanation = None, explain(evidence)
            fields = (slugs[topic_index], -minus_tenths / _TENTHS, reason is None, rank)
            candidates.append(_new(Candidate, (*fields, reason, explanation, evidence)))
        # By score, highest first; a stable sort keeps the topics' order among equals.
        failing.sort(key=_SCORE, reverse=True)
        return candidates + failing


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _fold_ascii(char: str) -> str:
    """What an ASCII character becomes in the scanned text."""
    if char.isspace() or char == "-":
        return " "
    return char.lower() if _is_word(char) else _EDGE


_FOLD_ASCII = str.maketrans({c: _fold_ascii(c) for c in map(chr, range(128))})


def _automaton(phrases: list[tuple], punctuated: dict[int, re.Pattern]):
    """Keys: every spelling between separators (a wildcard's only after one), and the
    marker words; values: (key length, what a hit of it is…), each hit as (topic,
    phrase, wildcard, to check)."""
    import ahocorasick

    keys: dict[str, list[tuple[int, int, bool, bool]]] = {}
    for index, (topic_index, phrase, _, _) in enumerate(phrases):
        wildcard = phrase.endswith("*")
        to_check = index in punctuated
        for spelling in _spellings(phrase):
            for before in _SEPARATORS:
                for after in ("",) if wildcard else _SEPARATORS:
                    keys.setdefault(before + spelling + after, []).append(
                        (topic_index, index, wildcard, to_check)
                    )
    for marker in _MARKER_WORDS:
        for before in _SEPARATORS:
            for after in _SEPARATORS:
                keys.setdefault(before + marker + after, []).append(
                    (_MARKER_TOPIC, 0, False, False)
                )
    automaton = ahocorasick.Automaton()
    for key, hits in keys.items():
        automaton.add_word(key, (len(key), tuple(hits)))
    automaton.make_automaton()
    return automaton


def _scan(automaton, text: str) -> list[tuple]:
    """The hits in the scanned text (see _EDGE): a key starts with the separator before
    its match and ends with the one after, but for a wildcard's: its match stops where
    the word that ends its key does."""
    word_end = _NOT_WORD.search
    return [
        (
            topic_index,
            end + 2 - length,
            -word_end(text, end + 1).start() if wildcard else -end,
            index,
            to_check,
        )
        for end, (length, templates) in automaton.iter(text)
        for topic_index, index, wildcard, to_check in templates
    ]


class _Places:
    """Where a paper's hits are: the weight, field, sentence kind, text and snippet of
    each. The abstract's sentences are found and classified when first asked, once; a
    sentence's snippet is made when first asked."""

    __slots__ = ("title", "abstract", "abstract_at", "markers", "title_snippet")
    __slots__ += ("bounds", "contributions", "snippets")

    def __init__(self, title: str, abstract: str, markers: list[tuple]):
        self.title = title
        self.abstract = abstract
        self.abstract_at = len(title) + 2  # where the abstract starts in the scanned text
        self.markers = markers  # hits of the marker words
        stripped = title.strip()  # the snippet of every match, if the title is short
        self.title_snippet = stripped if len(stripped) <= SNIPPET_LENGTH else None
        self.bounds: list[int] = []  # where each sentence starts, and the abstract's end
        self.contributions: list[int] = []  # per sentence: 1 a contribution, 0 background
        # Per sentence: itself if it is short, False if it is not, None before asked.
        self.snippets: list[str | bool | None] = []

    def of(self, start: int, stop: int, weights: tuple[int, int]) -> tuple:
        """(weight in tenths, field, sentence kind, the matched text, snippet) of a match
        in the scanned text; ``weights``: its phrase's in a background and in a
        contribution sentence."""
        at = self.abstract_at
        if start < at:
            title = self.title
            start, stop = start - 1, stop - 1
            snippet = self.title_snippet or _snippet(title, 0, len(title), start, stop)
            return _TITLE_TENTHS, "title", "title", title[start:stop], snippet
        start, stop = start - at, stop - at
        i = bisect.bisect_right(self.bounds or self._sentences(), start) - 1
        snippet = self.snippets[i] or self._snippet(i, start, stop)
        contribution = self.contributions[i]
        kind = _KINDS[contribution]
        return weights[contribution], "abstract", kind, self.abstract[start:stop], snippet

    def only(self, start: int, stop: int, rule: str, weights: tuple[int, int]) -> tuple:
        """(weight in tenths, evidence) of a topic's only match: :meth:`of`, made short
        for the common case."""
        at = self.abstract_at
        if start >= at:
            start, stop = start - at, stop - at
            i = bisect.bisect_right(self.bounds or self._sentences(), start) - 1
            snippet = self.snippets[i] or self._snippet(i, start, stop)
            contribution = self.contributions[i]
            tenths, kind = weights[contribution], _KINDS[contribution]
            matched = self.abstract[start:stop]
            fields = (1, rule, "abstract", kind, matched, snippet, tenths / _TENTHS, True)
            return tenths, (_new(Evidence, fields),)
        title, start, stop = self.title, start - 1, stop - 1
        snippet = self.title_snippet or _snippet(title, 0, len(title), start, stop)
        weight = _TITLE_EVIDENCE_WEIGHT
        fields = (1, rule, "title", "title", title[start:stop], snippet, weight, True)
        return _TITLE_TENTHS, (_new(Evidence, fields),)

    def _snippet(self, i: int, start: int, stop: int) -> str:
        """The snippet of a match in sentence ``i`` (see :func:`_snippet`), the sentence
        kept for the next match if it is short."""
        first, last = self.bounds[i], self.bounds[i + 1]
        if self.snippets[i] is None:
            sentence = self.abstract[first:last].strip()
            if len(sentence) <= SNIPPET_LENGTH:
                self.snippets[i] = sentence
                return sentence
            self.snippets[i] = False
        return _snippet(self.abstract, first, last, start, stop, long=True)

    def _sentences(self) -> list[int]:
        abstract, at = self.abstract, self.abstract_at
        self.bounds = bounds = sentence_starts(abstract)
        contributions = [0] * len(bounds)
        markers = [h[1] - at for h in self.markers if h[1] >= at]
        if markers:
            for offset in contribution_offsets(abstract, markers):
                contributions[bisect.bisect_right(bounds, offset) - 1] = 1
        self.contributions = contributions
        self.snippets = [None] * len(bounds)
        bounds.append(len(abstract))
        return bounds


_KINDS = ("background", "contribution")


SNIPPET_LENGTH = 200
_NEARBY = 30  # how far a snippet's cut moves to reach a space


def _snippet(text: str, first: int, last: int, start: int, stop: int, long: bool = False) -> str:
    """The sentence ``text[first:last]``, or at most 200 characters of it around the
    match in whole words, an ellipsis where it is cut; ``long``: the sentence is known to
    be longer."""
    if not long:
        sentence = text[first:last].strip()
        if len(sentence) <= SNIPPET_LENGTH:
            return sentence
    middle = (start + stop) // 2
    begin = max(first, min(middle - SNIPPET_LENGTH // 2, last - SNIPPET_LENGTH, start))
    end = max(stop, min(last, begin + SNIPPET_LENGTH))  # a match longer than that, whole
    # A cut inside a word ("(LoRA)," "end-to-end") moves to a space nearby, away from the
    # match; text with none near (no spaces, as in Chinese) is cut where it is.
    if first < begin < start and not text[begin - 1].isspace():
        space = text.find(" ", begin, min(start, begin + _NEARBY))
        begin = begin if space < 0 else space
    if stop < end < last and not text[end].isspace():
        space = text.rfind(" ", max(stop, end - _NEARBY), end)
        end = end if space < 0 else space
    # A sentence starts with its text and may end with spaces (before the next one).
    cut_before = "…" if begin > first else ""
    left_out = last - end
    cut_after = "…" if left_out > 4 or (left_out and not text[end:last].isspace()) else ""
    return f"{cut_before}{text[begin:end].strip()}{cut_after}"


_PLACES = {
    "title": "in the title",
    "contribution": "in a contribution sentence",
    "background": "in a background sentence",
}


def explain(evidence: tuple[Evidence, ...]) -> str:
    """The counted evidence in plain words, strongest first:
    ``“LoRA” in the title; “low-rank adaptation” in a contribution sentence``."""
    if len(evidence) == 1 and evidence[0].counted:  # the common case, made short
        only = evidence[0]
        return f"“{' '.join(only.matched.split())}” {_PLACES[only.sentence_kind]}"
    rules = {e.rule for e in evidence if e.counted}
    best = []
    for e in sorted(evidence, key=lambda e: (-e.weight, e.position)):
        if e.counted and e.rule in rules:
            rules.discard(e.rule)
            best.append(f"“{' '.join(e.matched.split())}” {_PLACES[e.sentence_kind]}")
    counted = sum(e.counted for e in evidence) - len(best)  # recurrences in the abstract
    more = len(evidence) - len(best)  # beyond the cap on recurrences too
    if more == counted and more:
        best.append(f"{more} more mention{'s' if more != 1 else ''} in the abstract")
    elif more:
        best.append(f"{more} more mention{'s' if more != 1 else ''}, {counted or 'none'} counted")
    return "; ".join(best)


# Every character ``\\s`` matches, and a hyphen, becomes a space (one for one, so offsets
# stay valid).
_SPACES = str.maketrans(
    {c: " " for c in ["-", *map(chr, range(0x3001))] if c.isspace() or c == "-"}
)


def _spellings(rule: str) -> set[str]:
    """Every text the rule's words can match in the scanned text, lowercased, without a
    wildcard's ending: words joined by a space or nothing, punctuation as EDGE."""
    words = re.split(r"[\s\-]+", rule.strip().removesuffix("*").lower())
    words = [_NOT_WORD.sub(_EDGE, w) for w in words if w]
    spellings = {words[0]}
    for word in words[1:]:
        spellings = {s + sep + word for s in spellings for sep in ("", " ")}
    return spellings


# ---- the YAML file ---------------------------------------------------------------------


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Read and check ``topics.yml``; problems raise :class:`InputError` with the line."""
    source = display_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(source, None, f"not UTF-8 text: {error}") from None
    return parse_taxonomy(text, source)


def load_topics(path: str | Path) -> list[Topic]:
    """The topics of ``topics.yml`` (see :func:`load_taxonomy`)."""
    return load_taxonomy(path).topics


def parse_topics(text: str, source: str) -> list[Topic]:
    return parse_taxonomy(text, source).topics


def parse_taxonomy(text: str, source: str) -> Taxonomy:
    data = load_with_lines(text, source)
    if not isinstance(data, dict) or not isinstance(data.get("topics"), list):
        raise InputError(source, 1, "expected a mapping with a 'topics:' list")
    unknown = sorted(str(k) for k in data if k not in ("topics", "retired", "__line__"))
    if unknown:
        raise InputError(source, 1, f"unknown key {unknown[0]!r} (expected 'topics', 'retired')")
    topics: list[Topic] = []
    for position, item in enumerate(data["topics"]):
        topic = _parse_topic(item, position, source, line_of(data["topics"], position, None))
        if any(t.slug == topic.slug for t in topics):
            raise InputError(source, item["__line__"], f"duplicate topic slug {topic.slug!r}")
        if any(t.name == topic.name for t in topics):  # two pages of one title
            raise InputError(source, item["__line__"], f"duplicate topic name {topic.name!r}")
        topics.append(topic)
    if not topics:
        raise InputError(source, 1, "no topics defined")
    retired_line = line_of(data, "retired", None)
    return Taxonomy(topics, _parse_retired(data.get("retired"), topics, source, retired_line))


def _parse_topic(item: object, position: int, source: str, item_line: int | None) -> Topic:
    if not isinstance(item, dict):
        raise InputError(source, item_line, f"topic {position + 1} is not a mapping")
    line = item["__line__"]
    for key in ("slug", "name", "description"):
        if not item.get(key):
            raise InputError(source, line, f"topic {position + 1} has no {key!r}")
    slug = item["slug"]
    # Before the rules are looked for: "rule:" for "rules:" is named as it is written.
    unknown = sorted(str(k) for k in item if k not in (*TOPIC_KEYS, "__line__"))
    if unknown:
        raise InputError(
            source,
            line_of(item, unknown[0], line),
            f"topic {slug!r}: unknown key {unknown[0]!r} (expected {', '.join(TOPIC_KEYS)})",
        )
    if not item.get("rules") and not item.get("strong"):
        raise InputError(source, line, f"topic {position + 1} has no 'rules'")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise InputError(
            source, line, f"topic slug {slug!r} must be lowercase letters, digits and hyphens"
        )
    phrases = {key: _phrases(item, key, slug, source, line) for key in ("rules", "strong")}
    threshold = item.get("threshold", DEFAULT_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0:
        raise InputError(
            source,
            line,
            f"topic {slug!r}: 'threshold' must be a positive number, not {threshold!r}",
        )
    return Topic(
        slug=slug,
        name=str(item["name"]).strip(),
        description=" ".join(str(item["description"]).split()),
        # A strong phrase is a rule too, without being listed twice.
        rules=tuple(dict.fromkeys(phrases["rules"] + phrases["strong"])),
        position=position,
        strong=phrases["strong"],
        exclude=_phrases(item, "exclude", slug, source, line),
        threshold=float(threshold),
    )


def _phrases(item: dict, key: str, slug: str, source: str, line: int) -> tuple[str, ...]:
    value = item.get(key) or []
    if not isinstance(value, list) or not all(
        isinstance(p, str) and re.search(r"\w", p) for p in value
    ):
        raise InputError(
            source, line_of(item, key, line), f"topic {slug!r}: {key!r} must be a list of phrases"
        )
    for index, phrase in enumerate(value):
        problem = phrase_problem(phrase)
        if problem:
            raise InputError(
                source,
                line_of(value, index, line),
                f"topic {slug!r}: {key} {phrase!r} is not a phrase: {problem}. A phrase is "
                "words (a trailing * matches any ending), its spellings separated by '|'",
            )
    return tuple(p.strip() for p in value)


# What only a regular expression would mean: a rule is matched as written, so a curator who
# writes "(lora|qlora)+" or "fine.?tun\w+" would get literal text no paper has, silently.
# Other punctuation stays allowed: "C++", "TD(λ)", "R^2", "[CLS]", "code, data". A "?" is
# refused wherever it is: "models?" and "colou?r" are habits of patterns, not text.
_PATTERN_SYNTAX = re.compile(
    r"\\|\?|[)\]}.][+*]|\[[^\W_]+\](?=\w)|\[\w-\w\]|\{\d+(?:,\d*)?\}|^\s*\^|\$\s*$"
)
_INNER_WILDCARD = re.compile(r"\*(?!\s*(?:\||$))|(?<!\w)\*")
_BRACKETS = {")": "(", "]": "[", "}": "{"}


def phrase_problem(phrase: str) -> str | None:
    """Why ``phrase`` (a rule, strong phrase or exclusion) cannot be matched as meant, or
    None: regular-expression syntax, a * that does not end a word, an empty spelling."""
    for spelling in phrase.split("|"):
        if not re.search(r"\w", spelling):
            return "a spelling between the | is empty"
        syntax = _PATTERN_SYNTAX.search(spelling)
        if syntax or not _balanced(spelling):
            shown = repr(syntax.group().strip()) if syntax else "an unmatched bracket"
            return f"{shown} is pattern syntax, and a rule's words match as written"
    if _INNER_WILDCARD.search(phrase):
        return "a * may only end a spelling, after a letter or digit"
    return None


def _balanced(spelling: str) -> bool:
    """Whether every bracket of the spelling closes the one it opened."""
    opened: list[str] = []
    for char in spelling:
        if char in "([{":
            opened.append(char)
        elif char in _BRACKETS and (not opened or opened.pop() != _BRACKETS[char]):
            return False
    return not opened


def _parse_retired(
    value: object, topics: list[Topic], source: str, line: int | None
) -> dict[str, str]:
    """``retired:`` maps the slug of a merged topic to the topic that took it in."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(source, line, "'retired' must map old topic slugs to kept ones")
    slugs = {t.slug for t in topics}
    retired = {}
    for old, kept in value.items():
        if old == "__line__":
            continue
        line = line_of(value, old, value["__line__"])
        if not isinstance(old, str) or not _SLUG.match(old):
            raise InputError(
                source, line, f"retired slug {old!r} must be lowercase letters, digits and hyphens"
            )
        if old in slugs:
            raise InputError(source, line, f"retired slug {old!r} is still a topic")
        if kept not in slugs:
            raise InputError(source, line, f"retired slug {old!r}: {kept!r} is not a topic")
        retired[old] = kept
    return dict(sorted(retired.items()))
