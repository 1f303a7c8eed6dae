"""hop indexes that the DEX and token filters can search by opportunity

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

`GET /api/opportunities?dex=...` asks, newest first, for the opportunities with a hop on that
DEX: a correlated EXISTS over the hops. On an index of `dex` alone SQLite searched every hop of
that DEX for each opportunity it looked at: 4.8 s for a page of 50 at 97k opportunities. With
the opportunity's key in the index it is one search per opportunity (0.5 ms). The token filter
has the same shape.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_opportunity_hops_dex", table_name="opportunity_hops")
    op.drop_index("ix_opportunity_hops_token_in", table_name="opportunity_hops")
    op.create_index("ix_opportunity_hops_dex_seq", "opportunity_hops", ["dex", "opportunity_seq"])
    op.create_index(
        "ix_opportunity_hops_token_in_seq", "opportunity_hops", ["token_in", "opportunity_seq"]
    )


def downgrade() -> None:
    op.drop_index("ix_opportunity_hops_token_in_seq", table_name="opportunity_hops")
    op.drop_index("ix_opportunity_hops_dex_seq", table_name="opportunity_hops")
    op.create_index("ix_opportunity_hops_token_in", "opportunity_hops", ["token_in"])
    op.create_index("ix_opportunity_hops_dex", "opportunity_hops", ["dex"])
