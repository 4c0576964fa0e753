"""Find links in abstracts and say what they point to."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

KINDS = ("code", "model", "dataset", "space", "project", "other")
KIND_LABELS = {
    "code": "Code repository",
    "model": "Hugging Face model",
    "dataset": "Hugging Face dataset",
    "space": "Hugging Face Space",
    "project": "Project page",
    "other": "Other link",
}

_URL = re.compile(r"https?://[^\s<>\"'`{}|\\^]+", re.IGNORECASE)
# Punctuation that ends a sentence or closes LaTeX/brackets around a URL, not part of it.
_TRAILING = ".,;:!?)]}'\""
_CODE_HOSTS = {"github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "sourceforge.net"}
_HF_HOSTS = {"huggingface.co", "hf.co"}
_PROJECT_SUFFIXES = (".github.io", ".gitlab.io", ".pages.dev", ".netlify.app", ".vercel.app")


@dataclass(frozen=True)
class Link:
    url: str
    kind: str
    host: str


def link_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, url)`` of every http(s) link in ``text`` with a host."""
    if "://" not in text:  # most abstracts: a plain substring test is much faster
        return
    for match in _URL.finditer(text):
        url = _strip_trailing(match.group(0))
        if urlsplit(url).hostname:
            yield match.start(), match.start() + len(url), url


def extract_links(text: str) -> tuple[Link, ...]:
    """Every distinct http(s) link in ``text``, in order of appearance."""
    seen: dict[str, Link] = {}
    for _, _, url in link_spans(text):
        if url not in seen:
            host = (urlsplit(url).hostname or "").lower()
            seen[url] = Link(url=url, kind=classify(url), host=host)
    return tuple(seen.values())


def classify(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = [p for p in parts.path.split("/") if p]
    if host in _CODE_HOSTS:
        return "code" if len(path) >= 2 else "other"
    if host in _HF_HOSTS:
        if path[:1] == ["datasets"]:
            return "dataset"
        if path[:1] == ["spaces"]:
            return "space"
        if len(path) >= 2 and path[0] not in {"papers", "blog", "docs", "collections"}:
            return "model"
        return "other"
    if host.endswith(".hf.space"):
        return "space"
    if host.endswith(_PROJECT_SUFFIXES) or host == "sites.google.com":
        return "project"
    return "other"


def _strip_trailing(url: str) -> str:
    while url and url[-1] in _TRAILING:
        # Keep a closing parenthesis that belongs to the URL, as in .../Foo_(bar)
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url
