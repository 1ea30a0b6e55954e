"""The product catalogue: categories, brands, products, variants, attributes, prices and reviews."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import Column, ForeignKey, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from shop.models.billing import Currency, TaxRate
    from shop.models.customers import Customer, CustomerGroup
    from shop.models.inventory import StockItem, Supplier
    from shop.models.marketing import Promotion

product_tags = Table(
    "product_tags",
    Base.metadata,
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)

variant_attribute_values = Table(
    "variant_attribute_values",
    Base.metadata,
    Column("variant_id", ForeignKey("product_variants.id", ondelete="CASCADE"), primary_key=True),
    Column("value_id", ForeignKey("attribute_values.id", ondelete="CASCADE"), primary_key=True),
)

category_attributes = Table(
    "category_attributes",
    Base.metadata,
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    Column("attribute_id", ForeignKey("attributes.id", ondelete="CASCADE"), primary_key=True),
)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("categories.id"))
    slug: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    position: Mapped[int] = mapped_column(default=0)

    parent: Mapped[Optional[Category]] = relationship(back_populates="children", remote_side=[id])
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="Category.position"
    )
    products: Mapped[list[Product]] = relationship(back_populates="category")
    attributes: Mapped[list[Attribute]] = relationship(
        secondary=category_attributes, back_populates="categories"
    )


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    website: Mapped[Optional[str]]

    products: Mapped[list[Product]] = relationship(back_populates="brand")


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(unique=True)

    products: Mapped[list[Product]] = relationship(secondary=product_tags, back_populates="tags")


class Product(TimestampMixin, Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(unique=True, index=True)
    name: Mapped[str]
    description: Mapped[Optional[str]] = mapped_column(Text)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    brand_id: Mapped[Optional[int]] = mapped_column(ForeignKey("brands.id"))
    tax_rate_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tax_rates.id"))
    is_published: Mapped[bool] = mapped_column(default=False)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)

    category: Mapped[Category] = relationship(back_populates="products")
    brand: Mapped[Optional[Brand]] = relationship(back_populates="products")
    tax_rate: Mapped[Optional[TaxRate]] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=product_tags, back_populates="products")
    variants: Mapped[list[ProductVariant]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="ProductImage.position", cascade="all, delete-orphan"
    )
    reviews: Mapped[list[Review]] = relationship(back_populates="product")
    suppliers: Mapped[list[Supplier]] = relationship(
        secondary="supplier_products", back_populates="products"
    )
    promotions: Mapped[list[Promotion]] = relationship(
        secondary="promotion_products", back_populates="products"
    )


class ProductVariant(Base):
    __tablename__ = "product_variants"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(unique=True, index=True)
    weight_grams: Mapped[Optional[int]]
    barcode: Mapped[Optional[str]] = mapped_column(unique=True)

    product: Mapped[Product] = relationship(back_populates="variants")
    attribute_values: Mapped[list[AttributeValue]] = relationship(
        secondary=variant_attribute_values, back_populates="variants"
    )
    prices: Mapped[list[Price]] = relationship(back_populates="variant")
    stock_items: Mapped[list[StockItem]] = relationship(back_populates="variant")


class ProductImage(Base):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    url: Mapped[str]
    alt_text: Mapped[Optional[str]]
    position: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="images")


class Attribute(Base):
    __tablename__ = "attributes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(unique=True)
    label: Mapped[str]

    values: Mapped[list[AttributeValue]] = relationship(back_populates="attribute")
    categories: Mapped[list[Category]] = relationship(
        secondary=category_attributes, back_populates="attributes"
    )


class AttributeValue(Base):
    __tablename__ = "attribute_values"
    __table_args__ = (UniqueConstraint("attribute_id", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attribute_id: Mapped[int] = mapped_column(ForeignKey("attributes.id"))
    value: Mapped[str]

    attribute: Mapped[Attribute] = relationship(back_populates="values")
    variants: Mapped[list[ProductVariant]] = relationship(
        secondary=variant_attribute_values, back_populates="attribute_values"
    )


class PriceList(Base):
    __tablename__ = "price_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    currency_code: Mapped[str] = mapped_column(ForeignKey("currencies.code"))

    currency: Mapped[Currency] = relationship()
    prices: Mapped[list[Price]] = relationship(back_populates="price_list")
    customer_groups: Mapped[list[CustomerGroup]] = relationship(back_populates="price_list")


class Price(Base):
    __tablename__ = "prices"
    __table_args__ = (UniqueConstraint("price_list_id", "variant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_lists.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("product_variants.id", ondelete="CASCADE"))
    amount: Mapped[Decimal]

    price_list: Mapped[PriceList] = relationship(back_populates="prices")
    variant: Mapped[ProductVariant] = relationship(back_populates="prices")


class Review(TimestampMixin, Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    rating: Mapped[int]
    body: Mapped[Optional[str]] = mapped_column(Text)

    product: Mapped[Product] = relationship(back_populates="reviews")
    author: Mapped[Customer] = relationship(back_populates="reviews")
    votes: Mapped[list[ReviewVote]] = relationship(back_populates="review")


class ReviewVote(Base):
    __tablename__ = "review_votes"
    __table_args__ = (UniqueConstraint("review_id", "voter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    helpful: Mapped[bool]

    review: Mapped[Review] = relationship(back_populates="votes")
    voter: Mapped[Customer] = relationship(back_populates="review_votes")
