//! `fastbfp lfsr`: the noise lanes of one conversion job, as numbers an RTL converter's
//! simulation can be compared with.

use super::out::outln;
use anyhow::Result;
use fastbfp::bfp::{job_seed, LfsrParams, NoiseBank};

use super::LfsrCmdArgs;

pub fn run(a: &LfsrCmdArgs) -> Result<()> {
    let p = LfsrParams::new(a.mask, a.lfsr.seed, a.lfsr.noise_bits)?;
    let g = a.group as usize;
    let mut bank = NoiseBank::for_job(g, p.mask, p.seed, a.job, p.noise_bits);
    outln!(
        "fastbfp lfsr: {g} lanes, mask {:#06x}, seed {:#06x}, job {} (job seed {:#06x}), noise bits {}",
        p.mask,
        p.seed,
        a.job,
        job_seed(p.seed, a.job),
        p.noise_bits
    );
    let states: Vec<String> = bank.states().map(|s| format!("{s:#06x}")).collect();
    outln!("lane states after reseed: {}", states.join(" "));
    let mut noise = vec![0u32; g];
    for grp in 0..a.groups {
        bank.next_group(&mut noise);
        let n: Vec<String> = noise.iter().map(|v| v.to_string()).collect();
        outln!("group {grp}: {}", n.join(" "));
    }
    Ok(())
}
