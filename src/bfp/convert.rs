//! The BFP converter (DESIGN §2.1, §3): binary32 values in, groups along a chosen axis out,
//! with the per-lane LFSR noise of one conversion job and the FLUSHED / UNDERFLOW / SATURATED
//! counts. Also dequantisation back to binary32.

use rayon::prelude::*;
use serde::Serialize;

use super::{round_mantissa, BfpError, BfpFormat, ConvertSpec, ExpBase, LfsrJump, NoiseBank, Rounding};

/// The axis a group's `g` consecutive elements run along, in a `[rows, cols]` matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GroupAxis {
    /// Down a column: group `(q, c)` holds rows `q*g .. q*g+g` of column `c`.
    Dim0,
    /// Along a row: group `(r, q)` holds columns `q*g .. q*g+g` of row `r`.
    Dim1,
}

/// Elements the converter changed beyond rounding, counted per tensor (elements, not groups).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConvertFlags {
    /// Subnormal inputs read as zero.
    pub flushed: u64,
    /// Non-zero elements lost because their group fell below `E_base`.
    pub underflow: u64,
    /// Elements whose rounded magnitude was clamped to `2^m - 1`.
    pub saturated: u64,
}

impl ConvertFlags {
    /// Element-wise sum.
    pub fn add(&mut self, o: &ConvertFlags) {
        self.flushed += o.flushed;
        self.underflow += o.underflow;
        self.saturated += o.saturated;
    }
}

/// One conversion job: a tensor converted with one grouping (DESIGN §3).
#[derive(Debug, Clone, Copy)]
pub struct ConvertJob<'a> {
    /// The tensor's name, used in error messages.
    pub tensor: &'a str,
    /// Job number, in the order the run performs the jobs (seeds the LFSR lanes).
    pub job: u64,
    /// Format, rounding, exponent base and LFSR parameters.
    pub spec: ConvertSpec,
    /// The grouping axis.
    pub axis: GroupAxis,
}

/// A converted `[rows, cols]` matrix. `lane` is the index along the axis the groups do *not*
/// run along, `q` the group index along the grouping axis. Groups are stored in job order
/// (the row-major order of each group's first element), the order the converter produced
/// them and the order of the memory images.
#[derive(Debug, Clone, PartialEq)]
pub struct BfpMatrix {
    /// The group format.
    pub format: BfpFormat,
    /// Rows of the source matrix.
    pub rows: usize,
    /// Columns of the source matrix.
    pub cols: usize,
    /// The grouping axis.
    pub axis: GroupAxis,
    /// The tensor's exponent base `E_base`.
    pub e_base: i32,
    /// Number of lanes (`rows` for `Dim1`, `cols` for `Dim0`).
    pub lanes: usize,
    /// Groups per lane, `ceil(len / g)` of the grouping axis.
    pub groups: usize,
    /// Shared exponent `E` of each group, in job order.
    pub exps: Vec<i32>,
    /// Signed mantissas `(-1)^s M`, `g` per group, in job order.
    pub mants: Vec<i32>,
    /// The job's flag counts.
    pub flags: ConvertFlags,
}

impl BfpMatrix {
    /// Job-order index of group `(lane, q)`.
    #[inline]
    pub fn group_index(&self, lane: usize, q: usize) -> usize {
        match self.axis {
            GroupAxis::Dim1 => lane * self.groups + q,
            GroupAxis::Dim0 => q * self.lanes + lane,
        }
    }

    /// `(lane, q)` of the group at job-order index `idx`.
    #[inline]
    pub fn group_coords(&self, idx: usize) -> (usize, usize) {
        match self.axis {
            GroupAxis::Dim1 => (idx / self.groups, idx % self.groups),
            GroupAxis::Dim0 => (idx % self.lanes, idx / self.lanes),
        }
    }

    /// Shared exponent and signed mantissas of group `(lane, q)`.
    #[inline]
    pub fn group(&self, lane: usize, q: usize) -> (i32, &[i32]) {
        let g = self.format.group();
        let gi = self.group_index(lane, q);
        (self.exps[gi], &self.mants[gi * g..(gi + 1) * g])
    }

    /// The groups in job order, as `(lane, q)` pairs.
    pub fn job_order(&self) -> Vec<(usize, usize)> {
        (0..self.lanes * self.groups).map(|i| self.group_coords(i)).collect()
    }

    /// `(row, col)` of element `i` of group `(lane, q)`, or `None` for padding.
    #[inline]
    pub fn element_position(&self, lane: usize, q: usize, i: usize) -> Option<(usize, usize)> {
        let along = q * self.format.group() + i;
        match self.axis {
            GroupAxis::Dim1 => (along < self.cols).then_some((lane, along)),
            GroupAxis::Dim0 => (along < self.rows).then_some((along, lane)),
        }
    }

    /// The value of one element: `(-1)^s M 2^(E - (m - 1))`, exact in f64.
    #[inline]
    pub fn element_value(&self, exp: i32, mant: i32) -> f64 {
        mant as f64 * 2f64.powi(exp - (self.format.mantissa_bits() as i32 - 1))
    }

    /// Dequantises to a row-major `[rows, cols]` binary32 matrix (exact whenever representable).
    pub fn dequantize(&self) -> Vec<f32> {
        let g = self.format.group();
        let mut out = vec![0f32; self.rows * self.cols];
        for lane in 0..self.lanes {
            for q in 0..self.groups {
                let (e, ms) = self.group(lane, q);
                for (i, &m) in ms.iter().enumerate().take(g) {
                    if let Some((r, c)) = self.element_position(lane, q, i) {
                        out[r * self.cols + c] = self.element_value(e, m) as f32;
                    }
                }
            }
        }
        out
    }
}

/// Groups per parallel conversion task.
const TASK_GROUPS: usize = 2048;

/// What every group of one job shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupCtx {
    pub(crate) mantissa_bits: i64,
    pub(crate) max_mag: u64,
    pub(crate) e_base: i32,
    pub(crate) e_top: i32,
    pub(crate) rounding: Rounding,
    pub(crate) noise_bits: u32,
    /// Groups of 16 go through the AVX-512 group step ([`super::group16`]).
    simd16: bool,
}

impl GroupCtx {
    /// Converts one group (`vals` and `noise` of the group's length, padding already zero):
    /// the AVX-512 step for groups of 16 when the CPU has it, else [`Self::convert_group`].
    /// Same bits either way.
    #[inline]
    pub(crate) fn convert_any(&self, vals: &[f32], noise: &[u32], out: &mut [i32], flags: &mut ConvertFlags) -> i32 {
        #[cfg(target_arch = "x86_64")]
        if self.simd16 {
            if let (Ok(v), Ok(n), Ok(o)) =
                (<&[f32; 16]>::try_from(vals), <&[u32; 16]>::try_from(noise), <&mut [i32; 16]>::try_from(out))
            {
                // SAFETY: `simd16` is only set when `group16::available()` said the CPU has
                // the features the step is compiled for.
                return unsafe { super::group16::convert16(self, v, n, o, flags) };
            }
            unreachable!("simd16 is set for groups of 16 only");
        }
        self.convert_group(vals, noise, out, flags)
    }

    /// Converts one group of `vals` (padding already zero) with this group's lane noise;
    /// writes the signed mantissas, returns the shared exponent `E`.
    #[inline]
    pub(crate) fn convert_group(&self, vals: &[f32], noise: &[u32], out: &mut [i32], flags: &mut ConvertFlags) -> i32 {
        // Exponent comparator tree: the largest biased exponent of the normal elements.
        let mut max_field = 0u32;
        for &x in vals {
            let b = x.to_bits();
            let field = (b >> 23) & 0xFF;
            max_field = max_field.max(field);
            flags.flushed += (field == 0 && b & 0x7FFF_FFFF != 0) as u64;
        }
        out.iter_mut().for_each(|m| *m = 0);
        if max_field == 0 {
            return self.e_base; // all zeros: E = E_base, M = 0
        }
        let group_e = max_field as i32 - 127;
        if group_e < self.e_base {
            flags.underflow += vals.iter().filter(|x| (x.to_bits() >> 23) & 0xFF != 0).count() as u64;
            return self.e_base;
        }
        let e = group_e.min(self.e_top);
        for (i, &x) in vals.iter().enumerate() {
            let b = x.to_bits();
            let field = (b >> 23) & 0xFF;
            if field == 0 {
                continue;
            }
            let sig = 0x80_0000 | (b & 0x7F_FFFF);
            let r = 24 - self.mantissa_bits + (e - (field as i32 - 127)) as i64;
            let mut mag = round_mantissa(sig, r, self.rounding, noise[i], self.noise_bits);
            if mag > self.max_mag {
                mag = self.max_mag;
                flags.saturated += 1;
            }
            out[i] = if b >> 31 == 1 { -(mag as i32) } else { mag as i32 };
        }
        e
    }
}

/// The first non-finite element (index, value) and the largest element exponent, in one
/// parallel scan.
fn scan(data: &[f32]) -> (Option<(usize, f32)>, Option<i32>) {
    const CHUNK: usize = 1 << 16;
    data.par_chunks(CHUNK)
        .enumerate()
        .map(|(ci, chunk)| {
            // A branch-free maximum (vectorised); only a chunk holding 0xFF looks for where.
            let max_field = chunk.iter().fold(0u32, |m, x| m.max((x.to_bits() >> 23) & 0xFF));
            if max_field == 0xFF {
                let i = chunk.iter().position(|x| (x.to_bits() >> 23) & 0xFF == 0xFF).unwrap_or(0);
                return (Some((ci * CHUNK + i, chunk[i])), None);
            }
            (None, (max_field != 0).then(|| max_field as i32 - 127))
        })
        .reduce(
            || (None, None),
            |a, b| {
                let bad = match (a.0, b.0) {
                    (Some(x), Some(y)) => Some(if x.0 < y.0 { x } else { y }),
                    (x, y) => x.or(y),
                };
                let e = match (a.1, b.1) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                };
                (bad, e)
            },
        )
}

/// Converts a row-major `[rows, cols]` binary32 matrix into BFP groups along `job.axis`.
///
/// Groups are converted in parallel; each task starts its lanes at the LFSR states the
/// sequential converter would have reached, so the bits never depend on the thread count.
/// Errors: an empty shape, a length that does not match, a parameter out of range, or a
/// NaN/infinity (naming the tensor and the row-major element index).
pub fn convert(data: &[f32], rows: usize, cols: usize, job: &ConvertJob) -> Result<BfpMatrix, BfpError> {
    let Prepared { ctx, lanes, groups } = prepare(data, rows, cols, job)?;
    let spec = &job.spec;
    let fmt = spec.format;
    let g = fmt.group();
    let e_base = ctx.e_base;
    let total = lanes * groups;
    let mut out = BfpMatrix {
        format: fmt,
        rows,
        cols,
        axis: job.axis,
        e_base,
        lanes,
        groups,
        exps: vec![e_base; total],
        mants: vec![0; total * g],
        flags: ConvertFlags::default(),
    };
    // The lanes step once per group in every mode; only stochastic rounding reads them, so
    // only then are the task start states worked out.
    let stochastic = spec.rounding == Rounding::Stochastic;
    let mut bank = NoiseBank::for_job(g, spec.lfsr.mask, spec.lfsr.seed, job.job, spec.lfsr.noise_bits);
    let tasks = total.div_ceil(TASK_GROUPS);
    let jump = LfsrJump::steps(spec.lfsr.mask, TASK_GROUPS as u64);
    let mut banks = Vec::with_capacity(tasks);
    for _ in 0..tasks {
        banks.push(bank.clone());
        if stochastic {
            bank.jump(&jump);
        }
    }
    let shape = (out.axis, out.lanes, out.groups);
    let flags = out
        .exps
        .par_chunks_mut(TASK_GROUPS)
        .zip(out.mants.par_chunks_mut(TASK_GROUPS * g))
        .zip(banks)
        .enumerate()
        .map(|(task, ((exps, mants), mut bank))| {
            let mut flags = ConvertFlags::default();
            let mut noise = vec![0u32; g];
            let mut vals = vec![0f32; g];
            for (k, (e_out, m_out)) in exps.iter_mut().zip(mants.chunks_exact_mut(g)).enumerate() {
                if stochastic {
                    bank.next_group(&mut noise);
                }
                let idx = task * TASK_GROUPS + k;
                match shape {
                    (GroupAxis::Dim1, _, groups) => {
                        let (r, q) = (idx / groups, idx % groups);
                        let row = &data[r * cols..(r + 1) * cols];
                        let src = &row[(q * g).min(cols)..((q + 1) * g).min(cols)];
                        vals[..src.len()].copy_from_slice(src);
                        vals[src.len()..].iter_mut().for_each(|v| *v = 0.0);
                    }
                    (GroupAxis::Dim0, lanes, _) => {
                        let (c, q) = (idx % lanes, idx / lanes);
                        for (i, v) in vals.iter_mut().enumerate() {
                            let r = q * g + i;
                            *v = if r < rows { data[r * cols + c] } else { 0.0 };
                        }
                    }
                }
                *e_out = ctx.convert_any(&vals, &noise, m_out, &mut flags);
            }
            flags
        })
        .reduce(ConvertFlags::default, |mut a, b| {
            a.add(&b);
            a
        });
    out.flags = flags;
    Ok(out)
}

/// A checked conversion job: what its groups share and how many there are.
pub(crate) struct Prepared {
    /// The group step's parameters (the exponent base included).
    pub(crate) ctx: GroupCtx,
    /// Lanes (`rows` for `Dim1`, `cols` for `Dim0`).
    pub(crate) lanes: usize,
    /// Groups per lane.
    pub(crate) groups: usize,
}

/// The checks of [`convert`] (shape, parameters, non-finite values, with its errors) and the
/// tensor's exponent base, from one parallel scan.
pub(crate) fn prepare(data: &[f32], rows: usize, cols: usize, job: &ConvertJob) -> Result<Prepared, BfpError> {
    let spec = &job.spec;
    spec.validate()?;
    if rows == 0 || cols == 0 {
        return Err(BfpError::Empty { tensor: job.tensor.to_string(), rows, cols });
    }
    if rows.checked_mul(cols) != Some(data.len()) {
        return Err(BfpError::ShapeData { tensor: job.tensor.to_string(), rows, cols, len: data.len() });
    }
    let (bad, e_max) = scan(data);
    if let Some((index, x)) = bad {
        let what = if x.is_nan() {
            "NaN"
        } else if x > 0.0 {
            "+inf"
        } else {
            "-inf"
        };
        return Err(BfpError::NonFinite {
            tensor: job.tensor.to_string(),
            index,
            row: index / cols,
            col: index % cols,
            what,
        });
    }
    let fmt = spec.format;
    let g = fmt.group();
    let e_span = (1i32 << fmt.exp_bits()) - 1;
    let e_base = match spec.exp_base {
        ExpBase::PerTensor => e_max.unwrap_or(0) - e_span,
        ExpBase::Pinned(b) => b,
    };
    let (lanes, along) = match job.axis {
        GroupAxis::Dim1 => (rows, cols),
        GroupAxis::Dim0 => (cols, rows),
    };
    let ctx = GroupCtx {
        mantissa_bits: fmt.mantissa_bits() as i64,
        max_mag: fmt.max_magnitude() as u64,
        e_base,
        e_top: e_base + e_span,
        rounding: spec.rounding,
        noise_bits: spec.lfsr.noise_bits,
        simd16: g == 16 && super::group16::available(),
    };
    Ok(Prepared { ctx, lanes, groups: along.div_ceil(g) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bfp::LfsrParams;

    fn spec(g: usize, m: u32, e: u32, rounding: Rounding) -> ConvertSpec {
        ConvertSpec::new(BfpFormat::new(g, m, e).unwrap(), rounding)
    }

    fn job(spec: ConvertSpec, axis: GroupAxis) -> ConvertJob<'static> {
        ConvertJob { tensor: "t", job: 0, spec, axis }
    }

    /// Second formulation of nearest/truncate conversion from the real values: scale by the
    /// group's LSB weight in f64 and round with f64 operations.
    fn convert_by_float(x: &[f32], m: u32, rounding: Rounding) -> Vec<f64> {
        let e = x.iter().filter(|v| **v != 0.0).map(|v| v.abs().log2().floor() as i32).max().unwrap_or(0);
        let lsb = 2f64.powi(e - (m as i32 - 1));
        let maxm = ((1u32 << m) - 1) as f64;
        x.iter()
            .map(|&v| {
                let s = (v.abs() as f64) / lsb;
                let q = match rounding {
                    Rounding::Nearest => s.round(),
                    Rounding::Truncate => s.floor(),
                    Rounding::Even => s.round_ties_even(),
                    Rounding::Stochastic => unreachable!(),
                };
                q.min(maxm) * lsb * (v.signum() as f64)
            })
            .collect()
    }

    #[test]
    fn exhaustive_small_mantissas_match_float_formulation() {
        // Every pair of 6-bit-significand values over a span of exponents, g = 2.
        for m in 1..=5u32 {
            for mode in [Rounding::Nearest, Rounding::Truncate, Rounding::Even] {
                let vals: Vec<f32> =
                    (0..64u32).flat_map(|s| (-3..=3).map(move |e| (64 + s) as f32 * 2f32.powi(e - 6))).collect();
                for (ia, &a) in vals.iter().enumerate() {
                    for &b in vals.iter().skip(ia % 5).step_by(5) {
                        let data = [a, -b];
                        let bm = convert(&data, 1, 2, &job(spec(2, m, 8, mode), GroupAxis::Dim1)).unwrap();
                        let got = bm.dequantize();
                        let want = convert_by_float(&data, m, mode);
                        for k in 0..2 {
                            assert_eq!(got[k] as f64, want[k], "m {m} {mode} a {a} b {b}");
                        }
                    }
                }
            }
        }
    }

    /// The converter written sequentially, straight from DESIGN §2.1 and §3: one NoiseBank,
    /// groups in row-major order of their first element, per-element rounding.
    fn sequential(
        data: &[f32],
        rows: usize,
        cols: usize,
        spec: ConvertSpec,
        axis: GroupAxis,
    ) -> (Vec<f32>, ConvertFlags) {
        let g = spec.format.group();
        let m = spec.format.mantissa_bits() as i64;
        let emax = data
            .iter()
            .filter(|x| x.to_bits() & 0x7F80_0000 != 0)
            .map(|x| ((x.to_bits() >> 23) & 0xFF) as i32 - 127)
            .max();
        let e_base = emax.unwrap_or(0) - ((1 << spec.format.exp_bits()) - 1);
        let mut bank = NoiseBank::for_job(g, spec.lfsr.mask, spec.lfsr.seed, 0, spec.lfsr.noise_bits);
        let mut noise = vec![0u32; g];
        let mut out = vec![0f32; data.len()];
        let mut flags = ConvertFlags::default();
        let (outer, inner) = match axis {
            GroupAxis::Dim1 => (rows, cols.div_ceil(g)),
            GroupAxis::Dim0 => (rows.div_ceil(g), cols),
        };
        for a in 0..outer {
            for b in 0..inner {
                bank.next_group(&mut noise);
                let pos: Vec<Option<usize>> = (0..g)
                    .map(|i| match axis {
                        GroupAxis::Dim1 => (b * g + i < cols).then(|| a * cols + b * g + i),
                        GroupAxis::Dim0 => (a * g + i < rows).then(|| (a * g + i) * cols + b),
                    })
                    .collect();
                let normal = |p: &Option<usize>| p.map(|p| data[p]).filter(|x| x.to_bits() & 0x7F80_0000 != 0);
                let Some(e) = pos.iter().filter_map(normal).map(|x| ((x.to_bits() >> 23) & 0xFF) as i32 - 127).max()
                else {
                    continue;
                };
                if e < e_base {
                    flags.underflow += pos.iter().filter_map(normal).count() as u64;
                    continue;
                }
                for (i, p) in pos.iter().enumerate() {
                    let Some(x) = normal(p) else { continue };
                    let sig = 0x80_0000 | (x.to_bits() & 0x7F_FFFF);
                    let r = 24 - m + (e - (((x.to_bits() >> 23) & 0xFF) as i32 - 127)) as i64;
                    let mut mag = round_mantissa(sig, r, spec.rounding, noise[i], spec.lfsr.noise_bits);
                    if mag > spec.format.max_magnitude() as u64 {
                        mag = spec.format.max_magnitude() as u64;
                        flags.saturated += 1;
                    }
                    out[p.unwrap()] = (mag as f64 * 2f64.powi(e - (m as i32 - 1))) as f32 * x.signum();
                }
            }
        }
        (out, flags)
    }

    #[test]
    fn parallel_tasks_equal_the_sequential_converter() {
        // Enough groups for several tasks, both axes, stochastic rounding: every task must start
        // its lanes where the sequential converter would be.
        let (rows, cols) = (2000, 75);
        let data: Vec<f32> = (0..rows * cols).map(|i| ((i as f32 * 0.618).sin() * 3.0).powi(3)).collect();
        for axis in [GroupAxis::Dim0, GroupAxis::Dim1] {
            for (g, m) in [(16, 4), (4, 3), (64, 7)] {
                let mut s = spec(g, m, 5, Rounding::Stochastic);
                s.lfsr.seed = 0x1234;
                let bm = convert(&data, rows, cols, &job(s, axis)).unwrap();
                assert!(bm.lanes * bm.groups > 3 * TASK_GROUPS || g == 64);
                let (want, flags) = sequential(&data, rows, cols, s, axis);
                assert_eq!(bm.dequantize(), want, "{axis:?} g {g} m {m}");
                assert_eq!(bm.flags, flags);
            }
        }
    }

    #[test]
    fn axis_and_padding() {
        // 3 x 5 matrix grouped along dim 0 with g = 2: 2 groups per column, padded.
        let data: Vec<f32> = (1..=15).map(|v| v as f32).collect();
        let bm = convert(&data, 3, 5, &job(spec(2, 8, 8, Rounding::Nearest), GroupAxis::Dim0)).unwrap();
        assert_eq!((bm.lanes, bm.groups), (5, 2));
        assert_eq!(bm.dequantize(), data);
        // Column 1, second group: element (2,1) = 12 and padding.
        let (e, ms) = bm.group(1, 1);
        assert_eq!(ms[1], 0);
        assert_eq!(bm.element_value(e, ms[0]), 12.0);
        assert_eq!(bm.job_order()[..3], [(0, 0), (1, 0), (2, 0)]);
    }

    #[test]
    fn flags_are_counted() {
        let sub = f32::from_bits(5);
        let data = [sub, 1.0, 0.0, -0.0];
        let bm = convert(&data, 1, 4, &job(spec(4, 2, 8, Rounding::Nearest), GroupAxis::Dim1)).unwrap();
        assert_eq!(bm.flags, ConvertFlags { flushed: 1, underflow: 0, saturated: 0 });
        // 1.75 at m = 2 rounds to 4 -> saturates to 3; with e = 1 the group at 2^-3 underflows.
        let data = [1.75, 1.0, 0.125, 0.0];
        let bm = convert(&data, 2, 2, &job(spec(2, 2, 1, Rounding::Nearest), GroupAxis::Dim1)).unwrap();
        assert_eq!(bm.flags, ConvertFlags { flushed: 0, underflow: 1, saturated: 1 });
        assert_eq!(bm.dequantize(), vec![1.5, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn pinned_base_saturates_groups_above_range() {
        let mut s = spec(2, 4, 2, Rounding::Nearest);
        s.exp_base = ExpBase::Pinned(-2); // E in -2..=1
        let bm = convert(&[8.0, 1.0], 1, 2, &job(s, GroupAxis::Dim1)).unwrap();
        assert_eq!(bm.exps[0], 1);
        assert_eq!(bm.dequantize(), vec![3.75, 1.0]);
        assert_eq!(bm.flags.saturated, 1);
    }

    #[test]
    fn nonfinite_and_empty_are_refused() {
        let s = spec(4, 4, 8, Rounding::Nearest);
        let err = convert(&[1.0, f32::NAN], 1, 2, &job(s, GroupAxis::Dim1)).unwrap_err();
        assert!(err.to_string().contains("element 1 (row 0, column 1) is NaN"), "{err}");
        let err = convert(&[f32::NEG_INFINITY], 1, 1, &job(s, GroupAxis::Dim1)).unwrap_err();
        assert!(err.to_string().contains("-inf"));
        assert!(convert(&[], 0, 3, &job(s, GroupAxis::Dim1)).is_err());
        assert!(convert(&[1.0], 1, 2, &job(s, GroupAxis::Dim1)).is_err());
    }

    #[test]
    fn stochastic_rounding_is_unbiased_over_many_groups() {
        // A value 0.3 LSB above a grid point: the mean over 4096 groups must land within a
        // small fraction of an LSB of the true value; nearest would be off by 0.3 LSB.
        let g = 16;
        let n_groups = 4096;
        let mut data = vec![0f32; g * n_groups];
        for grp in data.chunks_mut(g) {
            grp[0] = 8.0; // sets E = 3; m = 4 -> LSB = 1
            grp[1..].iter_mut().for_each(|v| *v = 2.3);
        }
        let mut s = spec(g, 4, 8, Rounding::Stochastic);
        s.lfsr = LfsrParams::new(0xB400, 0xACE1, 8).unwrap();
        let bm = convert(&data, n_groups, g, &job(s, GroupAxis::Dim1)).unwrap();
        let deq = bm.dequantize();
        let vals: Vec<f64> = deq.chunks(g).flat_map(|c| c[1..].iter().map(|&v| v as f64)).collect();
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        assert!((mean - 2.3).abs() < 0.01, "mean {mean}");
        assert!(vals.iter().all(|&v| v == 2.0 || v == 3.0));
    }
}
