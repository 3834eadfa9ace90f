//! Holding a forced mapping to the operand buffers: a mapping given by the user (`--mapping`)
//! may keep tiles on chip that do not fit the SRAM. The mapper never chooses such a mapping
//! (it skips it, [`super::estimate`]); a forced one runs with an operand streamed from DRAM
//! fold by fold instead (nothing of it kept), by the mapper's own capacity rule
//! ([`MappingContext::operands_fit`]), and says so ([`CapacityHold`]).

use serde::Serialize;

use super::dims::Role;
use super::model::{figures, MappingContext};
use super::Mapping;
use crate::gemm::Pass;

/// What holding a forced mapping to the buffers changed: the operands it streams that the
/// mapping kept, and the bits the mapping's kept tiles needed against the room there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CapacityHold {
    /// Operands (X, Y) now streamed that the forced mapping kept on chip.
    pub streamed: [bool; 2],
    /// Bits of the forced mapping's kept tiles (X's and Y's together), (exponent, mantissa).
    pub kept_bits: (u64, u64),
    /// Bits of the largest kept tile of each operand (X, Y), (exponent, mantissa).
    pub tile_bits: [(u64, u64); 2],
    /// The room for kept tiles, (exponent, mantissa) bits
    /// ([`MappingContext::kept_capacity_bits`]).
    pub capacity_bits: (u64, u64),
}

/// The name of operand `role` of `pass` in DESIGN §6: `W`, `A` or `dO`.
pub fn operand_name(pass: Pass, role: Role) -> &'static str {
    match (pass, role) {
        (_, Role::Out) => "out",
        (Pass::BackwardWeight, Role::X) => "dO",
        (_, Role::X) => "W",
        (Pass::BackwardData, Role::Y) => "dO",
        (_, Role::Y) => "A",
    }
}

/// Which operands (X, Y) a held mapping may stream, in the order tried on ties.
const STREAMED: [[bool; 2]; 3] = [[false, true], [true, false], [true, true]];

/// `m` (already legalised) held to the operand buffers of `ctx`: unchanged when its kept tiles
/// fit; otherwise the same tiles and order with more operands streamed, the fitting choice
/// with the fewest DRAM bits in the closed-form model (then the fewest streamed operands,
/// then Y before X), and what changed.
pub fn hold_to_capacity(ctx: &MappingContext, m: Mapping) -> (Mapping, Option<CapacityHold>) {
    let fm = ctx.feature_map_sums(&m);
    if ctx.operands_fit(&m, fm.as_ref()) {
        return (m, None);
    }
    let tile = |role: Role| {
        let kept = Mapping { streamed: [role != Role::X, role != Role::Y], ..m };
        ctx.kept_bits(&kept, fm.as_ref())
    };
    let hold = CapacityHold {
        streamed: [false; 2],
        kept_bits: ctx.kept_bits(&m, fm.as_ref()),
        tile_bits: [tile(Role::X), tile(Role::Y)],
        capacity_bits: ctx.kept_capacity_bits(),
    };
    // Streaming both keeps nothing, so some choice always fits.
    let mut best = (Mapping { streamed: [true; 2], ..m }, u64::MAX, 2);
    for s in STREAMED {
        let held = Mapping { streamed: [m.streamed[0] || s[0], m.streamed[1] || s[1]], ..m };
        if held == m || !ctx.operands_fit(&held, fm.as_ref()) {
            continue;
        }
        let bits = figures(ctx, &held, fm.as_ref()).dram_bits();
        let count = held.streamed.iter().filter(|&&b| b).count();
        if (bits, count) < (best.1, best.2) {
            best = (held, bits, count);
        }
    }
    let held = best.0;
    let streamed = [held.streamed[0] && !m.streamed[0], held.streamed[1] && !m.streamed[1]];
    (held, Some(CapacityHold { streamed, ..hold }))
}
