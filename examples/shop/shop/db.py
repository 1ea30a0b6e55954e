"""The shop's SQLite engine, and `python -m shop.db init` to create the schema."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sqlalchemy import create_engine

from shop.models import Base

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "var" / "shop.sqlite"
# The bench and the tests point this at a throw-away file; production would use Postgres.
DATABASE_URL = os.environ.get("SHOP_DATABASE_URL") or f"sqlite:///{DEFAULT_PATH}"

# Creating the engine does not connect: the pool opens its first connection on first use,
# so importing this module before a fork carries no socket or file handle across it.
engine = create_engine(DATABASE_URL)


def init_db() -> None:
    """Create the database file's folder and every table that is missing."""
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    Base.metadata.create_all(engine)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shop.db", description=__doc__)
    parser.add_argument("command", choices=["init"], help="init: create the tables")
    parser.parse_args(argv)
    init_db()
    print(f"created {len(Base.metadata.tables)} tables in {engine.url.render_as_string()}")


if __name__ == "__main__":
    main()
