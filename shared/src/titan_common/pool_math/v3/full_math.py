"""FullMath.sol (v3-core `contracts/libraries/FullMath.sol`) and UnsafeMath.divRoundingUp."""

from __future__ import annotations

from titan_common.pool_math.errors import MAX_UINT256, MathOverflow

__all__ = ["div_rounding_up", "mul_div", "mul_div_rounding_up"]


def mul_div(a: int, b: int, denominator: int) -> int:
    """floor(a*b/denominator) with a 512-bit intermediate; reverts on overflow or zero divisor."""
    if denominator == 0:
        raise MathOverflow("division by zero")
    result = (a * b) // denominator
    if result > MAX_UINT256:
        raise MathOverflow()
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """ceil(a*b/denominator); reverts on overflow or zero divisor."""
    result = mul_div(a, b, denominator)
    if (a * b) % denominator > 0:
        if result >= MAX_UINT256:
            raise MathOverflow()
        result += 1
    return result


def div_rounding_up(x: int, y: int) -> int:
    """UnsafeMath.divRoundingUp: ceil(x/y); the EVM gives 0 for y == 0."""
    if y == 0:
        return 0
    return x // y + (1 if x % y > 0 else 0)
