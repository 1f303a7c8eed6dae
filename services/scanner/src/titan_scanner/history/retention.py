"""Retention: the history keeps its newest opportunities; older ones go, with their hops,
a chunk per transaction so that the repository's saves take turns with the deletes.
Paper trades are kept (they name their opportunity, they do not hold it)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from titan_scanner.history.models import HopRow, OpportunityRow

_SEQ = OpportunityRow.seq


def oldest_kept(session: Session, keep: int) -> int | None:
    """The sequence number of the `keep`-th newest opportunity; None when there are fewer."""
    return session.scalar(select(_SEQ).order_by(_SEQ.desc()).offset(keep - 1).limit(1))


def delete_chunk(session: Session, floor: int, chunk: int) -> int:
    """Delete up to `chunk` of the oldest opportunities below `floor`; how many went."""
    oldest = session.scalar(select(func.min(_SEQ)))
    if oldest is None or oldest >= floor:
        return 0
    upto = min(floor - 1, oldest + chunk - 1)
    session.execute(delete(HopRow).where(HopRow.opportunity_seq <= upto))
    gone = session.execute(delete(OpportunityRow).where(upto >= _SEQ))
    session.commit()
    return int(getattr(gone, "rowcount", 0) or 0)
