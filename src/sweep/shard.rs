//! [`Shard`]: which points of a sweep one invocation runs (`--shard I/N` takes every point
//! whose index is I modulo N), for job arrays on a cluster.

use std::fmt;
use std::str::FromStr;

use super::error::SweepError;

/// Shard `index` of `count`: the points with `point index % count == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, `0..count`.
    pub index: usize,
    /// How many shards, >= 1.
    pub count: usize,
}

/// Most shards.
pub const MAX_SHARDS: usize = 1_000_000;

impl Shard {
    /// The whole sweep (shard 0 of 1).
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`, checked.
    pub fn new(index: usize, count: usize) -> Result<Shard, SweepError> {
        let bad = |reason: String| SweepError::Shard { given: format!("{index}/{count}"), reason };
        if !(1..=MAX_SHARDS).contains(&count) {
            return Err(bad(format!("N = {count} shards is out of range: allowed 1..={MAX_SHARDS}")));
        }
        if index >= count {
            return Err(bad(format!(
                "shard I = {index} is out of range: allowed 0..={} (shards count from 0)",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    /// Whether point `index` belongs to this shard.
    pub fn contains(&self, point: usize) -> bool {
        point % self.count == self.index
    }

    /// Whether this is the whole sweep.
    pub fn is_all(&self) -> bool {
        self.count == 1
    }
}

impl FromStr for Shard {
    type Err = SweepError;

    /// `I/N`, e.g. `0/8` (I counts from 0; SLURM's `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`
    /// with `--array=0-(N-1)`).
    fn from_str(s: &str) -> Result<Shard, SweepError> {
        let bad = |reason: &str| SweepError::Shard { given: s.to_string(), reason: reason.to_string() };
        let (i, n) = s.split_once('/').ok_or_else(|| bad("expected I/N, e.g. 0/8 (shard I of N, I from 0)"))?;
        let num = |t: &str| t.trim().parse::<usize>().map_err(|_| bad("I and N must be whole numbers, e.g. 0/8"));
        Shard::new(num(i)?, num(n)?).map_err(|e| match e {
            SweepError::Shard { reason, .. } => SweepError::Shard { given: s.to_string(), reason },
            other => other,
        })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        assert_eq!("1/4".parse::<Shard>().unwrap(), Shard { index: 1, count: 4 });
        assert!("4/4".parse::<Shard>().unwrap_err().to_string().contains("allowed 0..=3"));
        assert!("0/0".parse::<Shard>().is_err());
        assert!("1".parse::<Shard>().is_err());
        assert!("-1/2".parse::<Shard>().is_err());
        let s = Shard::new(2, 3).unwrap();
        assert!(s.contains(5) && !s.contains(4));
    }
}
