"""The worker start-up the shop deploys: a stock RQ worker on the `default` queue."""

from __future__ import annotations

import os

from redis import Redis
from rq import Queue, Worker


def main() -> None:
    redis = Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))
    Worker([Queue("default", connection=redis)], connection=redis).work()


if __name__ == "__main__":
    main()
