//! The Pareto plot of a comparison or a sweep: energy against cycles, one labelled point per
//! design, the Pareto front highlighted and joined.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::labels::{place, Rect};
use super::text::{hidden, ticks, x_axis_text, y_axis_text, Pen};
use super::{
    check_value, display_unit, draw_legend, ellipsize, fmt_si, render, text_width, titled, Draw, LegendEntry, Mark,
    Plot, PlotError, AXIS_DESC_SIZE, FONT, GRID, HEIGHT, TICK_SIZE, WIDTH,
};

/// Most points labelled with their names; a plot of more labels only its Pareto front (the
/// first this many of it), and says so in the subtitle.
pub const MAX_LABELLED_POINTS: usize = 40;
const LEGEND_W: u32 = 200;
/// Longest point label drawn on the chart, in characters.
const MAX_LABEL_CHARS: usize = 28;
const LABEL_SIZE: u32 = TICK_SIZE - 2;

/// Indices of the Pareto front of `points` (`(name, cycles, energy)`): the points no other
/// point beats on both, in order of increasing cycles.
pub fn pareto_front(points: &[(String, f64, f64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| points[a].1.total_cmp(&points[b].1).then(points[a].2.total_cmp(&points[b].2)));
    let mut front = Vec::new();
    let mut best = f64::INFINITY;
    for i in order {
        if points[i].2 < best {
            best = points[i].2;
            front.push(i);
        }
    }
    front
}

/// Indices of the points [`pareto`] labels, in the order it places their labels: every point
/// when there are at most [`MAX_LABELLED_POINTS`] (the front first, then the others in input
/// order), else the first [`MAX_LABELLED_POINTS`] of the front.
pub fn pareto_labelled(points: &[(String, f64, f64)]) -> Vec<usize> {
    let front = pareto_front(points);
    if points.len() > MAX_LABELLED_POINTS {
        return front.into_iter().take(MAX_LABELLED_POINTS).collect();
    }
    let mut on_front = vec![false; points.len()];
    for &i in &front {
        on_front[i] = true;
    }
    front.into_iter().chain((0..points.len()).filter(|&i| !on_front[i])).collect()
}

/// Scatter of design points, x = cycles, y = energy (given in pJ, shown in the largest unit
/// that keeps values >= 1, e.g. mJ), with the Pareto front (points no other point beats on
/// both) highlighted in red and joined. Points are labelled with their names as
/// [`pareto_labelled`] says (all of up to 40, else the front); a label goes beside its point
/// where it overlaps no other point or label, else the point gets a number that the legend
/// resolves. An axis switches to a log scale when its values span more than 30x. Values must
/// be finite and positive ([`PlotError::InvalidInput`] otherwise).
pub fn pareto(title: &str, points: &[(String, f64, f64)]) -> Result<Plot, PlotError> {
    const PLOT: &str = "pareto";
    if points.is_empty() {
        return Err(PlotError::NoData { plot: PLOT });
    }
    for (name, c, e) in points {
        check_value(PLOT, &format!("cycles of {name}"), *c)?;
        check_value(PLOT, &format!("energy of {name}"), *e)?;
        if *c == 0.0 || *e == 0.0 {
            let reason = format!("{name} has zero cycles or energy");
            return Err(PlotError::InvalidInput { plot: PLOT, reason });
        }
    }
    let front = pareto_front(points);
    let labelled = pareto_labelled(points);
    let mut subtitle =
        format!("{} design points, {} on the Pareto front (lower-left is better)", points.len(), front.len());
    if labelled.len() < points.len() {
        let which = if labelled.len() < front.len() {
            format!("the first {} of the Pareto front", labelled.len())
        } else {
            "the Pareto front".to_string()
        };
        subtitle.push_str(&format!("; over {MAX_LABELLED_POINTS} points, so only {which} labelled"));
    }
    let max_energy = points.iter().map(|p| p.2).fold(0.0, f64::max);
    let (energy_div, energy_unit) = display_unit("pJ", max_energy);
    render(PLOT, (WIDTH, HEIGHT), &Pareto { title, subtitle, points, front, labelled, energy_div, energy_unit })
}

struct Pareto<'a> {
    title: &'a str,
    subtitle: String,
    points: &'a [(String, f64, f64)],
    front: Vec<usize>,
    labelled: Vec<usize>,
    /// Energies are shown divided by this, in `energy_unit` (pJ, nJ, ..., J).
    energy_div: f64,
    energy_unit: String,
}

/// `lo..hi` padded by 5% (or a factor on a log scale) and whether to use a log scale.
fn axis_range(values: impl Iterator<Item = f64> + Clone) -> (f64, f64, bool) {
    let lo = values.clone().fold(f64::INFINITY, f64::min);
    let hi = values.fold(0.0, f64::max);
    if hi > lo * 30.0 {
        (lo / 1.3, hi * 1.3, true)
    } else if hi > lo {
        let pad = (hi - lo) * 0.08;
        ((lo - pad).max(0.0), hi + pad, false)
    } else {
        (lo * 0.9, hi * 1.1, false)
    }
}

impl Draw for Pareto<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, pen: Pen) -> Result<(), PlotError> {
        let body = titled(root, pen, self.title, Some(&self.subtitle))?;
        let (area, legend_area) = body.split_horizontally(WIDTH - LEGEND_W);
        let (x0, x1, xlog) = axis_range(self.points.iter().map(|p| p.1));
        let (y0, y1, ylog) = axis_range(self.points.iter().map(|p| p.2 / self.energy_div));
        let numbered = match (xlog, ylog) {
            (false, false) => self.draw_on(root, pen, &area, x0..x1, y0..y1)?,
            (true, false) => self.draw_on(root, pen, &area, (x0..x1).log_scale(), y0..y1)?,
            (false, true) => self.draw_on(root, pen, &area, x0..x1, (y0..y1).log_scale())?,
            (true, true) => self.draw_on(root, pen, &area, (x0..x1).log_scale(), (y0..y1).log_scale())?,
        };
        let mut entries = vec![
            LegendEntry {
                label: format!("design point ({})", self.points.len() - self.front.len()),
                color: OTHER,
                mark: Mark::Dot,
            },
            LegendEntry { label: format!("Pareto front ({})", self.front.len()), color: FRONT, mark: Mark::Dot },
        ];
        let on_front = |i: usize| self.front.contains(&i);
        entries.extend(numbered.iter().enumerate().map(|(k, &i)| LegendEntry {
            label: self.points[i].0.clone(),
            color: if on_front(i) { FRONT } else { LABEL_INK },
            mark: Mark::Number(k + 1),
        }));
        draw_legend(&legend_area, pen, None, &entries, 20).map(|_| ())
    }
}

const OTHER: RGBColor = RGBColor(0x5a, 0x8d, 0xc8);
const FRONT: RGBColor = RGBColor(0xd6, 0x27, 0x28);
/// Labels of points off the front.
const LABEL_INK: RGBColor = RGBColor(40, 40, 40);

impl Pareto<'_> {
    /// Draws the chart and the labels; returns the points labelled by number, in number order.
    fn draw_on<DB, X, Y>(
        &self,
        root: &DrawingArea<DB, Shift>,
        pen: Pen,
        area: &DrawingArea<DB, Shift>,
        x: X,
        y: Y,
    ) -> Result<Vec<usize>, PlotError>
    where
        DB: DrawingBackend,
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let (x_area, y_area) = (TICK_SIZE + 16 + AXIS_DESC_SIZE + 10, 80);
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(x, y)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .max_light_lines(4)
            .x_labels(10)
            .y_labels(10)
            .label_style(hidden())
            .axis_desc_style(hidden())
            .draw()?;
        let x_ticks = ticks(chart.as_coord_spec().x_spec(), 10, fmt_si);
        let y_ticks = ticks(chart.as_coord_spec().y_spec(), 10, fmt_si);
        x_axis_text(pen, root, &chart, &x_ticks, false, "cycles", x_area)?;
        y_axis_text(pen, root, &chart, &y_ticks, false, &format!("energy ({})", self.energy_unit), y_area)?;
        let at = |i: usize| (self.points[i].1, self.points[i].2 / self.energy_div);
        let on_front: std::collections::HashSet<usize> = self.front.iter().copied().collect();
        chart.draw_series(
            self.points
                .iter()
                .enumerate()
                .filter(|(i, _)| !on_front.contains(i))
                .map(|(i, _)| Circle::new(at(i), 4, OTHER.filled())),
        )?;
        let line: Vec<(f64, f64)> = self.front.iter().map(|&i| at(i)).collect();
        chart.draw_series(std::iter::once(PathElement::new(line, FRONT.stroke_width(2))))?;
        chart.draw_series(self.front.iter().map(|&i| Circle::new(at(i), 6, FRONT.filled())))?;

        // Labels: names where they fit clear of points and other labels, numbers elsewhere.
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let bounds = Rect { x0: xs.start, y0: ys.start, x1: xs.end, y1: ys.end };
        // Every point is an obstacle; only the labelled ones get a label.
        let mut order: Vec<usize> = self.labelled.clone();
        let labelled: std::collections::HashSet<usize> = order.iter().copied().collect();
        order.extend((0..self.points.len()).filter(|i| !labelled.contains(i)));
        let px: Vec<(i32, i32)> = order.iter().map(|&i| chart.backend_coord(&at(i))).collect();
        let names: Vec<String> = self.labelled.iter().map(|&i| ellipsize(&self.points[i].0, MAX_LABEL_CHARS)).collect();
        let h = LABEL_SIZE + 2;
        let mut sizes: Vec<(u32, u32)> = names.iter().map(|n| (text_width(root, n, LABEL_SIZE) + 2, h)).collect();
        sizes.resize(order.len(), (0, 0));
        let spots = place(&px, &sizes, bounds);
        let style = |i: usize| {
            let color = if on_front.contains(&i) { &FRONT } else { &LABEL_INK };
            TextStyle::from((FONT, LABEL_SIZE)).color(color).pos(Pos::new(HPos::Left, VPos::Top))
        };
        let mut numbered = Vec::new();
        let mut unplaced = Vec::new();
        for (k, &i) in self.labelled.iter().enumerate() {
            match spots[k] {
                Some((sx, sy)) => pen.text(root, &names[k], &style(i), (sx + 1, sy + 1))?,
                None => unplaced.push(k),
            }
        }
        // Numbers are small; place them around their points, avoiding the names drawn.
        if !unplaced.is_empty() {
            let mut nsizes: Vec<(u32, u32)> = vec![(0, 0); order.len()];
            for (n, &k) in unplaced.iter().enumerate() {
                nsizes[k] = (text_width(root, &(n + 1).to_string(), LABEL_SIZE) + 2, h);
            }
            // Names already drawn stay obstacles: place them first, then the numbers.
            let mut all_px = Vec::new();
            let mut all_sizes = Vec::new();
            for k in 0..self.labelled.len() {
                if spots[k].is_some() {
                    all_px.push(px[k]);
                    all_sizes.push(sizes[k]);
                }
            }
            let names_placed = all_px.len();
            for &k in &unplaced {
                all_px.push(px[k]);
                all_sizes.push(nsizes[k]);
            }
            all_px.extend(&px[self.labelled.len()..]);
            let nspots = place(&all_px, &all_sizes, bounds);
            for (n, &k) in unplaced.iter().enumerate() {
                let i = self.labelled[k];
                let (p0, p1) = px[k];
                let (sx, sy) = nspots[names_placed + n].unwrap_or((p0 + 7, p1 - h as i32 - 1));
                pen.text(root, &(n + 1).to_string(), &style(i), (sx + 1, sy + 1))?;
                numbered.push(i);
            }
        }
        Ok(numbered)
    }
}
