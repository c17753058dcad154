"""Reports: pure functions of finished runs (tables, layouts, statistics, figures, HTML, comparisons,
regression checks).
"""
