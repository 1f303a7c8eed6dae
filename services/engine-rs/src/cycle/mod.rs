//! Paths of hops: the output for an input, and the input that maximises profit (sizing, in
//! [`search`]).

use alloy_primitives::{I256, U256};

use crate::math::v3::{swap, V3State};
use crate::math::{v2, MathError};

mod search;

/// A pool as the math needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pool {
    V2 { reserve0: U256, reserve1: U256, fee_bps: u32 },
    V3(V3State),
}

/// One hop: a pool and a direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub pool: Pool,
    pub zero_for_one: bool,
}

impl Hop {
    /// The output of this hop for an exact input.
    pub fn amount_out(&self, amount_in: U256) -> Result<U256, MathError> {
        match &self.pool {
            Pool::V2 { reserve0, reserve1, fee_bps } => {
                let (r_in, r_out) =
                    if self.zero_for_one { (*reserve0, *reserve1) } else { (*reserve1, *reserve0) };
                v2::get_amount_out(amount_in, r_in, r_out, *fee_bps)
            }
            Pool::V3(state) => {
                let specified = I256::try_from(amount_in).map_err(|_| MathError::MathOverflow)?;
                let r = swap(state, self.zero_for_one, specified, None)?;
                let (paid, got) =
                    if self.zero_for_one { (r.amount0, r.amount1) } else { (r.amount1, r.amount0) };
                if paid != specified {
                    return Err(MathError::InsufficientLiquidity);
                }
                Ok((-got).into_raw())
            }
        }
    }
}

impl Hop {
    /// The input this hop needs for an exact output (the contracts' exact-output amounts).
    pub fn amount_in(&self, amount_out: U256) -> Result<U256, MathError> {
        match &self.pool {
            Pool::V2 { reserve0, reserve1, fee_bps } => {
                let (r_in, r_out) =
                    if self.zero_for_one { (*reserve0, *reserve1) } else { (*reserve1, *reserve0) };
                v2::get_amount_in(amount_out, r_in, r_out, *fee_bps)
            }
            Pool::V3(state) => {
                let wanted = I256::try_from(amount_out).map_err(|_| MathError::MathOverflow)?;
                let r = swap(state, self.zero_for_one, -wanted, None)?;
                let (paid, got) =
                    if self.zero_for_one { (r.amount0, r.amount1) } else { (r.amount1, r.amount0) };
                if -got != wanted {
                    return Err(MathError::InsufficientLiquidity);
                }
                Ok(paid.into_raw())
            }
        }
    }
}

/// Amounts of one sized path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathAmounts {
    pub amount_in: U256,
    pub amount_out: U256,
    /// (amount_in, amount_out) per hop.
    pub hops: Vec<(U256, U256)>,
}

impl PathAmounts {
    /// amount_out - amount_in.
    pub fn gross_profit(&self) -> I256 {
        let out = I256::from_raw(self.amount_out);
        let input = I256::from_raw(self.amount_in);
        out.saturating_sub(input)
    }
}

/// The amounts along a path for an exact input.
pub fn path_amounts(hops: &[Hop], amount_in: U256) -> Result<PathAmounts, MathError> {
    let mut amounts = Vec::with_capacity(hops.len());
    let mut x = amount_in;
    for hop in hops {
        let out = hop.amount_out(x)?;
        amounts.push((x, out));
        x = out;
    }
    Ok(PathAmounts { amount_in, amount_out: x, hops: amounts })
}

/// The profit-maximising input and its amounts; `None` when no input makes a profit.
pub fn optimal(hops: &[Hop]) -> Result<Option<PathAmounts>, MathError> {
    if hops.is_empty() {
        return Err(MathError::InsufficientLiquidity);
    }
    let best = search::best_input(hops);
    best.map(|x| path_amounts(hops, x)).transpose()
}
