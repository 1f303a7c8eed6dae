"""The pool store: pools by address, applied in (block, log index) order, with undo by block.

Every change goes through `apply_log`, which drops a log at or below the pool's version (stale
or already applied) and journals the pool's state before its first change in a block, so
`rollback_to` can unwind the blocks a reorg replaced. Blocks are remembered by hash for the
last `depth` blocks; a log or head that disagrees with a remembered hash reveals a reorg.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from titan_ingest.chain.abi import PoolEvent
from titan_ingest.state.pools import PoolEntry


@dataclass(slots=True)
class BlockRecord:
    number: int
    hash: str | None  # None until a head or a log tells it
    parent_hash: str | None = None
    # Each pool's state before its first change in this block; None: the pool was added here.
    journal: dict[str, PoolEntry | None] = field(default_factory=dict)


class PoolStore:
    def __init__(self, depth: int = 64) -> None:
        self.depth = depth
        self.pools: dict[str, PoolEntry] = {}
        self.blocks: dict[int, BlockRecord] = {}
        self.head: int = -1  # the highest block applied (or known from a head), -1 before any
        self.base: int = -1  # the snapshot's block: history does not reach below it
        # Every log up to this block is applied: set by the snapshot, each catch-up, and each
        # head of the live stream once its block's logs are read by hash.
        self.complete: int = -1

    # -- setup

    def reset(self, entries: list[PoolEntry], block_number: int, block_hash: str) -> None:
        """Start over from a snapshot of every pool at the end of `block_number`."""
        self.pools = {e.meta.address: e for e in entries}
        self.blocks = {block_number: BlockRecord(block_number, block_hash)}
        self.head = block_number
        self.base = block_number
        self.complete = block_number

    def add_pool(self, entry: PoolEntry, block_hash: str) -> None:
        """A pool created after the snapshot, as of its entry's version (its creation log);
        a rollback of that block removes it again."""
        address = entry.meta.address
        record = self._record(entry.block_number, block_hash)
        if address not in record.journal:
            record.journal[address] = self.pools.get(address)
        self.pools[address] = entry

    @property
    def ready(self) -> bool:
        return self.head >= 0

    # -- blocks

    def block_hash(self, number: int) -> str | None:
        record = self.blocks.get(number)
        return record.hash if record else None

    def note_block(self, number: int, block_hash: str, parent_hash: str | None = None) -> None:
        """Remember a block of the chain we follow (the caller has checked it fits)."""
        record = self.blocks.get(number)
        if record is None:
            self.blocks[number] = BlockRecord(number, block_hash, parent_hash)
        else:
            record.hash = block_hash
            if parent_hash is not None:
                record.parent_hash = parent_hash
        if number > self.head:
            self.head = number
            self._prune()

    def conflicts(self, number: int, block_hash: str, parent_hash: str | None = None) -> bool:
        """Whether a block disagrees with the blocks remembered: a reorg happened."""
        known = self.block_hash(number)
        if known is not None and known != block_hash:
            return True
        if parent_hash is not None:
            parent = self.block_hash(number - 1)
            if parent is not None and parent != parent_hash:
                return True
        return False

    def _prune(self) -> None:
        oldest = self.head - self.depth
        for number in [n for n in self.blocks if n < oldest]:
            del self.blocks[number]

    @property
    def oldest(self) -> int:
        return min(self.blocks) if self.blocks else -1

    # -- logs

    def apply_log(
        self,
        address: str,
        event: PoolEvent,
        block_number: int,
        block_hash: str,
        log_index: int,
        received_at: float | None,
    ) -> PoolEntry | None:
        """Apply one event; the pool's new entry, or None when stale, unknown or inapplicable."""
        entry = self.pools.get(address)
        if entry is None or (block_number, log_index) <= entry.version:
            return None
        record = self._record(block_number, block_hash)
        if address not in record.journal:
            record.journal[address] = entry.copy()
        if not entry.apply(event):
            return None
        entry.block_number = block_number
        entry.log_index = log_index
        entry.block_hash = block_hash
        entry.received_at = received_at
        return entry

    def _record(self, block_number: int, block_hash: str) -> BlockRecord:
        record = self.blocks.get(block_number)
        if record is None:
            record = self.blocks[block_number] = BlockRecord(block_number, block_hash)
            if block_number > self.head:
                self.head = block_number
                self._prune()
        return record

    # -- reorgs

    def rollback_to(self, number: int) -> list[PoolEntry]:
        """Undo every block above `number`; the pools that changed, in their restored state."""
        touched: set[str] = set()
        for block in sorted((n for n in self.blocks if n > number), reverse=True):
            for address, previous in self.blocks.pop(block).journal.items():
                touched.add(address)
                if previous is None:
                    self.pools.pop(address, None)
                else:
                    self.pools[address] = previous
        self.head = min(self.head, number)
        self.complete = min(self.complete, number)
        return [self.pools[a] for a in sorted(touched) if a in self.pools]
