import os

from redis import Redis
from rq import Queue, Worker
from sqlalchemy import text

from acme.db import warehouse


def main():
    with warehouse.connect() as conn:  # health check before starting
        conn.execute(text("SELECT 1"))
    redis = Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))
    Worker([Queue("high", connection=redis), Queue("default", connection=redis)], connection=redis).work()


if __name__ == "__main__":
    main()
