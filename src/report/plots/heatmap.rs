//! Per-cell utilization heat map of the systolic array, with a colour bar.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::text::{hidden, ticks, x_axis_text, y_axis_text, Pen};
use super::{render, titled, Draw, Keyed, Plot, PlotError, AXIS_DESC_SIZE, HEIGHT, TICK_SIZE, WIDTH};

/// Largest number of drawn cells per axis; bigger arrays are averaged into blocks.
const MAX_CELLS: usize = 128;

/// Heat map of per-cell busy fractions (`busy_fraction[r * cols + c]`, 0..1) of a `rows` x
/// `cols` array: row 0 at the top, column 0 at the left, square cells, viridis colours from 0%
/// (dark purple) to 100% (yellow) with a colour bar; the subtitle gives mean, min and max.
/// Arrays larger than 128 cells along an axis are shown as block averages. A zero dimension is
/// [`PlotError::NoData`]; a slice of the wrong length or a value outside 0..1 (or NaN) is
/// [`PlotError::InvalidInput`].
pub fn cell_heatmap(title: &str, rows: usize, cols: usize, busy_fraction: &[f64]) -> Result<Plot, PlotError> {
    const PLOT: &str = "cell_heatmap";
    if rows == 0 || cols == 0 {
        return Err(PlotError::NoData { plot: PLOT });
    }
    if busy_fraction.len() != rows * cols {
        let reason = format!("{} values for a {rows}x{cols} array (expected {})", busy_fraction.len(), rows * cols);
        return Err(PlotError::InvalidInput { plot: PLOT, reason });
    }
    if let Some((i, v)) = busy_fraction.iter().enumerate().find(|(_, v)| !(0.0..=1.0).contains(*v)) {
        let reason = format!("cell ({}, {}) has busy fraction {v}; expected 0..1", i / cols, i % cols);
        return Err(PlotError::InvalidInput { plot: PLOT, reason });
    }
    let (br, bc) = (rows.div_ceil(MAX_CELLS), cols.div_ceil(MAX_CELLS));
    let (gr, gc) = (rows.div_ceil(br), cols.div_ceil(bc));
    let mut grid = vec![(0.0f64, 0u32); gr * gc];
    for (i, &v) in busy_fraction.iter().enumerate() {
        let g = &mut grid[(i / cols / br) * gc + (i % cols) / bc];
        g.0 += v;
        g.1 += 1;
    }
    let cells: Vec<f64> = grid.iter().map(|&(s, n)| s / f64::from(n.max(1))).collect();
    let mean = busy_fraction.iter().sum::<f64>() / busy_fraction.len() as f64;
    let min = busy_fraction.iter().copied().fold(f64::INFINITY, f64::min);
    let max = busy_fraction.iter().copied().fold(0.0, f64::max);
    let mut subtitle = format!(
        "{rows}x{cols} cells; busy {:.1}% on average (min {:.1}%, max {:.1}%)",
        mean * 100.0,
        min * 100.0,
        max * 100.0
    );
    if br > 1 || bc > 1 {
        subtitle.push_str(&format!("; each square averages {br}x{bc} cells"));
    }
    render(PLOT, (WIDTH, HEIGHT), &Heatmap { title, subtitle, rows, cols, gr, gc, br, bc, cells })
}

/// Viridis colour for `t` in 0..1 (piecewise-linear through nine reference points).
pub(crate) fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let x = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (x as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let lerp = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

struct Heatmap<'a> {
    title: &'a str,
    subtitle: String,
    rows: usize,
    cols: usize,
    gr: usize,
    gc: usize,
    br: usize,
    bc: usize,
    cells: Vec<f64>,
}

impl Draw for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, pen: Pen) -> Result<(), PlotError> {
        let body = titled(root, pen, self.title, Some(&self.subtitle))?;
        let (bw, bh) = body.dim_in_pixel();
        // Room for axis labels left of and below the grid, and for the colour bar on the right.
        let (left, bottom, right, top) = (70u32, TICK_SIZE + 16 + AXIS_DESC_SIZE + 10, 200u32, 10u32);
        let cell =
            (f64::from(bw - left - right) / self.gc as f64).min(f64::from(bh - bottom - top - 10) / self.gr as f64);
        let grid_w = (cell * self.gc as f64) as u32;
        let grid_h = (cell * self.gr as f64) as u32;
        let x_off = (bw - grid_w - left - right) / 2;
        // Centre the grid vertically in the space left over.
        let spare = bh.saturating_sub(top + grid_h + bottom);
        let area = body.margin(top + spare / 2, 0, x_off, 0);
        let (map_area, rest) = area.split_horizontally(left + grid_w + 10);
        let below = spare - spare / 2;
        let map_area = map_area.margin(0, below, 0, 0);
        let (rows, cols) = (self.rows as f64, self.cols as f64);
        // Ticks at every 1st, 2nd, 4th, ... column and row, counted from column 0 and row 0 (top).
        let xc: Vec<f64> = (0..self.cols).step_by(nice_step(self.cols)).map(|c| c as f64 + 0.5).collect();
        let yc: Vec<f64> = (0..self.rows).step_by(nice_step(self.rows)).map(|r| rows - 0.5 - r as f64).collect();
        let mut chart = ChartBuilder::on(&map_area)
            .x_label_area_size(bottom)
            .y_label_area_size(left)
            .margin_right(10)
            .build_cartesian_2d(Keyed::new(0f64..cols, xc.clone()), Keyed::new(0f64..rows, yc.clone()))?;
        chart.configure_mesh().disable_mesh().label_style(hidden()).axis_desc_style(hidden()).draw()?;
        let (br, bc) = (self.br as f64, self.bc as f64);
        chart.draw_series(self.cells.iter().enumerate().map(|(i, &v)| {
            let (r, c) = ((i / self.gc) as f64, (i % self.gc) as f64);
            let (x0, x1) = (c * bc, ((c + 1.0) * bc).min(cols));
            let (ya, yb) = (rows - ((r + 1.0) * br).min(rows), rows - r * br);
            Rectangle::new([(x0, ya), (x1, yb)], viridis(v).filled())
        }))?;
        let x_ticks: Vec<(f64, String)> = xc.iter().map(|&c| (c, format!("{}", c as usize))).collect();
        let y_ticks: Vec<(f64, String)> = yc.iter().map(|&y| (y, format!("{}", (rows - 0.5 - y) as usize))).collect();
        x_axis_text(pen, root, &chart, &x_ticks, false, "array column", bottom)?;
        y_axis_text(pen, root, &chart, &y_ticks, false, "array row", left)?;

        // Colour bar: as tall as the grid, 0..100 %.
        let bar_area = rest.margin(0, below, 30, 0);
        let (bar_area, _) = bar_area.split_horizontally(30 + 80);
        let mut bar = ChartBuilder::on(&bar_area)
            .x_label_area_size(bottom)
            .right_y_label_area_size(80)
            .build_cartesian_2d(0f64..1.0, 0f64..100.0)?;
        bar.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(6)
            .label_style(hidden())
            .axis_desc_style(hidden())
            .draw()?;
        bar.draw_series((0..100).map(|i| {
            let y = f64::from(i);
            Rectangle::new([(0.0, y), (1.0, y + 1.0)], viridis((y + 0.5) / 100.0).filled())
        }))?;
        bar.draw_series(std::iter::once(Rectangle::new([(0.0, 0.0), (1.0, 100.0)], BLACK.stroke_width(1))))?;
        let y_ticks = ticks(bar.as_coord_spec().y_spec(), 6, |v| format!("{v:.0}"));
        y_axis_text(pen, root, &bar, &y_ticks, true, "busy (% of cycles)", 80)
    }
}

/// Tick spacing (1, 2, 4, 8, 16, ...) that keeps about a dozen labels on an axis of `n` cells.
fn nice_step(n: usize) -> usize {
    let mut step = 1;
    while n / step > 16 {
        step *= 2;
    }
    step
}
