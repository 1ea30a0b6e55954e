"""Currencies, exchange and tax rates, invoices, payments and refunds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from shop.models.customers import PaymentMethod
    from shop.models.orders import Order, OrderLine, Return
    from shop.models.shipping import Country


class Currency(Base):
    __tablename__ = "currencies"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str]
    exponent: Mapped[int] = mapped_column(default=2)

    rates_from: Mapped[list[ExchangeRate]] = relationship(
        back_populates="base", foreign_keys="ExchangeRate.base_code"
    )
    rates_to: Mapped[list[ExchangeRate]] = relationship(
        back_populates="quote", foreign_keys="ExchangeRate.quote_code"
    )


class ExchangeRate(Base):
    __tablename__ = "exchange_rates"
    __table_args__ = (UniqueConstraint("base_code", "quote_code", "valid_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    base_code: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    quote_code: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    rate: Mapped[Decimal]
    valid_on: Mapped[dt.datetime]

    base: Mapped[Currency] = relationship(back_populates="rates_from", foreign_keys=[base_code])
    quote: Mapped[Currency] = relationship(back_populates="rates_to", foreign_keys=[quote_code])


class TaxRate(Base):
    __tablename__ = "tax_rates"
    __table_args__ = (UniqueConstraint("country_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"))
    name: Mapped[str]
    percent: Mapped[Decimal]

    country: Mapped[Country] = relationship(back_populates="tax_rates")
    invoice_lines: Mapped[list[InvoiceLine]] = relationship(back_populates="tax_rate")


class Invoice(TimestampMixin, Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    currency_code: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    issued_at: Mapped[Optional[dt.datetime]]
    due_at: Mapped[Optional[dt.datetime]]

    order: Mapped[Order] = relationship(back_populates="invoices")
    currency: Mapped[Currency] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(back_populates="invoice")


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    order_line_id: Mapped[Optional[int]] = mapped_column(ForeignKey("order_lines.id"))
    tax_rate_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tax_rates.id"))
    description: Mapped[str]
    amount: Mapped[Decimal]

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    order_line: Mapped[Optional[OrderLine]] = relationship()
    tax_rate: Mapped[Optional[TaxRate]] = relationship(back_populates="invoice_lines")


class Payment(TimestampMixin, Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    invoice_id: Mapped[Optional[int]] = mapped_column(ForeignKey("invoices.id"))
    payment_method_id: Mapped[Optional[int]] = mapped_column(ForeignKey("payment_methods.id"))
    amount: Mapped[Decimal]
    provider_reference: Mapped[Optional[str]] = mapped_column(unique=True)
    status: Mapped[str] = mapped_column(default="authorised")

    order: Mapped[Order] = relationship(back_populates="payments")
    invoice: Mapped[Optional[Invoice]] = relationship(back_populates="payments")
    payment_method: Mapped[Optional[PaymentMethod]] = relationship(back_populates="payments")
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment")


class Refund(TimestampMixin, Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    return_id: Mapped[Optional[int]] = mapped_column(ForeignKey("returns.id"))
    amount: Mapped[Decimal]

    order: Mapped[Order] = relationship(back_populates="refunds")
    payment: Mapped[Payment] = relationship(back_populates="refunds")
    return_: Mapped[Optional[Return]] = relationship(back_populates="refunds")
