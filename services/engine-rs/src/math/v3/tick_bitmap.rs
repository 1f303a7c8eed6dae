//! TickBitmap.sol (v3-core `contracts/libraries/TickBitmap.sol`),
//! `nextInitializedTickWithinOneWord`, over the sorted list of initialized ticks a request
//! supplies instead of the pool's bitmap. Steps stop at 256-tick word boundaries as in the
//! contract, which matters for rounding.

use super::swap::Tick;
use super::tick_math::{MAX_TICK, MIN_TICK};

/// What lies at the tick a step ends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextTick {
    /// `ticks[i]`: its `liquidityNet` is crossed.
    Initialized(usize),
    /// Known not initialized (a word boundary inside the span supplied, or past the tick range).
    Uninitialized,
    /// Outside the span supplied: the swap must not cross it.
    Unknown,
}

/// `ticks.partition_point(below)`, walked from `cursor` when it holds the last answer: a swap
/// moves through the ticks in one direction, so that is a step or two, not a binary search.
fn partition_from(
    ticks: &[Tick],
    cursor: &mut Option<usize>,
    below: impl Fn(i32) -> bool,
) -> usize {
    let pos = match *cursor {
        None => ticks.partition_point(|t| below(t.index)),
        Some(mut pos) => {
            pos = pos.min(ticks.len());
            while pos > 0 && !below(ticks[pos - 1].index) {
                pos -= 1;
            }
            while pos < ticks.len() && below(ticks[pos].index) {
                pos += 1;
            }
            pos
        }
    };
    *cursor = Some(pos);
    pos
}

/// nextInitializedTickWithinOneWord over `ticks`, taken as complete only from their lowest to
/// their highest index: outside that span the nearest tick that could be initialized, unknown.
/// `cursor` carries the search position from one call to the next (`None` at first).
pub fn next_initialized_tick_within_one_word(
    ticks: &[Tick],
    cursor: &mut Option<usize>,
    tick: i32,
    tick_spacing: i32,
    lte: bool,
) -> (i32, NextTick) {
    let (lo, hi) = match (ticks.first(), ticks.last()) {
        (Some(a), Some(b)) => (a.index, b.index),
        _ => (i32::MAX, i32::MIN),
    };
    let compressed = tick.div_euclid(tick_spacing);
    // the nearest tick that could be initialized in this direction
    let nearest = if lte { compressed * tick_spacing } else { (compressed + 1) * tick_spacing };
    if !(MIN_TICK..=MAX_TICK).contains(&nearest) {
        return (nearest, NextTick::Uninitialized);
    }
    if nearest < lo || nearest > hi {
        return (nearest, NextTick::Unknown);
    }
    if lte {
        // ticks[0].index = lo <= nearest, so pos >= 1
        let pos = partition_from(ticks, cursor, |index| index <= nearest);
        let word_start = ((compressed >> 8) << 8) * tick_spacing;
        let found = ticks[pos - 1].index;
        if found >= word_start {
            (found, NextTick::Initialized(pos - 1))
        } else {
            (word_start, NextTick::Uninitialized)
        }
    } else {
        // nearest <= hi, so pos < len
        let pos = partition_from(ticks, cursor, |index| index < nearest);
        let word_end = ((((compressed + 1) >> 8) << 8) + 255) * tick_spacing;
        let found = ticks[pos].index;
        if found <= word_end {
            (found, NextTick::Initialized(pos))
        } else {
            (word_end, NextTick::Uninitialized)
        }
    }
}
