"""Small pure helpers on untrusted text: normalised titles, slugs, short names."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

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


# ---- Normalising untrusted text at ingest --------------------------------------------------

# Characters that end a line for other programs (and for str.splitlines) but not for an
# editor: each becomes a space, so that line numbers match what an editor shows and a
# title is never split in two.
_LINE_LIKE = "\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029"
# Control characters other than tab and newline, non-characters and lone surrogates:
# invisible, invalid in YAML and XML, or able to move a terminal's cursor.
_UNSAFE_IN_BMP = (
    re.escape(_LINE_LIKE) + "\x00-\x08\x0e-\x1b\x7f-\x9f" + "\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
)
_NON_CHARACTERS_BEYOND_BMP = "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17)
)
_UNSAFE = re.compile(f"[{_UNSAFE_IN_BMP}{_NON_CHARACTERS_BEYOND_BMP}]")
_SURROGATES = range(0xD800, 0xE000)
# A regular expression scans a text for a class of 32 scattered characters beyond the
# BMP ten times slower than for a class of ranges (6 ms for a listing of 170 KB):
# :func:`clean_text` first asks whether the text has an unsafe character in the BMP, or
# any character beyond it.
_UNSAFE_BMP = re.compile(f"[{_UNSAFE_IN_BMP}]")
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Removed:
    """What :func:`clean_text` changed on one line of its input."""

    line: int  # 1-based
    characters: tuple[str, ...]

    def describe(self) -> str:
        names = sorted({_describe(c) for c in self.characters})
        count = len(self.characters)
        what = "character" if count == 1 else "characters"
        return f"replaced or removed {count} control or invalid {what} ({', '.join(names)})"


def clean_text(text: str, first_line: int = 1) -> tuple[str, list[Removed]]:
    """Untrusted text with line breaks made ``\\n`` and unsafe characters taken out.

    ``\\r\\n`` and ``\\r`` become ``\\n``; characters that other programs read as line
    breaks become spaces; other control characters (all but tab and newline) and
    non-characters are removed; a lone surrogate becomes U+FFFD. Returns the text and,
    per line (counted from ``first_line``), what was changed, so callers can warn.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not _UNSAFE_BMP.search(text) and not (_BEYOND_BMP.search(text) and _UNSAFE.search(text)):
        return text, []
    removed: dict[int, list[str]] = {}
    line, counted = first_line, 0

    def replace(match: re.Match) -> str:
        nonlocal line, counted
        line += text.count("\n", counted, match.start())
        counted = match.start()
        character = match.group()
        removed.setdefault(line, []).append(character)
        if character in _LINE_LIKE:
            return " "
        return "\ufffd" if ord(character) in _SURROGATES else ""

    cleaned = _UNSAFE.sub(replace, text)
    return cleaned, [Removed(number, tuple(chars)) for number, chars in removed.items()]


def line_at(text: str, offset: int) -> int:
    """The 1-based line of ``text`` that holds ``offset`` (lines end at ``\n``)."""
    return text.count("\n", 0, offset) + 1


def _describe(character: str) -> str:
    name = unicodedata.name(character, "")
    code = f"U+{ord(character):04X}"
    return f"{code} {name}" if name else code


# Names MkDocs or the site's own pages use beside the listing pages.
_RESERVED_NAMES = frozenset({"index", "readme"})


def listing_name(stem: str) -> str:
    """A listing file's id, used in URLs and file names: its stem in lowercase ASCII
    letters, digits and hyphens (``000_01ff…`` -> ``000-01ff…``). A name the site
    reserves gets ``-listing`` appended; a stem with nothing left, a short hash."""
    ascii_form = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    name = _SLUG_JUNK.sub("-", ascii_form.lower()).strip("-")[:SLUG_MAX_LENGTH].strip("-")
    if not name:
        return f"listing-{hashlib.sha1(stem.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    return f"{name}-listing" if name in _RESERVED_NAMES else name
