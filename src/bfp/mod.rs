//! Block floating point: the group format, the rounding rules, the LFSR noise source, the
//! converter from binary32 and the packed split exponent/mantissa storage (DESIGN §2 to §4).
//!
//! Nothing here knows about time, arrays or files: it is the bit-level contract every other
//! module builds on.

mod convert;
mod format;
mod group16;
mod improvement;
pub mod lfsr;
mod packed;
mod round;
pub mod softfloat;

pub use convert::{convert, BfpMatrix, ConvertFlags, ConvertJob, GroupAxis};
pub(crate) use convert::{prepare, GroupCtx};
pub use format::{BfpError, BfpFormat, ConvertSpec, ExpBase, LfsrParams, Rounding};
pub(crate) use group16::available as simd16_available;
#[cfg(target_arch = "x86_64")]
pub(crate) use group16::mantissas16;
pub use improvement::{relative_improvement, Improvement, RNorm};
pub use lfsr::{job_seed, lane_seed, Lfsr16, LfsrJump, NoiseBank};
pub(crate) use packed::hex_of;
pub use packed::{PackedGroup, PackedTensor};
pub use round::round_mantissa;
