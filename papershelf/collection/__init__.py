"""The collection made from the listings: merged papers, their links, topics and related papers.

Imports from :mod:`papershelf.ingest` only.
"""
