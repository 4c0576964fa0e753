"""The site stage: site data, pages, charts, exports, search, notebooks and MkDocs.

Reads the database the store stage wrote; imports from the stages below it.
"""
