"""SqrtPriceMath.sol (v3-core `contracts/libraries/SqrtPriceMath.sol`)."""

from __future__ import annotations

from titan_common.pool_math.errors import MAX_UINT160, MAX_UINT256, MathOverflow
from titan_common.pool_math.v3.full_math import div_rounding_up, mul_div, mul_div_rounding_up

__all__ = [
    "get_amount0_delta",
    "get_amount1_delta",
    "get_next_sqrt_price_from_amount0_rounding_up",
    "get_next_sqrt_price_from_amount1_rounding_down",
    "get_next_sqrt_price_from_input",
    "get_next_sqrt_price_from_output",
]

Q96 = 1 << 96


def get_next_sqrt_price_from_amount0_rounding_up(
    sqrt_px96: int, liquidity: int, amount: int, add: bool
) -> int:
    if amount == 0:
        return sqrt_px96
    numerator1 = liquidity << 96
    product = amount * sqrt_px96
    if add:
        if product <= MAX_UINT256:
            denominator = numerator1 + product
            if denominator <= MAX_UINT256:
                return mul_div_rounding_up(numerator1, sqrt_px96, denominator) & MAX_UINT160
        step = numerator1 // sqrt_px96 + amount
        if step > MAX_UINT256:
            raise MathOverflow()
        return div_rounding_up(numerator1, step) & MAX_UINT160
    if product > MAX_UINT256 or numerator1 <= product:
        raise MathOverflow()
    result = mul_div_rounding_up(numerator1, sqrt_px96, numerator1 - product)
    if result > MAX_UINT160:
        raise MathOverflow()
    return result


def get_next_sqrt_price_from_amount1_rounding_down(
    sqrt_px96: int, liquidity: int, amount: int, add: bool
) -> int:
    if add:
        if amount <= MAX_UINT160:
            if liquidity == 0:
                raise MathOverflow("division by zero")
            quotient = (amount << 96) // liquidity
        else:
            quotient = mul_div(amount, Q96, liquidity)
        result = sqrt_px96 + quotient
        if result > MAX_UINT160:
            raise MathOverflow()
        return result
    if amount <= MAX_UINT160:
        quotient = div_rounding_up(amount << 96, liquidity)
    else:
        quotient = mul_div_rounding_up(amount, Q96, liquidity)
    if sqrt_px96 <= quotient:
        raise MathOverflow()
    return sqrt_px96 - quotient


def get_next_sqrt_price_from_input(
    sqrt_px96: int, liquidity: int, amount_in: int, zero_for_one: bool
) -> int:
    if sqrt_px96 <= 0 or liquidity <= 0:
        raise MathOverflow()
    if zero_for_one:
        return get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_in, True)
    return get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_in, True)


def get_next_sqrt_price_from_output(
    sqrt_px96: int, liquidity: int, amount_out: int, zero_for_one: bool
) -> int:
    if sqrt_px96 <= 0 or liquidity <= 0:
        raise MathOverflow()
    if zero_for_one:
        return get_next_sqrt_price_from_amount1_rounding_down(
            sqrt_px96, liquidity, amount_out, False
        )
    return get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_out, False)


def get_amount0_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    numerator1 = liquidity << 96
    numerator2 = sqrt_b - sqrt_a
    if sqrt_a <= 0:
        raise MathOverflow()
    if round_up:
        return div_rounding_up(mul_div_rounding_up(numerator1, numerator2, sqrt_b), sqrt_a)
    return mul_div(numerator1, numerator2, sqrt_b) // sqrt_a


def get_amount1_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if round_up:
        return mul_div_rounding_up(liquidity, sqrt_b - sqrt_a, Q96)
    return mul_div(liquidity, sqrt_b - sqrt_a, Q96)
