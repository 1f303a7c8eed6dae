//! Uniswap V3 math, one module per v3-core library, plus the pool's swap loop.

pub mod full_math;
pub mod sqrt_price_math;
pub mod swap;
pub mod swap_math;
pub mod swap_table;
pub mod tick_bitmap;
pub mod tick_math;

pub use swap::{swap, SwapResult, Tick, V3State};
pub use swap_table::{SwapTable, Swapped};
