"""A run on disk: its records (results.csv, summary.json), its folder (reserved, atomic) and finished
runs as reports read them.
"""
