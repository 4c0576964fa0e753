#!/usr/bin/env python
"""Build papershelf: `python build.py all` makes the database and the site. See --help."""

from papershelf.cli import cli

if __name__ == "__main__":
    cli()
