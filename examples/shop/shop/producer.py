"""What the web app does after a request: enqueue jobs. `python -m shop.producer --jobs 100`."""

from __future__ import annotations

import argparse
import os

from redis import Redis
from rq import Queue
from rq.job import Job

from shop.db import init_db
from shop.tasks import record_event, send_notification


def enqueue_events(queue: Queue, count: int) -> list[Job]:
    """One record_event job per simulated page view."""
    return [
        queue.enqueue(record_event, {"kind": "page_view", "path": f"/products/{n}", "n": n})
        for n in range(count)
    ]


def enqueue_notifications(queue: Queue, count: int) -> list[Job]:
    """One order-confirmation e-mail per simulated order."""
    return [
        queue.enqueue(
            send_notification,
            "order_confirmation",
            "de" if n % 2 else "en",
            {"email": f"customer{n}@example.com", "name": f"Customer {n}", "order": f"SO-{n:06d}"},
        )
        for n in range(count)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shop.producer", description=__doc__)
    parser.add_argument("--jobs", type=int, default=100, help="record_event jobs to enqueue")
    parser.add_argument("--notifications", type=int, default=0, help="send_notification jobs")
    parser.add_argument("--url", default=os.environ.get("REDIS_URL", "redis://localhost:6379/0"))
    parser.add_argument("--queue", default="default")
    args = parser.parse_args(argv)
    init_db()  # the web app creates missing tables at start-up, before any job can need them
    queue = Queue(args.queue, connection=Redis.from_url(args.url))
    events = enqueue_events(queue, args.jobs)
    mails = enqueue_notifications(queue, args.notifications)
    print(f"enqueued {len(events)} record_event, {len(mails)} send_notification on {queue.name}")


if __name__ == "__main__":
    main()
