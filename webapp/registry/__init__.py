"""Registry services over a SQLAlchemy session: search, import/export, demo data, retention.

Plain SQLAlchemy (no Flask), so the CLI, the web views and `sync/` share them.
"""
