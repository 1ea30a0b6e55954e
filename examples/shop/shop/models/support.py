"""Customer support: teams, agents, SLA policies, tickets and their messages."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Optional

from sqlalchemy import Column, ForeignKey, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from shop.models.customers import Customer
    from shop.models.orders import Order
    from shop.models.staff import User

team_agents = Table(
    "team_agents",
    Base.metadata,
    Column("team_id", ForeignKey("support_teams.id", ondelete="CASCADE"), primary_key=True),
    Column("agent_id", ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
)


class SlaPolicy(Base):
    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    first_response_minutes: Mapped[int]
    resolution_minutes: Mapped[int]

    teams: Mapped[list[SupportTeam]] = relationship(back_populates="sla_policy")


class SupportTeam(Base):
    __tablename__ = "support_teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    sla_policy_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sla_policies.id"))

    sla_policy: Mapped[Optional[SlaPolicy]] = relationship(back_populates="teams")
    agents: Mapped[list[Agent]] = relationship(secondary=team_agents, back_populates="teams")
    tickets: Mapped[list[Ticket]] = relationship(back_populates="team")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    display_name: Mapped[str]
    is_available: Mapped[bool] = mapped_column(default=True)

    user: Mapped[User] = relationship(back_populates="agent_profile")
    teams: Mapped[list[SupportTeam]] = relationship(secondary=team_agents, back_populates="agents")
    tickets: Mapped[list[Ticket]] = relationship(back_populates="assignee")
    messages: Mapped[list[TicketMessage]] = relationship(back_populates="agent")


class Ticket(TimestampMixin, Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("orders.id"))
    team_id: Mapped[Optional[int]] = mapped_column(ForeignKey("support_teams.id"))
    assignee_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    subject: Mapped[str]
    status: Mapped[str] = mapped_column(default="open", index=True)
    closed_at: Mapped[Optional[dt.datetime]]

    customer: Mapped[Customer] = relationship(back_populates="tickets")
    order: Mapped[Optional[Order]] = relationship(back_populates="tickets")
    team: Mapped[Optional[SupportTeam]] = relationship(back_populates="tickets")
    assignee: Mapped[Optional[Agent]] = relationship(back_populates="tickets")
    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan"
    )


class TicketMessage(TimestampMixin, Base):
    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    agent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    body: Mapped[str] = mapped_column(Text)
    is_internal: Mapped[bool] = mapped_column(default=False)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    agent: Mapped[Optional[Agent]] = relationship(back_populates="messages")
