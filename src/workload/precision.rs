//! Precision policies: which mantissa width and rounding each layer's operands use at each
//! training iteration. `fixed` uses the arch's precision everywhere; `per_layer` overrides it
//! for named layers; `schedule` changes every layer's widths at given iterations (FAST raises
//! precision as training proceeds).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::arch::{ClassPrecision, PrecisionConfig, TensorClass};
use crate::bfp::Rounding;

/// A workload's precision policy, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrecisionPolicy {
    /// The arch's precision for every layer and iteration.
    Fixed,
    /// Overrides for the named layers (every name is a layer of the workload); other layers
    /// and classes use the arch's.
    PerLayer(BTreeMap<String, LayerPrecision>),
    /// Steps sorted by `from_iteration`, the first at iteration 0; each holds from its
    /// iteration until the next step's.
    Schedule(Vec<ScheduleStep>),
}

/// One step of a precision schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScheduleStep {
    /// First iteration (0-based) the step applies to.
    pub from_iteration: usize,
    /// Precision of every layer's operands from then on.
    pub precision: PrecisionConfig,
}

/// Precision of one layer's operands: per tensor class, a mantissa width and rounding, or
/// `None` for the arch's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LayerPrecision {
    /// Weights `W` (and a matmul's left operand is an activation, not a weight).
    pub weights: Option<ClassPrecision>,
    /// Activations `A`.
    pub activations: Option<ClassPrecision>,
    /// Gradients `dO`.
    pub gradients: Option<ClassPrecision>,
}

impl LayerPrecision {
    /// The override for `class`, if any.
    pub fn get(&self, class: TensorClass) -> Option<ClassPrecision> {
        match class {
            TensorClass::Weights => self.weights,
            TensorClass::Activations => self.activations,
            TensorClass::Gradients => self.gradients,
        }
    }

    /// The arch's precision with this layer's overrides applied.
    pub fn resolve(&self, arch: &PrecisionConfig) -> PrecisionConfig {
        PrecisionConfig {
            weights: self.weights.unwrap_or(arch.weights),
            activations: self.activations.unwrap_or(arch.activations),
            gradients: self.gradients.unwrap_or(arch.gradients),
        }
    }
}

/// Roundings a schedule step uses when it gives none: FAST's (and the default arch's) choice,
/// nearest for weights and activations, stochastic for gradients.
pub const SCHEDULE_DEFAULT_ROUNDING: [Rounding; 3] = [Rounding::Nearest, Rounding::Nearest, Rounding::Stochastic];

impl PrecisionPolicy {
    /// The precision of `layer`'s operands at `iteration` (0-based).
    pub fn at(&self, layer: &str, iteration: usize) -> LayerPrecision {
        match self {
            PrecisionPolicy::Fixed => LayerPrecision::default(),
            PrecisionPolicy::PerLayer(map) => map.get(layer).copied().unwrap_or_default(),
            PrecisionPolicy::Schedule(steps) => {
                let step = steps.iter().rev().find(|s| s.from_iteration <= iteration).or(steps.first());
                step.map_or_else(LayerPrecision::default, |s| LayerPrecision {
                    weights: Some(s.precision.weights),
                    activations: Some(s.precision.activations),
                    gradients: Some(s.precision.gradients),
                })
            }
        }
    }

    /// The iterations (0-based, below `iterations`) at which the precision changes, with
    /// iteration 0 first; `[0]` for the policies that do not change over time.
    pub fn change_points(&self, iterations: usize) -> Vec<usize> {
        match self {
            PrecisionPolicy::Schedule(steps) => {
                steps.iter().map(|s| s.from_iteration).filter(|&i| i == 0 || i < iterations).collect()
            }
            _ => vec![0],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp(m: u32, rounding: Rounding) -> ClassPrecision {
        ClassPrecision { mantissa_bits: m, rounding }
    }

    #[test]
    fn schedule_picks_the_last_step_at_or_before_the_iteration() {
        let step = |from, m| ScheduleStep {
            from_iteration: from,
            precision: PrecisionConfig {
                weights: cp(m, Rounding::Nearest),
                activations: cp(m, Rounding::Nearest),
                gradients: cp(m + 2, Rounding::Stochastic),
            },
        };
        let p = PrecisionPolicy::Schedule(vec![step(0, 2), step(10, 4), step(20, 6)]);
        let w = |i| p.at("any", i).weights.unwrap().mantissa_bits;
        assert_eq!([w(0), w(9), w(10), w(19), w(20), w(1000)], [2, 2, 4, 4, 6, 6]);
        assert_eq!(p.at("x", 12).gradients, Some(cp(6, Rounding::Stochastic)));
        assert_eq!(p.change_points(15), vec![0, 10]);
    }

    #[test]
    fn resolve_fills_in_the_arch() {
        let arch = PrecisionConfig {
            weights: cp(4, Rounding::Nearest),
            activations: cp(4, Rounding::Nearest),
            gradients: cp(4, Rounding::Stochastic),
        };
        let lp = LayerPrecision { weights: Some(cp(8, Rounding::Even)), ..Default::default() };
        let r = lp.resolve(&arch);
        assert_eq!((r.weights, r.activations, r.gradients), (cp(8, Rounding::Even), arch.activations, arch.gradients));
        assert_eq!(PrecisionPolicy::Fixed.at("x", 3), LayerPrecision::default());
    }
}
