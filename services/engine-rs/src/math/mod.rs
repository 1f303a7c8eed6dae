//! Exact pool math, ported from the Uniswap contracts. State in, numbers out: no I/O.

pub mod v2;
pub mod v3;

/// Why a swap cannot be computed: each variant is a contract revert (or a gap in the input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MathError {
    #[error("insufficient input amount")]
    InsufficientInputAmount,
    #[error("insufficient output amount")]
    InsufficientOutputAmount,
    #[error("insufficient liquidity")]
    InsufficientLiquidity,
    #[error("reserve above uint112")]
    ReserveOverflow,
    #[error("arithmetic overflow or division by zero")]
    MathOverflow,
    #[error("amount specified is zero")]
    ZeroAmount,
    #[error("price limit on the wrong side of the price or out of range")]
    InvalidPriceLimit,
    #[error("tick out of range")]
    TickOutOfRange,
    #[error("sqrt price out of range")]
    SqrtPriceOutOfRange,
    #[error("liquidity below zero or above uint128")]
    LiquidityOverflow,
    #[error("ticks unsorted, duplicated or not multiples of the tick spacing")]
    InvalidTickData,
    #[error("the swap would run past the ticks supplied")]
    InsufficientTickData,
    #[error("fee out of range")]
    InvalidFee,
}

impl MathError {
    /// Stable wire code, the same list as `titan_common.pool_math.errors`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InsufficientInputAmount => "insufficient_input_amount",
            Self::InsufficientOutputAmount => "insufficient_output_amount",
            Self::InsufficientLiquidity => "insufficient_liquidity",
            Self::ReserveOverflow => "reserve_overflow",
            Self::MathOverflow => "math_overflow",
            Self::ZeroAmount => "zero_amount",
            Self::InvalidPriceLimit => "invalid_price_limit",
            Self::TickOutOfRange => "tick_out_of_range",
            Self::SqrtPriceOutOfRange => "sqrt_price_out_of_range",
            Self::LiquidityOverflow => "liquidity_overflow",
            Self::InvalidTickData => "invalid_tick_data",
            Self::InsufficientTickData => "insufficient_tick_data",
            Self::InvalidFee => "invalid_fee",
        }
    }
}
