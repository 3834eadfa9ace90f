//! Precision per layer over iterations: one step line per layer.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::text::{hidden, ticks, x_axis_text, y_axis_text, Pen};
use super::{
    draw_legend, fmt_si, index_names, render, series_color, titled, Draw, Keyed, LegendEntry, Mark, Plot, PlotError,
    AXIS_DESC_SIZE, GRID, HEIGHT, TICK_SIZE, WIDTH,
};

/// Mantissa width of one layer at one training iteration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecisionPoint {
    /// Layer name (one line each).
    pub layer: String,
    /// Training iteration (x axis).
    pub iteration: usize,
    /// Mantissa bits used at that iteration (y axis).
    pub mantissa_bits: u32,
}

const LEGEND_W: u32 = 200;
/// Total vertical spread, in bits, used to keep identical schedules apart.
const DODGE_BITS: f64 = 0.5;

/// One step line per layer (in order of first appearance): x = iteration, y = mantissa bits,
/// each width held until the iteration where it changes. A later point for the same layer and
/// iteration replaces an earlier one. Since many layers often share a schedule, lines are
/// offset by up to ±0.25 bit (said in the subtitle) so that each stays visible.
pub fn precision_over_iterations(title: &str, points: &[PrecisionPoint]) -> Result<Plot, PlotError> {
    const PLOT: &str = "precision_over_iterations";
    if points.is_empty() {
        return Err(PlotError::NoData { plot: PLOT });
    }
    let (layers, li) = index_names(points.iter().map(|p| p.layer.as_str()));
    let mut series: Vec<Vec<(usize, u32)>> = vec![Vec::new(); layers.len()];
    for (p, &l) in points.iter().zip(&li) {
        series[l].push((p.iteration, p.mantissa_bits));
    }
    for s in &mut series {
        // Stable sort keeps input order among equal iterations; keep the last of each.
        s.sort_by_key(|&(it, _)| it);
        let mut dedup: Vec<(usize, u32)> = Vec::with_capacity(s.len());
        for &(it, b) in s.iter() {
            match dedup.last_mut() {
                Some(last) if last.0 == it => last.1 = b,
                _ => dedup.push((it, b)),
            }
        }
        *s = dedup;
    }
    let it_min = points.iter().map(|p| p.iteration).min().unwrap_or(0);
    let it_max = points.iter().map(|p| p.iteration).max().unwrap_or(0);
    let b_min = points.iter().map(|p| p.mantissa_bits).min().unwrap_or(0);
    let b_max = points.iter().map(|p| p.mantissa_bits).max().unwrap_or(0);
    let dodge = if layers.len() > 1 { (DODGE_BITS / (layers.len() - 1) as f64).min(0.12) } else { 0.0 };
    let mut subtitle = format!("{} layers, iterations {it_min} to {it_max}", layers.len());
    if dodge > 0.0 {
        let half = dodge * (layers.len() - 1) as f64 / 2.0;
        subtitle.push_str(&format!("; lines offset by up to ±{half:.2} bit so equal schedules stay visible"));
    }
    let chart = Precision { title, subtitle, layers, series, it_min, it_max, b_min, b_max, dodge };
    render(PLOT, (WIDTH, HEIGHT), &chart)
}

struct Precision<'a> {
    title: &'a str,
    subtitle: String,
    layers: Vec<String>,
    series: Vec<Vec<(usize, u32)>>,
    it_min: usize,
    it_max: usize,
    b_min: u32,
    b_max: u32,
    dodge: f64,
}

impl Draw for Precision<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, pen: Pen) -> Result<(), PlotError> {
        let body = titled(root, pen, self.title, Some(&self.subtitle))?;
        let (chart_area, legend_area) = body.split_horizontally(WIDTH - LEGEND_W);
        let (x0, x1) = if self.it_max > self.it_min {
            let pad = (self.it_max - self.it_min) as f64 * 0.02;
            (self.it_min as f64 - pad, self.it_max as f64 + pad)
        } else {
            (self.it_min as f64 - 0.5, self.it_min as f64 + 0.5)
        };
        let (y0, y1) = (f64::from(self.b_min.saturating_sub(1)), f64::from(self.b_max + 1));
        let y_keys: Vec<f64> = {
            let step = ((y1 - y0) / 12.0).ceil().max(1.0) as usize;
            (y0 as u32..=y1 as u32).step_by(step).map(f64::from).collect()
        };
        let span = self.it_max - self.it_min;
        let x_keys: Vec<f64> = if span <= 12 {
            (self.it_min..=self.it_max).map(|i| i as f64).collect()
        } else {
            let spec = x0..x1;
            ticks(&plotters::coord::types::RangedCoordf64::from(spec), 10, fmt_si)
                .into_iter()
                .map(|(v, _)| v)
                .filter(|v| v.fract() == 0.0)
                .collect()
        };
        let (x_area, y_area) = (TICK_SIZE + 16 + AXIS_DESC_SIZE + 10, 70);
        let mut chart = ChartBuilder::on(&chart_area)
            .margin(10)
            .margin_right(20)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(Keyed::new(x0..x1, x_keys.clone()), Keyed::new(y0..y1, y_keys.clone()))?;
        chart.configure_mesh().light_line_style(GRID).label_style(hidden()).axis_desc_style(hidden()).draw()?;
        let mid = (self.layers.len() as f64 - 1.0) / 2.0;
        for (k, s) in self.series.iter().enumerate() {
            let off = (k as f64 - mid) * self.dodge;
            let color = series_color(k);
            let mut path: Vec<(f64, f64)> = Vec::with_capacity(s.len() * 2);
            for &(it, b) in s {
                if let Some(&(_, prev)) = path.last() {
                    path.push((it as f64, prev));
                }
                path.push((it as f64, f64::from(b) + off));
            }
            chart.draw_series(std::iter::once(PathElement::new(path, color.stroke_width(2))))?;
            if s.len() <= 25 {
                chart.draw_series(
                    s.iter().map(|&(it, b)| Circle::new((it as f64, f64::from(b) + off), 3, color.filled())),
                )?;
            }
        }
        let x_ticks: Vec<(f64, String)> = x_keys.iter().map(|&v| (v, fmt_si(v))).collect();
        let y_ticks: Vec<(f64, String)> = y_keys.iter().map(|&v| (v, format!("{v:.0}"))).collect();
        x_axis_text(pen, root, &chart, &x_ticks, false, "training iteration", x_area)?;
        y_axis_text(pen, root, &chart, &y_ticks, false, "mantissa width (bits)", y_area)?;
        let entries: Vec<LegendEntry> = self
            .layers
            .iter()
            .enumerate()
            .map(|(k, l)| LegendEntry { label: l.clone(), color: series_color(k), mark: Mark::Line })
            .collect();
        draw_legend(&legend_area, pen, Some("layer"), &entries, 20).map(|_| ())
    }
}
