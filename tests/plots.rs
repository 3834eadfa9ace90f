//! Plots: every plot function on realistic data gives an SVG with its title and a PNG that a
//! small independent decoder (below: chunk CRCs, zlib/Adler-32, DEFLATE, PNG filters) accepts
//! with the expected size; empty and invalid input give clear errors; the fold timeline copes
//! with 100k spans. Set `FASTBFP_PLOT_PREVIEW=1` to also write every plot to
//! `$TMPDIR/plots-check/` for looking at them.

mod common;
use common::svg_texts;

use fastbfp::report::plots::{
    breakdown_bars, cell_heatmap, cycle_share, encode_png_rgb, fold_timeline, pareto, pareto_front, pareto_labelled,
    precision_over_iterations, utilization_per_layer, CycleShares, Plot, PlotError, PrecisionPoint, SpanKind,
    TimelineSpan, UtilizationBar, HEIGHT, MAX_HEIGHT, PNG_SIGNATURE, WIDTH,
};

// ---------------------------------------------------------------- minimal PNG decoder

/// A decoded 8-bit RGB PNG.
struct Image {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize, // in bits
}

impl Bits<'_> {
    fn bit(&mut self) -> u32 {
        let byte = *self.data.get(self.pos / 8).expect("DEFLATE stream truncated");
        let b = (byte >> (self.pos % 8)) & 1;
        self.pos += 1;
        u32::from(b)
    }
    fn bits(&mut self, n: u32) -> u32 {
        (0..n).fold(0, |acc, i| acc | self.bit() << i)
    }
    /// Reads a fixed-Huffman literal/length symbol (RFC 1951 §3.2.6).
    fn fixed_litlen(&mut self) -> u32 {
        let mut code = 0;
        for len in 1..=9 {
            code = code << 1 | self.bit();
            match len {
                7 if code <= 0b001_0111 => return code + 256,
                8 if (0x30..=0xBF).contains(&code) => return code - 0x30,
                8 if (0xC0..=0xC7).contains(&code) => return code - 0xC0 + 280,
                9 if (0x190..=0x1FF).contains(&code) => return code - 0x190 + 144,
                _ => {}
            }
        }
        panic!("invalid fixed Huffman code");
    }
}

fn inflate(data: &[u8]) -> Vec<u8> {
    const LEN_BASE: [usize; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
        258,
    ];
    const LEN_EXTRA: [u32; 29] =
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    let mut out = Vec::new();
    let mut r = Bits { data, pos: 0 };
    loop {
        let last = r.bit() == 1;
        match r.bits(2) {
            0 => {
                r.pos = r.pos.div_ceil(8) * 8;
                let len = r.bits(16);
                let nlen = r.bits(16);
                assert_eq!(len, !nlen & 0xffff, "stored block LEN/NLEN mismatch");
                for _ in 0..len {
                    out.push(r.bits(8) as u8);
                }
            }
            1 => loop {
                let sym = r.fixed_litlen();
                match sym {
                    0..=255 => out.push(sym as u8),
                    256 => break,
                    257..=285 => {
                        let i = (sym - 257) as usize;
                        let len = LEN_BASE[i] + r.bits(LEN_EXTRA[i]) as usize;
                        let dcode = (0..5).fold(0, |acc, _| acc << 1 | r.bit()) as usize;
                        assert!(dcode < 30, "invalid distance code {dcode}");
                        let (base, extra) = if dcode < 4 {
                            (dcode + 1, 0)
                        } else {
                            let e = (dcode as u32 - 2) / 2;
                            ((1usize << (e + 1)) + 1 + ((dcode & 1) << e), e)
                        };
                        let dist = base + r.bits(extra) as usize;
                        assert!(dist <= out.len() && dist <= 32768, "distance {dist} beyond window");
                        for _ in 0..len {
                            out.push(out[out.len() - dist]);
                        }
                    }
                    _ => panic!("invalid length symbol {sym}"),
                }
            },
            t => panic!("unsupported DEFLATE block type {t} (encoder emits stored/fixed only)"),
        }
        if last {
            return out;
        }
    }
}

fn decode_png(png: &[u8]) -> Image {
    assert!(png.starts_with(&PNG_SIGNATURE), "missing PNG signature");
    let mut pos = 8;
    let (mut width, mut height) = (0, 0);
    let mut idat = Vec::new();
    let mut seen_iend = false;
    while pos < png.len() {
        let len = be32(&png[pos..]) as usize;
        let kind = &png[pos + 4..pos + 8];
        let data = &png[pos + 8..pos + 8 + len];
        let crc = be32(&png[pos + 8 + len..]);
        assert_eq!(crc, crc32(&png[pos + 4..pos + 8 + len]), "bad CRC in {:?} chunk", String::from_utf8_lossy(kind));
        match kind {
            b"IHDR" => {
                assert_eq!(pos, 8, "IHDR must come first");
                width = be32(data);
                height = be32(&data[4..]);
                assert_eq!(&data[8..13], &[8, 2, 0, 0, 0], "expected 8-bit RGB, no interlace");
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => seen_iend = true,
            _ => {}
        }
        pos += 12 + len;
    }
    assert!(seen_iend && pos == png.len(), "IEND missing or trailing bytes");
    assert_eq!(idat[0] & 0x0f, 8, "zlib method must be deflate");
    assert_eq!((u32::from(idat[0]) << 8 | u32::from(idat[1])) % 31, 0, "zlib header check");
    let raw = inflate(&idat[2..idat.len() - 4]);
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    assert_eq!(b << 16 | a, be32(&idat[idat.len() - 4..]), "Adler-32 mismatch");
    let stride = width as usize * 3;
    assert_eq!(raw.len(), height as usize * (stride + 1), "decompressed size");
    let mut rgb = vec![0u8; stride * height as usize];
    for y in 0..height as usize {
        let filter = raw[y * (stride + 1)];
        for i in 0..stride {
            let x = raw[y * (stride + 1) + 1 + i];
            let a = if i >= 3 { rgb[y * stride + i - 3] } else { 0 };
            let b = if y > 0 { rgb[(y - 1) * stride + i] } else { 0 };
            let c = if y > 0 && i >= 3 { rgb[(y - 1) * stride + i - 3] } else { 0 };
            let pred = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = ((p - i16::from(a)).abs(), (p - i16::from(b)).abs(), (p - i16::from(c)).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("bad filter type {f}"),
            };
            rgb[y * stride + i] = x.wrapping_add(pred);
        }
    }
    Image { width, height, rgb }
}

// ---------------------------------------------------------------- checks

fn check_plot(plot: &Plot, title: &str, size: Option<(u32, u32)>) -> Image {
    check_plot_as(plot, title, size, plot.name)
}

/// [`check_plot`], previewed as `stem` (for several plots of one kind).
fn check_plot_as(plot: &Plot, title: &str, size: Option<(u32, u32)>, stem: &str) -> Image {
    assert!(plot.svg.starts_with("<svg") || plot.svg.contains("<svg"), "{}: not an SVG", plot.name);
    assert!(plot.svg.contains(title), "{}: SVG lacks its title", plot.name);
    assert!(plot.svg.trim_end().ends_with("</svg>"), "{}: SVG not closed", plot.name);
    let img = decode_png(&plot.png);
    if let Some((w, h)) = size {
        assert_eq!((img.width, img.height), (w, h), "{}: PNG size", plot.name);
    }
    // Something was drawn: dark text pixels and several colours besides white.
    let px: Vec<[u8; 3]> = img.rgb.chunks(3).map(|p| [p[0], p[1], p[2]]).collect();
    let dark = px.iter().filter(|p| p.iter().all(|&c| c < 60)).count();
    assert!(dark > 2000, "{}: only {dark} dark pixels (text missing?)", plot.name);
    let mut colours: Vec<[u8; 3]> = px.clone();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 20, "{}: only {} colours", plot.name, colours.len());
    preview(plot, stem);
    img
}

fn preview(plot: &Plot, stem: &str) {
    if std::env::var_os("FASTBFP_PLOT_PREVIEW").is_some() {
        let dir = std::env::temp_dir().join("plots-check");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{stem}.png")), &plot.png).unwrap();
        std::fs::write(dir.join(format!("{stem}.svg")), &plot.svg).unwrap();
    }
}

/// Deterministic pseudo-random numbers in 0..1.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// ResNet-18 (CIFAR) trainable layers.
fn resnet18_layers() -> Vec<String> {
    let mut v = vec!["conv1".to_string()];
    for stage in 1..=4 {
        for block in 0..2 {
            v.push(format!("layer{stage}.{block}.conv1"));
            v.push(format!("layer{stage}.{block}.conv2"));
            if stage > 1 && block == 0 {
                v.push(format!("layer{stage}.0.downsample"));
            }
        }
    }
    v.push("fc".to_string());
    v
}

const PASSES: [&str; 3] = ["forward", "backward-data", "backward-weight"];

fn timeline_spans(layers: &[String], folds_per_lane: usize, rng: &mut Lcg) -> Vec<TimelineSpan> {
    let mut spans = Vec::new();
    let mut t = 0u64;
    for (li, layer) in layers.iter().enumerate() {
        for pass in PASSES {
            if li == 0 && pass == "backward-data" {
                continue;
            }
            let lane = format!("{layer} {pass}");
            for _ in 0..folds_per_lane {
                let mut push = |len: u64, kind: SpanKind, spans: &mut Vec<TimelineSpan>| {
                    spans.push(TimelineSpan { lane: lane.clone(), start_cycle: t, end_cycle: t + len, kind });
                    t += len;
                };
                push(32, SpanKind::Load, &mut spans);
                push(200 + (rng.next() * 400.0) as u64, SpanKind::Stream, &mut spans);
                let r = rng.next();
                if r < 0.15 {
                    push(50 + (rng.next() * 300.0) as u64, SpanKind::Stall("DRAM bandwidth"), &mut spans);
                } else if r < 0.22 {
                    push(20 + (rng.next() * 60.0) as u64, SpanKind::Stall("SRAM bank conflict"), &mut spans);
                } else if r < 0.26 {
                    push(40, SpanKind::Stall("converter busy"), &mut spans);
                }
                push(31, SpanKind::Drain, &mut spans);
            }
        }
    }
    spans
}

// ---------------------------------------------------------------- tests

#[test]
fn png_encoder_round_trips() {
    let mut rng = Lcg(7);
    for (w, h) in [(1, 1), (3, 2), (17, 5), (300, 200)] {
        let rgb: Vec<u8> = (0..w * h * 3)
            .map(|i| if rng.next() < 0.5 { (i % 7 * 30) as u8 } else { (rng.next() * 256.0) as u8 })
            .collect();
        let img = decode_png(&encode_png_rgb(w, h, &rgb));
        assert_eq!((img.width, img.height), (w, h));
        assert_eq!(img.rgb, rgb, "{w}x{h} round trip");
    }
}

#[test]
fn utilization_per_layer_renders() {
    let mut rng = Lcg(1);
    let mut bars = Vec::new();
    for (i, layer) in resnet18_layers().iter().enumerate() {
        for pass in PASSES {
            if i == 0 && pass == "backward-data" {
                continue;
            }
            let utilization = 0.35 + 0.6 * rng.next();
            bars.push(UtilizationBar { layer: layer.clone(), pass: pass.to_string(), utilization });
        }
    }
    let title = "Utilization per layer: fast-32x32 on resnet18-cifar";
    let plot = utilization_per_layer(title, &bars).unwrap();
    assert_eq!(plot.name, "utilization_per_layer");
    check_plot(&plot, title, Some((WIDTH, HEIGHT)));
    assert!(plot.svg.contains("backward-weight") && plot.svg.contains("layer4.1.conv2"));
}

/// Stand-in for a run's cycle shares: each kind's span cycles (which a real run counts once).
fn shares_of(spans: &[TimelineSpan]) -> CycleShares {
    let mut s = CycleShares { run_cycles: spans.iter().map(|s| s.end_cycle).max().unwrap_or(0), ..Default::default() };
    for sp in spans {
        let n = sp.end_cycle.saturating_sub(sp.start_cycle);
        match sp.kind {
            SpanKind::Load => s.exposed_load_cycles += n,
            SpanKind::Stream => s.stream_cycles += n,
            SpanKind::Drain => s.exposed_drain_cycles += n,
            SpanKind::Stall(r) => match s.stall_cycles.iter_mut().find(|x| x.0 == r) {
                Some(x) => x.1 += n,
                None => s.stall_cycles.push((r, n)),
            },
        }
    }
    s
}

#[test]
fn fold_timeline_renders() {
    let spans = timeline_spans(&resnet18_layers(), 40, &mut Lcg(2));
    let title = "Fold timeline: fast-32x32 on resnet18-cifar";
    let plot = fold_timeline(title, None, &spans, &shares_of(&spans)).unwrap();
    assert_eq!(plot.name, "fold_timeline");
    let img = check_plot(&plot, title, None);
    assert_eq!(img.width, WIDTH);
    assert!((HEIGHT..=MAX_HEIGHT).contains(&img.height), "height {}", img.height);
    assert!(plot.svg.contains("DRAM bandwidth"), "stall reason in legend");
}

#[test]
fn fold_timeline_merges_100k_spans() {
    // How long this takes is measured by `cargo bench`-style scripts, not asserted here.
    let layers: Vec<String> = resnet18_layers();
    let spans = timeline_spans(&layers, 530, &mut Lcg(3));
    assert!(spans.len() >= 100_000, "{} spans", spans.len());
    let plot = fold_timeline("Fold timeline, 100k spans", None, &spans, &shares_of(&spans)).unwrap();
    assert!(plot.svg.len() < 8_000_000, "SVG is {} bytes: spans were not merged", plot.svg.len());
    decode_png(&plot.png);
}

#[test]
fn cell_heatmap_renders() {
    let mut rng = Lcg(4);
    let (rows, cols) = (32, 32);
    let busy: Vec<f64> = (0..rows * cols)
        .map(|i| {
            let (r, c) = (i / cols, i % cols);
            let edge = if c >= 27 || r >= 29 { 0.55 } else { 0.92 };
            (edge - 0.05 * rng.next()).clamp(0.0, 1.0)
        })
        .collect();
    let title = "Per-cell utilization: fast-32x32";
    let plot = cell_heatmap(title, rows, cols, &busy).unwrap();
    assert_eq!(plot.name, "cell_heatmap");
    check_plot(&plot, title, Some((WIDTH, HEIGHT)));
    // Large arrays are block-averaged and still render.
    let big = cell_heatmap("Big array", 256, 200, &vec![0.5; 256 * 200]).unwrap();
    assert!(big.svg.contains("averages 2x2"));
    decode_png(&big.png);
}

#[test]
fn breakdown_bars_render_energy_and_area() {
    let energy: Vec<(String, f64)> = [
        ("array (fMAC)", 4.1e9),
        ("BFP converters", 3.2e8),
        ("exponent SRAM", 1.1e8),
        ("mantissa SRAM", 1.9e9),
        ("DRAM", 6.3e9),
        ("transposes", 2.2e7),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), *v))
    .collect();
    let title = "Energy by component: fast-32x32 on resnet18-cifar";
    let plot = breakdown_bars(title, "pJ", &energy).unwrap();
    assert_eq!(plot.name, "energy_breakdown");
    check_plot(&plot, title, Some((WIDTH, HEIGHT)));
    assert!(plot.svg.contains("energy (mJ)") && plot.svg.contains("6.3 mJ (49.4%)"), "shown in mJ");

    let area: Vec<(String, f64)> = [("array", 2.9e6), ("SRAM", 4.4e6), ("converters", 1.6e5), ("control", 4.0e4)]
        .iter()
        .map(|(n, v)| (n.to_string(), *v))
        .collect();
    let plot = breakdown_bars("Area by component", "um^2", &area).unwrap();
    assert_eq!(plot.name, "area_breakdown");
    check_plot(&plot, "Area by component", Some((WIDTH, HEIGHT)));
}

#[test]
fn precision_over_iterations_renders() {
    let layers = resnet18_layers();
    let mut points = Vec::new();
    for (k, layer) in layers.iter().enumerate() {
        for iteration in (0..=200).step_by(5) {
            // A FAST-like schedule: low precision early, raised in stages, later for deeper layers.
            let stage = (iteration + 7 * k) / 60;
            points.push(PrecisionPoint {
                layer: layer.clone(),
                iteration,
                mantissa_bits: (2 + 2 * stage as u32).min(8),
            });
        }
    }
    let title = "Mantissa width per layer over training";
    let plot = precision_over_iterations(title, &points).unwrap();
    assert_eq!(plot.name, "precision_over_iterations");
    check_plot(&plot, title, Some((WIDTH, HEIGHT)));
}

#[test]
fn pareto_renders() {
    let mut rng = Lcg(5);
    let mut points = Vec::new();
    for size in [8u32, 16, 32, 64] {
        for g in [8u32, 16, 32] {
            for m in [2u32, 4, 8] {
                let cycles = 4.0e8 / f64::from(size * size) * (1.0 + f64::from(m) / 8.0) * (0.9 + 0.2 * rng.next());
                let energy =
                    2.0e9 * (1.0 + f64::from(m) / 3.0) * (1.0 + f64::from(size) / 128.0) / (1.0 + f64::from(g) / 64.0);
                points.push((format!("{size}x{size} g{g} m{m}"), cycles, energy * (0.95 + 0.1 * rng.next())));
            }
        }
    }
    let title = "Sweep: energy vs cycles";
    let plot = pareto(title, &points).unwrap();
    assert_eq!(plot.name, "pareto");
    check_plot(&plot, title, Some((WIDTH, HEIGHT)));
    // A narrow range stays linear and still renders.
    let near = vec![("a".to_string(), 100.0, 5.0), ("b".to_string(), 120.0, 4.0), ("c".to_string(), 130.0, 6.0)];
    decode_png(&pareto("narrow", &near).unwrap().png);
}

/// Every point of a comparison or a small sweep carries its name, beside it or in the legend
/// by number, however crowded; a large sweep labels its Pareto front and says so.
#[test]
fn every_pareto_point_is_labelled() {
    // Three archs, as `fastbfp compare` draws them.
    let archs = vec![
        ("fast-32x32".to_string(), 34_777_938.0, 1.546e11),
        ("msfp12-32x32".to_string(), 21_774_212.0, 1.483e11),
        ("int8-32x32".to_string(), 71_566_230.0, 2.296e11),
    ];
    assert_eq!(pareto_front(&archs), vec![1]);
    assert_eq!(pareto_labelled(&archs), vec![1, 0, 2]);
    let texts = svg_texts(&pareto("compare", &archs).unwrap().svg);
    for (name, _, _) in &archs {
        assert!(texts.contains(name), "{name} not drawn: {texts:?}");
    }
    // Thirty points in a tight cluster: each name is drawn, beside its point or in the legend.
    let mut rng = Lcg(11);
    let crowd: Vec<(String, f64, f64)> =
        (0..30).map(|i| (format!("pt{i}"), 1e6 * (1.0 + 0.05 * rng.next()), 1e9 * (1.0 + 0.05 * rng.next()))).collect();
    assert_eq!(pareto_labelled(&crowd).len(), 30);
    let plot = pareto("crowd", &crowd).unwrap();
    check_plot_as(&plot, "crowd", Some((WIDTH, HEIGHT)), "pareto_crowd");
    let texts = svg_texts(&plot.svg);
    for (name, _, _) in &crowd {
        assert!(texts.contains(name), "{name} not drawn");
    }
    // Over MAX_LABELLED_POINTS points: the front only, said in the subtitle.
    let many: Vec<(String, f64, f64)> =
        (0..100).map(|i| (format!("p{i}"), 1e6 * (1.0 + rng.next()), 1e9 * (1.0 + rng.next()))).collect();
    let labelled = pareto_labelled(&many);
    assert_eq!(labelled, pareto_front(&many));
    let svg = pareto("many", &many).unwrap().svg;
    assert!(svg.contains("only the Pareto front labelled"), "subtitle says which points are labelled");
    let texts = svg_texts(&svg);
    for &i in &labelled {
        assert!(texts.contains(&many[i].0), "front point {} not drawn", many[i].0);
    }
}

/// A title too wide for the image is wrapped onto a second line, not cut at both edges.
#[test]
fn long_titles_wrap_instead_of_running_off_the_image() {
    let spans = timeline_spans(&resnet18_layers()[..4], 3, &mut Lcg(12));
    let title =
        "resnet18-cifar on fast-32x32: fold timeline (iteration 0); 4 GEMMs of over 2000 folds drawn as one span";
    let plot = fold_timeline(title, None, &spans, &shares_of(&spans)).unwrap();
    let texts = svg_texts(&plot.svg);
    let first = texts.iter().position(|t| title.starts_with(t.as_str()) && t.len() > 10).expect("title's first line");
    assert!(texts[first].len() < title.len(), "wrapped: {:?}", texts[first]);
    assert_eq!(format!("{} {}", texts[first], texts[first + 1]), title, "the whole title, on two lines");
}

#[test]
fn cycle_shares_print_two_decimals() {
    assert_eq!(cycle_share(9918, 34_777_938), "0.03 %");
    assert_eq!(cycle_share(6_441_227, 34_777_938), "18.52 %");
    assert_eq!(cycle_share(287, 34_777_938), "<0.01 %");
    assert_eq!(cycle_share(0, 34_777_938), "0.00 %");
    assert_eq!(cycle_share(5, 5), "100.00 %");
    assert_eq!(cycle_share(0, 0), "0.00 %");
}

#[test]
fn empty_input_is_a_no_data_error() {
    let no_data = |r: Result<Plot, PlotError>| matches!(r, Err(PlotError::NoData { .. }));
    assert!(no_data(utilization_per_layer("t", &[])));
    assert!(no_data(fold_timeline("t", None, &[], &shares_of(&[]))));
    assert!(no_data(cell_heatmap("t", 0, 32, &[])));
    assert!(no_data(breakdown_bars("t", "pJ", &[])));
    assert!(no_data(precision_over_iterations("t", &[])));
    assert!(no_data(pareto("t", &[])));
    let msg = fold_timeline("t", None, &[], &shares_of(&[])).unwrap_err().to_string();
    assert!(msg.contains("fold_timeline") && msg.contains("nothing to plot"), "{msg}");
}

#[test]
fn invalid_input_is_rejected_with_a_reason() {
    let invalid = |r: Result<Plot, PlotError>| match r {
        Err(PlotError::InvalidInput { reason, .. }) => reason,
        other => panic!("expected InvalidInput, got {:?}", other.map(|p| p.name)),
    };
    let r = invalid(cell_heatmap("t", 2, 2, &[0.5; 3]));
    assert!(r.contains("3 values") && r.contains("2x2"), "{r}");
    invalid(cell_heatmap("t", 1, 2, &[0.5, f64::NAN]));
    let bar = UtilizationBar { layer: "l".into(), pass: "p".into(), utilization: f64::NAN };
    invalid(utilization_per_layer("t", &[bar]));
    let span = TimelineSpan { lane: "x".into(), start_cycle: 10, end_cycle: 5, kind: SpanKind::Load };
    let one = std::slice::from_ref(&span);
    assert!(invalid(fold_timeline("t", None, one, &shares_of(one))).contains("ends at cycle 5"));
    invalid(breakdown_bars("t", "pJ", &[("a".into(), -1.0)]));
    invalid(pareto("t", &[("a".into(), 0.0, 1.0)]));
}

/// ResNet-50-like layer names (53 convolutions and the classifier).
fn resnet50_layers() -> Vec<String> {
    let mut v = vec!["conv1".to_string()];
    for (stage, blocks) in [(1, 3), (2, 4), (3, 6), (4, 3)] {
        for b in 0..blocks {
            for c in 1..=3 {
                v.push(format!("layer{stage}.{b}.conv{c}"));
            }
            if b == 0 {
                v.push(format!("layer{stage}.0.downsample"));
            }
        }
    }
    v.push("fc".to_string());
    v
}

#[test]
fn large_and_tiny_inputs_render() {
    let mut rng = Lcg(6);
    let layers = resnet50_layers();
    assert_eq!(layers.len(), 54);
    let bars: Vec<UtilizationBar> = layers
        .iter()
        .flat_map(|l| PASSES.iter().map(move |p| (l.clone(), p.to_string())))
        .map(|(layer, pass)| UtilizationBar { layer, pass, utilization: 0.2 + 0.75 * rng.next() })
        .collect();
    let plot = utilization_per_layer("ResNet-50 utilization", &bars).unwrap();
    check_plot_as(&plot, "ResNet-50 utilization", Some((WIDTH, HEIGHT)), "utilization_resnet50");

    // 161 lanes, with a long DRAM-bound stretch in one lane.
    let mut spans = timeline_spans(&layers, 6, &mut rng);
    let end = spans.last().unwrap().end_cycle;
    spans.push(TimelineSpan {
        lane: "fc backward-weight".into(),
        start_cycle: end,
        end_cycle: end + end / 10,
        kind: SpanKind::Stall("DRAM bandwidth"),
    });
    let plot = fold_timeline("ResNet-50 fold timeline", None, &spans, &shares_of(&spans)).unwrap();
    let img = check_plot_as(&plot, "ResNet-50 fold timeline", None, "timeline_resnet50");
    assert_eq!(img.height, MAX_HEIGHT);

    let plot = cell_heatmap("Tiny array", 4, 8, &(0..32).map(|i| f64::from(i) / 31.0).collect::<Vec<_>>()).unwrap();
    check_plot_as(&plot, "Tiny array", Some((WIDTH, HEIGHT)), "heatmap_4x8");

    let one = [PrecisionPoint { layer: "fc".into(), iteration: 3, mantissa_bits: 4 }];
    let plot = precision_over_iterations("One point", &one).unwrap();
    check_plot_as(&plot, "One point", Some((WIDTH, HEIGHT)), "precision_one_point");

    let plot = pareto("One design", &[("fast-32x32".to_string(), 1.2e6, 3.4e9)]).unwrap();
    check_plot_as(&plot, "One design", Some((WIDTH, HEIGHT)), "pareto_one_point");

    let plot = breakdown_bars("Single part", "pJ", &[("array".to_string(), 0.0)]).unwrap();
    check_plot_as(&plot, "Single part", Some((WIDTH, HEIGHT)), "breakdown_zero");
}

/// More lanes than a timeline draws are grouped into at most MAX_LANES rows (a plot never
/// fails a run); a 100,000-character title is cut, and drawn in well under a second.
#[test]
fn many_lanes_are_grouped_and_long_text_is_cut() {
    let spans: Vec<TimelineSpan> = (0..1000u64)
        .map(|i| TimelineSpan {
            lane: format!("lane{i}"),
            start_cycle: i * 10,
            end_cycle: i * 10 + 8,
            kind: SpanKind::Stream,
        })
        .collect();
    let p = fold_timeline("t", None, &spans, &shares_of(&spans)).unwrap();
    assert!(p.svg.contains("lane0 (+2)") && !p.svg.contains(">lane1<"), "1000 lanes in rows of 3");
    let title = "x".repeat(100_000);
    let p = fold_timeline(&title, None, &spans[..3], &shares_of(&spans[..3])).unwrap();
    assert!(p.svg.len() < 200_000 && p.svg.contains('…'));
}
