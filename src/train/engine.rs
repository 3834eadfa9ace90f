//! The simulated accelerator as the network's [`Matmul`] backend: every GEMM of a training
//! iteration computed with the exact bits of the policy's arch (BFP conversion jobs and the
//! fast kernel, or the element-wise baseline cells) and timed on that arch exactly as
//! `fastbfp run` times it (fold fidelity, the iteration's precisions), with FAST's precision
//! choices made by the converter on the tensors it converts.
//!
//! Conversion jobs (DESIGN §3) are numbered in the order training performs them: the `j`-th
//! GEMM of the run (counting from the first iteration) converts X as job `2j` and Y as
//! `2j + 1`. An evaluation on the test split is a separate inference run whose jobs count from
//! 0, so how often a run evaluates never changes its training bits. FAST's `r` quantisations
//! use nearest rounding and consume no job number.
//!
//! Timing does not depend on values, so the simulation of each (GEMM, X bits, Y bits) is made
//! once and reused (`accel::simulate_gemm` without numerics).

use std::collections::HashMap;

use serde::Serialize;

use crate::accel::{classes, simulate_gemm, spec_for, GemmRequest};
use crate::arch::{Arch, CellKind, TensorClass};
use crate::array::Fidelity;
use crate::bfp::{relative_improvement, BfpError};
use crate::cost::{energy, Actions, EnergyBreakdown};
use crate::gemm::baseline::{baseline_gemm, ElementCell};
use crate::gemm::{fast_gemm_from_f32, GemmError, GemmScratch, Pass};
use crate::sim::{StallReason, StallStats};
use crate::workload::{LoweredGemm, Workload};

use super::ops::{GemmSite, Matmul};
use super::policy::{Decision, PrecisionPlan};

/// Why a GEMM of the training run failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// A NaN or infinity reached a converter or a cell: training diverged.
    #[error("layer `{layer}` {pass}: {what}")]
    NonFinite {
        /// The layer.
        layer: String,
        /// The pass.
        pass: Pass,
        /// The converter's or cell's message.
        what: String,
    },
    /// Another refusal of the numerics or the timing model.
    #[error("layer `{layer}` {pass}: {error}")]
    Gemm {
        /// The layer.
        layer: String,
        /// The pass.
        pass: Pass,
        /// Why (its text is part of this message, so it is not a `source()`).
        error: Box<GemmError>,
    },
    /// A GEMM the workload's lowering does not list (an internal inconsistency).
    #[error("layer {layer} {pass}: no such GEMM in the workload's lowering (shapes {x:?} x {y:?})")]
    UnknownGemm {
        /// Workload layer index.
        layer: usize,
        /// Pass.
        pass: Pass,
        /// X shape.
        x: (usize, usize),
        /// Y shape.
        y: (usize, usize),
    },
}

/// The simulated cost of work on the accelerator.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cost {
    /// Cycles, GEMMs back to back.
    pub cycles: u64,
    /// Multiply-accumulates.
    pub macs: u64,
    /// Energy by component, pJ.
    pub energy: EnergyBreakdown,
    /// Stall cycles by reason (included in `cycles`).
    pub stalls: StallStats,
    /// Converter groups spent measuring FAST's `r` (included in the energy).
    pub policy_converter_groups: u64,
    /// Cycles the array waited for those measurements (included in `cycles` and `stalls`).
    pub policy_cycles: u64,
}

impl Cost {
    /// Adds `o`.
    pub fn add(&mut self, o: &Cost) {
        self.cycles += o.cycles;
        self.macs += o.macs;
        self.energy.add(&o.energy);
        for (reason, c) in &o.stalls.by_reason {
            self.stalls.add(*reason, *c);
        }
        self.policy_converter_groups += o.policy_converter_groups;
        self.policy_cycles += o.policy_cycles;
    }
}

#[derive(Debug, Clone)]
struct GemmCost {
    cycles: u64,
    converted_groups: u64,
    macs: u64,
    energy: EnergyBreakdown,
    stalls: StallStats,
}

/// A hook that sees every FAST decision with the tensor it was made on (tests use it to
/// recompute `r`): the decision, the tensor, its `[rows, cols]` and its grouping axis.
pub type DecisionProbe = Box<dyn FnMut(&Decision, &[f32], (usize, usize), crate::bfp::GroupAxis) + Send>;

/// The accelerator during training.
pub struct Engine {
    arch: Arch,
    element: Option<ElementCell>,
    lowered: Vec<LoweredGemm>,
    /// The convolution window of each lowered GEMM (on-chip im2col), in the same order.
    convs: Vec<Option<crate::mapping::ConvWindow>>,
    site: HashMap<(usize, Pass), usize>,
    ordinal: Vec<Option<usize>>,
    /// The precision plan (FAST's log lives here).
    pub plan: PrecisionPlan,
    iteration: usize,
    eval: bool,
    next_job: u64,
    eval_job: u64,
    cache: HashMap<(usize, u32, u32), GemmCost>,
    cost: Cost,
    probe: Option<DecisionProbe>,
    /// Packed operand buffers reused from GEMM to GEMM, and spare output buffers.
    scratch: GemmScratch,
    /// Whether recycled buffers are kept ([`Engine::set_buffer_reuse`]).
    reuse: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("arch", &self.arch.name).field("iteration", &self.iteration).finish()
    }
}

impl Engine {
    /// The engine for `wl` (lowered at `batch`) on `arch` under `plan`.
    pub fn new(arch: Arch, wl: &Workload, batch: usize, plan: PrecisionPlan) -> Self {
        let mut w = wl.clone();
        w.batch = batch;
        w.passes = Pass::ALL.to_vec();
        let lowered = w.lower();
        let convs = lowered.iter().map(|g| w.conv_window(g)).collect();
        let site = lowered.iter().enumerate().map(|(i, g)| ((g.layer_index, g.pass), i)).collect();
        let mut ordinal = vec![None; wl.layers.len()];
        for (k, (i, _)) in wl.layers.iter().enumerate().filter(|(_, l)| l.op.is_gemm()).enumerate() {
            ordinal[i] = Some(k);
        }
        let element = match arch.array.cell {
            CellKind::Fp32 | CellKind::Scalesim { .. } => Some(ElementCell::Fp32),
            CellKind::Bf16 => Some(ElementCell::Bf16),
            CellKind::Int8 => Some(ElementCell::Int8),
            CellKind::Fmac { .. } | CellKind::BfpFull => None,
        };
        Engine {
            arch,
            element,
            lowered,
            convs,
            site,
            ordinal,
            plan,
            iteration: 0,
            eval: false,
            next_job: 0,
            eval_job: 0,
            cache: HashMap::new(),
            cost: Cost::default(),
            probe: None,
            scratch: GemmScratch::default(),
            reuse: true,
        }
    }

    /// Whether buffers handed back by the layers ([`Matmul::recycle`]) are reused for later
    /// temporaries and GEMM outputs (the default), or dropped. The bits are the same either
    /// way (tests compare the two).
    pub fn set_buffer_reuse(&mut self, on: bool) {
        self.reuse = on;
        if !on {
            self.scratch = GemmScratch::default();
        }
    }

    /// The arch the GEMMs run on.
    pub fn arch(&self) -> &Arch {
        &self.arch
    }

    /// Installs a decision probe.
    pub fn set_probe(&mut self, probe: DecisionProbe) {
        self.probe = Some(probe);
    }

    /// Starts training iteration `i`.
    pub fn begin_iteration(&mut self, i: usize) {
        self.iteration = i;
        self.eval = false;
        self.plan.begin_iteration();
    }

    /// Starts an evaluation (inference on the test split): numbers only, jobs from 0, the
    /// precisions in force, no FAST decisions, nothing timed.
    pub fn begin_eval(&mut self) {
        self.eval = true;
        self.eval_job = 0;
    }

    /// The cost accumulated since the last call (one training iteration).
    pub fn take_cost(&mut self) -> Cost {
        std::mem::take(&mut self.cost)
    }

    /// Conversion jobs performed by training so far.
    pub fn jobs(&self) -> u64 {
        self.next_job
    }

    fn timing(&mut self, index: usize, mx: u32, my: u32) -> Result<GemmCost, EngineError> {
        if let Some(c) = self.cache.get(&(index, mx, my)) {
            return Ok(c.clone());
        }
        let g = &self.lowered[index];
        let mut spec = spec_for(&self.arch, g.pass);
        if self.element.is_none() {
            spec.x.mantissa_bits = mx;
            spec.y.mantissa_bits = my;
        }
        let req = GemmRequest {
            spec,
            x: (&[], g.x_shape.0, g.x_shape.1),
            y: (&[], g.y_shape.0, g.y_shape.1),
            names: ("x", "y"),
            fidelity: Fidelity::Fold,
            numerics: false,
            first_job: 0,
            conv: self.convs[index],
            mapping: None,
        };
        let sim = simulate_gemm(&self.arch, &req).map_err(|source| EngineError::Gemm {
            layer: g.layer.clone(),
            pass: g.pass,
            error: Box::new(source),
        })?;
        let actions = Actions::from_gemm(&sim, &self.arch);
        let c = GemmCost {
            cycles: sim.cycles,
            converted_groups: sim.traffic.converted_groups,
            macs: sim.macs,
            energy: energy(&self.arch, &actions),
            stalls: sim.breakdown.stalls,
        };
        self.cache.insert((index, mx, my), c.clone());
        Ok(c)
    }

    /// FAST's decision for one operand, if due; charges its converter work.
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        l0: usize,
        class: TensorClass,
        pass: Pass,
        data: &[f32],
        shape: (usize, usize),
        axis: crate::bfp::GroupAxis,
        layer: &str,
    ) -> Result<u64, EngineError> {
        if self.eval || !self.plan.needs_decision(l0, class, self.iteration) {
            return Ok(0);
        }
        let (group, exp_bits, exp_base) = (self.arch.bfp.group, self.arch.bfp.exp_bits, self.arch.bfp.exp_base);
        let name = format!("{layer}.{pass}.{}", class.name());
        let groups = (shape.0 as u64 * shape.1 as u64).div_ceil(group as u64);
        let map = |e: BfpError| match e {
            BfpError::NonFinite { .. } => {
                EngineError::NonFinite { layer: layer.to_string(), pass, what: e.to_string() }
            }
            e => EngineError::Gemm { layer: layer.to_string(), pass, error: Box::new(e.into()) },
        };
        let iteration = self.iteration;
        let norm = self.plan.fast().r_norm;
        let evaluated = {
            let r_of = |m: u32| {
                relative_improvement(&name, data, shape.0, shape.1, axis, group, exp_bits, exp_base, m, norm)
                    .map(|i| i.r)
            };
            self.plan.decide(l0, class, iteration, groups, r_of).map_err(map)?;
            self.plan.log.last().map_or(0, |d| d.r.len() as u64)
        };
        if let (Some(p), Some(d)) = (self.probe.as_mut(), self.plan.log.last()) {
            p(d, data, shape, axis);
        }
        // DESIGN §11: one more quantisation per candidate width evaluated (the converter
        // rounds the aligned mantissas at m and m + 2 in that pass; the tensor's own
        // conversion is the one it makes anyway).
        let conv_groups = groups * evaluated;
        let actions = Actions { converter_groups: conv_groups, ..Actions::default() };
        self.cost.energy.add(&energy(&self.arch, &actions));
        self.cost.policy_converter_groups += conv_groups;
        Ok(conv_groups)
    }
}

impl Matmul<f32> for Engine {
    type Error = EngineError;

    fn matmul(
        &mut self,
        site: GemmSite,
        x: &[f32],
        xs: (usize, usize),
        y: &[f32],
        ys: (usize, usize),
    ) -> Result<Vec<f32>, EngineError> {
        let pass = site.pass;
        let unknown = || EngineError::UnknownGemm { layer: site.layer, pass, x: xs, y: ys };
        let Some(&index) = self.site.get(&(site.layer, pass)) else { return Err(unknown()) };
        let (layer, lx, ly, has_bd) = {
            let g = &self.lowered[index];
            (g.layer.clone(), g.x_shape, g.y_shape, self.site.contains_key(&(site.layer, Pass::BackwardData)))
        };
        // Evaluation batches may be smaller than the training batch (B differs); training
        // GEMMs must be exactly the lowered ones.
        if !self.eval && (lx != xs || ly != ys) {
            return Err(unknown());
        }
        let l0 = self.ordinal[site.layer].ok_or_else(unknown)?;
        let [cx, cy, _] = classes(pass);
        let (ax, ay) = pass.group_axes();
        // FAST decides on a class's first conversion of the iteration.
        let mut r_groups = 0;
        for (class, data, shape, axis) in [(cx, x, xs, ax), (cy, y, ys, ay)] {
            let first = match class {
                TensorClass::Weights | TensorClass::Activations => pass == Pass::Forward,
                TensorClass::Gradients => pass == Pass::BackwardData || (pass == Pass::BackwardWeight && !has_bd),
            };
            if first && self.element.is_none() {
                r_groups += self.decide(l0, class, pass, data, shape, axis, &layer)?;
            }
        }
        let record = !self.eval;
        let px = self.plan.precision(l0, cx, self.iteration, record);
        let py = self.plan.precision(l0, cy, self.iteration, record);
        let nonfinite = |what: String| EngineError::NonFinite { layer: layer.clone(), pass, what };
        let out = match self.element {
            Some(cell) => baseline_gemm(cell, pass, x, xs, y, ys).map_err(|e| match e {
                GemmError::Bfp(b @ BfpError::NonFinite { .. }) => nonfinite(b.to_string()),
                e => EngineError::Gemm { layer: layer.clone(), pass, error: Box::new(e) },
            })?,
            None => {
                let mut spec = spec_for(&self.arch, pass);
                if let (Some(a), Some(b)) = (px, py) {
                    spec.x.mantissa_bits = a.mantissa_bits;
                    spec.x.rounding = a.rounding;
                    spec.y.mantissa_bits = b.mantissa_bits;
                    spec.y.rounding = b.rounding;
                }
                let job = if self.eval { &mut self.eval_job } else { &mut self.next_job };
                let first_job = *job;
                *job += 2;
                let (xn, yn) = (format!("{layer}.{pass}.x"), format!("{layer}.{pass}.y"));
                let xy = ((x, xs.0, xs.1), (y, ys.0, ys.1));
                fast_gemm_from_f32(&spec, xy.0, xy.1, first_job, (&xn, &yn), &mut self.scratch).map_err(
                    |e| match e {
                        GemmError::Bfp(b @ BfpError::NonFinite { .. }) => nonfinite(b.to_string()),
                        e => EngineError::Gemm { layer: layer.clone(), pass, error: Box::new(e) },
                    },
                )?
            }
        };
        if !self.eval {
            let (mx, my) = (px.map_or(0, |p| p.mantissa_bits), py.map_or(0, |p| p.mantissa_bits));
            let c = self.timing(index, mx, my)?;
            self.cost.cycles += c.cycles;
            self.cost.macs += c.macs;
            self.cost.energy.add(&c.energy);
            for (reason, n) in &c.stalls.by_reason {
                self.cost.stalls.add(*reason, *n);
            }
            // FAST's r quantisations use the converters' idle time during this GEMM; what
            // does not fit delays the array.
            if r_groups > 0 {
                let per_cycle =
                    (self.arch.converters.count as u64 * self.arch.converters.groups_per_cycle as u64).max(1);
                let slack = (c.cycles * per_cycle).saturating_sub(c.converted_groups);
                let delay = r_groups.saturating_sub(slack).div_ceil(per_cycle);
                self.cost.cycles += delay;
                self.cost.stalls.add(StallReason::Converter, delay);
                self.cost.policy_cycles += delay;
            }
        }
        Ok(out)
    }

    fn zeroed(&mut self, len: usize) -> Vec<f32> {
        if self.reuse {
            self.scratch.zeroed(len)
        } else {
            vec![0.0; len]
        }
    }

    fn recycle(&mut self, buf: Vec<f32>) {
        if self.reuse {
            self.scratch.recycle(buf);
        }
    }
}
