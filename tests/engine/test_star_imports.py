"""Names a module gets through `from x import *`."""

from __future__ import annotations


def test_a_circular_star_import_keeps_the_modules_own_names(project) -> None:
    # app defines db, then star-imports the models, which took db from app: Python rebinds app.db
    # to the same object, so db is still the SQLAlchemy() of app.py, the models are mapped, and a
    # job that builds one configures the mappers in every horse.
    project.assert_expected(
        {
            "Procfile": "worker: python worker.py\n",
            "worker.py": """
                import redis
                from rq import Queue, Worker

                conn = redis.Redis()

                if __name__ == "__main__":
                    Worker([Queue("default", connection=conn)], connection=conn).work()
            """,
            "app.py": """
                from flask import Flask
                from flask_sqlalchemy import SQLAlchemy
                from rq import Queue

                from worker import conn

                app = Flask(__name__)
                db = SQLAlchemy(app)
                q = Queue(connection=conn)

                from models import *


                def count_words(url):  # FRK101:5 FRK102:5
                    result = Result(url=url)
                    db.session.add(result)
                    db.session.commit()


                def index(url):
                    q.enqueue_call(func=count_words, args=(url,))
            """,
            "models.py": """
                from app import db


                class Result(db.Model):
                    id = db.Column(db.Integer, primary_key=True)
                    url = db.Column(db.String())
            """,
        },
        {"FRK101", "FRK102"},
    )
