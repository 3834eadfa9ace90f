//! On-chip im2col: which part of a convolution's feature map a tile of its lowered matrix
//! `A [K x B]` needs. The lowering is the one the workloads and the trainer use:
//! `k = (c * kh + dy) * kw + dx` and `b = (n * OH + oy) * OW + ox`. DRAM holds the feature map
//! once, channel by channel, image by image, row by row (`[C][N][H][W]`); the halo buffer
//! holds whole input rows, so a tile costs the input rows its output rows reach (with the
//! halo of `kh - stride` rows), times its channels, times the row width `W`.

use std::ops::Range;

use serde::Serialize;

/// The geometry of one convolution's lowering (per channel group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ConvWindow {
    /// Input channels (of one group).
    pub channels: usize,
    /// Kernel height and width.
    pub kernel: (usize, usize),
    /// Vertical stride.
    pub stride_h: usize,
    /// Vertical zero padding.
    pub pad_h: usize,
    /// Input height and width.
    pub input_hw: (usize, usize),
    /// Output height and width.
    pub output_hw: (usize, usize),
    /// Images in the batch.
    pub batch: usize,
}

/// Most (channel, input row) strips a tracker may hold: 2^28 bits = 32 MiB.
pub const MAX_STRIPS: u64 = 1 << 28;

impl ConvWindow {
    /// `K = channels * kh * kw`.
    pub fn k(&self) -> usize {
        self.channels * self.kernel.0 * self.kernel.1
    }

    /// `B = batch * OH * OW`.
    pub fn b(&self) -> usize {
        self.batch * self.output_hw.0 * self.output_hw.1
    }

    /// Channels that rows `k` of the lowered matrix read.
    pub fn channel_range(&self, k: Range<usize>) -> Range<usize> {
        let per = (self.kernel.0 * self.kernel.1).max(1);
        if k.is_empty() {
            return 0..0;
        }
        k.start / per..(k.end - 1) / per + 1
    }

    /// Calls `f` with each range of global input rows (`n * H + h`) that columns `b` of the
    /// lowered matrix read: one range per image, or one per output row when the stride is
    /// larger than the kernel (rows between windows are not read).
    pub fn input_rows(&self, b: Range<usize>, mut f: impl FnMut(Range<usize>)) {
        let (oh, ow) = self.output_hw;
        let (h, kh) = (self.input_hw.0, self.kernel.0);
        if b.is_empty() || ow == 0 || oh == 0 {
            return;
        }
        let (g0, g1) = (b.start / ow, (b.end - 1) / ow + 1); // global output rows [g0, g1)
        let mut g = g0;
        while g < g1 {
            let n = g / oh;
            let end = g1.min((n + 1) * oh);
            let (a, z) = (g - n * oh, end - 1 - n * oh); // output rows a..=z of image n
            let rows = |a: usize, z: usize| {
                let lo = (a * self.stride_h).saturating_sub(self.pad_h);
                let hi = (z * self.stride_h + kh).saturating_sub(self.pad_h).min(h);
                (lo < hi).then_some(n * h + lo..n * h + hi)
            };
            if kh >= self.stride_h {
                // Windows overlap or touch: one span of rows.
                rows(a, z).into_iter().for_each(&mut f);
            } else {
                // A stride beyond the kernel skips rows no window reads.
                (a..=z).filter_map(|o| rows(o, o)).for_each(&mut f);
            }
            g = end;
        }
    }

    /// Input rows (summed over images) that columns `b` read.
    pub fn input_row_count(&self, b: Range<usize>) -> u64 {
        let mut rows = 0u64;
        self.input_rows(b, |r| rows += r.len() as u64);
        rows
    }

    /// (channel, input row) strips of the whole feature map.
    pub fn strips(&self) -> u64 {
        self.channels as u64 * self.batch as u64 * self.input_hw.0 as u64
    }
}

/// The (channel, input row) strips of one feature map held on chip, to count what a fold
/// newly brings in: runs of consecutive channels that hold the same sorted disjoint spans of
/// global input rows (the folds of a tile share its rows, so there are few runs).
#[derive(Debug, Clone)]
pub struct FeatureMapTracker {
    win: ConvWindow,
    /// `(first channel, spans)`, sorted by channel, covering `0..channels`.
    runs: Vec<(usize, Vec<(usize, usize)>)>,
}

/// Adds `[lo, hi)` to the sorted disjoint `spans`; returns how many of its rows were new.
fn add_span(spans: &mut Vec<(usize, usize)>, lo: usize, hi: usize) -> u64 {
    let mut covered = 0usize;
    let (mut nlo, mut nhi) = (lo, hi);
    let mut i = 0;
    while i < spans.len() {
        let (a, b) = spans[i];
        if b < nlo || a > nhi {
            i += 1;
            continue;
        }
        // Overlapping or touching: count the overlap with the request, merge.
        covered += b.min(hi).saturating_sub(a.max(lo));
        nlo = nlo.min(a);
        nhi = nhi.max(b);
        spans.remove(i);
    }
    let at = spans.partition_point(|&(a, _)| a < nlo);
    spans.insert(at, (nlo, nhi));
    ((hi - lo) - covered) as u64
}

impl FeatureMapTracker {
    /// A tracker holding nothing; `None` when the feature map has more than [`MAX_STRIPS`].
    pub fn new(win: ConvWindow) -> Option<Self> {
        if win.strips() > MAX_STRIPS {
            return None;
        }
        Some(Self { win, runs: vec![(0, Vec::new())] })
    }

    /// The window it tracks.
    pub fn window(&self) -> &ConvWindow {
        &self.win
    }

    /// Splits the run containing channel `c` so that a run starts at `c`; returns its index.
    fn split_at(&mut self, c: usize) -> usize {
        let i = self.runs.partition_point(|r| r.0 <= c) - 1;
        if self.runs[i].0 == c {
            return i;
        }
        let spans = self.runs[i].1.clone();
        self.runs.insert(i + 1, (c, spans));
        i + 1
    }

    /// Marks the strips lowered-matrix rows `k` and columns `b` need as held; returns how many
    /// were not held before, and how many they need in all.
    pub fn bring(&mut self, k: Range<usize>, b: Range<usize>) -> (u64, u64) {
        let win = self.win;
        let channels = win.channel_range(k);
        if channels.is_empty() || channels.start >= win.channels {
            return (0, 0);
        }
        let end = channels.end.min(win.channels);
        let mut rows = Vec::new();
        win.input_rows(b, |r| rows.push(r));
        let first = self.split_at(channels.start);
        let last = if end < win.channels { self.split_at(end) } else { self.runs.len() };
        let (mut new, mut total) = (0u64, 0u64);
        for i in first..last {
            let width = self.runs.get(i + 1).map_or(win.channels, |r| r.0) - self.runs[i].0;
            for r in &rows {
                new += add_span(&mut self.runs[i].1, r.start, r.end) * width as u64;
                total += (r.len() * width) as u64;
            }
        }
        // Neighbouring runs that now hold the same rows become one.
        let lo = first.saturating_sub(1);
        let mut i = (last + 1).min(self.runs.len()) - 1;
        while i > lo {
            if self.runs[i].1 == self.runs[i - 1].1 {
                self.runs.remove(i);
            }
            i -= 1;
        }
        (new, total)
    }

    /// Forgets everything (the tile it belonged to left the chip).
    pub fn clear(&mut self) {
        self.runs.truncate(1);
        self.runs[0].1.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win3x3() -> ConvWindow {
        // 3x3 conv, stride 1, pad 1, 8x8 input, 2 images, 4 channels.
        ConvWindow { channels: 4, kernel: (3, 3), stride_h: 1, pad_h: 1, input_hw: (8, 8), output_hw: (8, 8), batch: 2 }
    }

    #[test]
    fn a_tile_of_output_rows_needs_its_rows_plus_the_halo() {
        let w = win3x3();
        // Output rows 2..4 of image 0 (b = 16..32) read input rows 1..5: 2 rows + 2 of halo.
        let mut got = Vec::new();
        w.input_rows(16..32, |r| got.push(r));
        assert_eq!(got, vec![1..5]);
        // The first row is padded above: output rows 0..2 read input rows 0..3.
        assert_eq!(w.input_row_count(0..16), 3);
        // Across the image boundary: output rows 7 of image 0 and 0 of image 1.
        got.clear();
        w.input_rows(56..72, |r| got.push(r));
        assert_eq!(got, vec![6..8, 8..10]);
        // K rows 0..9 are channel 0's window; 8..19 touch channels 0, 1 and 2.
        assert_eq!(w.channel_range(0..9), 0..1);
        assert_eq!(w.channel_range(8..19), 0..3);
        // A 1x1 kernel with stride 2 reads every other row.
        let s2 = ConvWindow { kernel: (1, 1), stride_h: 2, pad_h: 0, output_hw: (4, 4), ..w };
        got.clear();
        s2.input_rows(0..16, |r| got.push(r));
        assert_eq!(got, vec![0..1, 2..3, 4..5, 6..7]);
    }

    #[test]
    fn the_tracker_counts_each_strip_once_until_cleared() {
        let mut t = FeatureMapTracker::new(win3x3()).unwrap();
        // Two channels (k 0..18), output rows 0..4 of image 0: input rows 0..5, 2 x 5 strips.
        assert_eq!(t.bring(0..18, 0..32), (10, 10));
        // The next four output rows overlap by the halo (input rows 3 and 4): 2 x 3 new.
        assert_eq!(t.bring(0..18, 32..64), (6, 10));
        assert_eq!(t.bring(0..18, 0..64).0, 0);
        t.clear();
        assert_eq!(t.bring(0..9, 0..64), (8, 8));
    }

    #[test]
    fn the_tracker_agrees_with_a_plain_set_of_strips() {
        let w = ConvWindow { channels: 7, batch: 3, ..win3x3() };
        let mut t = FeatureMapTracker::new(w).unwrap();
        let mut set = std::collections::BTreeSet::new();
        let mut x = 11u64;
        for step in 0..400 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let k0 = (x >> 40) as usize % w.k();
            let k1 = (k0 + (x >> 20) as usize % 20 + 1).min(w.k());
            let b0 = (x >> 8) as usize % w.b();
            let b1 = (b0 + (x >> 30) as usize % 40 + 1).min(w.b());
            if step % 97 == 96 {
                t.clear();
                set.clear();
            }
            let mut want = (0, 0);
            w.input_rows(b0..b1, |r| {
                for c in w.channel_range(k0..k1) {
                    for row in r.clone() {
                        want.1 += 1;
                        want.0 += set.insert((c, row)) as u64;
                    }
                }
            });
            assert_eq!(t.bring(k0..k1, b0..b1), want, "step {step}");
        }
    }

    #[test]
    fn spans_merge_and_count_only_new_rows() {
        let mut s = Vec::new();
        assert_eq!(add_span(&mut s, 10, 20), 10);
        assert_eq!(add_span(&mut s, 30, 40), 10);
        assert_eq!(add_span(&mut s, 15, 35), 10); // 20..30 new
        assert_eq!(s, vec![(10, 40)]);
        assert_eq!(add_span(&mut s, 0, 50), 20);
        assert_eq!(add_span(&mut s, 50, 52), 2);
        assert_eq!(s, vec![(0, 52)]);
        // Against a plain set of rows, on a pseudo-random sequence.
        let (mut spans, mut set) = (Vec::new(), std::collections::BTreeSet::new());
        let mut x = 7u64;
        for _ in 0..500 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let lo = (x >> 33) as usize % 200;
            let hi = lo + (x >> 20) as usize % 17 + 1;
            let new = (lo..hi).filter(|r| set.insert(*r)).count() as u64;
            assert_eq!(add_span(&mut spans, lo, hi), new);
        }
    }
}
