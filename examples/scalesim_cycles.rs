//! SCALE-Sim compatibility figures of every layer of a SCALE-Sim topology, from fastbfp's closed
//! forms (`fastbfp::array::scalesim`).
//!
//! Usage: `cargo run --release --example scalesim_cycles -- TOPOLOGY.csv CONFIG.cfg [ws|os|is]
//! [conv|gemm]`. The dataflow defaults to the config's, the topology format is detected from
//! the field count unless given. Prints a CSV: `layer,name,folds,compute_cycles,overall_util_pct,
//! mapping_efficiency_pct,compute_util_pct`, then `# rows=R cols=C dataflow=D format=F
//! elapsed_us=N` (the time spent parsing and computing).

use std::process::ExitCode;
use std::time::Instant;

use fastbfp::array::scalesim::{parse_topology, report, Dataflow, ScaleSimConfig, TopologyFormat};

fn run(args: &[String]) -> Result<(), String> {
    let [topo, cfg, rest @ ..] = args else {
        return Err("usage: scalesim_cycles TOPOLOGY.csv CONFIG.cfg [ws|os|is] [conv|gemm]".into());
    };
    let start = Instant::now();
    let topo_text = std::fs::read_to_string(topo).map_err(|e| format!("{topo}: {e}"))?;
    let cfg_text = std::fs::read_to_string(cfg).map_err(|e| format!("{cfg}: {e}"))?;
    let config = ScaleSimConfig::parse(&cfg_text).map_err(|e| format!("{cfg}: {e}"))?;
    if config.sparsity_support {
        return Err(format!("{cfg}: SparsitySupport is on; only dense mappings are modelled"));
    }
    let mut dataflow = config.dataflow;
    let mut format = None;
    for a in rest {
        match a.as_str() {
            "conv" => format = Some(TopologyFormat::Conv),
            "gemm" => format = Some(TopologyFormat::Gemm),
            other => dataflow = other.parse::<Dataflow>().map_err(|e| e.to_string())?,
        }
    }
    let format = match format {
        Some(f) => f,
        None => TopologyFormat::detect(&topo_text).map_err(|e| format!("{topo}: {e}"))?,
    };
    let layers = parse_topology(&topo_text, format).map_err(|e| format!("{topo}: {e}"))?;
    let mut out =
        String::from("layer,name,folds,compute_cycles,overall_util_pct,mapping_efficiency_pct,compute_util_pct\n");
    for (i, (name, layer)) in layers.iter().enumerate() {
        let r = report(layer, dataflow, config.rows, config.cols);
        out.push_str(&format!(
            "{i},{name},{},{},{:?},{:?},{:?}\n",
            r.folds, r.compute_cycles, r.overall_util_pct, r.mapping_efficiency_pct, r.compute_util_pct
        ));
    }
    let elapsed = start.elapsed();
    print!("{out}");
    let format = match format {
        TopologyFormat::Conv => "conv",
        TopologyFormat::Gemm => "gemm",
    };
    println!(
        "# rows={} cols={} dataflow={dataflow} format={format} elapsed_us={}",
        config.rows,
        config.cols,
        elapsed.as_micros()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
