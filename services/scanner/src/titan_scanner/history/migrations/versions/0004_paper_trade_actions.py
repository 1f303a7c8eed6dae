"""paper trades keep the action they carried out: size fraction and gas bid

Rows of earlier versions were traded at full size and the node's own gas price: they get a
size fraction and a bid multiplier of 1 and an unknown bid price ("0"). Their rows of trades
that gave way in a full queue (`failed`, "not sent: queue full") go: they were never sent, and
the trader now only counts them (at ~40 a second under `make up` they outnumbered the trades).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

AMOUNT = sa.String(80)


def upgrade() -> None:
    op.execute(
        "DELETE FROM paper_trades WHERE status = 'failed' AND error = 'not sent: queue full'"
    )
    # batch mode: SQLite alters a column's nullability by copying the table
    with op.batch_alter_table("paper_trades") as table:
        table.add_column(
            sa.Column("size_fraction", sa.Float(), nullable=False, server_default="1.0")
        )
        table.add_column(
            sa.Column("gas_bid_multiplier", sa.Float(), nullable=False, server_default="1.0")
        )
        table.add_column(sa.Column("gas_price_bid_wei", AMOUNT, nullable=False, server_default="0"))
        table.alter_column("predicted_amount_out", existing_type=AMOUNT, nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("paper_trades") as table:
        table.alter_column("predicted_amount_out", existing_type=AMOUNT, nullable=False)
        table.drop_column("gas_price_bid_wei")
        table.drop_column("gas_bid_multiplier")
        table.drop_column("size_fraction")
