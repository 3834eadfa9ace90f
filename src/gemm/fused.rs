//! Conversion straight into the fast kernel's packed layout: the same conversion jobs as
//! [`super::quantize_operands_named`] (same checks and errors, same groups, exponent base,
//! LFSR lanes and bits), but each group's mantissas are written as 16-bit lanes where
//! [`super::fast_gemm`]'s kernel reads them, so no `BfpMatrix` (4 bytes per element) is built
//! and repacked. The buffers live in a [`GemmScratch`] that a caller running many GEMMs keeps.
//!
//! Tasks own disjoint parts of the packed buffers (ranges of X rows, blocks of 16 Y columns)
//! and visit their groups in increasing job order; a task's LFSR lanes start where the
//! sequential converter's would be, by [`LfsrJump`], so the bits never depend on the thread
//! count. Formats the 16-bit kernel does not take, and exponent spreads outside its exact
//! range, fall back to converting as usual and the general kernels.

use rayon::prelude::*;

use super::fast::{Packed, VB};
use super::{fast_gemm, output_shape, quantize_operands_named, GemmError, GemmSpec, OperandSpec};
use crate::bfp::{
    prepare, BfpError, BfpFormat, ConvertFlags, ConvertJob, ConvertSpec, GroupAxis, GroupCtx, LfsrJump, NoiseBank,
    Rounding,
};

/// Packed operand buffers kept between GEMMs (grown, never shrunk), and spare output-sized
/// buffers handed back by the caller ([`GemmScratch::recycle`]) so that large outputs and
/// temporaries reuse memory instead of mapping fresh pages.
#[derive(Debug, Default)]
pub struct GemmScratch {
    xm: Vec<i16>,
    ex: Vec<i32>,
    ym: Vec<i16>,
    ey: Vec<i32>,
    spare: Vec<Vec<f32>>,
}

/// Spare buffers kept at most.
const SPARES: usize = 4;

impl GemmScratch {
    /// `len` zeros, in the smallest spare buffer that holds them (else the largest, grown;
    /// else a new one).
    pub fn zeroed(&mut self, len: usize) -> Vec<f32> {
        let mut v = self.take(len);
        v.resize(len, 0.0);
        v
    }

    /// An empty buffer, spare if any (the smallest that holds `len`, else the largest).
    fn take(&mut self, len: usize) -> Vec<f32> {
        let fits = (0..self.spare.len()).filter(|&i| self.spare[i].capacity() >= len);
        let pick = fits.min_by_key(|&i| self.spare[i].capacity());
        let pick = pick.or_else(|| (0..self.spare.len()).max_by_key(|&i| self.spare[i].capacity()));
        let mut v = pick.map(|i| self.spare.swap_remove(i)).unwrap_or_default();
        v.clear();
        v
    }

    /// Keeps `buf` for reuse (the smallest spare is dropped when more than [`SPARES`]).
    pub fn recycle(&mut self, buf: Vec<f32>) {
        if buf.capacity() == 0 {
            return;
        }
        self.spare.push(buf);
        if self.spare.len() > SPARES {
            let small = (0..self.spare.len()).min_by_key(|&i| self.spare[i].capacity());
            small.map(|i| self.spare.swap_remove(i));
        }
    }
}

/// Groups a task converts, about.
const TASK_GROUPS: usize = 2048;

/// One operand being converted: where its groups go.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Role {
    /// `xm[u][q][g2]`, `ex[u][q]`.
    X,
    /// `ym[vb][q][g2/2][VB][2]`, `ey[vb][q][VB]`.
    Y,
}

pub(super) struct Job<'a> {
    pub(super) data: &'a [f32],
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) axis: GroupAxis,
    pub(super) ctx: GroupCtx,
    pub(super) lanes: usize,
    pub(super) groups: usize,
    pub(super) g: usize,
    g2: usize,
    pub(super) spec: ConvertSpec,
    pub(super) job: u64,
}

impl Job<'_> {
    /// Values of group `(lane, q)`, padding zero.
    #[inline]
    fn load(&self, lane: usize, q: usize, vals: &mut [f32]) {
        let g = self.g;
        match self.axis {
            GroupAxis::Dim1 => {
                let row = &self.data[lane * self.cols..(lane + 1) * self.cols];
                let src = &row[(q * g).min(self.cols)..((q + 1) * g).min(self.cols)];
                vals[..src.len()].copy_from_slice(src);
                vals[src.len()..].iter_mut().for_each(|v| *v = 0.0);
            }
            GroupAxis::Dim0 => {
                for (i, v) in vals.iter_mut().enumerate() {
                    let r = q * g + i;
                    *v = if r < self.rows { self.data[r * self.cols + lane] } else { 0.0 };
                }
            }
        }
    }

    /// Job-order index of group `(lane, q)`.
    fn index(&self, lane: usize, q: usize) -> usize {
        match self.axis {
            GroupAxis::Dim1 => lane * self.groups + q,
            GroupAxis::Dim0 => q * self.lanes + lane,
        }
    }

    /// Converts the groups of lanes `l0..l1` in job order, handing each to `put(lane, q, e,
    /// mants)`. Returns the smallest and largest `E`.
    fn run(&self, l0: usize, l1: usize, mut put: impl FnMut(usize, usize, i32, &[i32])) -> (i32, i32) {
        let (g, lfsr) = (self.g, self.spec.lfsr);
        let stochastic = self.spec.rounding == Rounding::Stochastic;
        let mut bank = NoiseBank::for_job(g, lfsr.mask, lfsr.seed, self.job, lfsr.noise_bits);
        let gap = match self.axis {
            GroupAxis::Dim1 => 0,
            GroupAxis::Dim0 => self.lanes - (l1 - l0),
        };
        let gap_jump = LfsrJump::steps(lfsr.mask, gap as u64);
        if stochastic {
            bank.jump(&LfsrJump::steps(lfsr.mask, self.index(l0, 0) as u64));
        }
        let (mut noise, mut vals, mut mants) = (vec![0u32; g], vec![0f32; g], vec![0i32; g]);
        let mut flags = ConvertFlags::default();
        let (mut lo, mut hi) = (i32::MAX, i32::MIN);
        let mut one = |lane: usize, q: usize, bank: &mut NoiseBank| {
            if stochastic {
                bank.next_group(&mut noise);
            }
            self.load(lane, q, &mut vals);
            let e = self.ctx.convert_any(&vals, &noise, &mut mants, &mut flags);
            (lo, hi) = (lo.min(e), hi.max(e));
            put(lane, q, e, &mants);
        };
        match self.axis {
            GroupAxis::Dim1 => (l0..l1).for_each(|lane| (0..self.groups).for_each(|q| one(lane, q, &mut bank))),
            GroupAxis::Dim0 => {
                for q in 0..self.groups {
                    (l0..l1).for_each(|lane| one(lane, q, &mut bank));
                    if stochastic && gap > 0 {
                        bank.jump(&gap_jump);
                    }
                }
            }
        }
        (lo, hi)
    }
}

/// The checks and exponent base of one conversion job ([`prepare`]).
pub(super) fn make_job<'a>(
    d: (&'a [f32], usize, usize),
    spec: ConvertSpec,
    axis: GroupAxis,
    job: u64,
    tensor: &str,
) -> Result<Job<'a>, BfpError> {
    let p = prepare(d.0, d.1, d.2, &ConvertJob { tensor, job, spec, axis })?;
    let g = spec.format.group();
    let (data, rows, cols) = d;
    Ok(Job { data, rows, cols, axis, ctx: p.ctx, lanes: p.lanes, groups: p.groups, g, g2: g + (g & 1), spec, job })
}

fn merge(a: (i32, i32), b: (i32, i32)) -> (i32, i32) {
    (a.0.min(b.0), a.1.max(b.1))
}

/// Converts `job` into `m`/`e` in `role`'s layout; returns the exponent range.
pub(super) fn convert_packed(job: &Job, role: Role, m: &mut Vec<i16>, e: &mut Vec<i32>, simd: bool) -> (i32, i32) {
    let (g, g2, groups) = (job.g, job.g2, job.groups);
    let simd = simd && super::pack16::usable(job, role);
    match role {
        Role::X => {
            let rows = job.lanes;
            m.resize(rows * groups * g2, 0);
            e.resize(rows * groups, 0);
            let per = (TASK_GROUPS / groups.max(1)).max(1);
            m[..rows * groups * g2]
                .par_chunks_mut(per * groups * g2)
                .zip(e[..rows * groups].par_chunks_mut(per * groups))
                .enumerate()
                .map(|(t, (mc, ec))| {
                    let l0 = t * per;
                    if simd {
                        return super::pack16::x_task(job, l0, l0 + ec.len() / groups, mc, ec);
                    }
                    job.run(l0, l0 + ec.len() / groups, |lane, q, ev, ms| {
                        let at = (lane - l0) * groups + q;
                        ec[at] = ev;
                        let dst = &mut mc[at * g2..(at + 1) * g2];
                        for (d, &v) in dst.iter_mut().zip(ms) {
                            *d = v as i16;
                        }
                        dst[g..].iter_mut().for_each(|d| *d = 0);
                    })
                })
                .reduce(|| (i32::MAX, i32::MIN), merge)
        }
        Role::Y => {
            let cols = job.lanes;
            let vblocks = cols.div_ceil(VB);
            let blk = groups * g2 * VB;
            m.resize(vblocks * blk, 0);
            e.resize(vblocks * groups * VB, 0);
            let mut per = (TASK_GROUPS / (groups * VB).max(1)).max(1);
            if simd {
                // Whole rows of 16 blocks (1 KiB) per load sweep, still 16 tasks or more.
                per = per.max(vblocks.div_ceil(16).min(16));
            }
            m[..vblocks * blk]
                .par_chunks_mut(per * blk)
                .zip(e[..vblocks * groups * VB].par_chunks_mut(per * groups * VB))
                .enumerate()
                .map(|(t, (mc, ec))| {
                    let v0 = t * per * VB;
                    let v1 = (v0 + mc.len() / blk * VB).min(cols);
                    if v1 - v0 < mc.len() / blk * VB {
                        // The last block's columns beyond `cols` hold zeros.
                        mc.iter_mut().for_each(|d| *d = 0);
                        ec.iter_mut().for_each(|d| *d = 0);
                    }
                    if simd {
                        return super::pack16::y_task(job, v0, v1, mc, ec);
                    }
                    job.run(v0, v1, |lane, q, ev, ms| {
                        let (b, l) = ((lane - v0) / VB, (lane - v0) % VB);
                        ec[(b * groups + q) * VB + l] = ev;
                        let dst = &mut mc[(b * groups + q) * g2 * VB..][..g2 * VB];
                        for (i, &v) in ms.iter().enumerate() {
                            dst[(i / 2) * 2 * VB + l * 2 + (i & 1)] = v as i16;
                        }
                        if g2 > g {
                            dst[(g / 2) * 2 * VB + l * 2 + 1] = 0;
                        }
                    })
                })
                .reduce(|| (i32::MAX, i32::MIN), merge)
        }
    }
}

/// [`super::quantize_operands_named`] then [`super::fast_gemm`], with the same bits and
/// errors, converting straight into the kernel's layout in `scratch`'s buffers.
pub fn fast_gemm_from_f32(
    spec: &GemmSpec,
    x: (&[f32], usize, usize),
    y: (&[f32], usize, usize),
    first_job: u64,
    names: (&str, &str),
    scratch: &mut GemmScratch,
) -> Result<Vec<f32>, GemmError> {
    from_f32(spec, x, y, first_job, names, scratch, true)
}

/// [`fast_gemm_from_f32`], with the whole-task AVX-512 converters ([`super::pack16`]) when
/// `simd` and usable, else group at a time.
fn from_f32(
    spec: &GemmSpec,
    x: (&[f32], usize, usize),
    y: (&[f32], usize, usize),
    first_job: u64,
    names: (&str, &str),
    scratch: &mut GemmScratch,
    simd: bool,
) -> Result<Vec<f32>, GemmError> {
    let (out_rows, out_cols) = output_shape(spec.pass, (x.1, x.2), (y.1, y.2))?;
    let (ax, ay) = spec.pass.group_axes();
    let make = |o: &OperandSpec| -> Result<ConvertSpec, BfpError> {
        let format = BfpFormat::new(spec.group, o.mantissa_bits, spec.exp_bits)?;
        Ok(ConvertSpec { format, rounding: o.rounding, exp_base: spec.exp_base, lfsr: spec.lfsr })
    };
    let (sx, sy) = (make(&spec.x)?, make(&spec.y)?);
    let (fx, fy) = (sx.format, sy.format);
    let g = fx.group();
    let bound = g as u64 * fx.max_magnitude() as u64 * fy.max_magnitude() as u64;
    let fits = fx.mantissa_bits() <= 15 && fy.mantissa_bits() <= 15 && bound < 1 << 31;
    let general = || {
        let ops = quantize_operands_named(spec, x, y, first_job, names)?;
        Ok(fast_gemm(&ops))
    };
    if !fits {
        return general();
    }
    let jx = make_job(x, sx, ax, first_job, names.0)?;
    let jy = make_job(y, sy, ay, first_job + 1, names.1)?;
    let mut out = scratch.take(out_rows * out_cols);
    let GemmScratch { xm, ex, ym, ey, .. } = scratch;
    let (xlo, xhi) = convert_packed(&jx, Role::X, xm, ex, simd);
    let (ylo, yhi) = convert_packed(&jy, Role::Y, ym, ey, simd);
    let off = fx.mantissa_bits() as i32 - 1 + fy.mantissa_bits() as i32 - 1;
    if xlo + ylo - off < -1000 || xhi + yhi > 900 {
        return general();
    }
    let (rows, cols, groups) = (jx.lanes, jy.lanes, jx.groups);
    let packed = Packed {
        rows,
        cols,
        groups,
        g2: jx.g2,
        vblocks: cols.div_ceil(VB),
        xm: std::mem::take(xm),
        ex: std::mem::take(ex),
        ym: std::mem::take(ym),
        ey: std::mem::take(ey),
        off,
        small_products: bound < 1 << 24,
    };
    packed.run_into(spec.accumulator, super::KernelIsa::Auto, &mut out);
    (*xm, *ex, *ym, *ey) = (packed.xm, packed.ex, packed.ym, packed.ey);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bfp::{ExpBase, LfsrParams};
    use crate::fmac::AccumulatorKind;
    use crate::gemm::Pass;

    #[test]
    fn same_bits_as_convert_then_kernel() {
        let mut scratch = GemmScratch::default();
        let val =
            |i: usize, s: f32| ((i as f32 * s).sin() * 3.0).powi(3) * if i.is_multiple_of(17) { 1e-6 } else { 1.0 };
        for (n, k, b) in [(5, 37, 19), (40, 300, 70), (3, 16, 16), (64, 2100, 33)] {
            for pass in Pass::ALL {
                for (g, mx, my) in [(16, 4, 4), (16, 2, 7), (15, 4, 3), (8, 5, 5)] {
                    for acc in [AccumulatorKind::Fp32, AccumulatorKind::Exact] {
                        let d = crate::mapping::PassDims::elements(pass, n, k, b);
                        let (xs, ys) = (d.shape(crate::mapping::Role::X), d.shape(crate::mapping::Role::Y));
                        let x: Vec<f32> = (0..xs.0 * xs.1).map(|i| val(i, 0.618)).collect();
                        let y: Vec<f32> = (0..ys.0 * ys.1).map(|i| val(i, 0.377)).collect();
                        let spec = GemmSpec {
                            pass,
                            group: g,
                            exp_bits: 5,
                            exp_base: ExpBase::PerTensor,
                            x: OperandSpec { mantissa_bits: mx, rounding: Rounding::Nearest },
                            y: OperandSpec { mantissa_bits: my, rounding: Rounding::Stochastic },
                            accumulator: acc,
                            lfsr: LfsrParams::new(0xB400, 0x1234, 8).unwrap(),
                        };
                        let names = ("x", "y");
                        let want = fast_gemm(
                            &quantize_operands_named(&spec, (&x, xs.0, xs.1), (&y, ys.0, ys.1), 6, names).unwrap(),
                        );
                        let got = fast_gemm_from_f32(&spec, (&x, xs.0, xs.1), (&y, ys.0, ys.1), 6, names, &mut scratch)
                            .unwrap();
                        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(&got), bits(&want), "{pass} {n}x{k}x{b} g {g} m {mx}/{my} {acc:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn errors_match_the_general_path() {
        let mut scratch = GemmScratch::default();
        let spec = GemmSpec {
            pass: Pass::Forward,
            group: 16,
            exp_bits: 5,
            exp_base: ExpBase::PerTensor,
            x: OperandSpec { mantissa_bits: 4, rounding: Rounding::Nearest },
            y: OperandSpec { mantissa_bits: 4, rounding: Rounding::Nearest },
            accumulator: AccumulatorKind::Fp32,
            lfsr: LfsrParams::default(),
        };
        let mut x = vec![1.0f32; 6];
        x[4] = f32::NAN;
        let y = vec![f32::INFINITY; 6];
        for (xs, ys) in [((2, 3), (3, 2)), ((2, 3), (2, 3))] {
            let want = quantize_operands_named(&spec, (&x, xs.0, xs.1), (&y, ys.0, ys.1), 0, ("a", "b")).unwrap_err();
            let got = fast_gemm_from_f32(&spec, (&x, xs.0, xs.1), (&y, ys.0, ys.1), 0, ("a", "b"), &mut scratch);
            assert_eq!(got.unwrap_err(), want);
        }
    }
}
