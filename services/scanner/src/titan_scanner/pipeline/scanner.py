"""The scanner: pool updates in, opportunities out, through named one-way stages.

    source (IngestSource) -> state (PoolStore, CycleIndex, Screener) -> coalesce (per block)
      -> decision (engine batch, gas, policy) -> publication (WS, history) -> verify (eth_call)

Updates are applied synchronously as they arrive; a block's batch is captured (cycles and
their states) at the moment it closes, so later blocks cannot leak into it, and evaluated
on a worker task while the next block streams in. A batch closes on ingest's marker of its
block (`BlockComplete`: every log of the block is in), when a newer block's update arrives,
or after `block_timeout` seconds for an ingest that never sends the marker. A (re)connection's
snapshot mixes blocks (each pool as of its last applied log), so while it streams in, only its
marker or the timeout closes the batch: a newer block in the middle of it is no sign that the
states before it are complete, and pricing them then would mix the old connection's states in.

Reorgs: a rollback from ingest (`removed` updates) takes the open batch back to the block the
pools returned to; a marker that contradicts an earlier one orphans the opportunities of the
blocks it replaced (`ForkWatch`), in the history and on the WebSocket, and a batch still in
flight for such a block publishes as orphaned.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import structlog

from titan_common.clients import ClientError, EngineClient, MlClient
from titan_common.heap import freeze_long_lived
from titan_common.models import BlockComplete, Opportunity, PoolUpdate
from titan_scanner.cycles import CycleIndex, Screener
from titan_scanner.graph import PoolInfo
from titan_scanner.history import OpportunityRepository
from titan_scanner.pipeline.coalesce import BlockCoalescer, BlockJob, PendingBlock, merge_jobs
from titan_scanner.pipeline.decision import Draft, GasContext, draft, policy_state
from titan_scanner.pipeline.health import DependencyHealth
from titan_scanner.pipeline.hot_path import HotPath
from titan_scanner.pipeline.metrics import ScannerMetrics
from titan_scanner.pipeline.policy import Policy
from titan_scanner.pipeline.proofs import ProofStage
from titan_scanner.pipeline.publication import PublicationStage
from titan_scanner.pipeline.publish import Publisher
from titan_scanner.pipeline.reorg import ForkWatch
from titan_scanner.pipeline.state import PoolState, PoolStore
from titan_scanner.pipeline.stats import ScannerStats
from titan_scanner.pipeline.tasks import BackgroundTasks
from titan_scanner.pricing import engine as engine_api
from titan_scanner.pricing.forecast import GasForecaster
from titan_scanner.pricing.gas import GasUnits
from titan_scanner.verify import Verifier
from titan_scanner.verify.paper import PaperTrader

_log = structlog.get_logger("scanner.pipeline")


@dataclass(frozen=True, slots=True)
class ScannerConfig:
    chain_id: int
    base_tokens: tuple[str, ...]
    native_token: str
    units: GasUnits
    min_profit: int
    max_cycles_per_pool: int = 200
    max_hops: int = 3
    shard: tuple[int, int] = (0, 1)
    min_log_edge: float = 0.0
    block_timeout: float = 1.0  # closes a batch whose block marker never comes
    batch_max: int = 1000
    max_evaluations_per_block: int = 256
    verify: str = "all"  # "all", "sample", "off"
    verify_sample_rate: float = 0.1
    recent_limit: int = 500


class Scanner:
    def __init__(
        self,
        config: ScannerConfig,
        engine: EngineClient,
        ml: MlClient | None,
        forecaster: GasForecaster,
        repository: OpportunityRepository,
        verifier: Verifier | None,
        metrics: ScannerMetrics,
        health: DependencyHealth,
        paper: PaperTrader | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.ml = ml
        self.gas = forecaster
        self.repository = repository
        self.paper = paper  # when paper trading is on
        self.metrics = metrics
        self.health = health
        self.policy = Policy(ml, available=lambda: health.is_up("ml"))
        self.store = PoolStore()
        self.index = CycleIndex(
            config.base_tokens, config.max_cycles_per_pool, config.max_hops, config.shard
        )
        self.screener = Screener(config.min_log_edge)
        self.coalescer = BlockCoalescer()
        self.publisher = Publisher(config.recent_limit)
        self.forks = ForkWatch()
        self.stats = ScannerStats()
        self.background = BackgroundTasks()
        self.hot_path = HotPath()
        self._processing = False  # a block's batch is being priced and published
        self.proofs = ProofStage(
            verifier,
            config.verify,
            config.verify_sample_rate,
            repository,
            self.publisher,
            self.forks,
            self.stats,
            metrics,
            self.background,
            self.hot_path,
        )
        self.publication = PublicationStage(
            config.chain_id,
            self.publisher,
            repository,
            self.proofs,
            self.forks,
            self.stats,
            metrics,
            health,
            self.background,
            paper,
        )
        self._jobs: asyncio.Queue[BlockJob] = asyncio.Queue()
        self._timer: asyncio.TimerHandle | None = None
        self.evaluations_by_block: dict[int, int] = {}
        self._prefetched = 0  # the newest block whose gas quote was asked for
        self._gas_tasks: dict[int, asyncio.Future[Any]] = {}
        # Pools changed since the last job was queued, batches with nothing to price included:
        # a job folded into a newer one must not keep a state these pools have left.
        self._changed: set[str] = set()
        self._resyncing = False  # a new connection's snapshot is streaming in: see on_connect

    # -- state stage ----------------------------------------------------------------------

    def on_update(self, update: PoolUpdate) -> None:
        """Apply one pool update; closes the pending block's batch when a newer block starts."""
        if update.chain_id != self.config.chain_id:
            return
        if (
            self.coalescer.pending is not None
            and update.block_number > self.store.head_block
            and not self._resyncing
        ):
            self._close_pending("newer_block")  # the pending one is complete
        pool = update.pool
        if not self.store.apply(update):
            return
        if update.removed:  # ingest rolled the pool back: the open batch is at the new head
            self.coalescer.rewind(self.store.head_block)
        self.stats.updates += 1
        self.metrics.updates.inc()
        if pool.address not in self.index.graph:
            self.screener.add_cycles(self.index.add_pool(PoolInfo.from_state(pool)))
            self.metrics.cycles.set(len(self.index))
            self.metrics.pools.set(len(self.store))
        self.screener.update_pool(pool)
        # The batch is labelled with the head block: every state in it is that block's end
        # state (a snapshot's pools carry the block of their last event, often older).
        opened = self.coalescer.add(
            pool.address, self.store.head_block, update.received_at, self._resyncing
        )
        if opened or self._resyncing:  # a snapshot may take longer than the timeout to stream
            self._arm_timer()
        if opened:
            self.hot_path.mark(True)
        if self.store.head_block > self._prefetched:
            self._prefetched = self.store.head_block
            self._gas_tasks[self._prefetched] = asyncio.ensure_future(
                self.gas.for_block(self._prefetched)
            )
            for old in [b for b in self._gas_tasks if b < self._prefetched - 8]:
                self._gas_tasks.pop(old)

    def on_block(self, marker: BlockComplete) -> None:
        """Ingest's marker: every update of the blocks up to it has arrived; price them."""
        if marker.chain_id != self.config.chain_id:
            return
        reorgs = self.forks.reorgs
        orphaned = self.forks.on_marker(marker.block_number, marker.block_hash)
        if self.forks.reorgs > reorgs:
            _log.info(
                "scanner.reorg.detected",
                block_number=marker.block_number,
                block_hash=marker.block_hash,
                orphaned=len(orphaned),
            )
            self.proofs.orphan(orphaned)
            if self.forks.floor is not None:
                self.coalescer.forget_from(self.forks.floor)
        if self._resyncing:  # the snapshot is in: its pools and cycles live on
            freeze_long_lived()
        self.proofs.note_head(marker.block_number)
        pending = self.coalescer.pending
        if pending is not None and marker.block_number >= pending.block_number:
            pending.arrived(marker.received_at)  # the head may have come before any log
            self._close_pending("marker")
        self._resyncing = False

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.config.block_timeout, self._close_pending, "timeout")

    def _close_pending(self, reason: str) -> None:
        """Close the pending batch: `reason` is "marker", "newer_block" or "timeout"."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._resyncing = False
        pending = self.coalescer.take()
        if pending is not None:
            self.stats.blocks_closed[reason] = self.stats.blocks_closed.get(reason, 0) + 1
            self.metrics.blocks_closed.labels(reason).inc()
            if reason == "timeout":
                _log.warning(
                    "scanner.block.timed_out",
                    block_number=pending.block_number,
                    waited_s=self.config.block_timeout,
                )
            self._capture(pending)
        self._mark_hot_path()

    def on_connect(self) -> None:
        """A new connection to ingest: its snapshot comes first, pool by pool, each at the
        block of its last log, then the marker of the last complete block. Until that marker
        (or the fallback timeout), a pool of a newer block does not close the batch."""
        self._resyncing = True

    def on_disconnect(self) -> None:
        """The link to ingest is lost: a block still open may be missing logs sent after the
        break, so it is not priced (by the fallback timeout or otherwise); its pools wait for
        the next block, which the new connection's snapshot and markers complete."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        held = self.coalescer.hold()
        if held is not None:
            self.stats.blocks_closed["held"] = self.stats.blocks_closed.get("held", 0) + 1
            self.metrics.blocks_closed.labels("held").inc()
            _log.warning(
                "scanner.block.held", block_number=held.block_number, pools=len(held.pools)
            )
        self._mark_hot_path()

    def rescan_all(self) -> None:
        """Queue every cycle at the head block (after the engine comes back, for example).
        A block still open gets every pool in its batch, priced once it is complete."""
        pools = set(self.index.pools())
        if self.coalescer.pending is not None:
            self.coalescer.pending.pools |= pools
            return
        self._capture(PendingBlock(self.store.head_block, pools, None))
        self._mark_hot_path()

    def _mark_hot_path(self) -> None:
        """A block is on the hot path while its batch is open, queued or being priced."""
        busy = self.coalescer.pending is not None or self._processing or not self._jobs.empty()
        self.hot_path.mark(busy)

    def _capture(self, pending: PendingBlock) -> None:
        started = time.perf_counter()
        self._changed |= pending.pools
        ids = self.screener.cycles_touching(pending.pools)
        passed = self.screener.screen(ids)[: self.config.max_evaluations_per_block]
        chosen = self.coalescer.claim(passed, pending.block_number, self._pools_of)
        self.metrics.stage_seconds.labels("screen").observe(time.perf_counter() - started)
        self.stats.blocks += 1
        if len(chosen) == 0:
            return
        cycles = [self.index.cycles[int(i)] for i in chosen]
        wire: dict[str, dict[str, Any]] = {}
        for cycle in cycles:
            for address in cycle.pools:
                if address not in wire:
                    entry = self.store.get(address)
                    if entry is not None:
                        wire[address] = entry.as_wire()
        changed, self._changed = self._changed, set()
        self._jobs.put_nowait(
            BlockJob(
                pending.block_number,
                cycles,
                wire,
                self._converters({c.base_token for c in cycles}),
                pending.received_at,
                time.time(),
                changed,
                self.forks.epoch,
                self.forks.hashes.get(pending.block_number),
                pending.resync,
            )
        )

    def _pools_of(self, cycle_id: int) -> tuple[str, ...]:
        return self.index.cycles[cycle_id].pools

    def _converters(self, base_tokens: set[str]) -> dict[str, PoolState]:
        native = self.config.native_token
        states: dict[str, PoolState] = {}
        for token in base_tokens - {native}:
            for address in self.index.graph.pools_between(native, token):
                state = self.store.state(address)
                if state is not None:
                    states[address] = state
        return states

    # -- decision stage -------------------------------------------------------------------

    async def run_decisions(self) -> None:
        while True:
            job = await self._jobs.get()
            while not self._jobs.empty():  # behind: fold older batches into the newest
                job = merge_jobs(job, self._jobs.get_nowait())
                self.coalescer.mark([c.id for c in job.cycles], job.block_number)
            self._processing = True
            try:
                await self.process(job)
            except Exception:
                _log.exception("scanner.block.failed", block_number=job.block_number)
            finally:
                self._processing = False
                self._mark_hot_path()

    async def process(self, job: BlockJob) -> list[Opportunity]:
        """Evaluate one block's batch and publish what clears gas and the threshold."""
        block = job.block_number
        n = len(job.cycles)
        self.evaluations_by_block[block] = self.evaluations_by_block.get(block, 0) + n
        if len(self.evaluations_by_block) > 512:
            del self.evaluations_by_block[min(self.evaluations_by_block)]
        self.metrics.observe_arrival(job)
        started = time.perf_counter()
        gas_task = self._gas_tasks.get(block) or asyncio.ensure_future(self.gas.for_block(block))
        try:
            answers = await engine_api.evaluate(
                self.engine, job.cycles, job.wire.__getitem__, self.config.batch_max
            )
        except (ClientError, ValueError) as exc:
            self.stats.engine_errors += 1
            self.metrics.engine_errors.inc()
            if self.health["engine"].mark(False, str(exc)[:200]):
                _log.error("scanner.engine.lost", reason=str(exc)[:200])
            self.coalescer.release([c.id for c in job.cycles], block)
            self.evaluations_by_block[block] -= n
            return []
        if self.health["engine"].mark(True):
            _log.info("scanner.engine.recovered")
        self.stats.evaluations += n
        self.stats.evaluation_rate.add(n)
        self.metrics.evaluations.inc(n)
        self.metrics.stage_seconds.labels("engine").observe(time.perf_counter() - started)
        gas = await gas_task
        self.metrics.stage_seconds.labels("gas").observe(time.perf_counter() - started)
        if gas is None:
            self.stats.rejected_no_gas_price += 1
            return []
        self.gas.note_used(gas)
        ctx = GasContext(
            self.index.graph,
            job.converters,
            self.config.native_token,
            self.config.units,
            self.config.min_profit,
        )
        drafts: list[Draft] = []
        for cycle, answer in zip(job.cycles, answers, strict=True):
            if isinstance(answer, engine_api.CycleQuote):
                d = draft(cycle, answer, gas, ctx)
                if d is None:
                    self.stats.rejected_unprofitable += 1
                else:
                    drafts.append(d)
        decided = time.perf_counter()
        deciding = asyncio.ensure_future(
            self.policy.actions([policy_state(d, gas) for d in drafts])
        )
        try:
            prepared = await self.publication.prepare(job, drafts, ctx)
        except BaseException:  # cancelled (shutdown) or failed: the policy's call with it
            deciding.cancel()
            raise
        actions = await deciding
        self.metrics.stage_seconds.labels("decide").observe(time.perf_counter() - decided)
        return await self.publication.publish(job, drafts, prepared, list(actions), ctx)
