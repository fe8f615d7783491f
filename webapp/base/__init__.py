"""The bottom layer: the clock, plain settings and per-connection database set-up.

Nothing of the domain lives here and nothing here imports the domain or Flask: every other
layer may use it (docs/architecture.md).
"""
