"""Small pure helpers on untrusted text: normalised titles, slugs, short names."""

from __future__ import annotations

import hashlib
import re
import unicodedata

SLUG_MAX_LENGTH = 80
_NON_WORD = re.compile(r"[\W_]+")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
# Single words that start a title before a colon without being the paper's name.
_NOT_NAMES = frozenset(
    {
        "abstract",
        "commentary",
        "editorial",
        "introduction",
        "note",
        "overview",
        "perspective",
        "position",
        "review",
        "survey",
        "tutorial",
    }
)


def normalise_title(title: str) -> str:
    """The key two listings' copies of one title share: case, accents of width and
    punctuation folded away (``Fine-Tuning`` and ``fine tuning`` are one)."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    # A title of symbols alone (emoji) keeps its symbols rather than becoming empty.
    return _NON_WORD.sub(" ", folded).strip() or " ".join(folded.split())


def slugify(title: str, key: str | None = None) -> str:
    """A stable slug, safe as a file name and in a URL, made from the title alone.

    Slugs are lowercase ASCII letters, digits and hyphens. When the ASCII form loses
    something (accents, other scripts, emoji, length), a short hash of the normalised
    title is appended so that two different titles never share a slug. ``key`` is
    ``normalise_title(title)``, for a caller that has it already.
    """
    key = normalise_title(title) if key is None else key
    ascii_form = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode()
    slug = _SLUG_JUNK.sub("-", ascii_form).strip("-")
    lossless = slug.replace("-", " ") == key
    if len(slug) > SLUG_MAX_LENGTH:
        slug = slug[:SLUG_MAX_LENGTH].rsplit("-", 1)[0]
        lossless = False
    if lossless and slug:
        return slug
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else f"paper-{digest}"


def short_name(title: str) -> str | None:
    """``CorDA: Context-Oriented …`` -> ``CorDA``, when the part before the colon is a name.

    A name is one word (``LiNeS``, ``Yi``, ``HelpSteer2-Preference``) that is not a
    generic opener such as ``Survey``, or two words that both look coined (capitals
    inside or digits, as ``TÜLU 3``). Phrases such as ``From Text to Source`` are not.
    """
    if ":" not in title:
        return None
    head = title.split(":", 1)[0].strip()
    words = head.split()
    if not words or len(head) > 30:
        return None
    if len(words) == 1:
        word = words[0]
        if not any(c.isupper() for c in word) or word.casefold() in _NOT_NAMES:
            return None
        return head
    if len(words) == 2 and all(_looks_coined(w) for w in words):
        return head
    return None


def _looks_coined(word: str) -> bool:
    return any(c.isdigit() for c in word) or sum(c.isupper() for c in word) >= 2
