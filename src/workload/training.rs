//! The optional `training` section of a workload file: what `fastbfp train` needs to train the
//! network for real (data set, epochs, optimizer, learning-rate schedule, initialisation, loss,
//! evaluation cadence, precision policy and FAST's parameters). The RON schema as written
//! ([`TrainingFile`], unknown fields rejected) and its checked form ([`TrainingConfig`]).
//! Every field, default and range is documented in `docs/training.md`.

use serde::{Deserialize, Serialize};

use super::error::{Reporter, WorkloadError};

/// `training: (...)` exactly as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrainingFile {
    #[serde(default)]
    pub data: Option<String>,
    #[serde(default)]
    pub epochs: Option<i64>,
    #[serde(default)]
    pub batch: Option<i64>,
    #[serde(default)]
    pub optimizer: Option<OptimizerFile>,
    #[serde(default)]
    pub lr_schedule: Option<LrScheduleFile>,
    #[serde(default)]
    pub init: Option<Init>,
    #[serde(default)]
    pub loss: Option<Loss>,
    #[serde(default)]
    pub eval_every: Option<i64>,
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub fast: Option<FastFile>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum OptimizerFile {
    Sgd {
        lr: f64,
        #[serde(default)]
        momentum: f64,
        #[serde(default)]
        weight_decay: f64,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum LrScheduleFile {
    Constant,
    Step {
        every_epochs: i64,
        gamma: f64,
    },
    Cosine {
        #[serde(default)]
        min_lr: f64,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FastFile {
    #[serde(default)]
    pub alpha: Option<f64>,
    #[serde(default)]
    pub beta: Option<f64>,
    #[serde(default)]
    pub interval: Option<i64>,
    #[serde(default)]
    pub ladder: Option<Vec<i64>>,
    #[serde(default)]
    pub r_norm: Option<crate::bfp::RNorm>,
}

/// How trainable weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// He (Kaiming) uniform: `U(-b, b)`, `b = sqrt(6 / fan_in)`.
    HeUniform,
    /// He normal: `N(0, 2 / fan_in)`.
    HeNormal,
    /// Xavier (Glorot) uniform: `U(-b, b)`, `b = sqrt(6 / (fan_in + fan_out))`.
    XavierUniform,
    /// Xavier normal: `N(0, 2 / (fan_in + fan_out))`.
    XavierNormal,
}

/// The training loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Softmax over the last layer's features, then the mean cross-entropy over the batch.
    SoftmaxCrossEntropy,
}

/// Stochastic gradient descent with momentum and L2 weight decay (PyTorch's convention:
/// `v = momentum v + (g + weight_decay w)`, `w -= lr v`; decay on conv and linear weights only).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sgd {
    /// Base learning rate, > 0.
    pub lr: f64,
    /// Momentum, 0 <= momentum < 1.
    pub momentum: f64,
    /// L2 weight decay, >= 0.
    pub weight_decay: f64,
}

/// The learning rate over iterations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    /// The base rate throughout.
    Constant,
    /// The rate times `gamma` every `every_epochs` epochs.
    Step {
        /// Epochs between steps, >= 1.
        every_epochs: usize,
        /// Factor per step, 0 < gamma <= 1.
        gamma: f64,
    },
    /// Half a cosine from the base rate at iteration 0 to `min_lr` at the last iteration.
    Cosine {
        /// The final rate, 0 <= min_lr <= lr.
        min_lr: f64,
    },
}

impl std::fmt::Display for LrSchedule {
    /// As the workload file writes it: `constant`, `step(every_epochs: 10, gamma: 0.5)`,
    /// `cosine(min_lr: 0)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            LrSchedule::Constant => write!(f, "constant"),
            LrSchedule::Step { every_epochs, gamma } => write!(f, "step(every_epochs: {every_epochs}, gamma: {gamma})"),
            LrSchedule::Cosine { min_lr } => write!(f, "cosine(min_lr: {min_lr})"),
        }
    }
}

impl LrSchedule {
    /// The learning rate at `iteration` of `total` (0-based), epochs of `per_epoch` iterations.
    pub fn rate(&self, base: f64, iteration: usize, total: usize, per_epoch: usize) -> f64 {
        match *self {
            LrSchedule::Constant => base,
            LrSchedule::Step { every_epochs, gamma } => {
                let steps = iteration / per_epoch.max(1) / every_epochs.max(1);
                base * gamma.powi(steps.min(i32::MAX as usize) as i32)
            }
            LrSchedule::Cosine { min_lr } => {
                let t = iteration as f64 / total.max(1) as f64;
                min_lr + 0.5 * (base - min_lr) * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

/// A precision policy for training (DESIGN §11 for `fast`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainPolicy {
    /// Binary32 cells (`arch/fp32-32x32.ron`'s cell on the arch's array).
    Fp32,
    /// bfloat16 cells (`arch/bf16-32x32.ron`'s cell on the arch's array).
    Bf16,
    /// MSFP-12 cells: full-width BFP, m = 3 (`arch/msfp12-32x32.ron` on the arch's array).
    Msfp12,
    /// The arch's own precision per tensor class.
    Fixed,
    /// `M` mantissa bits for every tensor class on the arch (rounding: the class's).
    FixedBits(u32),
    /// The workload's `precision` policy (a schedule over iterations, or per layer).
    Schedule,
    /// FAST's adaptive policy (DESIGN §11).
    Fast,
}

/// Policy names accepted by `--policy` and `training.policy`.
pub const POLICY_NAMES: &str = "fp32, bf16, msfp12, fixed, fixed:M (M = 1..=16), schedule, fast";

impl TrainPolicy {
    /// The name on the command line (`fixed:4`).
    pub fn name(&self) -> String {
        match self {
            TrainPolicy::Fp32 => "fp32".into(),
            TrainPolicy::Bf16 => "bf16".into(),
            TrainPolicy::Msfp12 => "msfp12".into(),
            TrainPolicy::Fixed => "fixed".into(),
            TrainPolicy::FixedBits(m) => format!("fixed:{m}"),
            TrainPolicy::Schedule => "schedule".into(),
            TrainPolicy::Fast => "fast".into(),
        }
    }

    /// The name as a folder (`fixed-4`).
    pub fn folder(&self) -> String {
        self.name().replace(':', "-")
    }
}

impl std::fmt::Display for TrainPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl std::str::FromStr for TrainPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        Ok(match t {
            "fp32" => TrainPolicy::Fp32,
            "bf16" => TrainPolicy::Bf16,
            "msfp12" => TrainPolicy::Msfp12,
            "fixed" => TrainPolicy::Fixed,
            "schedule" => TrainPolicy::Schedule,
            "fast" => TrainPolicy::Fast,
            _ => match t.strip_prefix("fixed:").or_else(|| t.strip_prefix("fixed-")) {
                Some(m) => match m.parse::<u32>() {
                    Ok(m @ 1..=16) => TrainPolicy::FixedBits(m),
                    _ => return Err(format!("policy `{t}`: M = `{m}` is not a mantissa width; allowed 1..=16")),
                },
                None => return Err(format!("unknown policy `{t}`; allowed {POLICY_NAMES}")),
            },
        })
    }
}

/// FAST's parameters (DESIGN §11).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FastParams {
    /// `α` of `ε(l, i) = α − β·i/I − β·l/L`.
    pub alpha: f64,
    /// `β`.
    pub beta: f64,
    /// Iterations between evaluations of `r`, >= 1.
    pub interval: usize,
    /// Mantissa widths, increasing, each 1..=16 (FAST: even widths 2..=8).
    pub ladder: Vec<u32>,
    /// The denominator of `r` (DESIGN §11): `l1` (default) or `abs_sum`.
    pub r_norm: crate::bfp::RNorm,
}

/// Default `α`: see `docs/training.md` for how it was chosen (on training data only).
pub const FAST_DEFAULT_ALPHA: f64 = 0.5;
/// Default `β`.
pub const FAST_DEFAULT_BETA: f64 = 0.2;

impl Default for FastParams {
    fn default() -> Self {
        FastParams {
            alpha: FAST_DEFAULT_ALPHA,
            beta: FAST_DEFAULT_BETA,
            interval: 1,
            ladder: vec![2, 4],
            r_norm: crate::bfp::RNorm::default(),
        }
    }
}

/// The checked `training` section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingConfig {
    /// `digits`, `mnist1d`, or a path (relative paths are relative to the workload file).
    pub data: String,
    /// Passes over the training split, >= 1.
    pub epochs: usize,
    /// Mini-batch size; `None`: the workload's `batch`.
    pub batch: Option<usize>,
    /// The optimizer.
    pub optimizer: Sgd,
    /// The learning-rate schedule.
    pub lr_schedule: LrSchedule,
    /// Weight initialisation.
    pub init: Init,
    /// The loss.
    pub loss: Loss,
    /// Iterations between evaluations on the test split; `None`: once per epoch.
    pub eval_every: Option<usize>,
    /// The default precision policy.
    pub policy: TrainPolicy,
    /// FAST's parameters.
    pub fast: FastParams,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        TrainingConfig {
            data: "digits".into(),
            epochs: 10,
            batch: None,
            optimizer: Sgd { lr: 0.05, momentum: 0.9, weight_decay: 0.0 },
            lr_schedule: LrSchedule::Constant,
            init: Init::HeUniform,
            loss: Loss::SoftmaxCrossEntropy,
            eval_every: None,
            policy: TrainPolicy::Fast,
            fast: FastParams::default(),
        }
    }
}

/// Allowed values of the training fields, for messages and `docs/training.md`.
pub(crate) fn allowed(path: &str) -> Option<&'static str> {
    Some(match path {
        "training.data" => "digits, mnist1d, or a path to a .npz file or a folder of .npy, MNIST IDX or CIFAR-10 files",
        "training.epochs" => "1..=100000",
        "training.batch" => "1..=65536",
        "training.optimizer" => "sgd(lr: L, momentum: M, weight_decay: D)",
        "training.optimizer.lr" => "a finite number in (0, 100]",
        "training.optimizer.momentum" => "a number in [0, 1)",
        "training.optimizer.weight_decay" => "a finite number in [0, 1]",
        "training.lr_schedule" => "constant, step(every_epochs: N, gamma: G), cosine(min_lr: L)",
        "training.lr_schedule.every_epochs" => "1..=100000",
        "training.lr_schedule.gamma" => "a number in (0, 1]",
        "training.lr_schedule.min_lr" => "a number in [0, lr]",
        "training.init" => "he_uniform, he_normal, xavier_uniform, xavier_normal",
        "training.loss" => "softmax_cross_entropy",
        "training.eval_every" => "1..=1000000000 iterations",
        "training.policy" => POLICY_NAMES,
        "training.fast.alpha" | "training.fast.beta" => "a finite number in [-1000, 1000]",
        "training.fast.interval" => "1..=1000000000",
        "training.fast.ladder" => "1 to 8 increasing mantissa widths, each 1..=16 and all but the last <= 14 (r_m compares m with m + 2), e.g. [2, 4] or [2, 4, 6, 8]",
        _ => return None,
    })
}

/// Checks the section.
pub(crate) fn validate(file: &TrainingFile, rep: &Reporter<'_>) -> Result<TrainingConfig, WorkloadError> {
    let d = TrainingConfig::default();
    let bad = |path: &str, value: String| rep.out_of_range(path, value, allowed(path).unwrap_or(""));
    let int = |path: &str, v: Option<i64>, lo: i64, hi: i64| -> Result<Option<usize>, WorkloadError> {
        match v {
            None => Ok(None),
            Some(x) if (lo..=hi).contains(&x) => Ok(Some(x as usize)),
            Some(x) => Err(bad(path, x.to_string())),
        }
    };
    let real = |path: &str, v: f64, ok: bool| if ok && v.is_finite() { Ok(v) } else { Err(bad(path, format!("{v}"))) };
    let data = match &file.data {
        None => d.data.clone(),
        Some(s) if s.trim().is_empty() => return Err(bad("training.data", "\"\"".into())),
        Some(s) => s.clone(),
    };
    let epochs = int("training.epochs", file.epochs, 1, 100_000)?.unwrap_or(d.epochs);
    let batch = int("training.batch", file.batch, 1, 1 << 16)?;
    let optimizer = match &file.optimizer {
        None => d.optimizer,
        Some(OptimizerFile::Sgd { lr, momentum, weight_decay }) => Sgd {
            lr: real("training.optimizer.lr", *lr, *lr > 0.0 && *lr <= 100.0)?,
            momentum: real("training.optimizer.momentum", *momentum, (0.0..1.0).contains(momentum))?,
            weight_decay: real("training.optimizer.weight_decay", *weight_decay, (0.0..=1.0).contains(weight_decay))?,
        },
    };
    let lr_schedule = match &file.lr_schedule {
        None => d.lr_schedule,
        Some(LrScheduleFile::Constant) => LrSchedule::Constant,
        Some(LrScheduleFile::Step { every_epochs, gamma }) => LrSchedule::Step {
            every_epochs: int("training.lr_schedule.every_epochs", Some(*every_epochs), 1, 100_000)?.unwrap_or(1),
            gamma: real("training.lr_schedule.gamma", *gamma, *gamma > 0.0 && *gamma <= 1.0)?,
        },
        Some(LrScheduleFile::Cosine { min_lr }) => LrSchedule::Cosine {
            min_lr: real("training.lr_schedule.min_lr", *min_lr, *min_lr >= 0.0 && *min_lr <= optimizer.lr)?,
        },
    };
    let eval_every = int("training.eval_every", file.eval_every, 1, 1_000_000_000)?;
    let policy = match &file.policy {
        None => d.policy,
        Some(p) => {
            p.parse::<TrainPolicy>().map_err(|e| rep.message("training.policy", format!("training.policy: {e}")))?
        }
    };
    let mut fast = FastParams::default();
    if let Some(f) = &file.fast {
        let coef = |path: &str, v: Option<f64>, dflt: f64| match v {
            None => Ok(dflt),
            Some(x) => real(path, x, x.abs() <= 1000.0),
        };
        fast.alpha = coef("training.fast.alpha", f.alpha, fast.alpha)?;
        fast.beta = coef("training.fast.beta", f.beta, fast.beta)?;
        fast.interval = int("training.fast.interval", f.interval, 1, 1_000_000_000)?.unwrap_or(1);
        fast.r_norm = f.r_norm.unwrap_or_default();
        if let Some(l) = &f.ladder {
            let ok = !l.is_empty()
                && l.len() <= 8
                && l.iter().all(|&m| (1..=16).contains(&m))
                && l[..l.len() - 1].iter().all(|&m| m <= 14)
                && l.windows(2).all(|w| w[0] < w[1]);
            if !ok {
                let shown: Vec<String> = l.iter().map(i64::to_string).collect();
                return Err(bad("training.fast.ladder", format!("[{}]", shown.join(", "))));
            }
            fast.ladder = l.iter().map(|&m| m as u32).collect();
        }
    }
    Ok(TrainingConfig {
        data,
        epochs,
        batch,
        optimizer,
        lr_schedule,
        init: file.init.unwrap_or(d.init),
        loss: file.loss.unwrap_or(d.loss),
        eval_every,
        policy,
        fast,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_round_trip() {
        for p in ["fp32", "bf16", "msfp12", "fixed", "fixed:2", "fixed:16", "schedule", "fast"] {
            assert_eq!(p.parse::<TrainPolicy>().unwrap().name(), p);
        }
        assert_eq!("fixed-4".parse::<TrainPolicy>().unwrap(), TrainPolicy::FixedBits(4));
        assert_eq!(TrainPolicy::FixedBits(4).folder(), "fixed-4");
        assert!("fixed:0".parse::<TrainPolicy>().unwrap_err().contains("1..=16"));
        assert!("fixed:17".parse::<TrainPolicy>().is_err());
        assert!("int4".parse::<TrainPolicy>().unwrap_err().contains("allowed fp32"));
    }

    #[test]
    fn schedules() {
        let s = LrSchedule::Step { every_epochs: 2, gamma: 0.5 };
        assert_eq!([s.rate(1.0, 0, 100, 10), s.rate(1.0, 19, 100, 10), s.rate(1.0, 20, 100, 10)], [1.0, 1.0, 0.5]);
        let c = LrSchedule::Cosine { min_lr: 0.0 };
        assert_eq!(c.rate(1.0, 0, 100, 10), 1.0);
        assert!((c.rate(1.0, 50, 100, 10) - 0.5).abs() < 1e-12);
        assert_eq!(LrSchedule::Constant.rate(0.3, 99, 100, 10), 0.3);
    }
}
