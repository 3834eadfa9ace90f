//! A sweep's size, said before it starts: the point count, the shard's share and what the base
//! point implies (simulated MACs, point files), and the count above which one invocation needs a
//! confirmation ([`CONFIRM_POINTS`]).

use super::{Shard, Sweep};

/// Points one `fastbfp sweep` runs without `--shard` or `--yes`.
pub const CONFIRM_POINTS: usize = 10_000;

/// Bytes of one point file (pretty JSON), about.
pub const POINT_FILE_BYTES: u64 = 2_500;

/// Points of a `total`-point sweep in `shard`.
pub fn shard_points(total: usize, shard: Shard) -> usize {
    if shard.index >= total {
        0
    } else {
        (total - shard.index).div_ceil(shard.count)
    }
}

/// One line: the sweep's points, this shard's share, and an estimate from the base point (its
/// MACs per point over the options' iterations, and the point files' size).
pub fn size_estimate(sweep: &Sweep, shard: Shard) -> String {
    let total = sweep.len();
    let mine = shard_points(total, shard);
    let macs = sweep.workload.total_macs().saturating_mul(sweep.options.iterations as u64);
    let share = if shard.is_all() { String::new() } else { format!(", {mine} in shard {shard}") };
    format!(
        "{total} points{share}; at the base point's {:.3e} MACs each, about {:.3e} MACs to simulate and {:.1} MB of point files",
        macs as f64,
        macs as f64 * mine as f64,
        mine as f64 * POINT_FILE_BYTES as f64 / 1e6
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_share_the_points() {
        for total in [1, 7, 8, 1000] {
            for n in [1, 3, 8] {
                let sum: usize = (0..n).map(|i| shard_points(total, Shard::new(i, n).unwrap())).sum();
                assert_eq!(sum, total, "{total} points in {n} shards");
                let want = (0..total).filter(|p| p % n == 1 % n).count();
                assert_eq!(shard_points(total, Shard::new(1 % n, n).unwrap()), want);
            }
        }
    }
}
