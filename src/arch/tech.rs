//! Technology tables (`arch/tech/*.ron`): area per component and energy per action at one
//! process node (DESIGN §8). Energies are in pJ (`*_pj`), areas in um^2 (`*_um2`). This module
//! owns the schema, loading and validation; multiplying counted actions by these numbers is
//! the cost model's job.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{ArchError, Reporter};
use super::schema::ron_options;

/// One technology node's costs. Every number is finite and > 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TechTable {
    /// Name of the table (e.g. `45nm`).
    pub name: String,
    /// Process node in nm, 1..=1000.
    pub node_nm: u32,
    /// Supply voltage in V the energies assume.
    pub supply_v: f64,
    /// Logic blocks: energy per operation and area per instance.
    pub logic: LogicCosts,
    /// SRAM macros by capacity, strictly increasing; the cost model picks (or interpolates
    /// between) the macros around a bank's capacity.
    pub sram: Vec<SramMacro>,
    /// Off-chip DRAM.
    pub dram: DramCost,
}

/// Energy of one operation and area of one instance of a block.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockCost {
    /// Energy per operation in pJ.
    pub energy_pj: f64,
    /// Area per instance in um^2.
    pub area_um2: f64,
}

/// The logic blocks the cost model prices. The first eight are measured figures (Horowitz,
/// ISSCC 2014); the rest are derived from them by the rules written in the table file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogicCosts {
    /// 8-bit integer adder.
    pub int8_add: BlockCost,
    /// 32-bit integer adder.
    pub int32_add: BlockCost,
    /// 8-bit x 8-bit integer multiplier.
    pub int8_mult: BlockCost,
    /// 32-bit x 32-bit integer multiplier.
    pub int32_mult: BlockCost,
    /// IEEE binary16 adder.
    pub fp16_add: BlockCost,
    /// IEEE binary32 adder (the fp32 accumulator).
    pub fp32_add: BlockCost,
    /// IEEE binary16 multiplier.
    pub fp16_mult: BlockCost,
    /// IEEE binary32 multiplier.
    pub fp32_mult: BlockCost,
    /// bfloat16 multiplier (8-bit significands).
    pub bf16_mult: BlockCost,
    /// One fMAC lane: 2-bit x 2-bit magnitude multiplier.
    pub mult_2b: BlockCost,
    /// One bit of an integer adder (a full adder); adder-tree nodes are priced per bit.
    pub adder_bit: BlockCost,
    /// One register (flip-flop) bit, per write.
    pub register_bit: BlockCost,
    /// One XOR gate (product signs, LFSR taps).
    pub xor_bit: BlockCost,
    /// One 2:1 multiplexer bit.
    pub mux2_bit: BlockCost,
    /// 8-bit magnitude comparator (a node of the converter's max-exponent tree).
    pub comparator_8b: BlockCost,
    /// 8-bit exponent adder/subtractor (fMAC exponent add, converter exponent difference).
    pub exp_adder_8b: BlockCost,
    /// 24-bit barrel shifter with 5 stages (converter alignment), per shift.
    pub shifter_24b: BlockCost,
    /// 16-bit Galois LFSR, per step.
    pub lfsr16: BlockCost,
}

impl LogicCosts {
    /// Every block with its field name, in file order.
    pub fn blocks(&self) -> [(&'static str, BlockCost); 18] {
        [
            ("int8_add", self.int8_add),
            ("int32_add", self.int32_add),
            ("int8_mult", self.int8_mult),
            ("int32_mult", self.int32_mult),
            ("fp16_add", self.fp16_add),
            ("fp32_add", self.fp32_add),
            ("fp16_mult", self.fp16_mult),
            ("fp32_mult", self.fp32_mult),
            ("bf16_mult", self.bf16_mult),
            ("mult_2b", self.mult_2b),
            ("adder_bit", self.adder_bit),
            ("register_bit", self.register_bit),
            ("xor_bit", self.xor_bit),
            ("mux2_bit", self.mux2_bit),
            ("comparator_8b", self.comparator_8b),
            ("exp_adder_8b", self.exp_adder_8b),
            ("shifter_24b", self.shifter_24b),
            ("lfsr16", self.lfsr16),
        ]
    }
}

/// One SRAM macro size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SramMacro {
    /// Capacity in KiB, 1..=1048576.
    pub capacity_kib: u64,
    /// Read energy per bit in pJ.
    pub read_bit_pj: f64,
    /// Write energy per bit in pJ.
    pub write_bit_pj: f64,
    /// Area per KiB of capacity in um^2.
    pub area_per_kib_um2: f64,
}

/// Off-chip DRAM.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DramCost {
    /// Energy per bit transferred (read or write) in pJ.
    pub access_bit_pj: f64,
}

const POSITIVE: &str = "a finite number > 0";

/// The allowed values of the technology-table field at `path`.
pub(crate) fn allowed(path: &str) -> Option<String> {
    let text = match path {
        "name" => "a non-empty string",
        "node_nm" => "1..=1000",
        "sram" => "a non-empty list of macros, capacities strictly increasing",
        p if p.ends_with(".capacity_kib") => "1..=1048576, strictly increasing down the list",
        p if p.ends_with("_pj") || p.ends_with("_um2") || p == "supply_v" => POSITIVE,
        _ => return None,
    };
    Some(text.to_string())
}

/// Reads and validates the technology table at `path`.
pub fn load_tech(path: &Path) -> Result<TechTable, ArchError> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES)
        .map_err(|error| ArchError::Io { path: path.to_path_buf(), error })?;
    parse_tech(&text, path)
}

/// Parses and validates a technology table; `origin` names it in messages.
pub fn parse_tech(text: &str, origin: &Path) -> Result<TechTable, ArchError> {
    if let Some(((line, col), message)) = crate::ronpos::too_deep(text) {
        return Err(ArchError::Parse { file: origin.to_path_buf(), line, col, field: String::new(), message });
    }
    let rep = Reporter::new(origin, text, allowed);
    let t: TechTable = ron_options().from_str(text).map_err(|e| rep.ron(&e))?;
    if t.name.trim().is_empty() {
        return Err(rep.out_of_range("name", format!("{:?}", t.name), "a non-empty string"));
    }
    if !(1..=1000).contains(&t.node_nm) {
        return Err(rep.out_of_range("node_nm", t.node_nm, "1..=1000"));
    }
    let positive =
        |path: &str, v: f64| if v.is_finite() && v > 0.0 { Ok(()) } else { Err(rep.out_of_range(path, v, POSITIVE)) };
    positive("supply_v", t.supply_v)?;
    for (name, b) in t.logic.blocks() {
        positive(&format!("logic.{name}.energy_pj"), b.energy_pj)?;
        positive(&format!("logic.{name}.area_um2"), b.area_um2)?;
    }
    if t.sram.is_empty() {
        return Err(rep.out_of_range("sram", "[]", "a non-empty list of macros, capacities strictly increasing"));
    }
    let mut prev = 0;
    for (i, m) in t.sram.iter().enumerate() {
        let path = format!("sram[{i}].capacity_kib");
        if m.capacity_kib <= prev || m.capacity_kib > 1 << 20 {
            let allowed = format!("{}..=1048576 (strictly increasing down the list)", prev + 1);
            return Err(rep.out_of_range(&path, m.capacity_kib, allowed));
        }
        prev = m.capacity_kib;
        positive(&format!("sram[{i}].read_bit_pj"), m.read_bit_pj)?;
        positive(&format!("sram[{i}].write_bit_pj"), m.write_bit_pj)?;
        positive(&format!("sram[{i}].area_per_kib_um2"), m.area_per_kib_um2)?;
    }
    positive("dram.access_bit_pj", t.dram.access_bit_pj)?;
    Ok(t)
}
