"""Reading listings: each file format, the listing header grammar, text normalisation, fetching.

The bottom stage: it imports nothing from the stages above it.
"""
