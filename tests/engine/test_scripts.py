"""A program nothing imports: its module-level code is its body, not import-time work."""

from __future__ import annotations


def test_a_top_level_script_nothing_imports_has_no_query_at_import(project) -> None:
    # runtestserver.py (`db.create_all()` as its body) is run by hand; app/models.py is imported by
    # the app, so a query at its module level runs at every import.
    project.assert_expected(
        {
            "app/__init__.py": "from app.models import db, User\n",
            "app/models.py": """
                from flask_sqlalchemy import SQLAlchemy

                db = SQLAlchemy()


                class User(db.Model):
                    id = db.Column(db.Integer, primary_key=True)


                ADMIN = User.query.get(1)  # FRK201:9
            """,
            "runtestserver.py": """
                from app import db

                db.drop_all()
                db.create_all()
            """,
            "seed.py": """
                from app.models import User

                FIRST = User.query.get(1)
            """,
        },
        {"FRK201"},
    )
