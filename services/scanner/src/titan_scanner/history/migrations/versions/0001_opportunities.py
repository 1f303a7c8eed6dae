"""opportunities and their hops

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

AMOUNT = sa.String(80)


def upgrade() -> None:
    op.create_table(
        "opportunities",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("base_token", sa.String(42), nullable=False),
        sa.Column("cycle_key", sa.String(400), nullable=False),
        sa.Column("amount_in", AMOUNT, nullable=False),
        sa.Column("amount_out", AMOUNT, nullable=False),
        sa.Column("gross_profit", AMOUNT, nullable=False),
        sa.Column("gas_units", sa.Integer(), nullable=False),
        sa.Column("gas_price_wei", AMOUNT, nullable=False),
        sa.Column("gas_cost", AMOUNT, nullable=False),
        sa.Column("net_profit", AMOUNT, nullable=False),
        sa.Column("net_profit_key", sa.String(79), nullable=False),
        sa.Column("action_execute", sa.Boolean(), nullable=False),
        sa.Column("action_size_fraction", sa.Float(), nullable=False),
        sa.Column("action_gas_bid_multiplier", sa.Float(), nullable=False),
        sa.Column("action_source", sa.String(32), nullable=False),
        sa.Column("verification_status", sa.String(16), nullable=False),
        sa.Column("verification_realized_amount_out", AMOUNT, nullable=True),
        sa.Column("verification_block_number", sa.Integer(), nullable=True),
        sa.Column("detected_at", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
    )
    op.create_index("ix_opportunities_block_number", "opportunities", ["block_number"])
    op.create_index("ix_opportunities_base_token", "opportunities", ["base_token"])
    op.create_index("ix_opportunities_net_profit_key", "opportunities", ["net_profit_key"])
    op.create_index(
        "ix_opportunities_verification_status", "opportunities", ["verification_status"]
    )
    op.create_table(
        "opportunity_hops",
        sa.Column(
            "opportunity_seq",
            sa.Integer(),
            sa.ForeignKey("opportunities.seq", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("pool", sa.String(42), nullable=False),
        sa.Column("dex", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=True),
        sa.Column("fee", sa.Integer(), nullable=True),
        sa.Column("token_in", sa.String(42), nullable=False),
        sa.Column("token_out", sa.String(42), nullable=False),
        sa.Column("amount_in", AMOUNT, nullable=False),
        sa.Column("amount_out", AMOUNT, nullable=False),
    )
    op.create_index("ix_opportunity_hops_dex", "opportunity_hops", ["dex"])
    op.create_index("ix_opportunity_hops_token_in", "opportunity_hops", ["token_in"])


def downgrade() -> None:
    op.drop_table("opportunity_hops")
    op.drop_table("opportunities")
