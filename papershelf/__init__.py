"""papershelf: publish a collection of research papers as a site, a database and notebooks."""

__version__ = "0.1.0"
