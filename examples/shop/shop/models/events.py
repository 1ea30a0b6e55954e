"""The event stream the jobs write, and the webhooks that subscribe to it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import ForeignKey, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from shop.models.customers import Customer
    from shop.models.staff import User


class EventType(Base):
    __tablename__ = "event_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    retention_days: Mapped[int] = mapped_column(default=365)

    events: Mapped[list[Event]] = relationship(back_populates="event_type")
    webhooks: Mapped[list[Webhook]] = relationship(back_populates="event_type")


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(index=True)
    event_type_id: Mapped[Optional[int]] = mapped_column(ForeignKey("event_types.id"))
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customers.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    event_type: Mapped[Optional[EventType]] = relationship(back_populates="events")
    customer: Mapped[Optional[Customer]] = relationship(back_populates="events")
    deliveries: Mapped[list[WebhookDelivery]] = relationship(back_populates="event")


class Webhook(TimestampMixin, Base):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type_id: Mapped[int] = mapped_column(ForeignKey("event_types.id"))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    url: Mapped[str]
    secret: Mapped[str]
    is_active: Mapped[bool] = mapped_column(default=True)

    event_type: Mapped[EventType] = relationship(back_populates="webhooks")
    created_by: Mapped[Optional[User]] = relationship()
    deliveries: Mapped[list[WebhookDelivery]] = relationship(back_populates="webhook")


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    status_code: Mapped[Optional[int]]
    attempts: Mapped[int] = mapped_column(default=0)
    delivered_at: Mapped[Optional[dt.datetime]]

    webhook: Mapped[Webhook] = relationship(back_populates="deliveries")
    event: Mapped[Event] = relationship(back_populates="deliveries")
