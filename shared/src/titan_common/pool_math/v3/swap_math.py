"""SwapMath.sol (v3-core `contracts/libraries/SwapMath.sol`): one step of a swap."""

from __future__ import annotations

from titan_common.pool_math.v3.full_math import mul_div, mul_div_rounding_up
from titan_common.pool_math.v3.sqrt_price_math import (
    get_amount0_delta,
    get_amount1_delta,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
)

__all__ = ["compute_swap_step"]


def compute_swap_step(
    sqrt_ratio_current_x96: int,
    sqrt_ratio_target_x96: int,
    liquidity: int,
    amount_remaining: int,
    fee_pips: int,
) -> tuple[int, int, int, int]:
    """(sqrt_ratio_next_x96, amount_in, amount_out, fee_amount) of one step."""
    current, target = sqrt_ratio_current_x96, sqrt_ratio_target_x96
    zero_for_one = current >= target
    exact_in = amount_remaining >= 0
    amount_in = amount_out = 0
    if exact_in:
        less_fee = mul_div(amount_remaining, 1_000_000 - fee_pips, 1_000_000)
        amount_in = (
            get_amount0_delta(target, current, liquidity, True)
            if zero_for_one
            else get_amount1_delta(current, target, liquidity, True)
        )
        if less_fee >= amount_in:
            nxt = target
        else:
            nxt = get_next_sqrt_price_from_input(current, liquidity, less_fee, zero_for_one)
    else:
        amount_out = (
            get_amount1_delta(target, current, liquidity, False)
            if zero_for_one
            else get_amount0_delta(current, target, liquidity, False)
        )
        if -amount_remaining >= amount_out:
            nxt = target
        else:
            nxt = get_next_sqrt_price_from_output(
                current, liquidity, -amount_remaining, zero_for_one
            )
    is_max = target == nxt
    if zero_for_one:
        if not (is_max and exact_in):
            amount_in = get_amount0_delta(nxt, current, liquidity, True)
        if not (is_max and not exact_in):
            amount_out = get_amount1_delta(nxt, current, liquidity, False)
    else:
        if not (is_max and exact_in):
            amount_in = get_amount1_delta(current, nxt, liquidity, True)
        if not (is_max and not exact_in):
            amount_out = get_amount0_delta(current, nxt, liquidity, False)
    if not exact_in and amount_out > -amount_remaining:
        amount_out = -amount_remaining
    if exact_in and nxt != target:
        fee_amount = amount_remaining - amount_in
    else:
        fee_amount = mul_div_rounding_up(amount_in, fee_pips, 1_000_000 - fee_pips)
    return nxt, amount_in, amount_out, fee_amount
