//! The cost model: energy is linear in the counted actions, the cells compare as the FAST
//! paper claims (per MAC), SRAM energy grows with the bank, equal-area shapes are within one
//! row and column, actions derive from simulated GEMMs as documented, and the 7 nm table
//! loads with energies below 45 nm's.

use std::path::Path;

use fastbfp::accel::{simulate_gemm, spec_for, GemmRequest, GemmSim};
use fastbfp::arch::{load_arch, load_tech, Arch, TechTable};
use fastbfp::array::Fidelity;
use fastbfp::cost::{
    area, cell_cost, converter_cost, energy, equal_area_shape, sram_macro, unit_energies, Actions, EnergyBreakdown,
};
use fastbfp::gemm::Pass;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn arch(name: &str) -> Arch {
    load_arch(&root().join("arch").join(name)).unwrap()
}

fn tech(name: &str) -> TechTable {
    load_tech(&root().join("arch/tech").join(name)).unwrap()
}

const ARCHS: [&str; 8] = [
    "fast-32x32.ron",
    "fast-4x4.ron",
    "fast-e4-32x32.ron",
    "fast-32x32-transpose.ron",
    "msfp12-32x32.ron",
    "fp32-32x32.ron",
    "bf16-32x32.ron",
    "int8-32x32.ron",
];

/// Every field non-zero and different, so a field priced twice or not at all shows.
fn some_actions() -> Actions {
    Actions {
        chunk_passes: 1_000_003,
        group_pairs: 250_001,
        fp32_adds: 250_007,
        kulisch_adds: 11,
        element_macs: 4_000_037,
        partial_sum_hops: 300_007,
        operand_hop_bits: 9_000_011,
        converter_groups: 5_003,
        sram_exp_read_bits: 70_001,
        sram_exp_write_bits: 30_011,
        sram_mant_read_bits: 900_001,
        sram_mant_write_bits: 400_009,
        dram_bits: 800_021,
        transpose_dram_bits: 60_013,
        output_buffer_bits: 120_017,
    }
}

fn components(e: &EnergyBreakdown) -> [f64; 7] {
    [e.array_pj, e.converters_pj, e.exponent_sram_pj, e.mantissa_sram_pj, e.dram_pj, e.transpose_pj, e.output_buffer_pj]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn energy_is_linear_in_actions_and_zero_for_no_actions() {
    for name in ARCHS {
        let a = arch(name);
        let one = some_actions();
        let mut two = one;
        two.add(&one);
        assert_eq!(two, one.scaled(2));
        let (e1, e2) = (energy(&a, &one), energy(&a, &two));
        for (x, y) in components(&e1).iter().zip(components(&e2)) {
            assert!(close(2.0 * x, y), "{name}: {x} doubled is not {y}");
        }
        assert!(close(2.0 * e1.total_pj(), e2.total_pj()));
        assert!(e1.total_pj() > 0.0);
        // Additive too: the energy of a sum of actions is the sum of the energies.
        let other = Actions { chunk_passes: 17, dram_bits: 99, ..Actions::default() };
        let mut sum = one;
        sum.add(&other);
        assert!(close(energy(&a, &sum).total_pj(), e1.total_pj() + energy(&a, &other).total_pj()));
        assert_eq!(energy(&a, &Actions::default()), EnergyBreakdown::default(), "{name}");
        assert_eq!(energy(&a, &Actions::default()).total_pj(), 0.0);
    }
}

#[test]
fn every_action_is_priced_by_its_own_unit() {
    let a = arch("fast-32x32.ron");
    let u = unit_energies(&a);
    let t = &a.tech.logic;
    let one = |f: fn(&mut Actions)| {
        let mut x = Actions::default();
        f(&mut x);
        energy(&a, &x)
    };
    assert!(close(one(|x| x.fp32_adds = 1).array_pj, t.fp32_add.energy_pj));
    assert!(close(one(|x| x.operand_hop_bits = 1).array_pj, t.register_bit.energy_pj));
    assert!(close(one(|x| x.partial_sum_hops = 1).array_pj, 32.0 * t.register_bit.energy_pj));
    assert!(close(one(|x| x.group_pairs = 1).array_pj, t.exp_adder_8b.energy_pj + t.shifter_24b.energy_pj));
    assert!(close(one(|x| x.dram_bits = 1).dram_pj, a.tech.dram.access_bit_pj));
    assert!(close(one(|x| x.transpose_dram_bits = 1).transpose_pj, a.tech.dram.access_bit_pj));
    assert!(close(one(|x| x.converter_groups = 1).converters_pj, u.converter_group_pj));
    assert!(close(one(|x| x.sram_exp_read_bits = 1).exponent_sram_pj, sram_macro(&a.tech, 16).read_bit_pj));
    assert!(close(one(|x| x.sram_mant_write_bits = 1).mantissa_sram_pj, sram_macro(&a.tech, 512).write_bit_pj));
    let ob = a.mapping.output_buffer_kib;
    assert!(close(one(|x| x.output_buffer_bits = 1).output_buffer_pj, sram_macro(&a.tech, ob).read_bit_pj));
    // Element-wise MACs are not an fMAC action; chunk passes are not an fp32-cell action.
    assert_eq!(one(|x| x.element_macs = 1).total_pj(), 0.0);
    let f = arch("fp32-32x32.ron");
    let mut x = Actions { chunk_passes: 5, element_macs: 1, ..Actions::default() };
    assert!(close(energy(&f, &x).array_pj, t.fp32_mult.energy_pj + t.fp32_add.energy_pj));
    x.element_macs = 0;
    assert_eq!(energy(&f, &x).total_pj(), 0.0);
}

#[test]
fn fmac_cells_are_smaller_and_cheaper_per_mac_than_bf16_and_fp32() {
    let (fast, bf16, fp32) = (arch("fast-32x32.ron"), arch("bf16-32x32.ron"), arch("fp32-32x32.ron"));
    let (f, b, s) = (cell_cost(&fast), cell_cost(&bf16), cell_cost(&fp32));
    // Per cell, the fMAC (16 lanes) is smaller than an fp32 cell...
    assert!(f.area_um2 < s.area_um2, "fmac {} vs fp32 {}", f.area_um2, s.area_um2);
    // ...and per MAC per cycle (4 MACs/cycle at 4-bit x 4-bit) smaller than both.
    assert_eq!(f.macs_per_cycle, 4.0);
    assert!(f.area_per_mac_per_cycle_um2() < b.area_per_mac_per_cycle_um2());
    assert!(f.area_per_mac_per_cycle_um2() < s.area_per_mac_per_cycle_um2());
    // Energy: a chunk pass costs less than one fp32 MAC, and than one bf16 MAC.
    assert!(f.pass_pj < s.element_mac_pj, "pass {} vs fp32 MAC {}", f.pass_pj, s.element_mac_pj);
    assert!(f.pass_pj < b.element_mac_pj);
    // Per MAC, all work included, the fMAC beats both.
    assert!(f.mac_pj < b.mac_pj && f.mac_pj < s.mac_pj, "{} {} {}", f.mac_pj, b.mac_pj, s.mac_pj);
    // The itemised parts add up to the cell.
    for c in [&f, &b, &s] {
        assert!(close(c.area_parts.iter().map(|p| p.1).sum::<f64>(), c.area_um2));
    }
}

#[test]
fn lower_precision_costs_less_array_energy_per_mac_on_fmac_only() {
    let mut a = arch("fast-32x32.ron");
    let m4 = cell_cost(&a);
    a.precision.weights.mantissa_bits = 2;
    a.precision.activations.mantissa_bits = 2;
    let m2 = cell_cost(&a);
    assert_eq!(m2.macs_per_cycle, 16.0);
    assert!(m2.mac_pj < m4.mac_pj);
}

#[test]
fn sram_energy_grows_with_the_bank() {
    for t in [tech("45nm.ron"), tech("7nm.ron")] {
        let sizes = [1u64, 8, 12, 16, 32, 64, 256, 512, 1024, 4096];
        let e: Vec<f64> = sizes.iter().map(|&k| sram_macro(&t, k).read_bit_pj).collect();
        assert!(e.windows(2).all(|w| w[0] <= w[1]), "{e:?}");
        assert!(e[1] < e[2] && e[4] < e[5] && e[7] < e[8], "strictly between macros: {e:?}");
    }
    // The same reads cost more from a larger mantissa bank.
    let mut a = arch("fast-32x32.ron");
    let reads = Actions { sram_mant_read_bits: 1 << 20, sram_mant_write_bits: 1 << 18, ..Actions::default() };
    let mut last = 0.0;
    for kib in [8, 64, 512, 1024] {
        a.memory.mantissa_sram.capacity_kib = kib;
        let e = energy(&a, &reads).mantissa_sram_pj;
        assert!(e > last, "{kib} KiB: {e} <= {last}");
        last = e;
    }
}

#[test]
fn equal_area_shapes_are_within_one_row_and_column() {
    let reference = arch("fast-32x32.ron");
    let target = area(&reference).total_um2();
    assert_eq!(equal_area_shape(&reference, &reference), (32, 32));
    for name in ["bf16-32x32.ron", "fp32-32x32.ron", "int8-32x32.ron", "msfp12-32x32.ron", "fast-e4-32x32.ron"] {
        let base = arch(name);
        let (r, c) = equal_area_shape(&base, &reference);
        assert!(r >= 1 && c >= 1);
        let with = |rows: usize, cols: usize| {
            let mut b = base.clone();
            b.array.rows = rows;
            b.array.cols = cols;
            area(&b).total_um2()
        };
        assert!(with(r, c) <= target * (1.0 + 1e-9), "{name} {r}x{c}: {} > {target}", with(r, c));
        assert!(with(r + 1, c + 1) > target, "{name} {r}x{c}: one more row and column still fit");
        // Scaled by the same factor: a square stays square.
        assert_eq!(r, c, "{name}");
    }
    // A baseline whose memories alone exceed the reference gets the minimum array.
    let mut tiny = arch("fast-4x4.ron");
    tiny.memory.mantissa_sram.capacity_kib = 1;
    tiny.memory.exponent_sram.capacity_kib = 1;
    assert_eq!(equal_area_shape(&arch("fp32-32x32.ron"), &tiny), (1, 1));
}

#[test]
fn area_components_add_up_and_element_cells_have_no_converters() {
    for name in ARCHS {
        let a = arch(name);
        let b = area(&a);
        let cell = cell_cost(&a);
        assert!(close(b.array_um2, cell.area_um2 * (a.array.rows * a.array.cols) as f64), "{name}");
        assert!(close(
            b.total_um2(),
            b.array_um2
                + b.converters_um2
                + b.exponent_sram_um2
                + b.mantissa_sram_um2
                + b.output_buffer_um2
                + b.im2col_um2
        ));
        assert_eq!(b.converters_um2 == 0.0, !a.array.cell.is_bfp(), "{name}");
        assert!(close(b.converters_um2, converter_cost(&a).area_um2 * a.converters.count as f64));
    }
}

fn data(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| (((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 8) % 2001) as f32 / 250.0 - 4.0)
        .collect()
}

fn run(a: &Arch, pass: Pass, xs: (usize, usize), ys: (usize, usize), fidelity: Fidelity) -> GemmSim {
    let (x, y) = (data(xs.0 * xs.1, 1), data(ys.0 * ys.1, 7));
    let req = GemmRequest {
        spec: spec_for(a, pass),
        x: (&x, xs.0, xs.1),
        y: (&y, ys.0, ys.1),
        names: ("X", "Y"),
        fidelity,
        numerics: false,
        first_job: 0,
        conv: None,
        mapping: None,
    };
    simulate_gemm(a, &req).unwrap()
}

#[test]
fn actions_of_one_forward_fold_follow_the_documented_rules() {
    // fast-4x4, forward, W 4 x 64 (4 groups of 16 along K), A 64 x 8: exactly one 4x4 fold, T = 8
    // (fold by fold: the mapper would split the stream).
    let mut a = arch("fast-4x4.ron");
    a.mapping.mapper = fastbfp::arch::MapperKind::Folds;
    let sim = run(&a, Pass::Forward, (4, 64), (64, 8), Fidelity::Fold);
    assert_eq!(sim.folds.len(), 1);
    let act = Actions::from_gemm(&sim, &a);
    let pairs = 4 * 4 * 8;
    assert_eq!(act.group_pairs, pairs);
    assert_eq!(act.chunk_passes, pairs * 4, "2 x 2 chunk planes: 4 passes per group pair");
    assert_eq!(act.fp32_adds, pairs);
    assert_eq!((act.kulisch_adds, act.element_macs), (0, 0));
    // A4: every output (4 rows x 8) crosses the 4 columns.
    assert_eq!(act.partial_sum_hops, 4 * 8 * 4);
    // A5: group = 8 + 3 * 16 * 2 = 104 bits; load 4 cols x (1+2+3+4) moves; stream 8 x 4 x 4 moves.
    assert_eq!(act.operand_hop_bits, (4 * 10 + 8 * 4 * 4) * 104);
    let t = sim.traffic;
    assert_eq!(act.dram_bits, t.dram_read_exp_bits + t.dram_read_mant_bits + t.dram_write_bits);
    assert_eq!((act.sram_mant_read_bits, act.converter_groups), (t.sram_read_mant_bits, t.converted_groups));
    assert!(act.dram_bits > 0 && act.converter_groups > 0);
    // Both fidelities count the same actions.
    assert_eq!(Actions::from_gemm(&run(&a, Pass::Forward, (4, 64), (64, 8), Fidelity::Cycle), &a), act);
}

#[test]
fn actions_of_every_pass_agree_across_fidelities_and_scale_with_precision() {
    for name in ["fast-4x4.ron", "msfp12-32x32.ron", "bf16-32x32.ron", "fast-32x32-transpose.ron"] {
        let a = arch(name);
        for (pass, xs, ys) in [
            (Pass::Forward, (9, 40), (40, 5)),
            (Pass::BackwardData, (40, 9), (40, 5)),
            (Pass::BackwardWeight, (9, 40), (5, 40)),
        ] {
            let fold = run(&a, pass, xs, ys, Fidelity::Fold);
            let act = Actions::from_gemm(&fold, &a);
            assert_eq!(Actions::from_gemm(&run(&a, pass, xs, ys, Fidelity::Cycle), &a), act, "{name} {pass:?}");
            assert!(act.partial_sum_hops > 0 && act.operand_hop_bits > 0, "{name} {pass:?}");
            if a.array.cell.is_bfp() {
                assert_eq!(act.chunk_passes, fold.busy.iter().sum::<u64>());
            } else {
                assert_eq!(act.element_macs, fold.macs);
                assert_eq!(act.chunk_passes + act.group_pairs + act.converter_groups, 0);
            }
            assert_eq!(act.transpose_dram_bits > 0, name.contains("transpose") && pass != Pass::Forward);
            let e = energy(&a, &act);
            assert_eq!(e.transpose_pj > 0.0, act.transpose_dram_bits > 0);
        }
    }
    // Halving the mantissas on fMAC quarters the chunk passes and lowers the array energy.
    let mut a = arch("fast-4x4.ron");
    let e4 = Actions::from_gemm(&run(&a, Pass::Forward, (8, 64), (64, 8), Fidelity::Fold), &a);
    a.precision.weights.mantissa_bits = 2;
    a.precision.activations.mantissa_bits = 2;
    let e2 = Actions::from_gemm(&run(&a, Pass::Forward, (8, 64), (64, 8), Fidelity::Fold), &a);
    assert_eq!(e2.group_pairs, e4.group_pairs);
    assert_eq!(4 * e2.chunk_passes, e4.chunk_passes);
    assert!(energy(&a, &e2).array_pj < energy(&a, &e4).array_pj);
}

#[test]
fn tech_7nm_loads_and_costs_less_than_45nm() {
    let (t45, t7) = (tech("45nm.ron"), tech("7nm.ron"));
    assert_eq!((t7.name.as_str(), t7.node_nm), ("7nm", 7));
    for ((n45, b45), (n7, b7)) in t45.logic.blocks().iter().zip(t7.logic.blocks()) {
        assert_eq!(*n45, n7);
        assert!(b7.energy_pj < b45.energy_pj, "{n7} energy");
        assert!(b7.area_um2 < b45.area_um2, "{n7} area");
    }
    assert_eq!(t7.sram.len(), t45.sram.len());
    for (m45, m7) in t45.sram.iter().zip(&t7.sram) {
        assert_eq!(m45.capacity_kib, m7.capacity_kib);
        assert!(m7.read_bit_pj < m45.read_bit_pj && m7.write_bit_pj < m45.write_bit_pj);
        assert!(m7.area_per_kib_um2 < m45.area_per_kib_um2);
    }
    // DRAM is off chip: not scaled with the logic node (documented in the table).
    assert!(t7.dram.access_bit_pj <= t45.dram.access_bit_pj);
    // The same design on the 7 nm table: less on-chip energy, less area.
    let a45 = arch("fast-32x32.ron");
    let mut a7 = a45.clone();
    a7.tech = t7;
    let act = Actions { dram_bits: 0, transpose_dram_bits: 0, ..some_actions() };
    assert!(energy(&a7, &act).total_pj() < energy(&a45, &act).total_pj());
    assert!(area(&a7).total_um2() < area(&a45).total_um2());
}
