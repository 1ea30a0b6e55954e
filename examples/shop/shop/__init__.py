"""A shop back end: SQLAlchemy models, a SQLite database and the RQ jobs that write to it."""
