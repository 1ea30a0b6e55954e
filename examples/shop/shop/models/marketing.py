"""Campaigns, customer segments, newsletters and promotions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import Column, ForeignKey, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from shop.models.catalog import Product
    from shop.models.customers import Customer
    from shop.models.orders import Coupon, Order
    from shop.models.staff import User

segment_customers = Table(
    "segment_customers",
    Base.metadata,
    Column("segment_id", ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
)

promotion_products = Table(
    "promotion_products",
    Base.metadata,
    Column("promotion_id", ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
)

campaign_segments = Table(
    "campaign_segments",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("segment_id", ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True),
)


class Campaign(TimestampMixin, Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    budget: Mapped[Optional[Decimal]]
    starts_at: Mapped[Optional[dt.datetime]]
    ends_at: Mapped[Optional[dt.datetime]]

    owner: Mapped[Optional[User]] = relationship(back_populates="campaigns")
    segments: Mapped[list[Segment]] = relationship(
        secondary=campaign_segments, back_populates="campaigns"
    )
    coupons: Mapped[list[Coupon]] = relationship(back_populates="campaign")
    orders: Mapped[list[Order]] = relationship(back_populates="campaign")
    promotions: Mapped[list[Promotion]] = relationship(back_populates="campaign")
    newsletters: Mapped[list[Newsletter]] = relationship(back_populates="campaign")


class Segment(Base):
    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)

    customers: Mapped[list[Customer]] = relationship(
        secondary=segment_customers, back_populates="segments"
    )
    campaigns: Mapped[list[Campaign]] = relationship(
        secondary=campaign_segments, back_populates="segments"
    )


class Newsletter(TimestampMixin, Base):
    __tablename__ = "newsletters"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[Optional[int]] = mapped_column(ForeignKey("campaigns.id"))
    subject: Mapped[str]
    template: Mapped[str]
    sent_at: Mapped[Optional[dt.datetime]]

    campaign: Mapped[Optional[Campaign]] = relationship(back_populates="newsletters")
    subscriptions: Mapped[list[NewsletterSubscription]] = relationship(back_populates="newsletter")


class NewsletterSubscription(TimestampMixin, Base):
    __tablename__ = "newsletter_subscriptions"
    __table_args__ = (UniqueConstraint("newsletter_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    newsletter_id: Mapped[int] = mapped_column(ForeignKey("newsletters.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    unsubscribed_at: Mapped[Optional[dt.datetime]]

    newsletter: Mapped[Newsletter] = relationship(back_populates="subscriptions")
    customer: Mapped[Customer] = relationship(back_populates="subscriptions")


class Promotion(Base):
    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[Optional[int]] = mapped_column(ForeignKey("campaigns.id"))
    title: Mapped[str]
    percent_off: Mapped[Decimal]

    campaign: Mapped[Optional[Campaign]] = relationship(back_populates="promotions")
    products: Mapped[list[Product]] = relationship(
        secondary=promotion_products, back_populates="promotions"
    )
