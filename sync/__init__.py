"""Push/pull sync, merge and conflicts: plain Python over SQLAlchemy, no Flask."""
