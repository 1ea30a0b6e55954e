"""Warehouses, stock levels and movements, suppliers and purchase orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

from sqlalchemy import Column, ForeignKey, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from shop.models.catalog import Product, ProductVariant
    from shop.models.orders import OrderLine
    from shop.models.shipping import Country, Shipment

supplier_products = Table(
    "supplier_products",
    Base.metadata,
    Column("supplier_id", ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
)


class Warehouse(Base):
    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"))

    country: Mapped[Country] = relationship()
    stock_items: Mapped[list[StockItem]] = relationship(back_populates="warehouse")
    shipments: Mapped[list[Shipment]] = relationship(back_populates="warehouse")
    purchase_orders: Mapped[list[PurchaseOrder]] = relationship(back_populates="warehouse")


class StockItem(Base):
    __tablename__ = "stock_items"
    __table_args__ = (UniqueConstraint("warehouse_id", "variant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("product_variants.id"))
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    reorder_level: Mapped[int] = mapped_column(default=0)

    warehouse: Mapped[Warehouse] = relationship(back_populates="stock_items")
    variant: Mapped[ProductVariant] = relationship(back_populates="stock_items")
    movements: Mapped[list[StockMovement]] = relationship(
        back_populates="stock_item", order_by="StockMovement.id"
    )


class StockMovement(TimestampMixin, Base):
    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    stock_item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"))
    quantity: Mapped[int]
    reason: Mapped[str]  # sale, return, purchase, adjustment
    order_line_id: Mapped[Optional[int]] = mapped_column(ForeignKey("order_lines.id"))
    purchase_order_line_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("purchase_order_lines.id")
    )

    stock_item: Mapped[StockItem] = relationship(back_populates="movements")
    order_line: Mapped[Optional[OrderLine]] = relationship()
    purchase_order_line: Mapped[Optional[PurchaseOrderLine]] = relationship(
        back_populates="movements"
    )


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    email: Mapped[Optional[str]]
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"))

    country: Mapped[Country] = relationship()
    products: Mapped[list[Product]] = relationship(
        secondary=supplier_products, back_populates="suppliers"
    )
    purchase_orders: Mapped[list[PurchaseOrder]] = relationship(back_populates="supplier")


class PurchaseOrder(TimestampMixin, Base):
    __tablename__ = "purchase_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(default="draft")
    expected_on: Mapped[Optional[dt.datetime]]

    supplier: Mapped[Supplier] = relationship(back_populates="purchase_orders")
    warehouse: Mapped[Warehouse] = relationship(back_populates="purchase_orders")
    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        back_populates="purchase_order", cascade="all, delete-orphan"
    )


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE")
    )
    variant_id: Mapped[int] = mapped_column(ForeignKey("product_variants.id"))
    quantity: Mapped[int]
    unit_cost: Mapped[Decimal]

    purchase_order: Mapped[PurchaseOrder] = relationship(back_populates="lines")
    variant: Mapped[ProductVariant] = relationship()
    movements: Mapped[list[StockMovement]] = relationship(back_populates="purchase_order_line")
