"""The one Jinja environment that draws the site's pages, charts and front matter.

Python picks the data (small dicts of plain values); the templates in ``templates/`` draw
it. Every string that came from a listing is untrusted, and the templates show it only as
text, whatever their kind:

- HTML, XML and SVG templates (``*.html.j2``, ``*.svg.j2``, ``*.xml.j2``) are autoescaped.
- Markdown templates (``*.md.j2``): every ``{{ value }}`` goes through :func:`markdown_text`
  (the ``md`` filter) unless a filter already made it safe: ``html`` for text inside a raw
  HTML block (Python-Markdown passes such blocks through untouched, so HTML escaping is
  enough there and keeps the page small), ``meta`` for a front-matter value.

Nothing else turns text into markup: a template that forgets a filter still shows text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

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
    """A YAML double-quoted scalar that reads back as ``value``, whatever it holds: JSON
    (which YAML reads) with the characters YAML cannot take raw escaped."""
    # YAML has no escape for a lone surrogate: it becomes U+FFFD, as at ingest.
    quoted = json.dumps(_SURROGATE.sub("\ufffd", value), ensure_ascii=False)
    return _NOT_YAML_TEXT.sub(lambda match: f"\\u{ord(match.group()):04x}", quoted)


def meta_value(value: object) -> Markup:
    """A front-matter value: HTML-escaped, because the theme prints ``page.meta.title``
    as it is, then written as a YAML scalar that always reads back."""
    return Markup(yaml_string(str(escape(str(value)))))


def format_date(iso: str | None, inferred: bool = False) -> str:
    if not iso:
        return "—"
    date = dt.date.fromisoformat(iso)
    shown = f"{date.strftime('%b')} {date.day}, {date.year}"
    return f"{shown}*" if inferred else shown


def noun(number: int, singular: str, plural: str = "") -> str:
    """The noun for ``number`` of things: a small collection has counts of one."""
    return singular if number == 1 else plural or singular + "s"


@pass_context
def _finalize(context: Context, value: object) -> object:
    """What ``{{ value }}`` prints: in a Markdown template, text not yet made safe is
    encoded for Markdown; elsewhere autoescaping does the work."""
    # type(), not isinstance(): Markup is a str, and already safe.
    if type(value) is str and (context.name or "").endswith(".md.j2"):
        return markdown_text(value)
    return value


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        # On for every template: HTML, XML and SVG need it; in Markdown templates
        # _finalize has already turned the text into Markup.
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    # html: untrusted text inside a raw HTML block of a Markdown page.
    env.filters.update(md=markdown_text, html=escape, meta=meta_value, date=format_date)
    env.globals.update(noun=noun)
    return env


ENVIRONMENT = _environment()


def render(template: str, **context: object) -> str:
    return ENVIRONMENT.get_template(template).render(context)
