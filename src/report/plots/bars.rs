//! Bar charts: utilization per layer and pass, and energy / area breakdowns.

use std::collections::HashMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::text::{hidden, ticks, x_axis_text, y_axis_text, Pen};
use super::{
    check_value, display_unit, draw_legend, ellipsize, fmt_si, index_names, render, series_color, text_width,
    thinned_centres, titled, Draw, Keyed, LegendEntry, Mark, Plot, PlotError, AXIS_DESC_SIZE, FONT, GRID, HEIGHT,
    TICK_SIZE, WIDTH,
};

/// Utilization of one layer in one pass.
#[derive(Debug, Clone, PartialEq)]
pub struct UtilizationBar {
    /// Layer name (x axis category).
    pub layer: String,
    /// Pass name, e.g. `"forward"` (one colour each).
    pub pass: String,
    /// Fraction of peak MAC throughput, 0..1.
    pub utilization: f64,
}

/// Width of the legend strip right of a chart.
const LEGEND_W: u32 = 190;
/// Longest category label drawn under an axis, in characters.
const MAX_LABEL_CHARS: usize = 22;
/// Width of the y label area (tick labels and the rotated axis description).
const Y_AREA: u32 = 70;

/// Grouped bars: one group per layer (x, in order of first appearance), one bar and colour per
/// pass (forward, backward-data, backward-weight first when so named, others as they come),
/// y = utilization in percent. A later bar for the same layer and pass replaces an earlier
/// one; a missing combination (e.g. the first layer's backward-data pass) leaves a gap. Layer
/// names are rotated when they do not fit side by side, and thinned when there are too many.
pub fn utilization_per_layer(title: &str, bars: &[UtilizationBar]) -> Result<Plot, PlotError> {
    const PLOT: &str = "utilization_per_layer";
    if bars.is_empty() {
        return Err(PlotError::NoData { plot: PLOT });
    }
    for b in bars {
        check_value(PLOT, &format!("utilization of {} {}", b.layer, b.pass), b.utilization)?;
    }
    let (layers, li) = index_names(bars.iter().map(|b| b.layer.as_str()));
    let (passes, pi) = index_names(bars.iter().map(|b| b.pass.as_str()));
    // Training order when the names say so (forward, backward-data, backward-weight), else as given.
    let rank = |name: &str| match name {
        n if n.contains("forward") => 0,
        n if n.contains("data") => 1,
        n if n.contains("weight") => 2,
        _ => 3,
    };
    let mut order: Vec<usize> = (0..passes.len()).collect();
    order.sort_by_key(|&p| rank(&passes[p]));
    let mut new_index = vec![0; passes.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let passes: Vec<String> = order.iter().map(|&p| passes[p].clone()).collect();
    let pi: Vec<usize> = pi.iter().map(|&p| new_index[p]).collect();
    let mut values = vec![vec![None; passes.len()]; layers.len()];
    for ((b, &l), &p) in bars.iter().zip(&li).zip(&pi) {
        values[l][p] = Some(b.utilization * 100.0);
    }
    let means: Vec<String> = passes
        .iter()
        .enumerate()
        .map(|(p, name)| {
            let v: Vec<f64> = values.iter().filter_map(|row| row[p]).collect();
            format!("{name} {:.1}%", v.iter().sum::<f64>() / v.len() as f64)
        })
        .collect();
    let subtitle = format!("{} layers; mean over layers: {}", layers.len(), means.join(", "));
    render(PLOT, (WIDTH, HEIGHT), &UtilChart { title, subtitle, layers, passes, values })
}

struct UtilChart<'a> {
    title: &'a str,
    subtitle: String,
    layers: Vec<String>,
    passes: Vec<String>,
    values: Vec<Vec<Option<f64>>>,
}

impl Draw for UtilChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, pen: Pen) -> Result<(), PlotError> {
        let body = titled(root, pen, self.title, Some(&self.subtitle))?;
        let (chart_area, legend_area) = body.split_horizontally(WIDTH - LEGEND_W);
        let n = self.layers.len();
        let ymax = self.values.iter().flatten().flatten().fold(100.0f64, |a, &b| a.max(b));
        // Layer names: side by side when they fit, else rotated and thinned to one per ~18 px.
        let names: Vec<String> = self.layers.iter().map(|s| ellipsize(s, MAX_LABEL_CHARS)).collect();
        let widest = names.iter().map(|t| text_width(root, t, TICK_SIZE)).max().unwrap_or(0);
        let plot_w = WIDTH - LEGEND_W - 100;
        let rotated = f64::from(widest) > f64::from(plot_w) / n as f64 * 0.9;
        let centres =
            if rotated { thinned_centres(n, (plot_w / (TICK_SIZE + 4)) as usize) } else { thinned_centres(n, n) };
        let x_ticks: Vec<(f64, String)> = centres.iter().map(|&c| (c, names[c as usize].clone())).collect();
        let x_area = if rotated { widest } else { TICK_SIZE } + 16 + AXIS_DESC_SIZE + 10;
        let mut chart = ChartBuilder::on(&chart_area)
            .margin(10)
            .margin_right(20)
            .x_label_area_size(x_area)
            .y_label_area_size(Y_AREA)
            .build_cartesian_2d(Keyed::new(0f64..n as f64, centres), 0f64..ymax * 1.02)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(GRID)
            .max_light_lines(1)
            .y_labels(11)
            .label_style(hidden())
            .axis_desc_style(hidden())
            .draw()?;
        let group = 0.8;
        let w = group / self.passes.len() as f64;
        for (l, row) in self.values.iter().enumerate() {
            for (p, v) in row.iter().enumerate() {
                if let Some(v) = *v {
                    let x0 = l as f64 + (1.0 - group) / 2.0 + p as f64 * w;
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x0, 0.0), (x0 + w, v)],
                        series_color(p).filled(),
                    )))?;
                }
            }
        }
        x_axis_text(pen, root, &chart, &x_ticks, rotated, "layer", x_area)?;
        let y_ticks = ticks(chart.as_coord_spec().y_spec(), 11, |v| format!("{v:.0}"));
        y_axis_text(pen, root, &chart, &y_ticks, false, "utilization (%)", Y_AREA)?;
        let entries: Vec<LegendEntry> = self
            .passes
            .iter()
            .enumerate()
            .map(|(p, name)| LegendEntry { label: name.clone(), color: series_color(p), mark: Mark::Box })
            .collect();
        draw_legend(&legend_area, pen, Some("pass"), &entries, 20).map(|_| ())
    }
}

/// Energy or area by component: one horizontal bar per part, largest first, each labelled with
/// its value and share of the total. `unit` is the unit of the values; energies (`"pJ"`, `"nJ"`,
/// ...) and areas in `"um^2"` are shown in the largest unit that keeps the biggest part >= 1
/// (e.g. mJ, mm^2); other units are shown as given with k/M/G suffixes. The plot is
/// named `energy_breakdown` when the unit ends in `J`, `area_breakdown` when it contains `m^2`
/// or `m²`, and `breakdown` otherwise. Duplicate part names are summed.
pub fn breakdown_bars(title: &str, unit: &str, parts: &[(String, f64)]) -> Result<Plot, PlotError> {
    const PLOT: &str = "breakdown_bars";
    if parts.is_empty() {
        return Err(PlotError::NoData { plot: PLOT });
    }
    let mut sums: Vec<(String, f64)> = Vec::new();
    let mut at = HashMap::new();
    for (name, v) in parts {
        check_value(PLOT, name, *v)?;
        let i = *at.entry(name.as_str()).or_insert_with(|| {
            sums.push((name.clone(), 0.0));
            sums.len() - 1
        });
        sums[i].1 += v;
    }
    sums.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = sums.iter().map(|p| p.1).sum();
    let (name, quantity) = if unit.ends_with('J') {
        ("energy_breakdown", "energy")
    } else if unit.contains("m^2") || unit.contains("m²") {
        ("area_breakdown", "area")
    } else {
        ("breakdown", "value")
    };
    let (factor, shown) = display_unit(unit, sums[0].1);
    let parts: Vec<(String, f64)> = sums.into_iter().map(|(n, v)| (n, v / factor)).collect();
    let total = total / factor;
    let subtitle = format!("total {} {shown} over {} components", fmt_si(total), parts.len());
    let x_desc = format!("{quantity} ({shown})");
    render(name, (WIDTH, HEIGHT), &Breakdown { title, subtitle, x_desc, unit: shown, parts, total })
}

struct Breakdown<'a> {
    title: &'a str,
    subtitle: String,
    x_desc: String,
    unit: String,
    parts: Vec<(String, f64)>,
    total: f64,
}

impl Draw for Breakdown<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, pen: Pen) -> Result<(), PlotError> {
        let body = titled(root, pen, self.title, Some(&self.subtitle))?;
        let n = self.parts.len();
        let names: Vec<String> = self.parts.iter().map(|p| ellipsize(&p.0, 28)).collect();
        let label_w = (names.iter().map(|t| text_width(root, t, TICK_SIZE)).max().unwrap_or(0) + 20).min(320);
        let max = self.parts.iter().map(|p| p.1).fold(0.0, f64::max);
        // Leave room right of the longest bar for its value label.
        let xmax = if max > 0.0 { max * 1.32 } else { 1.0 };
        let centres = thinned_centres(n, 40);
        let x_area = TICK_SIZE + 16 + AXIS_DESC_SIZE + 10;
        let mut chart = ChartBuilder::on(&body)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(x_area)
            .y_label_area_size(label_w)
            .build_cartesian_2d(0f64..xmax, Keyed::new(0f64..n as f64, centres.clone()))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(GRID)
            .max_light_lines(1)
            .x_labels(8)
            .label_style(hidden())
            .axis_desc_style(hidden())
            .draw()?;
        let bar_h = 0.7f64.min(0.35 + 0.05 * n as f64);
        let value_style = TextStyle::from((FONT, TICK_SIZE)).pos(Pos::new(HPos::Left, VPos::Center));
        for (i, (_, v)) in self.parts.iter().enumerate() {
            // Rows top to bottom: part i is centred at n - 1 - i + 0.5.
            let y = (n - 1 - i) as f64 + 0.5;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y - bar_h / 2.0), (*v, y + bar_h / 2.0)],
                series_color(i).filled(),
            )))?;
            let share = if self.total > 0.0 { v / self.total * 100.0 } else { 0.0 };
            let text = format!("{} {} ({share:.1}%)", fmt_si(*v), self.unit);
            let (px, py) = chart.backend_coord(&(*v, y));
            pen.text(root, &text, &value_style, (px + 6, py))?;
        }
        let x_ticks = ticks(chart.as_coord_spec().x_spec(), 8, fmt_si);
        x_axis_text(pen, root, &chart, &x_ticks, false, &self.x_desc, x_area)?;
        let y_ticks: Vec<(f64, String)> = centres.iter().map(|&c| (c, names[n - 1 - c as usize].clone())).collect();
        y_axis_text(pen, root, &chart, &y_ticks, false, "", label_w)
    }
}
