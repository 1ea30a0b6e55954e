"""Customers, their addresses, groups, payment methods, loyalty points and wish lists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

from sqlalchemy import Column, ForeignKey, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from shop.models.billing import Payment
    from shop.models.catalog import PriceList, ProductVariant, Review, ReviewVote
    from shop.models.events import Event
    from shop.models.marketing import NewsletterSubscription, Segment
    from shop.models.orders import Cart, Order, Return
    from shop.models.shipping import Country
    from shop.models.support import Ticket

customer_group_members = Table(
    "customer_group_members",
    Base.metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("customer_groups.id", ondelete="CASCADE"), primary_key=True),
)


class Customer(TimestampMixin, Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(unique=True, index=True)
    full_name: Mapped[str]
    phone: Mapped[Optional[str]]
    is_active: Mapped[bool] = mapped_column(default=True)
    default_address_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("addresses.id", use_alter=True, name="fk_customer_default_address")
    )

    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", foreign_keys="Address.customer_id", cascade="all, delete-orphan"
    )
    default_address: Mapped[Optional[Address]] = relationship(
        foreign_keys=[default_address_id], post_update=True
    )
    groups: Mapped[list[CustomerGroup]] = relationship(
        secondary=customer_group_members, back_populates="members"
    )
    contacts: Mapped[list[Contact]] = relationship(back_populates="customer")
    payment_methods: Mapped[list[PaymentMethod]] = relationship(back_populates="customer")
    loyalty_account: Mapped[Optional[LoyaltyAccount]] = relationship(back_populates="customer")
    wishlists: Mapped[list[Wishlist]] = relationship(back_populates="customer")
    carts: Mapped[list[Cart]] = relationship(back_populates="customer")
    orders: Mapped[list[Order]] = relationship(
        back_populates="customer", order_by="Order.placed_at"
    )
    returns: Mapped[list[Return]] = relationship(back_populates="customer")
    reviews: Mapped[list[Review]] = relationship(back_populates="author")
    review_votes: Mapped[list[ReviewVote]] = relationship(back_populates="voter")
    tickets: Mapped[list[Ticket]] = relationship(back_populates="customer")
    segments: Mapped[list[Segment]] = relationship(
        secondary="segment_customers", back_populates="customers"
    )
    subscriptions: Mapped[list[NewsletterSubscription]] = relationship(back_populates="customer")
    events: Mapped[list[Event]] = relationship(back_populates="customer")


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"))
    line1: Mapped[str]
    line2: Mapped[Optional[str]]
    city: Mapped[str]
    postcode: Mapped[str] = mapped_column(index=True)

    customer: Mapped[Customer] = relationship(
        back_populates="addresses", foreign_keys=[customer_id]
    )
    country: Mapped[Country] = relationship()


class CustomerGroup(Base):
    __tablename__ = "customer_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    price_list_id: Mapped[Optional[int]] = mapped_column(ForeignKey("price_lists.id"))

    members: Mapped[list[Customer]] = relationship(
        secondary=customer_group_members, back_populates="groups"
    )
    price_list: Mapped[Optional[PriceList]] = relationship(back_populates="customer_groups")


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str]  # email, sms, push
    value: Mapped[str]
    verified_at: Mapped[Optional[dt.datetime]]

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class PaymentMethod(Base):
    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    provider: Mapped[str]
    token: Mapped[str] = mapped_column(unique=True)
    last4: Mapped[Optional[str]]
    expires_on: Mapped[Optional[dt.datetime]]

    customer: Mapped[Customer] = relationship(back_populates="payment_methods")
    payments: Mapped[list[Payment]] = relationship(back_populates="payment_method")


class LoyaltyAccount(Base):
    __tablename__ = "loyalty_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    points: Mapped[int] = mapped_column(default=0)
    tier: Mapped[str] = mapped_column(default="bronze")

    customer: Mapped[Customer] = relationship(back_populates="loyalty_account")
    transactions: Mapped[list[LoyaltyTransaction]] = relationship(
        back_populates="account", order_by="LoyaltyTransaction.id"
    )


class LoyaltyTransaction(TimestampMixin, Base):
    __tablename__ = "loyalty_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("loyalty_accounts.id"))
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("orders.id"))
    points: Mapped[int]
    reason: Mapped[str]

    account: Mapped[LoyaltyAccount] = relationship(back_populates="transactions")
    order: Mapped[Optional[Order]] = relationship()


class Wishlist(Base):
    __tablename__ = "wishlists"
    __table_args__ = (UniqueConstraint("customer_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str]
    is_public: Mapped[bool] = mapped_column(default=False)

    customer: Mapped[Customer] = relationship(back_populates="wishlists")
    items: Mapped[list[WishlistItem]] = relationship(
        back_populates="wishlist", cascade="all, delete-orphan"
    )


class WishlistItem(Base):
    __tablename__ = "wishlist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    wishlist_id: Mapped[int] = mapped_column(ForeignKey("wishlists.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("product_variants.id"))
    target_price: Mapped[Optional[Decimal]]

    wishlist: Mapped[Wishlist] = relationship(back_populates="items")
    variant: Mapped[ProductVariant] = relationship()
