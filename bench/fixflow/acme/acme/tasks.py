from redis import Redis
from rq.decorators import job
from sqlalchemy import text

from acme.db import Session, warehouse
from acme.ml import load_model
from acme.web import create_app


@job("default", connection=Redis())
def churn(features: list):
    model = load_model("churn")
    return float(model.predict([features])[0])


@job("high", connection=Redis())
def send_report(user_id: int):
    app = create_app()
    with app.app_context():
        with Session() as session:
            one = session.execute(text("SELECT 1")).scalar()
        with warehouse.connect() as conn:
            two = conn.execute(text("SELECT 2")).scalar()
    return [user_id, one, two, app.name]
