"""Curated YAML files (topics, labels, listing names): read with the line of every mapping,
list item and key, so that errors name the file and the line. A key given twice in one
mapping is an error: YAML would keep the last silently, and a curator's first list lost."""

from __future__ import annotations

from collections.abc import Hashable

import yaml

from .errors import InputError

LINE = "__line__"  # the key under which every mapping records where it starts


class Mapping(dict):
    """A mapping of the file: a dict, with its line under :data:`LINE` and the line of
    each of its keys in :attr:`key_lines`."""

    key_lines: dict


class Sequence(list):
    """A list of the file, with the line of each item in :attr:`lines`."""

    lines: list[int]


def line_of(value: object, index: object, default: int | None) -> int | None:
    """The line of item ``index`` of a :class:`Sequence`, or of key ``index`` of a
    :class:`Mapping`; ``default`` when ``value`` is neither or has no such item."""
    if isinstance(value, Sequence) and isinstance(index, int) and 0 <= index < len(value):
        return value.lines[index]
    if isinstance(value, Mapping):
        return value.key_lines.get(index, default)
    return default


_MERGE = "tag:yaml.org,2002:merge"


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records lines, and refuses a key given twice."""


def _construct_mapping(loader, node):
    key_lines: dict = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE:  # "<<: *anchor": the anchor's keys, which may be overridden
            continue
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            continue  # construct_mapping reports it
        if key in key_lines:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice", key_node.start_mark
            )
        key_lines[key] = key_node.start_mark.line + 1
    mapping = Mapping(loader.construct_mapping(node, deep=True))
    mapping[LINE] = node.start_mark.line + 1
    mapping.key_lines = key_lines
    return mapping


def _construct_sequence(loader, node):
    items = Sequence(loader.construct_sequence(node, deep=True))
    items.lines = [item.start_mark.line + 1 for item in node.value]
    return items


def _construct_timestamp(loader, node):
    # A date-shaped value that is no date (2024-02-30) is bad input with a line, not a
    # ValueError from deep in the loader.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError as error:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a date ({error})", node.start_mark
        ) from None


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load_with_lines(text: str, source: str) -> object:
    """The YAML document in ``text``, each mapping with its line under :data:`LINE`;
    invalid YAML raises :class:`InputError` naming ``source`` and the line."""
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise InputError(
            source, line, f"invalid YAML: {getattr(error, 'problem', error)}"
        ) from None
