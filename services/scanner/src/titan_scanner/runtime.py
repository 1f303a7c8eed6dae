"""The running scanner: its parts built from settings, its background tasks, their teardown."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import httpx
import structlog
from eth_account import Account
from prometheus_client import CollectorRegistry

from titan_common.clients import AnswerClock, EngineClient, MlClient
from titan_common.redaction import redact_url
from titan_scanner.chain import ChainReader
from titan_scanner.history import OpportunityRepository
from titan_scanner.manifest import resolve_chain
from titan_scanner.pipeline.health import DependencyHealth
from titan_scanner.pipeline.metrics import ScannerMetrics
from titan_scanner.pipeline.scanner import Scanner, ScannerConfig
from titan_scanner.pipeline.source import IngestSource
from titan_scanner.pricing.forecast import GasForecaster
from titan_scanner.pricing.gas import GasUnits
from titan_scanner.settings import ScannerSettings
from titan_scanner.verify import Verifier
from titan_scanner.verify.paper import PaperTrader

_log = structlog.get_logger("scanner.runtime")


@dataclass
class Runtime:
    settings: ScannerSettings
    scanner: Scanner
    source: IngestSource
    engine: EngineClient
    ml: MlClient | None
    chain: ChainReader | None
    repository: OpportunityRepository
    health: DependencyHealth
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self, with_source: bool = True) -> None:
        spawn = asyncio.create_task
        try:
            if left := await self.repository.settle_pending():
                _log.info("scanner.history.pending_settled", skipped=left)
        except Exception as exc:  # the history may be down: the scanner starts all the same
            _log.error("scanner.history.settle_failed", reason=str(exc)[:200])
        if with_source:
            self.tasks.append(spawn(self.source.run(), name="scanner-source"))
        self.tasks.append(spawn(self.scanner.run_decisions(), name="scanner-decisions"))
        if self.scanner.proofs.verifier is not None:
            for i in range(2):
                self.tasks.append(spawn(self.scanner.proofs.run(), name=f"verify-{i}"))
        if self.scanner.paper is not None:
            self.tasks.append(spawn(self.scanner.paper.run(), name="paper-trades"))
        self.tasks.append(spawn(self._probe(), name="scanner-probe"))
        if self.settings.scanner_history_max_opportunities:
            self.tasks.append(spawn(self._prune_history(), name="history-retention"))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.engine.aclose()
        if self.ml is not None:
            await self.ml.aclose()
        if self.chain is not None:
            with contextlib.suppress(Exception):
                await self.chain.close()
        self.repository.close()

    async def _probe(self) -> None:
        """Health of each dependency every `SCANNER_PROBE_INTERVAL` seconds."""
        while True:
            await self.probe_once()
            await asyncio.sleep(self.settings.scanner_probe_interval)

    async def _prune_history(self) -> None:
        """Keep the newest `SCANNER_HISTORY_MAX_OPPORTUNITIES`, every
        `SCANNER_HISTORY_PRUNE_INTERVAL` seconds (the first time at start)."""
        keep = self.settings.scanner_history_max_opportunities
        while True:
            try:
                if gone := await self.repository.prune(keep):
                    self.scanner.stats.history_pruned += gone
                    _log.info("scanner.history.pruned", deleted=gone, kept=keep)
            except Exception as exc:  # the history may be down: try again next time
                _log.error("scanner.history.prune_failed", reason=str(exc)[:200])
            await asyncio.sleep(self.settings.scanner_history_prune_interval)

    async def probe_once(self) -> None:
        """A dependency that is up and answered the pipeline within the last interval is not
        asked again: on a busy chain the probes would only compete with the block's work on
        this event loop. One that is down is always asked."""
        engine_was_down = not self.health["engine"].up
        engine_up = self._heard_from("engine", self.engine) or await self.engine.health()
        self.health["engine"].mark(
            engine_up, f"no answer at {redact_url(self.settings.engine_url)}"
        )
        if engine_up and engine_was_down and len(self.scanner.index):
            _log.info("scanner.engine.recovered", rescan=len(self.scanner.index))
            self.scanner.rescan_all()
        if self.ml is not None:
            ml_up = self._heard_from("ml", self.ml) or await self.ml.health()
            if self.health["ml"].mark(ml_up, f"no answer at {redact_url(self.settings.ml_url)}"):
                _log.info("scanner.ml.changed", up=ml_up)
        source = self.source
        self.health["ingest"].mark(
            source.connected, source.fatal or source.last_error or "not connected yet"
        )
        if self.chain is not None:
            await self._probe_chain()
        await self._realised_base_fees()

    def _heard_from(self, name: str, client: AnswerClock) -> bool:
        """Up, and answered the pipeline within the probe interval: no probe needed."""
        return self.health[name].up and client.answered_within(self.settings.scanner_probe_interval)

    async def _probe_chain(self) -> None:
        assert self.chain is not None
        if self._heard_from("chain", self.chain.rpc):
            return
        try:
            await asyncio.wait_for(self.chain.block_number(), 2.0)
            self.health["chain"].mark(True)
        except Exception as exc:
            self.health["chain"].mark(False, f"{type(exc).__name__}: {exc}"[:200])

    async def _realised_base_fees(self) -> None:
        if self.chain is None or not self.health["chain"].up:
            return
        head = self.scanner.store.head_block
        for point in list(self.scanner.gas.points)[-20:]:
            if point["realized_base_fee_wei"] is None and point["block_number"] <= head:
                with contextlib.suppress(Exception):
                    fee = await self.chain.base_fee(point["block_number"])
                    point["realized_base_fee_wei"] = None if fee is None else str(fee)


def build_runtime(
    settings: ScannerSettings,
    registry: CollectorRegistry,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> Runtime:
    """Every part of the scanner, wired, nothing started."""
    transports = transports or {}
    names = resolve_chain(settings)
    base_tokens, native = names.base_tokens, names.native_token
    executor, verifier_account = names.executor, names.verifier

    health = DependencyHealth()
    for name, required in (("engine", True), ("ingest", True), ("database", True)):
        health.add(name, required)
    health["database"].mark(True)
    engine = EngineClient(
        settings.engine_url,
        timeout=settings.scanner_engine_timeout,
        transport=transports.get("engine"),
    )
    ml = None
    if settings.enable_ml_models:
        health.add("ml", required=False)
        ml = MlClient(
            settings.ml_url, timeout=settings.scanner_ml_timeout, transport=transports.get("ml")
        )
    chain = None
    if settings.use_real_data:
        health.add("chain", required=False)
        chain = ChainReader(names.rpc_url, settings.scanner_rpc_timeout)
    repository = OpportunityRepository.open(settings.database_url)
    forecaster = GasForecaster(ml, chain, settings.chain_id, lambda: health.is_up("ml"))
    verifier = None
    if chain is not None and executor and verifier_account and settings.scanner_verify != "off":
        verifier = Verifier(
            chain, executor, verifier_account, settings.scanner_verify_max_age_blocks
        )
    paper = _paper_trader(settings, chain, executor, verifier_account, repository)
    config = ScannerConfig(
        chain_id=settings.chain_id,
        base_tokens=base_tokens,
        native_token=native,
        units=GasUnits(
            settings.scanner_gas_base, settings.scanner_gas_v2_hop, settings.scanner_gas_v3_hop
        ),
        min_profit=settings.min_profit,
        max_cycles_per_pool=settings.scanner_max_cycles_per_pool,
        max_hops=settings.scanner_max_hops,
        shard=settings.shard,
        min_log_edge=settings.scanner_screen_min_log_edge,
        block_timeout=settings.scanner_block_timeout,
        batch_max=settings.scanner_engine_batch_max,
        max_evaluations_per_block=settings.scanner_max_evaluations_per_block,
        verify=settings.scanner_verify,
        verify_sample_rate=settings.scanner_verify_sample_rate,
        recent_limit=settings.scanner_recent_limit,
    )
    scanner = Scanner(
        config,
        engine,
        ml,
        forecaster,
        repository,
        verifier,
        ScannerMetrics.create(registry),
        health,
        paper,
    )
    headers = {"x-api-key": settings.api_key.get_secret_value()} if settings.api_key else {}
    source = IngestSource(
        settings.ingest_ws_url,
        scanner.on_update,
        settings.scanner_reconnect_min,
        settings.scanner_reconnect_max,
        headers,
        on_connect=scanner.on_connect,
        on_block=scanner.on_block,
        on_disconnect=scanner.on_disconnect,
    )
    _log.info(
        "scanner.runtime.built",
        base_tokens=list(base_tokens),
        executor=executor,
        verifier=verifier_account,
        shard=settings.scanner_shard,
        paper_account=None if paper is None else paper.account,
    )
    return Runtime(settings, scanner, source, engine, ml, chain, repository, health)


def _paper_trader(
    settings: ScannerSettings,
    chain: ChainReader | None,
    executor: str | None,
    verifier_account: str | None,
    repository: OpportunityRepository,
) -> PaperTrader | None:
    """The paper trader when `SCANNER_PAPER_TRADING` is on. On the devnet its account defaults
    to the verifier's (unlocked); off it, the settings demand a key, which signs here."""
    if not settings.scanner_paper_trading:
        return None
    if chain is None or executor is None:
        raise ValueError("SCANNER_PAPER_TRADING needs USE_REAL_DATA and an executor address")
    key = settings.scanner_paper_private_key
    signer = None if key is None else Account.from_key(key.get_secret_value())
    account = settings.scanner_paper_account or (
        signer.address if signer is not None else verifier_account
    )
    if account is None:
        raise ValueError("SCANNER_PAPER_TRADING needs SCANNER_PAPER_ACCOUNT (no devnet verifier)")
    return PaperTrader(chain, executor, account, signer, record=repository.save_paper_trade)
