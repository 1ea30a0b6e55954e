"""The shop's background jobs; the web app enqueues them and `rq worker` runs them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shop.db import engine
from shop.models import Event


def record_event(data: dict[str, Any]) -> int:
    """Store one event sent by the web app (page view, cart change, checkout step...)."""
    with Session(engine) as session:
        event = Event(kind=str(data["kind"]), customer_id=data.get("customer_id"), payload=data)
        session.add(event)
        session.commit()
        return event.id


def send_notification(template: str, locale: str, context: dict[str, Any]) -> dict[str, str]:
    """Render a notification e-mail; the outgoing mail relay picks the result up from RQ."""
    # Imported here: the web app imports this module to enqueue jobs and must not load
    # Jinja2 and the mail templates.
    from shop.notifications import render

    message = render(template, locale, context)
    message["to"] = str(context["email"])
    return message
