"""The devnet for ingest's chain tests: the session's `devnet` fixture (titan_devnet.testing)
when loaded, else one started here for the session. `chain` wraps either with what the tests
need: mining, snapshots/reverts, market-flow steps and V3 liquidity changes."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import socket
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.logs import DISCARD

from titan_devnet.chain import Chain
from titan_devnet.flow import MarketFlow
from titan_ingest.chain.config import ChainConfig, PoolMeta
from titan_ingest.chain.rpc import RpcClient
from titan_ingest.settings import IngestSettings
from titan_ingest.snapshot.reader import SnapshotReader
from titan_ingest.state.pools import PoolEntry
from titan_ingest.sync.pipeline import IngestPipeline

FAR_FUTURE = 2**40
V3_SPACING = {500: 10, 3000: 60, 10000: 200}
# Distinct gas limits: after evm_revert, anvil may never mine a transaction identical to one
# sent before it.
_gas = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Position:
    token_id: int
    lower: int
    upper: int


class DevChain:
    def __init__(
        self, w3: Web3, manifest: dict[str, Any], manifest_path: Path, rpc_url: str, ws_url: str
    ) -> None:
        self.w3 = w3
        self.manifest_path = manifest_path
        self.manifest = manifest
        self.rpc_url = rpc_url
        self.ws_url = ws_url
        self.chain = Chain(w3)
        self.flow = MarketFlow(w3, manifest, seed=7)
        self.npm = self.chain.contract(
            "NonfungiblePositionManager", manifest["contracts"]["v3_position_manager"]
        )
        self.deployer = manifest["deployer"]
        self._batch: list[tuple[str, Any]] | None = None  # sent, not mined yet (one_block)

    def rpc(self, method: str, *params: Any) -> Any:
        return self.chain.rpc(method, *params)

    @property
    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def latest(self) -> tuple[int, str]:
        """The newest block's number and hash, read together."""
        block = self.w3.eth.get_block("latest")
        return int(block["number"]), "0x" + bytes(block["hash"]).hex()

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.rpc("evm_mine")

    def mine_pending(self) -> None:
        """Mine until no transaction waits (a busy block may not hold them all)."""
        for _ in range(50):
            status = self.rpc("txpool_status")
            if int(status["pending"], 16) == 0:
                return
            self.rpc("evm_mine")
        raise RuntimeError("transactions still pending after 50 blocks")

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        assert self.rpc("evm_revert", snapshot_id) is True
        # anvil may keep reverted-away transactions pending: drop them (as titan_devnet does).
        self.rpc("anvil_dropAllTransactions")

    @contextlib.contextmanager
    def background_flow(self, pause: float = 0.05) -> Iterator[MarketFlow]:
        """The market flow in a thread (automine: a block per swap) while the block is open."""
        flow = MarketFlow(Web3(Web3.HTTPProvider(self.rpc_url)), self.manifest, seed=11)
        stop = threading.Event()

        def run() -> None:
            while not stop.is_set():
                flow.step()
                stop.wait(pause)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            yield flow
        finally:
            stop.set()
            thread.join(timeout=30)

    def flow_blocks(self, blocks: int) -> int:
        """Exactly `blocks` blocks of market flow (each step's swaps, then one mined block;
        what a busy block leaves waits for the next, or `mine_pending`)."""
        swaps = 0
        for _ in range(blocks):
            swaps += len(self.flow.step())
            self.mine()
        return swaps

    def v3_pools(self) -> list[dict[str, Any]]:
        return [p for p in self.manifest["pools"] if p["kind"] == "v3"]

    def mint_position(self, pool: dict[str, Any], width: int, amount: int = 10**15) -> Position:
        """A new V3 position of `width` spacings around the current tick."""
        spacing = pool["tick_spacing"]
        tick = self.chain.contract("UniswapV3Pool", pool["address"]).functions.slot0().call()[1]
        lower = (tick // spacing - width) * spacing
        upper = (tick // spacing + width) * spacing
        params = (pool["token0"], pool["token1"], pool["fee"], lower, upper, amount, amount,
                  0, 0, self.deployer, FAR_FUTURE)  # fmt: skip
        tx_hash = self.chain.send(self.npm, "mint", params, sender=self.deployer, gas=1_000_000)
        self.mine_pending()
        receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        assert receipt["status"] == 1, "mint reverted"
        (event,) = self.npm.events.IncreaseLiquidity().process_receipt(receipt, errors=DISCARD)
        assert event["args"]["liquidity"] > 0
        return Position(int(event["args"]["tokenId"]), lower, upper)

    def _send(self, contract: Any, fn: str, *args: Any, gas: int = 1_000_000) -> None:
        gas += next(_gas)
        tx_hash = self.chain.send(contract, fn, *args, sender=self.deployer, gas=gas)
        if self._batch is not None:
            self._batch.append((fn, tx_hash))
            return
        self.mine_pending()
        assert self.w3.eth.get_transaction_receipt(tx_hash)["status"] == 1, f"{fn} reverted"

    @contextlib.contextmanager
    def one_block(self) -> Iterator[None]:
        """The transactions sent in the block go into one block, mined at its end."""
        self.rpc("evm_setAutomine", False)
        self._batch = []
        try:
            yield
            self.rpc("evm_mine")
            blocks = set()
            for fn, tx_hash in self._batch:
                receipt = self.w3.eth.get_transaction_receipt(tx_hash)
                assert receipt["status"] == 1, f"{fn} reverted"
                blocks.add(receipt["blockNumber"])
            assert len(blocks) == 1, f"mined over blocks {sorted(blocks)}"
        finally:
            self._batch = None
            self.rpc("evm_setAutomine", True)

    @contextlib.contextmanager
    def roomy_blocks(self) -> Iterator[None]:
        """Blocks large enough to deploy a pool (the flow's blocks are kept small)."""
        limit = int(self.w3.eth.get_block("latest")["gasLimit"])
        self.rpc("evm_setBlockGasLimit", hex(30_000_000))
        try:
            yield
        finally:
            self.rpc("evm_setBlockGasLimit", hex(limit))

    def _raw(self, token: dict[str, Any], usd: float) -> int:
        return int(usd / token["usd"] * 10 ** token["decimals"])

    def new_v2_pair(self, dex: str) -> str:
        """A pair the manifest does not have, made on `dex` by its router (which calls the
        factory's createPair) with liquidity, then swapped; its address."""
        config = next(d for d in self.manifest["dexes"] if d["name"] == dex)
        have = {
            frozenset((p["token0"], p["token1"])) for p in self.manifest["pools"] if p["dex"] == dex
        }
        a, b = next(
            (a, b)
            for a, b in itertools.combinations(self.manifest["tokens"], 2)
            if frozenset((a["address"], b["address"])) not in have
        )
        router = self.chain.contract("UniswapV2Router02", config["router"])
        with self.roomy_blocks():
            self._send(router, "addLiquidity", a["address"], b["address"], self._raw(a, 50_000),
                       self._raw(b, 50_000), 0, 0, self.deployer, FAR_FUTURE,
                       gas=8_000_000)  # fmt: skip
        factory = self.chain.contract("UniswapV2Factory", config["factory"])
        pair = str(factory.functions.getPair(a["address"], b["address"]).call())
        path = [a["address"], b["address"]]
        self._send(router, "swapExactTokensForTokens", self._raw(a, 500), 0, path,
                   self.deployer, FAR_FUTURE)  # fmt: skip
        return pair

    def new_v3_pool(self, one_block: bool = False) -> str:
        """A V3 pool at a fee tier the manifest lacks for a pair: created and initialized
        through the position manager, a position minted, then swapped (all in one block when
        `one_block`); its address."""
        have = {(frozenset((p["token0"], p["token1"])), p["fee"]) for p in self.v3_pools()}
        a, b, fee = next(
            (a, b, fee)
            for a, b in itertools.combinations(self.manifest["tokens"], 2)
            for fee in V3_SPACING
            if (frozenset((a["address"], b["address"])), fee) not in have
        )
        t0, t1 = sorted((a, b), key=lambda t: int(t["address"], 16))
        price = t0["usd"] / t1["usd"] * 10 ** (t1["decimals"] - t0["decimals"])  # raw token1/token0
        spacing = V3_SPACING[fee]
        tick = math.floor(math.log(price) / math.log(1.0001))
        lower, upper = (tick // spacing - 20) * spacing, (tick // spacing + 20) * spacing
        params = (t0["address"], t1["address"], fee, lower, upper, self._raw(t0, 50_000),
                  self._raw(t1, 50_000), 0, 0, self.deployer, FAR_FUTURE)  # fmt: skip
        v3 = next(d for d in self.manifest["dexes"] if d["kind"] == "v3")
        router = self.chain.contract("SwapRouter", v3["router"])
        swap = (t0["address"], t1["address"], fee, self.deployer, FAR_FUTURE,
                self._raw(t0, 500), 0, 0)  # fmt: skip
        with self.roomy_blocks(), self.one_block() if one_block else contextlib.nullcontext():
            self._send(self.npm, "createAndInitializePoolIfNecessary", t0["address"],
                       t1["address"], fee, math.isqrt(int(price * 2**192)),
                       gas=8_000_000)  # fmt: skip
            self._send(self.npm, "mint", params)
            self._send(router, "exactInputSingle", swap)
        factory = self.chain.contract("UniswapV3Factory", self.manifest["contracts"]["v3_factory"])
        return str(factory.functions.getPool(t0["address"], t1["address"], fee).call())

    def burn_position(self, token_id: int, fraction: float = 1.0) -> None:
        liquidity = self.npm.functions.positions(token_id).call()[7]
        amount = liquidity * round(fraction * 1000) // 1000  # integers: floats round up
        params = (token_id, amount, 0, 0, FAR_FUTURE)
        self.npm.functions.decreaseLiquidity(params).call({"from": self.deployer})  # reasons
        tx_hash = self.chain.send(
            self.npm, "decreaseLiquidity", params, sender=self.deployer, gas=1_000_000
        )
        self.mine_pending()
        assert self.w3.eth.get_transaction_receipt(tx_hash)["status"] == 1, "burn reverted"


@pytest.fixture(scope="session")
def chain(request: pytest.FixtureRequest) -> Iterator[DevChain]:
    try:
        devnet = request.getfixturevalue("devnet")
    except pytest.FixtureLookupError:
        devnet = None
    if devnet is not None:
        yield DevChain(
            devnet.w3, devnet.manifest, devnet.manifest_path, devnet.rpc_url, devnet.ws_url
        )
        return
    from titan_devnet import devnet as devnet_module

    with tempfile.TemporaryDirectory() as tmp:
        running = devnet_module.start(_free_port(), manifest_path=Path(tmp) / "manifest.json")
        try:
            m = running.manifest
            yield DevChain(running.w3, m, running.manifest_path, m["rpc_url"], m["ws_url"])
        finally:
            running.stop()


@pytest.fixture
def reverted(chain: DevChain) -> Iterator[DevChain]:
    """The chain, put back as it was after the test (other suites share it)."""
    automine = bool(chain.rpc("anvil_getAutomine"))
    snapshot_id = chain.snapshot()
    try:
        yield chain
    finally:
        with contextlib.suppress(Exception):
            chain.revert(snapshot_id)
        chain.rpc("evm_setAutomine", automine)


@pytest.fixture
def stepped(reverted: DevChain) -> DevChain:
    """The chain mined block by block by the test (automine off), put back after."""
    reverted.rpc("evm_setAutomine", False)
    return reverted


def settings_for(
    chain: DevChain, ws: bool = True, ws_url: str | None = None, **overrides: Any
) -> IngestSettings:
    return IngestSettings(
        ingest_rpc_urls=[chain.rpc_url],
        ingest_ws_urls=[ws_url or chain.ws_url],
        use_websockets=ws,
        real_data_polling_interval=0.1,
        ingest_progress=False,
        ingest_reconnect_min_delay=0.05,
        ingest_reconnect_max_delay=0.5,
        devnet_manifest=chain.manifest_path,
        **overrides,
    )


@pytest.fixture
def devnet_settings(chain: DevChain) -> Callable[..., IngestSettings]:
    """Settings for the devnet: `devnet_settings(ws=True, **overrides)`."""
    return lambda **kw: settings_for(chain, **kw)


@pytest.fixture
async def ingest(chain: DevChain) -> AsyncIterator[Callable[..., Awaitable[IngestPipeline]]]:
    """`await ingest(ws=True, ws_url=None, **settings)`: a started, synced pipeline."""
    started: list[IngestPipeline] = []

    async def start(ws: bool = True, ws_url: str | None = None, **overrides: Any) -> IngestPipeline:
        settings = settings_for(chain, ws, ws_url, **overrides)
        pipeline = IngestPipeline(settings, ChainConfig.from_manifest(chain.manifest))
        started.append(pipeline)
        await pipeline.start()
        async with asyncio.timeout(60):
            await pipeline.wait_synced()
        return pipeline

    yield start
    for pipeline in started:
        try:
            await asyncio.wait_for(pipeline.stop(), 20)
        except TimeoutError:
            for task in asyncio.all_tasks():  # say where it hangs, then fail
                task.print_stack(limit=10)
            raise


Frozen = dict[str, tuple[dict[str, Any], int]]  # pool -> (wire state, block number)


async def settle(chain: DevChain, pipeline: IngestPipeline) -> tuple[int, Frozen]:
    """Mine what waits and two empty blocks (every earlier log is then surely sent), wait
    until the pipeline has applied the chain's head; that head and the pipeline's state right
    then. The head is the chain's newest block when the pipeline has it, which is the one mined
    here unless something else mined meanwhile (said on stdout, with what it mined)."""
    await asyncio.to_thread(chain.mine_pending)
    await asyncio.to_thread(chain.mine, 2)
    mined = chain.head
    store = pipeline.store
    try:
        async with asyncio.timeout(30):
            while True:
                head, head_hash = await asyncio.to_thread(chain.latest)
                if (
                    store.head == head
                    and store.block_hash(head) == head_hash
                    and pipeline.queue.empty()
                    and pipeline.sequencer.handling_since is None
                ):
                    break
                await asyncio.sleep(0.02)
    except TimeoutError:
        where, since = _where(chain, pipeline), _mined_since(chain, mined)
        raise AssertionError(
            f"not settled after block {mined}: {where}; mined since: {since}"
        ) from None
    # No await from the check to here: the state is the one at `head`.
    frozen = {a: (e.state_wire(), e.block_number) for a, e in store.pools.items()}
    if head != mined:
        print(
            f"settle: the chain moved on from block {mined} to {head}: {_mined_since(chain, mined)}"
        )
    return head, frozen


def _where(chain: DevChain, pipeline: IngestPipeline) -> str:
    """Where the pipeline stands against the chain, for a test that waited in vain."""
    store, stats = pipeline.store, pipeline.stats
    recent = {n: store.block_hash(n) for n in range(store.head - 2, store.head + 1)}
    node = {n: "0x" + bytes(chain.w3.eth.get_block(n)["hash"]).hex() for n in recent if n >= 0}
    return (
        f"chain head {chain.head}, txpool {chain.rpc('txpool_status')}; store head {store.head}"
        f" complete {store.complete}, hashes {recent} (node {node}); queue"
        f" {pipeline.queue.qsize()}, handling since {pipeline.sequencer.handling_since}, due"
        f" {pipeline.sequencer.due}; stats {stats}"
    )


def _mined_since(chain: DevChain, head: int) -> list[str]:
    """The transactions of the blocks after `head`: who sent what to whom."""
    out = []
    for number in range(head + 1, chain.head + 1):
        for tx in chain.w3.eth.get_block(number, full_transactions=True)["transactions"]:
            data = bytes(tx["input"])[:4].hex()
            out.append(f"{number}: {tx['from']} -> {tx['to']} 0x{data} nonce {tx['nonce']}")
    return out


async def chain_state(chain: DevChain, metas: list[PoolMeta], block: int) -> list[PoolEntry]:
    """Every pool read from the chain at `block` with per-function batches (the oracle)."""
    rpc = RpcClient([chain.rpc_url])
    try:
        header = await rpc.header(block)
        return await SnapshotReader(rpc).read(metas, block, header.hash)
    finally:
        await rpc.close()


async def differences(
    chain: DevChain, pipeline: IngestPipeline, block: int, frozen: Frozen
) -> tuple[int, int, list[str]]:
    """(pools, fields compared, differences) between the pipeline and the chain at `block`."""
    truth = await chain_state(chain, pipeline.metas, block)
    assert len(truth) == len(pipeline.metas) >= len(chain.manifest["pools"])
    fields = 0
    diffs: list[str] = []
    for expected in truth:
        have, got_block = frozen[expected.meta.address]
        want = expected.state_wire()
        for key, value in want.items():
            count = len(value) if key == "ticks" else 1
            fields += count
            if have.get(key) != value:
                diffs.append(f"{expected.meta.address} {key}: chain {value} ingest {have.get(key)}")
        if got_block > block:
            diffs.append(f"{expected.meta.address} is at block {got_block} > {block}")
    return len(truth), fields, diffs


@dataclass(frozen=True)
class Oracle:
    """The chain as the reference for a pipeline: `settle`, `state_at`, `differences`."""

    chain: DevChain

    async def settle(self, pipeline: IngestPipeline) -> tuple[int, Frozen]:
        return await settle(self.chain, pipeline)

    async def state_at(self, metas: list[PoolMeta], block: int) -> list[PoolEntry]:
        return await chain_state(self.chain, metas, block)

    async def differences(
        self, pipeline: IngestPipeline, block: int, frozen: Frozen
    ) -> tuple[int, int, list[str]]:
        return await differences(self.chain, pipeline, block, frozen)


@pytest.fixture
def oracle(chain: DevChain) -> Oracle:
    return Oracle(chain)


@pytest.fixture
def compare(chain: DevChain) -> Callable[[IngestPipeline], Awaitable[int]]:
    """`await compare(pipeline)`: settle, then assert zero differences with the chain."""

    async def run(pipeline: IngestPipeline) -> int:
        block, frozen = await settle(chain, pipeline)
        pools, fields, diffs = await differences(chain, pipeline, block, frozen)
        print(f"compared {pools} pools, {fields} fields at block {block}: {len(diffs)} differences")
        assert not diffs, "\n".join(diffs[:20])
        return block

    return run


@pytest.fixture
def chain_logs(chain: DevChain) -> Callable[[IngestPipeline, int, int], Awaitable[int]]:
    """`await chain_logs(pipeline, lo, hi)`: how many logs of the pipeline's pools (its
    events) the chain has in blocks lo..hi."""

    async def count(pipeline: IngestPipeline, lo: int, hi: int) -> int:
        rpc = RpcClient([chain.rpc_url])
        try:
            query = {**pipeline.backfill.log_filter(), "fromBlock": hex(lo), "toBlock": hex(hi)}
            return len(await rpc.get_logs(query))
        finally:
            await rpc.close()

    return count
