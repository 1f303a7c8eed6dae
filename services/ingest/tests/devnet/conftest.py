"""The devnet for ingest's chain tests: the session's `devnet` fixture (titan_devnet.testing)
when loaded, else one started here for the session. `chain` wraps either in a `DevChain`
(ingest_chain.py); `oracle` and `settle` compare a pipeline with the chain."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from titan_devnet.anvil import free_port
from titan_ingest.chain.config import ChainConfig, PoolMeta
from titan_ingest.chain.rpc import RpcClient
from titan_ingest.settings import IngestSettings
from titan_ingest.snapshot.reader import SnapshotReader
from titan_ingest.state.pools import PoolEntry
from titan_ingest.sync.pipeline import IngestPipeline

# The tests run in importlib mode, where a test folder is no package: its helper module is
# imported by its own (unique) name from here, as tests/chaos does.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_chain import DevChain, block_hash


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
        running = devnet_module.start(free_port(), manifest_path=Path(tmp) / "manifest.json")
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
    node = {n: block_hash(chain.w3.eth.get_block(n)) for n in recent if n >= 0}
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
