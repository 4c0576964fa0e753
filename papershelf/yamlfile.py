"""Curated YAML files (topics, labels, listing names): read with the line of every mapping,
so that errors name the file and the line."""

from __future__ import annotations

import yaml

from .errors import InputError

LINE = "__line__"  # the key under which every mapping records where it starts


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records the line of every mapping."""


def _construct_mapping(loader, node):
    mapping = loader.construct_mapping(node, deep=True)
    mapping[LINE] = node.start_mark.line + 1
    return mapping


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
