"""Carts, orders and their lines, status history, discounts, coupons and returns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

from sqlalchemy import Column, ForeignKey, Table, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from shop.models.billing import Currency, Invoice, Payment, Refund
    from shop.models.catalog import ProductVariant
    from shop.models.customers import Address, Customer
    from shop.models.marketing import Campaign
    from shop.models.shipping import Shipment, ShippingMethod
    from shop.models.staff import User
    from shop.models.support import Ticket

order_coupons = Table(
    "order_coupons",
    Base.metadata,
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("coupon_id", ForeignKey("coupons.id", ondelete="CASCADE"), primary_key=True),
)


class Cart(TimestampMixin, Base):
    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customers.id"))
    session_key: Mapped[str] = mapped_column(unique=True)

    customer: Mapped[Optional[Customer]] = relationship(back_populates="carts")
    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan"
    )


class CartItem(Base):
    __tablename__ = "cart_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("product_variants.id"))
    quantity: Mapped[int] = mapped_column(default=1)

    cart: Mapped[Cart] = relationship(back_populates="items")
    variant: Mapped[ProductVariant] = relationship()


class Order(TimestampMixin, Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(unique=True, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    billing_address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"))
    shipping_address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"))
    shipping_method_id: Mapped[Optional[int]] = mapped_column(ForeignKey("shipping_methods.id"))
    campaign_id: Mapped[Optional[int]] = mapped_column(ForeignKey("campaigns.id"))
    currency_code: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    status: Mapped[str] = mapped_column(default="pending", index=True)
    total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    placed_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    customer: Mapped[Customer] = relationship(back_populates="orders")
    billing_address: Mapped[Address] = relationship(foreign_keys=[billing_address_id])
    shipping_address: Mapped[Address] = relationship(foreign_keys=[shipping_address_id])
    shipping_method: Mapped[Optional[ShippingMethod]] = relationship()
    campaign: Mapped[Optional[Campaign]] = relationship(back_populates="orders")
    currency: Mapped[Currency] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )
    status_changes: Mapped[list[OrderStatusChange]] = relationship(
        back_populates="order", order_by="OrderStatusChange.changed_at"
    )
    coupons: Mapped[list[Coupon]] = relationship(secondary=order_coupons, back_populates="orders")
    invoices: Mapped[list[Invoice]] = relationship(back_populates="order")
    payments: Mapped[list[Payment]] = relationship(back_populates="order")
    refunds: Mapped[list[Refund]] = relationship(back_populates="order")
    shipments: Mapped[list[Shipment]] = relationship(back_populates="order")
    returns: Mapped[list[Return]] = relationship(back_populates="order")
    tickets: Mapped[list[Ticket]] = relationship(back_populates="order")


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("product_variants.id"))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]
    discount_id: Mapped[Optional[int]] = mapped_column(ForeignKey("discounts.id"))

    order: Mapped[Order] = relationship(back_populates="lines")
    variant: Mapped[ProductVariant] = relationship()
    discount: Mapped[Optional[Discount]] = relationship(back_populates="order_lines")
    return_lines: Mapped[list[ReturnLine]] = relationship(back_populates="order_line")


class OrderStatusChange(Base):
    __tablename__ = "order_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    old_status: Mapped[Optional[str]]
    new_status: Mapped[str]
    changed_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    changed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    order: Mapped[Order] = relationship(back_populates="status_changes")
    changed_by: Mapped[Optional[User]] = relationship()


class Discount(Base):
    __tablename__ = "discounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    percent: Mapped[Optional[Decimal]]
    amount: Mapped[Optional[Decimal]]
    starts_at: Mapped[Optional[dt.datetime]]
    ends_at: Mapped[Optional[dt.datetime]]

    coupons: Mapped[list[Coupon]] = relationship(back_populates="discount")
    order_lines: Mapped[list[OrderLine]] = relationship(back_populates="discount")


class Coupon(Base):
    __tablename__ = "coupons"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(unique=True, index=True)
    discount_id: Mapped[int] = mapped_column(ForeignKey("discounts.id"))
    campaign_id: Mapped[Optional[int]] = mapped_column(ForeignKey("campaigns.id"))
    max_uses: Mapped[Optional[int]]

    discount: Mapped[Discount] = relationship(back_populates="coupons")
    campaign: Mapped[Optional[Campaign]] = relationship(back_populates="coupons")
    orders: Mapped[list[Order]] = relationship(secondary=order_coupons, back_populates="coupons")


class Return(TimestampMixin, Base):
    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    reason: Mapped[str]
    status: Mapped[str] = mapped_column(default="requested")

    order: Mapped[Order] = relationship(back_populates="returns")
    customer: Mapped[Customer] = relationship(back_populates="returns")
    lines: Mapped[list[ReturnLine]] = relationship(back_populates="return_")
    refunds: Mapped[list[Refund]] = relationship(back_populates="return_")


class ReturnLine(Base):
    __tablename__ = "return_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    quantity: Mapped[int]
    restock: Mapped[bool] = mapped_column(default=True)

    return_: Mapped[Return] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship(back_populates="return_lines")
