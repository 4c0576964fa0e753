"""The one Jinja environment that draws the site's pages, charts and front matter.

Python picks the data (small dicts of plain values); the templates in ``templates/`` draw
it. Every string that came from a listing is untrusted, and the templates show it only as
text, whatever their kind:

- HTML, XML and SVG templates (``*.html.j2``, ``*.svg.j2``, ``*.xml.j2``) are autoescaped;
  in XML templates (feeds), the characters XML 1.0 cannot hold become U+FFFD first.
- BibTeX templates (``*.bib.j2``): every ``{{ value }}`` goes through :func:`bibtex_text`,
  which escapes BibTeX's and LaTeX's special characters.
- Markdown templates (``*.md.j2``): every ``{{ value }}`` goes through :func:`markdown_text`
  (the ``md`` filter) unless a filter already made it safe: ``html`` for text inside a raw
  HTML block (Python-Markdown passes such blocks through untouched, so HTML escaping is
  enough there and keeps the page small), ``meta`` for a front-matter value.

Nothing else turns text into markup: a template that forgets a filter still shows text.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from .versions import code_digest

TEMPLATES = Path(__file__).parent / "templates"

# Characters that Markdown or its extensions may read as syntax. They are written as
# numeric character references, which the browser shows as the character itself.
_MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!|~^=:$@%<>&\"'")
_AS_REFERENCES = {ord(c): f"&#{ord(c)};" for c in _MARKDOWN_SPECIAL}

# What YAML refuses raw (DEL, C1 controls, surrogates, non-characters) or reads as a line
# break (NEL, U+2028, U+2029). Refused, MkDocs would silently read the whole front matter
# as Markdown.
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_YAML_TEXT = re.compile("[\x7f-\x9f\u2028\u2029\ufffe\uffff]")


def markdown_text(value: object) -> Markup:
    """Untrusted text, safe inline in Markdown (and in HTML, attributes included)."""
    return Markup(str(value).translate(_AS_REFERENCES))


def yaml_string(value: str) -> str:
    """A YAML double-quoted scalar that reads back as ``value``, whatever it holds."""
    return str(yaml_value(value))


def yaml_value(value: object) -> Markup:
    """A front-matter value of any JSON shape (dicts, lists, strings, numbers), written as
    JSON, which YAML reads, with the characters YAML cannot take raw escaped. Its strings
    are plain text: the theme's templates print them autoescaped."""
    dumped = json.dumps(value, ensure_ascii=False)
    # YAML has no escape for a lone surrogate: it becomes U+FFFD, as at ingest.
    dumped = _SURROGATE.sub("\ufffd", dumped)
    return Markup(_NOT_YAML_TEXT.sub(lambda match: f"\\u{ord(match.group()):04x}", dumped))


def meta_value(value: object) -> Markup:
    """A front-matter value: HTML-escaped, because the theme prints ``page.meta.title``
    as it is, then written as a YAML scalar that always reads back."""
    return Markup(yaml_string(str(escape(str(value)))))


# What BibTeX (and LaTeX, which typesets its fields) reads as syntax, as LaTeX writes the
# characters themselves.
_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "#": r"\#",
    "&": r"\&",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "$": r"\$",
    "_": r"\_",
}
_AS_BIBTEX = str.maketrans(_BIBTEX_SPECIAL)
# A field's line breaks become spaces: an entry stays one field per line.
_LINE_BREAKS = re.compile(r"\s+")


# LaTeX typesets "--" and "---" as dashes: an empty group between hyphens keeps them.
_HYPHEN_PAIR = re.compile("-(?=-)")


def bibtex_text(value: object) -> Markup:
    """Untrusted text, safe inside a braced BibTeX field, typeset as written."""
    text = _LINE_BREAKS.sub(" ", str(value)).strip().translate(_AS_BIBTEX)
    return Markup(_HYPHEN_PAIR.sub("-{}", text))


# Characters XML 1.0 cannot hold, not even as references: C0 controls but tab and line
# breaks, surrogates, U+FFFE and U+FFFF.
_NOT_XML_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """``value`` with what XML cannot hold replaced by U+FFFD (autoescaping does the rest)."""
    return _NOT_XML_TEXT.sub("\ufffd", value)


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: cut at a word, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]  # the word the limit falls in goes
    return cut.rstrip(" ,;:.-–—") + "…"


def format_date(iso: str | None, inferred: bool = False) -> str:
    if not iso:
        return "—"
    date = dt.date.fromisoformat(iso)
    shown = f"{date.strftime('%b')} {date.day}, {date.year}"
    return f"{shown}*" if inferred else shown


def noun(number: int, singular: str, plural: str = "") -> str:
    """The noun for ``number`` of things: a small collection has counts of one."""
    return singular if number == 1 else plural or singular + "s"


def fence_length(text: str) -> int:
    """How many backticks a Markdown code fence around ``text`` needs: more than any run
    in it, so no line of it can close the fence."""
    runs = re.findall("`+", text)
    return max(3, max(map(len, runs), default=0) + 1)


@pass_context
def _finalize(context: Context, value: object) -> object:
    """What ``{{ value }}`` prints: in a Markdown template, text not yet made safe is
    encoded for Markdown; elsewhere autoescaping does the work."""
    # type(), not isinstance(): Markup is a str, and already safe.
    if type(value) is not str:
        return value
    name = context.name or ""
    if name.endswith(".md.j2"):
        return markdown_text(value)
    if name.endswith(".bib.j2"):
        return bibtex_text(value)
    if name.endswith(".xml.j2"):
        return xml_text(value)
    return value


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        # On for every template but BibTeX's: HTML, XML and SVG need it; in Markdown
        # templates _finalize has already turned the text into Markup.
        autoescape=lambda name: not (name or "").endswith(".bib.j2"),
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    # html: untrusted text inside a raw HTML block of a Markdown page.
    env.filters.update(
        md=markdown_text,
        html=escape,
        meta=meta_value,
        yaml=yaml_value,
        date=format_date,
        shorten=shorten,
    )
    env.globals.update(noun=noun, fence_length=fence_length)
    return env


ENVIRONMENT = _environment()


def render(template: str, **context: object) -> str:
    return ENVIRONMENT.get_template(template).render(context)


class Drawing(NamedTuple):
    """A template and what it is drawn from, not drawn yet: what a writer that already
    holds the same drawing (the same :attr:`key`) need not draw again. The context is
    ``inputs`` itself, or what ``make`` makes of them: then the context is made only when
    the page is drawn."""

    template: str
    inputs: dict
    # A module's function whose result depends on its arguments only: the key holds
    # its name, not its result.
    make: Callable[..., dict] | None = None

    @property
    def key(self) -> str:
        """What the drawing depends on: the template's code, ``make``'s name and the
        inputs. Templates are pure (no global state, StrictUndefined), so equal keys draw
        equal text."""
        digest = hashlib.sha256(_code_digest())
        digest.update(self.template.encode())
        if self.make is not None:
            digest.update(f"\0{self.make.__module__}.{self.make.__qualname__}".encode())
        digest.update(pickle.dumps(self.inputs, protocol=5))
        return digest.hexdigest()

    def draw(self) -> str:
        context = self.inputs if self.make is None else self.make(**self.inputs)
        return render(self.template, **context)


@functools.cache
def _code_digest() -> bytes:
    """The templates, the code that draws them (all of papershelf's modules: filters call
    some outside this package) and the versions of Jinja and MarkupSafe."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"{version('jinja2')} {version('markupsafe')}".encode())
    digest.update(code_digest())
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(TEMPLATES).as_posix().encode() + path.read_bytes())
    return digest.digest()
