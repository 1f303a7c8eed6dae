"""paper trades and their outcomes

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AMOUNT = sa.String(80)


def upgrade() -> None:
    op.create_table(
        "paper_trades",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("opportunity_id", sa.String(64), nullable=False),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(42), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("block_found", sa.Integer(), nullable=False),
        sa.Column("block_landed", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_in", AMOUNT, nullable=False),
        sa.Column("predicted_amount_out", AMOUNT, nullable=False),
        sa.Column("realized_amount_out", AMOUNT, nullable=True),
        sa.Column("realized_profit", AMOUNT, nullable=True),
        sa.Column("gas_used", sa.Integer(), nullable=True),
        sa.Column("effective_gas_price_wei", AMOUNT, nullable=True),
        sa.Column("gas_cost_wei", AMOUNT, nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.Column("sent_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_paper_trades_opportunity_id", "paper_trades", ["opportunity_id"])
    op.create_index("ix_paper_trades_status", "paper_trades", ["status"])


def downgrade() -> None:
    op.drop_table("paper_trades")
