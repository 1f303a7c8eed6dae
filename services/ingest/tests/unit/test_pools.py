"""Pool state changes: each event applied as the contracts do."""

from titan_common.models import PoolStateV2, PoolStateV3
from titan_ingest.chain.abi import Burn, Mint, Swap, Sync
from titan_ingest.chain.config import PoolMeta
from titan_ingest.state.pools import PoolEntry, TickInfo

A = "0x" + "11" * 20
T0 = "0x" + "22" * 20
T1 = "0x" + "33" * 20


def v3(tick: int = 0, liquidity: int = 0) -> PoolEntry:
    meta = PoolMeta(A, "uniswap_v3", "v3", T0, T1, fee=3000, tick_spacing=60)
    return PoolEntry(meta, 10, -1, sqrt_price_x96=2**96, tick=tick, liquidity=liquidity)


def test_sync_sets_reserves() -> None:
    entry = PoolEntry(PoolMeta(A, "sushiswap", "v2", T0, T1), 1, -1)
    assert entry.apply(Sync(5, 7))
    assert (entry.reserve0, entry.reserve1) == (5, 7)
    assert not entry.apply(Swap(1, 1, 1))  # not a V2 event
    PoolStateV2.model_validate(entry.state_wire())


def test_swap_sets_price_tick_liquidity() -> None:
    entry = v3()
    entry.apply(Swap(123, 456, -789))
    assert (entry.sqrt_price_x96, entry.liquidity, entry.tick) == (123, 456, -789)


def test_mint_in_range_adds_active_liquidity_and_ticks() -> None:
    entry = v3(tick=0)
    entry.apply(Mint(-60, 60, 1000))
    assert entry.liquidity == 1000
    assert entry.ticks == {-60: TickInfo(1000, 1000), 60: TickInfo(1000, -1000)}


def test_range_condition_is_lower_inclusive_upper_exclusive() -> None:
    at_lower = v3(tick=-60)
    at_lower.apply(Mint(-60, 60, 10))
    assert at_lower.liquidity == 10
    at_upper = v3(tick=60)
    at_upper.apply(Mint(-60, 60, 10))
    assert at_upper.liquidity == 0
    below = v3(tick=-61)
    below.apply(Mint(-60, 60, 10))
    assert below.liquidity == 0


def test_burn_removes_ticks_when_gross_reaches_zero() -> None:
    entry = v3(tick=0)
    entry.apply(Mint(-60, 60, 1000))
    entry.apply(Mint(60, 120, 1000))  # tick 60: net -1000 + 1000 = 0, gross 2000: still a tick
    assert entry.ticks[60] == TickInfo(2000, 0)
    entry.apply(Burn(-60, 60, 400))
    assert entry.liquidity == 600
    assert entry.ticks[-60] == TickInfo(600, 600)
    entry.apply(Burn(-60, 60, 600))
    assert -60 not in entry.ticks
    assert entry.ticks[60] == TickInfo(1000, 1000)
    assert entry.liquidity == 0


def test_burn_of_zero_is_a_poke() -> None:
    entry = v3(tick=0)
    entry.apply(Mint(-60, 60, 5))
    before = entry.copy()
    entry.apply(Burn(-60, 60, 0))
    assert entry.ticks == before.ticks and entry.liquidity == before.liquidity


def test_wire_shape_is_the_shared_model_and_ticks_sorted() -> None:
    entry = v3(tick=0)
    entry.apply(Mint(120, 240, 7))
    entry.apply(Mint(-240, -120, 9))
    state = PoolStateV3.model_validate(entry.state_wire())
    assert [t.index for t in state.ticks] == [-240, -120, 120, 240]
    assert state.ticks[0].liquidity_net == 9


def test_copy_is_deep() -> None:
    entry = v3(tick=0)
    entry.apply(Mint(-60, 60, 5))
    copy = entry.copy()
    entry.apply(Mint(-60, 60, 5))
    assert copy.ticks[-60] == TickInfo(5, 5)
