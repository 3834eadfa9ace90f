//! Fold timeline: a Gantt chart of each fold's load / stream / drain phases and stalls per
//! lane, with a legend of where the run's cycles went (each counted once, as in the summary).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::text::{hidden, ticks, x_axis_text, y_axis_text, Pen};
use super::{
    draw_legend, draw_note, ellipsize, fmt_si, index_names, render, text_width, thinned_centres, titled, Draw, Keyed,
    LegendEntry, Mark, Plot, PlotError, AXIS_DESC_SIZE, GRID, HEIGHT, MAX_HEIGHT, TICK_SIZE, WIDTH,
};

/// One busy interval of one lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineSpan {
    /// Row of the chart, e.g. `"conv1 forward"` (rows in order of first appearance, top down).
    pub lane: String,
    /// First cycle of the span.
    pub start_cycle: u64,
    /// One past the last cycle of the span (`end_cycle >= start_cycle`).
    pub end_cycle: u64,
    /// What the lane was doing.
    pub kind: SpanKind,
}

/// What a lane does during a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanKind {
    /// Loading operands into the array.
    Load,
    /// Streaming operands through the array (useful work).
    Stream,
    /// Draining results out of the array.
    Drain,
    /// Stalled, with the reason (one colour per distinct reason).
    Stall(&'static str),
}

/// Where every cycle of a run went, each counted once: the figures of the run summary
/// (streaming, exposed load, exposed drain, stalls by reason), shown in the timeline's legend
/// as shares of `run_cycles` by [`cycle_share`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleShares {
    /// All cycles of the run.
    pub run_cycles: u64,
    /// Cycles in which some fold streams through the array.
    pub stream_cycles: u64,
    /// Load cycles not hidden behind streaming.
    pub exposed_load_cycles: u64,
    /// Drain cycles not hidden behind streaming.
    pub exposed_drain_cycles: u64,
    /// Stall cycles by reason, e.g. `("dram", 6441227)`.
    pub stall_cycles: Vec<(&'static str, u64)>,
}

/// `part` as a percentage of `whole` with two decimals, e.g. `"18.52 %"`; `"<0.01 %"` for a
/// non-zero part that would print as zero. The run summary and the timeline legend both use it,
/// so that their figures agree to the digit.
pub fn cycle_share(part: u64, whole: u64) -> String {
    let p = part as f64 / whole.max(1) as f64 * 100.0;
    if part > 0 && p < 0.005 {
        "<0.01 %".to_string()
    } else {
        format!("{p:.2} %")
    }
}

impl CycleShares {
    /// The legend's labels in drawing order: exposed load, streaming, exposed drain, then each
    /// stall reason (`"stall: dram 18.52 %"`); stall reasons with no cycles are left out.
    pub fn legend_labels(&self) -> Vec<(SpanKind, String)> {
        let share = |c| cycle_share(c, self.run_cycles);
        let mut out = vec![
            (SpanKind::Load, format!("exposed load {}", share(self.exposed_load_cycles))),
            (SpanKind::Stream, format!("streaming {}", share(self.stream_cycles))),
            (SpanKind::Drain, format!("exposed drain {}", share(self.exposed_drain_cycles))),
        ];
        for &(reason, c) in self.stall_cycles.iter().filter(|s| s.1 > 0) {
            out.push((SpanKind::Stall(reason), format!("stall: {reason} {}", share(c))));
        }
        out
    }
}

/// Most lanes a timeline draws (beyond that rows would be under 6 px).
pub const MAX_LANES: usize = 400;
/// Time bins across the x axis (about one per pixel column).
const BINS: usize = 800;
const LEGEND_W: u32 = 250;
const STALL_COLORS: [RGBColor; 6] = [
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x7f, 0x7f, 0x7f),
];

/// Gantt chart of `spans`: x = cycles, one row per lane, one colour per kind and per stall
/// reason. The bars are each fold's phases, which overlap (a fold's load hides under the
/// previous fold's stream), so their lengths are not the run's cycle shares; the legend gives
/// those from `shares` (exposed cycles as a percentage of the run's cycles, the run summary's
/// figures) and says so in a note below it. `note`, if given, ends the subtitle.
///
/// Any number of spans is reduced to a few rectangles per lane per time bin (800 bins across
/// the axis, about one per pixel): each bin stacks the activities in it, in proportion to their
/// cycles (in twelfths of the row height), and neighbouring bins with the same mix merge. So
/// 100k spans cost O(spans + lanes x 800) and the SVG stays small.
/// The image is [`WIDTH`] wide and grows with the lane count from [`HEIGHT`] to [`MAX_HEIGHT`];
/// more than [`MAX_LANES`] lanes are grouped, consecutive lanes in order of appearance, into at
/// most [`MAX_LANES`] rows named after their first lane (`conv1 forward (+2)`); each row stacks
/// its lanes' activities in proportion. Zero-length spans are ignored.
pub fn fold_timeline(
    title: &str,
    note: Option<&str>,
    spans: &[TimelineSpan],
    shares: &CycleShares,
) -> Result<Plot, PlotError> {
    const PLOT: &str = "fold_timeline";
    if spans.is_empty() {
        return Err(PlotError::NoData { plot: PLOT });
    }
    if let Some(s) = spans.iter().find(|s| s.end_cycle < s.start_cycle) {
        let reason =
            format!("span of lane {:?} ends at cycle {} before it starts at {}", s.lane, s.end_cycle, s.start_cycle);
        return Err(PlotError::InvalidInput { plot: PLOT, reason });
    }
    let (names, lane_of) = index_names(spans.iter().map(|s| s.lane.as_str()));
    let (lanes, lane_of) = group_lanes(names, lane_of);
    let mut reasons: Vec<&'static str> = spans
        .iter()
        .filter_map(|s| if let SpanKind::Stall(r) = s.kind { Some(r) } else { None })
        .chain(shares.stall_cycles.iter().filter(|s| s.1 > 0).map(|s| s.0))
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    let category = |k: SpanKind| match k {
        SpanKind::Load => 0,
        SpanKind::Stream => 1,
        SpanKind::Drain => 2,
        SpanKind::Stall(r) => 3 + reasons.binary_search(&r).unwrap_or(0),
    };
    let ncat = 3 + reasons.len();
    let t0 = spans.iter().map(|s| s.start_cycle).min().unwrap_or(0);
    let t1 = spans.iter().map(|s| s.end_cycle).max().unwrap_or(0).max(t0 + 1);
    let bin_w = (t1 - t0) as f64 / BINS as f64;

    // cover[(lane * BINS + bin) * ncat + cat]: bins of coverage (0..1 per span and bin);
    // full[...]: difference array for bins a span covers completely.
    let mut cover = vec![0f32; lanes.len() * BINS * ncat];
    let mut full = vec![0i32; lanes.len() * (BINS + 1) * ncat];
    for (s, &lane) in spans.iter().zip(&lane_of) {
        if s.end_cycle == s.start_cycle {
            continue;
        }
        let c = category(s.kind);
        let fs = (s.start_cycle - t0) as f64 / bin_w;
        let fe = (s.end_cycle - t0) as f64 / bin_w;
        let b0 = (fs as usize).min(BINS - 1);
        let b1 = (fe as usize).min(BINS - 1);
        let at = |b: usize| (lane * BINS + b) * ncat + c;
        if b0 == b1 {
            cover[at(b0)] += (fe - fs) as f32;
        } else {
            cover[at(b0)] += (b0 as f64 + 1.0 - fs) as f32;
            cover[at(b1)] += (fe - b1 as f64) as f32;
            if b1 > b0 + 1 {
                full[(lane * (BINS + 1) + b0 + 1) * ncat + c] += 1;
                full[(lane * (BINS + 1) + b1) * ncat + c] -= 1;
            }
        }
    }
    // Each bin of a lane stacks its categories in proportion, quantised to SLOTS so that
    // neighbouring bins with the same mix merge into one rectangle per category.
    let mut blocks = Vec::new();
    for lane in 0..lanes.len() {
        let mut running = vec![0i32; ncat];
        let mut open: Option<(usize, Vec<u8>)> = None;
        for b in 0..=BINS {
            let mut mix = None;
            if b < BINS {
                let v: Vec<f64> = (0..ncat)
                    .map(|c| {
                        running[c] += full[(lane * (BINS + 1) + b) * ncat + c];
                        f64::from(cover[(lane * BINS + b) * ncat + c]) + f64::from(running[c])
                    })
                    .collect();
                mix = quantise(&v);
            }
            if open.as_ref().map(|o| &o.1) != mix.as_ref() {
                if let Some((start, q)) = open.take() {
                    let mut slot = 0u8;
                    for c in STACK_ORDER.iter().copied().chain(3..ncat) {
                        if q[c] > 0 {
                            blocks.push(Block { lane, b0: start, b1: b, cat: c, s0: slot, s1: slot + q[c] });
                            slot += q[c];
                        }
                    }
                }
                open = mix.map(|q| (b, q));
            }
        }
    }
    let legend: Vec<LegendEntry> = shares
        .legend_labels()
        .into_iter()
        .map(|(kind, label)| LegendEntry { label, color: color_of(category(kind)), mark: Mark::Box })
        .collect();
    let legend_note = format!(
        "Shares of the run's {} cycles, each counted once (as in the run summary). Bars show each \
         fold's load, stream and drain phases, which overlap between folds, so bar lengths are \
         not these shares.",
        shares.run_cycles
    );
    let height = (150 + 18 * lanes.len() as u32).clamp(HEIGHT, MAX_HEIGHT);
    let mut subtitle = format!(
        "per-fold phase spans ({} spans, {} lanes, {} cycles); each pixel column stacks its activities in proportion",
        spans.len(),
        lanes.len(),
        fmt_si((t1 - t0) as f64)
    );
    if let Some(note) = note {
        subtitle.push_str("; ");
        subtitle.push_str(note);
    }
    let chart = Timeline { title, subtitle, lanes, blocks, legend, legend_note, t0, bin_w, height };
    render(PLOT, (WIDTH, height), &chart)
}

/// Vertical slots a lane row is divided into when a bin holds several activities.
const SLOTS: u8 = 12;
/// Bottom-up stacking of load (0), stream (1) and drain (2); stalls go on top.
const STACK_ORDER: [usize; 3] = [1, 0, 2];

/// One rectangle: a lane, a bin range, a category and its slot range within the row.
struct Block {
    lane: usize,
    b0: usize,
    b1: usize,
    cat: usize,
    s0: u8,
    s1: u8,
}

/// Shares of `v` in whole slots summing to [`SLOTS`] (largest remainder), or `None` if empty.
/// `names` (lanes in order of appearance) and each span's lane, with consecutive lanes merged
/// into groups of equal size so that at most [`MAX_LANES`] rows remain.
fn group_lanes(names: Vec<String>, lane_of: Vec<usize>) -> (Vec<String>, Vec<usize>) {
    if names.len() <= MAX_LANES {
        return (names, lane_of);
    }
    let per = names.len().div_ceil(MAX_LANES);
    let rows = names
        .chunks(per)
        .map(|c| if c.len() > 1 { format!("{} (+{})", c[0], c.len() - 1) } else { c[0].clone() })
        .collect();
    (rows, lane_of.into_iter().map(|l| l / per).collect())
}

fn quantise(v: &[f64]) -> Option<Vec<u8>> {
    let total: f64 = v.iter().sum();
    if total <= 1e-9 {
        return None;
    }
    let exact: Vec<f64> = v.iter().map(|x| x / total * f64::from(SLOTS)).collect();
    let mut q: Vec<u8> = exact.iter().map(|x| x.floor() as u8).collect();
    let mut left = SLOTS - q.iter().sum::<u8>();
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    for i in order {
        if left == 0 {
            break;
        }
        q[i] += 1;
        left -= 1;
    }
    Some(q)
}

fn color_of(category: usize) -> RGBColor {
    match category {
        0 => RGBColor(0x1f, 0x77, 0xb4),
        1 => RGBColor(0x2c, 0xa0, 0x2c),
        2 => RGBColor(0x94, 0x67, 0xbd),
        c => STALL_COLORS[(c - 3) % STALL_COLORS.len()],
    }
}

struct Timeline<'a> {
    title: &'a str,
    subtitle: String,
    lanes: Vec<String>,
    blocks: Vec<Block>,
    legend: Vec<LegendEntry>,
    legend_note: String,
    t0: u64,
    bin_w: f64,
    height: u32,
}

impl Draw for Timeline<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, pen: Pen) -> Result<(), PlotError> {
        let body = titled(root, pen, self.title, Some(&self.subtitle))?;
        let (chart_area, legend_area) = body.split_horizontally(WIDTH - LEGEND_W);
        let n = self.lanes.len();
        let names: Vec<String> = self.lanes.iter().map(|l| ellipsize(l, 36)).collect();
        let label_w = (names.iter().map(|t| text_width(root, t, TICK_SIZE)).max().unwrap_or(0) + 20).min(280);
        let plot_h = self.height.saturating_sub(150);
        let centres = thinned_centres(n, (plot_h / (TICK_SIZE + 2)) as usize);
        let x0 = self.t0 as f64;
        let x1 = x0 + self.bin_w * BINS as f64;
        let x_area = TICK_SIZE + 16 + AXIS_DESC_SIZE + 10;
        let mut chart = ChartBuilder::on(&chart_area)
            .margin(10)
            .margin_right(25)
            .x_label_area_size(x_area)
            .y_label_area_size(label_w)
            .build_cartesian_2d(x0..x1, Keyed::new(0f64..n as f64, centres.clone()))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(GRID)
            .max_light_lines(1)
            .x_labels(10)
            .label_style(hidden())
            .axis_desc_style(hidden())
            .draw()?;
        let stripe = RGBColor(238, 238, 242);
        chart.draw_series((0..n).step_by(2).map(|i| {
            let y = (n - 1 - i) as f64;
            Rectangle::new([(x0, y), (x1, y + 1.0)], stripe.mix(0.6).filled())
        }))?;
        let pad = if n > 60 { 0.05 } else { 0.12 };
        let slot_h = (1.0 - 2.0 * pad) / f64::from(SLOTS);
        chart.draw_series(self.blocks.iter().map(|k| {
            let y = (n - 1 - k.lane) as f64 + pad;
            let xa = x0 + k.b0 as f64 * self.bin_w;
            let xb = x0 + k.b1 as f64 * self.bin_w;
            let (ya, yb) = (y + f64::from(k.s0) * slot_h, y + f64::from(k.s1) * slot_h);
            Rectangle::new([(xa, ya), (xb, yb)], color_of(k.cat).filled())
        }))?;
        let x_ticks = ticks(chart.as_coord_spec().x_spec(), 10, fmt_si);
        x_axis_text(pen, root, &chart, &x_ticks, false, "cycle", x_area)?;
        // Lane i (top down) is centred at n - 1 - i + 0.5.
        let y_ticks: Vec<(f64, String)> = centres.iter().map(|&c| (c, names[n - 1 - c as usize].clone())).collect();
        y_axis_text(pen, root, &chart, &y_ticks, false, "", label_w)?;
        let below = draw_legend(&legend_area, pen, Some("% of the run's cycles"), &self.legend, 20)?;
        draw_note(&legend_area, pen, &self.legend_note, below + 8, 8).map(|_| ())
    }
}
