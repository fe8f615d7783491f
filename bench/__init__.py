"""`make bench`: how fast and how big Gridwalk is, against the limits (issue 7).

Pure parts (stats, machine, report) import neither Flask nor the app; the figures that need
the app (dataset, server, browser) say so in their module docstring.
"""
