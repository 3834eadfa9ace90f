//! The worked examples of DESIGN §2 to §6 from an independent reference
//! (`tests/data/design-vectors/`, copied from the design folder): every expected bit,
//! flag count, LFSR state and packed hex line must be reproduced, through the library.

use std::path::{Path, PathBuf};

use fastbfp::bfp::{
    convert, BfpFormat, ConvertJob, ConvertSpec, GroupAxis, LfsrParams, NoiseBank, PackedTensor, Rounding,
};
use fastbfp::fmac::AccumulatorKind;
use fastbfp::gemm::{fast_gemm, quantize_operands, reference_gemm, GemmSpec, OperandSpec, Pass};
use fastbfp::tensor::{read_npy, Tensor, DEFAULT_MAX_ELEMENTS};
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/design-vectors")
}

fn manifest() -> Value {
    let text = std::fs::read_to_string(dir().join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest parses")
}

fn load(name: &str) -> Tensor {
    read_npy(&dir().join(name), DEFAULT_MAX_ELEMENTS).expect(name).tensor
}

fn hex_u16(v: &Value) -> u16 {
    let s = v.as_str().unwrap();
    u16::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

fn rounding(v: &Value) -> Rounding {
    v.as_str().unwrap().parse().unwrap()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn quantize_cases() {
    let m = manifest();
    let cases = m["quantize"].as_array().unwrap();
    assert_eq!(cases.len(), 10);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let input = load(c["input"].as_str().unwrap());
        let expected = load(c["expected"].as_str().unwrap());
        let fmt = BfpFormat::new(u(&c["group"]) as usize, u(&c["mantissa"]) as u32, u(&c["exp_bits"]) as u32).unwrap();
        let mut spec = ConvertSpec::new(fmt, rounding(&c["rounding"]));
        spec.lfsr = LfsrParams::new(0xB400, hex_u16(&c["seed"]), u(&c["noise_bits"]) as u32).unwrap();
        let cols = *input.shape.last().unwrap();
        let rows = input.len() / cols;
        let job = ConvertJob { tensor: name, job: 0, spec, axis: GroupAxis::Dim1 };
        let bm = convert(&input.data, rows, cols, &job).unwrap();
        assert_eq!(bits(&bm.dequantize()), bits(&expected.data), "{name}: dequantised bits");
        let f = &c["flags"];
        assert_eq!(
            (bm.flags.flushed, bm.flags.underflow, bm.flags.saturated),
            (u(&f["flushed"]), u(&f["underflow"]), u(&f["saturated"])),
            "{name}: flags"
        );
    }
}

#[test]
fn gemm_cases_reference_and_fast() {
    let m = manifest();
    let cases = m["gemm"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let x = load(c["x"].as_str().unwrap());
        let y = load(c["y"].as_str().unwrap());
        let expected = load(c["expected"].as_str().unwrap());
        let spec = GemmSpec {
            pass: c["pass_"].as_str().unwrap().parse::<Pass>().unwrap(),
            group: u(&c["group"]) as usize,
            exp_bits: u(&c["exp_bits"]) as u32,
            exp_base: fastbfp::bfp::ExpBase::PerTensor,
            x: OperandSpec { mantissa_bits: u(&c["mantissa_x"]) as u32, rounding: rounding(&c["rounding_x"]) },
            y: OperandSpec { mantissa_bits: u(&c["mantissa_y"]) as u32, rounding: rounding(&c["rounding_y"]) },
            accumulator: c["accumulator"].as_str().unwrap().parse::<AccumulatorKind>().unwrap(),
            lfsr: LfsrParams::new(0xB400, hex_u16(&c["seed"]), u(&c["noise_bits"]) as u32).unwrap(),
        };
        let (xr, xc) = x.rows_cols().unwrap();
        let (yr, yc) = y.rows_cols().unwrap();
        let ops = quantize_operands(&spec, (&x.data, xr, xc), (&y.data, yr, yc), 0).unwrap();
        assert_eq!(vec![ops.out_shape().0, ops.out_shape().1], expected.shape, "{name}: shape");
        assert_eq!(bits(&reference_gemm(&ops)), bits(&expected.data), "{name}: reference loop bits");
        assert_eq!(bits(&fast_gemm(&ops)), bits(&expected.data), "{name}: fast kernel bits");
    }
}

#[test]
fn lfsr_cases() {
    let m = manifest();
    let cases = m["lfsr"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let g = u(&c["group"]) as usize;
        let n = u(&c["noise_bits"]) as u32;
        let mut bank = NoiseBank::for_job(g, 0xB400, hex_u16(&c["seed"]), u(&c["job"]), n);
        let want: Vec<u16> = c["lane_states_after_reseed"].as_array().unwrap().iter().map(hex_u16).collect();
        assert_eq!(bank.states().collect::<Vec<_>>(), want);
        let mut noise = vec![0u32; g];
        for grp in c["noise_per_group"].as_array().unwrap() {
            bank.next_group(&mut noise);
            let want: Vec<u32> = grp.as_array().unwrap().iter().map(|v| u(v) as u32).collect();
            assert_eq!(noise, want);
        }
    }
}

#[test]
fn packed_cases() {
    let m = manifest();
    let cases = m["packed"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for c in cases {
        let input = load(c["input"].as_str().unwrap());
        let fmt = BfpFormat::new(u(&c["group"]) as usize, u(&c["mantissa"]) as u32, u(&c["exp_bits"]) as u32).unwrap();
        let spec = ConvertSpec::new(fmt, rounding(&c["rounding"]));
        let (rows, cols) = input.rows_cols().unwrap();
        let bm =
            convert(&input.data, rows, cols, &ConvertJob { tensor: "p", job: 0, spec, axis: GroupAxis::Dim1 }).unwrap();
        assert_eq!(bm.e_base as i64, c["e_base"].as_i64().unwrap());
        let p = PackedTensor::pack(&bm);
        let strs =
            |k: &str| c[k].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect::<Vec<_>>();
        assert_eq!(p.exponents_hex(), strs("exponents_hex"));
        assert_eq!(p.mantissa_hex(), strs("mantissa_planes_hex"));
    }
}
