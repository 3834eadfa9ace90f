//! Precision policies during training: which mantissa width and rounding each GEMM layer's
//! tensor classes use at each iteration, and FAST's adaptive rule (DESIGN §11, normative).
//!
//! FAST: layer `l` (1..=L, the GEMM layers in forward order) at iteration `i` (0..I−1 of the
//! run's I iterations) has the threshold `ε(l, i) = α − β·i/I − β·l/L`. Every `interval`
//! iterations (from iteration 0), the first time a tensor of class `c` of layer `l` is
//! converted in the iteration (weights and activations: the forward GEMM; gradients: the
//! backward-data GEMM, or backward-weight where the layer has no backward-data), the width
//! starts at the ladder's lowest and steps up while `r_m(X) > ε(l, i)` and a wider width
//! exists; the choice holds for every conversion of that class of that layer until the next
//! evaluation. Rounding is the arch's for the class. Every decision is logged.

use serde::Serialize;

use crate::arch::{ClassPrecision, PrecisionConfig, TensorClass};
use crate::workload::{FastParams, PrecisionPolicy, TrainPolicy};

/// Index of a class in `[weights, activations, gradients]`.
pub fn class_index(c: TensorClass) -> usize {
    match c {
        TensorClass::Weights => 0,
        TensorClass::Activations => 1,
        TensorClass::Gradients => 2,
    }
}

/// One FAST decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Training iteration (0-based).
    pub iteration: usize,
    /// The layer's name.
    pub layer: String,
    /// `l`, 1-based among the GEMM layers in forward order.
    pub l: usize,
    /// The tensor class.
    pub class: TensorClass,
    /// `ε(l, i)`.
    pub epsilon: f64,
    /// `(m, r_m)` for every width evaluated, lowest first.
    pub r: Vec<(u32, f64)>,
    /// The chosen width.
    pub bits: u32,
    /// Groups of the tensor (each evaluated width costs one more converter pass over them).
    pub groups: u64,
}

/// A change of the width a (layer, class) uses, from `iteration` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BitsChange {
    /// First iteration with the new width.
    pub iteration: usize,
    /// `l`, 1-based.
    pub l: usize,
    /// The tensor class.
    pub class: TensorClass,
    /// Mantissa bits (0 for element-wise cells, which have none).
    pub bits: u32,
}

/// The precision plan of one training run.
#[derive(Debug, Clone)]
pub struct PrecisionPlan {
    policy: TrainPolicy,
    fast: FastParams,
    base: PrecisionConfig,
    schedule: PrecisionPolicy,
    layer_names: Vec<String>,
    total_iterations: usize,
    held: Vec<[u32; 3]>,
    decided: Vec<[bool; 3]>,
    last_used: Vec<[Option<u32>; 3]>,
    /// FAST's decisions, in the order they were made.
    pub log: Vec<Decision>,
    /// Every change of width, in order (the first use of each (layer, class) included).
    pub changes: Vec<BitsChange>,
}

impl PrecisionPlan {
    /// A plan for `policy` over the GEMM layers `layer_names` (forward order), a run of
    /// `total_iterations`, the arch's default `base` precision and the workload's `schedule`.
    pub fn new(
        policy: TrainPolicy,
        fast: FastParams,
        base: PrecisionConfig,
        schedule: PrecisionPolicy,
        layer_names: Vec<String>,
        total_iterations: usize,
    ) -> Self {
        let n = layer_names.len();
        let lowest = fast.ladder.first().copied().unwrap_or(2);
        PrecisionPlan {
            policy,
            fast,
            base,
            schedule,
            layer_names,
            total_iterations: total_iterations.max(1),
            held: vec![[lowest; 3]; n],
            decided: vec![[false; 3]; n],
            last_used: vec![[None; 3]; n],
            log: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> TrainPolicy {
        self.policy
    }

    /// FAST's parameters.
    pub fn fast(&self) -> &FastParams {
        &self.fast
    }

    /// Forgets which (layer, class) pairs were decided: call at the start of every iteration.
    pub fn begin_iteration(&mut self) {
        self.decided.iter_mut().for_each(|d| *d = [false; 3]);
    }

    /// `ε(l, i)` for `l` 1-based.
    pub fn epsilon(&self, l: usize, iteration: usize) -> f64 {
        let (a, b) = (self.fast.alpha, self.fast.beta);
        a - b * iteration as f64 / self.total_iterations as f64 - b * l as f64 / self.layer_names.len().max(1) as f64
    }

    /// Whether FAST evaluates `r` for (layer `l0` 0-based, `class`) at `iteration` now.
    pub fn needs_decision(&self, l0: usize, class: TensorClass, iteration: usize) -> bool {
        self.policy == TrainPolicy::Fast
            && iteration.is_multiple_of(self.fast.interval.max(1))
            && !self.decided[l0][class_index(class)]
    }

    /// Runs FAST's rule for (`l0`, `class`) at `iteration`: `r_of(m)` measures `r_m` of the
    /// tensor. Logs and holds the choice; returns it.
    pub fn decide<E>(
        &mut self,
        l0: usize,
        class: TensorClass,
        iteration: usize,
        groups: u64,
        mut r_of: impl FnMut(u32) -> Result<f64, E>,
    ) -> Result<u32, E> {
        let epsilon = self.epsilon(l0 + 1, iteration);
        let mut r = Vec::new();
        let mut k = 0;
        while k + 1 < self.fast.ladder.len() {
            let m = self.fast.ladder[k];
            let rm = r_of(m)?;
            r.push((m, rm));
            if rm > epsilon {
                k += 1;
            } else {
                break;
            }
        }
        let bits = self.fast.ladder[k];
        let ci = class_index(class);
        self.held[l0][ci] = bits;
        self.decided[l0][ci] = true;
        self.log.push(Decision {
            iteration,
            layer: self.layer_names[l0].clone(),
            l: l0 + 1,
            class,
            epsilon,
            r,
            bits,
            groups,
        });
        Ok(bits)
    }

    /// The width and rounding of (`l0`, `class`) at `iteration` under the policy (FAST: the
    /// held choice); `None` for element-wise cells. Records a change when it differs from the
    /// last use (only when `record`).
    pub fn precision(
        &mut self,
        l0: usize,
        class: TensorClass,
        iteration: usize,
        record: bool,
    ) -> Option<ClassPrecision> {
        let arch = self.base.get(class);
        let p = match self.policy {
            TrainPolicy::Fp32 | TrainPolicy::Bf16 => None,
            TrainPolicy::Msfp12 | TrainPolicy::Fixed => Some(arch),
            TrainPolicy::FixedBits(m) => Some(ClassPrecision { mantissa_bits: m, rounding: arch.rounding }),
            TrainPolicy::Schedule => {
                let lp = self.schedule.at(&self.layer_names[l0], iteration);
                Some(lp.get(class).unwrap_or(arch))
            }
            TrainPolicy::Fast => {
                Some(ClassPrecision { mantissa_bits: self.held[l0][class_index(class)], rounding: arch.rounding })
            }
        };
        if record {
            let bits = p.map_or(0, |p| p.mantissa_bits);
            let slot = &mut self.last_used[l0][class_index(class)];
            if *slot != Some(bits) {
                *slot = Some(bits);
                self.changes.push(BitsChange { iteration, l: l0 + 1, class, bits });
            }
        }
        p
    }

    /// GEMM layers' names in forward order.
    pub fn layer_names(&self) -> &[String] {
        &self.layer_names
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bfp::Rounding;

    fn plan(ladder: Vec<u32>) -> PrecisionPlan {
        let cp = |r| ClassPrecision { mantissa_bits: 4, rounding: r };
        let base = PrecisionConfig {
            weights: cp(Rounding::Nearest),
            activations: cp(Rounding::Nearest),
            gradients: cp(Rounding::Stochastic),
        };
        let fast = FastParams { alpha: 0.5, beta: 0.2, interval: 2, ladder, r_norm: Default::default() };
        PrecisionPlan::new(TrainPolicy::Fast, fast, base, PrecisionPolicy::Fixed, vec!["a".into(), "b".into()], 10)
    }

    #[test]
    fn epsilon_and_ladder_steps() {
        let mut p = plan(vec![2, 4, 6, 8]);
        // l = 2 of 2, i = 5 of 10: 0.5 - 0.2 * 0.5 - 0.2 * 1 = 0.2
        assert!((p.epsilon(2, 5) - 0.2).abs() < 1e-15);
        let rs = [0.9, 0.3, 0.1];
        let bits = p.decide(1, TensorClass::Gradients, 4, 7, |m| Ok::<_, ()>(rs[(m as usize - 2) / 2])).unwrap();
        // eps(2, 4) = 0.5 - 0.08 - 0.2 = 0.22: 0.9 > eps -> 4; 0.3 > eps -> 6; 0.1 <= eps -> stop at 6.
        assert_eq!(bits, 6);
        assert_eq!(p.log[0].r, vec![(2, 0.9), (4, 0.3), (6, 0.1)]);
        let held = p.precision(1, TensorClass::Gradients, 5, true).unwrap();
        assert_eq!((held.mantissa_bits, held.rounding), (6, Rounding::Stochastic));
        // Only every `interval` iterations, once per iteration.
        assert!(!p.needs_decision(1, TensorClass::Gradients, 4));
        p.begin_iteration();
        assert!(p.needs_decision(1, TensorClass::Gradients, 4));
        assert!(!p.needs_decision(1, TensorClass::Gradients, 5));
    }

    #[test]
    fn an_infinite_r_climbs_to_the_top() {
        let mut p = plan(vec![2, 4]);
        assert_eq!(p.decide(0, TensorClass::Weights, 0, 1, |_| Ok::<_, ()>(f64::INFINITY)).unwrap(), 4);
        assert_eq!(p.decide(0, TensorClass::Activations, 0, 1, |_| Ok::<_, ()>(0.0)).unwrap(), 2);
    }
}
