"""Countries and zones, carriers, shipping methods, shipments and tracking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from shop.models.billing import TaxRate
    from shop.models.inventory import Warehouse
    from shop.models.orders import Order, OrderLine

zone_countries = Table(
    "zone_countries",
    Base.metadata,
    Column("zone_id", ForeignKey("shipping_zones.id", ondelete="CASCADE"), primary_key=True),
    Column("country_id", ForeignKey("countries.id", ondelete="CASCADE"), primary_key=True),
)

carrier_zones = Table(
    "carrier_zones",
    Base.metadata,
    Column("carrier_id", ForeignKey("carriers.id", ondelete="CASCADE"), primary_key=True),
    Column("zone_id", ForeignKey("shipping_zones.id", ondelete="CASCADE"), primary_key=True),
)


class Country(Base):
    __tablename__ = "countries"

    id: Mapped[int] = mapped_column(primary_key=True)
    iso2: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str]

    zones: Mapped[list[ShippingZone]] = relationship(
        secondary=zone_countries, back_populates="countries"
    )
    tax_rates: Mapped[list[TaxRate]] = relationship(back_populates="country")


class ShippingZone(Base):
    __tablename__ = "shipping_zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)

    countries: Mapped[list[Country]] = relationship(
        secondary=zone_countries, back_populates="zones"
    )
    carriers: Mapped[list[Carrier]] = relationship(secondary=carrier_zones, back_populates="zones")
    methods: Mapped[list[ShippingMethod]] = relationship(back_populates="zone")


class Carrier(Base):
    __tablename__ = "carriers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    tracking_url: Mapped[Optional[str]]

    zones: Mapped[list[ShippingZone]] = relationship(
        secondary=carrier_zones, back_populates="carriers"
    )
    methods: Mapped[list[ShippingMethod]] = relationship(back_populates="carrier")
    shipments: Mapped[list[Shipment]] = relationship(back_populates="carrier")


class ShippingMethod(Base):
    __tablename__ = "shipping_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("shipping_zones.id"))
    name: Mapped[str]
    price: Mapped[Decimal]
    days_min: Mapped[int] = mapped_column(default=1)
    days_max: Mapped[int] = mapped_column(default=5)

    carrier: Mapped[Carrier] = relationship(back_populates="methods")
    zone: Mapped[ShippingZone] = relationship(back_populates="methods")


class Shipment(TimestampMixin, Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id"))
    tracking_number: Mapped[Optional[str]] = mapped_column(index=True)
    shipped_at: Mapped[Optional[dt.datetime]]
    delivered_at: Mapped[Optional[dt.datetime]]

    order: Mapped[Order] = relationship(back_populates="shipments")
    warehouse: Mapped[Warehouse] = relationship(back_populates="shipments")
    carrier: Mapped[Carrier] = relationship(back_populates="shipments")
    items: Mapped[list[ShipmentItem]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan"
    )
    tracking_events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment", order_by="TrackingEvent.occurred_at"
    )


class ShipmentItem(Base):
    __tablename__ = "shipment_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    quantity: Mapped[int]

    shipment: Mapped[Shipment] = relationship(back_populates="items")
    order_line: Mapped[OrderLine] = relationship()


class TrackingEvent(Base):
    __tablename__ = "tracking_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    status: Mapped[str]
    location: Mapped[Optional[str]]
    occurred_at: Mapped[dt.datetime]

    shipment: Mapped[Shipment] = relationship(back_populates="tracking_events")
