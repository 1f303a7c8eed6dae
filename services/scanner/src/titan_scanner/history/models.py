"""The tables: one row per opportunity, one per hop.

Big integers are stored as decimal strings (exact on every backend); the net profit also as
a zero-padded key so that `min_profit` filters compare as text on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

AMOUNT = String(80)
KEY_WIDTH = 79  # up to 2^256 has 78 digits; one more so a leading sign slot stays free


def amount_key(value: int) -> str:
    """A text key ordering like the integer for values >= 0 (negatives sort below all)."""
    return str(value).zfill(KEY_WIDTH) if value >= 0 else "-"


class Base(DeclarativeBase):
    pass


class OpportunityRow(Base):
    __tablename__ = "opportunities"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    chain_id: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(Integer, index=True)
    base_token: Mapped[str] = mapped_column(String(42), index=True)
    cycle_key: Mapped[str] = mapped_column(String(400))
    amount_in: Mapped[str] = mapped_column(AMOUNT)
    amount_out: Mapped[str] = mapped_column(AMOUNT)
    gross_profit: Mapped[str] = mapped_column(AMOUNT)
    gas_units: Mapped[int] = mapped_column(Integer)
    gas_price_wei: Mapped[str] = mapped_column(AMOUNT)
    gas_cost: Mapped[str] = mapped_column(AMOUNT)
    net_profit: Mapped[str] = mapped_column(AMOUNT)
    net_profit_key: Mapped[str] = mapped_column(String(KEY_WIDTH), index=True)
    action_execute: Mapped[bool] = mapped_column(Boolean)
    action_size_fraction: Mapped[float] = mapped_column(Float)
    action_gas_bid_multiplier: Mapped[float] = mapped_column(Float)
    action_source: Mapped[str] = mapped_column(String(32))
    verification_status: Mapped[str] = mapped_column(String(16), index=True)
    verification_realized_amount_out: Mapped[str | None] = mapped_column(AMOUNT, nullable=True)
    verification_block_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detected_at: Mapped[float] = mapped_column(Float)
    latency_ms: Mapped[float] = mapped_column(Float)

    hops: Mapped[list[HopRow]] = relationship(
        back_populates="opportunity",
        order_by="HopRow.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class HopRow(Base):
    __tablename__ = "opportunity_hops"
    # with the opportunity's key: the DEX and token filters search them once per opportunity
    __table_args__ = (
        Index("ix_opportunity_hops_dex_seq", "dex", "opportunity_seq"),
        Index("ix_opportunity_hops_token_in_seq", "token_in", "opportunity_seq"),
    )

    opportunity_seq: Mapped[int] = mapped_column(
        ForeignKey("opportunities.seq", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool: Mapped[str] = mapped_column(String(42))
    dex: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(4))
    fee_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fee: Mapped[int | None] = mapped_column(Integer, nullable=True)
    token_in: Mapped[str] = mapped_column(String(42))
    token_out: Mapped[str] = mapped_column(String(42))
    amount_in: Mapped[str] = mapped_column(AMOUNT)
    amount_out: Mapped[str] = mapped_column(AMOUNT)

    opportunity: Mapped[OpportunityRow] = relationship(back_populates="hops")


class PaperTradeRow(Base):
    """One paper trade's outcome (`titan_scanner.verify.paper.PaperTrade`)."""

    __tablename__ = "paper_trades"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    opportunity_id: Mapped[str] = mapped_column(String(64), index=True)
    chain_id: Mapped[int] = mapped_column(Integer)
    account: Mapped[str] = mapped_column(String(42))
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    block_found: Mapped[int] = mapped_column(Integer)
    block_landed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    size_fraction: Mapped[float] = mapped_column(Float)
    gas_bid_multiplier: Mapped[float] = mapped_column(Float)
    gas_price_bid_wei: Mapped[str] = mapped_column(AMOUNT)
    amount_in: Mapped[str] = mapped_column(AMOUNT)
    predicted_amount_out: Mapped[str | None] = mapped_column(AMOUNT, nullable=True)
    realized_amount_out: Mapped[str | None] = mapped_column(AMOUNT, nullable=True)
    realized_profit: Mapped[str | None] = mapped_column(AMOUNT, nullable=True)
    gas_used: Mapped[int | None] = mapped_column(Integer, nullable=True)
    effective_gas_price_wei: Mapped[str | None] = mapped_column(AMOUNT, nullable=True)
    gas_cost_wei: Mapped[str | None] = mapped_column(AMOUNT, nullable=True)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sent_at: Mapped[float] = mapped_column(Float)
