"""The address the site is published at, for the database stage (``page_url``).

Read from the MkDocs configuration with MkDocs' own YAML loader (``!ENV`` tags and
``INHERIT`` as MkDocs reads them) and normalised as MkDocs' ``site_url`` option does, but
without loading and validating the whole configuration: the database stage needs one value
and runs before the docs directory exists, and loading the configuration cost it a tenth
of a second or more. The site stage validates the whole file.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..errors import InputError, display_path


def read_site_url(config_file: Path) -> str:
    """``site_url`` of ``config_file`` as MkDocs gives it: a directory URL ending with
    ``/``, or ``""`` when the configuration sets none."""
    from mkdocs.exceptions import ConfigurationError
    from mkdocs.utils.yaml import get_yaml_loader, yaml_load

    class Loader(get_yaml_loader()):
        """MkDocs' loader; ``!relative`` (only meaningful in Markdown extensions' options,
        never in ``site_url``) is read as nothing."""

    Loader.add_constructor("!relative", lambda loader, node: None)
    try:
        with open(config_file, "rb") as source:
            value = yaml_load(source, Loader).get("site_url")
    except ConfigurationError as error:
        raise InputError(display_path(config_file), None, str(error)) from None
    return _directory_url(value, config_file)


def _directory_url(value: object, config_file: Path) -> str:
    """MkDocs' check of ``site_url`` (``URL(is_dir=True)``): a scheme and a host, and a
    path that ends with ``/``."""
    if value is None or value == "":
        return ""
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or not (parts.scheme and parts.netloc):
        raise InputError(
            display_path(config_file), None, f"site_url {value!r} is not a URL with a scheme"
        )
    if not parts.path.endswith("/"):
        parts = parts._replace(path=f"{parts.path}/")
    return urlunsplit(parts)
