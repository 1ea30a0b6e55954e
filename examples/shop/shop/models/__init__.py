"""Every mapped class of the shop, imported so the registry can resolve relationships by name."""

from shop.models.base import Base, TimestampMixin
from shop.models.billing import Currency, ExchangeRate, Invoice, InvoiceLine, Payment, Refund, TaxRate
from shop.models.catalog import (
    Attribute,
    AttributeValue,
    Brand,
    Category,
    Price,
    PriceList,
    Product,
    ProductImage,
    ProductVariant,
    Review,
    ReviewVote,
    Tag,
)
from shop.models.customers import (
    Address,
    Contact,
    Customer,
    CustomerGroup,
    LoyaltyAccount,
    LoyaltyTransaction,
    PaymentMethod,
    Wishlist,
    WishlistItem,
)
from shop.models.events import Event, EventType, Webhook, WebhookDelivery
from shop.models.inventory import (
    PurchaseOrder,
    PurchaseOrderLine,
    StockItem,
    StockMovement,
    Supplier,
    Warehouse,
)
from shop.models.marketing import Campaign, Newsletter, NewsletterSubscription, Promotion, Segment
from shop.models.orders import (
    Cart,
    CartItem,
    Coupon,
    Discount,
    Order,
    OrderLine,
    OrderStatusChange,
    Return,
    ReturnLine,
)
from shop.models.shipping import (
    Carrier,
    Country,
    Shipment,
    ShipmentItem,
    ShippingMethod,
    ShippingZone,
    TrackingEvent,
)
from shop.models.staff import ApiKey, AuditLog, Permission, Role, User
from shop.models.support import Agent, SlaPolicy, SupportTeam, Ticket, TicketMessage

__all__ = [
    "Address", "Agent", "ApiKey", "Attribute", "AttributeValue", "AuditLog", "Base", "Brand",
    "Campaign", "Carrier", "Cart", "CartItem", "Category", "Contact", "Country", "Coupon",
    "Currency", "Customer", "CustomerGroup", "Discount", "Event", "EventType", "ExchangeRate",
    "Invoice", "InvoiceLine", "LoyaltyAccount", "LoyaltyTransaction", "Newsletter",
    "NewsletterSubscription", "Order", "OrderLine", "OrderStatusChange", "Payment",
    "PaymentMethod", "Permission", "Price", "PriceList", "Product", "ProductImage",
    "ProductVariant", "Promotion", "PurchaseOrder", "PurchaseOrderLine", "Refund", "Return",
    "ReturnLine", "Review", "ReviewVote", "Role", "Segment", "Shipment", "ShipmentItem",
    "ShippingMethod", "ShippingZone", "SlaPolicy", "StockItem", "StockMovement", "Supplier",
    "SupportTeam", "Tag", "TaxRate", "Ticket", "TicketMessage", "TimestampMixin",
    "TrackingEvent", "User", "Wishlist", "WishlistItem",
]
