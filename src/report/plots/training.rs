//! Plots of training runs: test accuracy against simulated time, loss curves, energy per epoch,
//! and the mantissa widths chosen per layer, tensor class and iteration.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::heatmap::viridis;
use super::marks::{dash_pieces, draw_marker, series_style, SeriesStyle};
use super::text::{fit, hidden, x_axis_text, y_axis_text, Pen};
use super::{
    check_value, display_unit, draw_legend, ellipsize, fmt_si, render, text_width, thinned_centres, titled, Draw,
    Keyed, LegendEntry, Mark, Plot, PlotError, AXIS_DESC_SIZE, FONT, GRID, HEIGHT, LEGEND_SIZE, MAX_HEIGHT,
    SUBTITLE_SIZE, TICK_SIZE, TITLE_SIZE, WIDTH,
};

/// One named line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label, e.g. a policy name (shown up to 40 characters).
    pub label: String,
    /// `(x, y)` points; lines join them in order of x.
    pub points: Vec<(f64, f64)>,
}

/// Width of the legend strip right of a chart.
const LEGEND_W: u32 = 220;
/// Longest series, class or layer label kept, in characters (drawing text costs more than
/// linear time in its length, so a label is cut before anything measures it).
const MAX_LABEL_CHARS: usize = 40;
/// Legend rows shown; further series are summarised as "+ N more".
const MAX_LEGEND_ENTRIES: usize = 12;
/// Most points drawn per line; longer lines keep the lowest and highest point of each bucket.
const MAX_POINTS_PER_LINE: usize = 4000;
/// Budget of drawn points over all lines (each line still gets [`MIN_POINTS_PER_LINE`]).
const MAX_POINTS_TOTAL: usize = 200_000;
const MIN_POINTS_PER_LINE: usize = 100;
/// Lines of at most this many points get a marker at each point (when markers are asked for).
const MAX_MARKED_POINTS: usize = 60;

/// Test accuracy (y, percent 0..100) against simulated training time (x, seconds, shown in
/// ns, µs, ms or s as fits the largest time), one line per series (policy) with markers at the
/// points (for lines of up to 60 points). `target` (percent), if given, is a dashed horizontal
/// line labelled "target"; the subtitle names the best final accuracy and which series
/// reaches the target first. Empty series are listed in the legend as "(no data)"; no points
/// at all is [`PlotError::NoData`]; a time that is negative or not finite, or an accuracy or
/// target outside 0..100, is [`PlotError::InvalidInput`].
pub fn accuracy_vs_time(title: &str, series: &[Series], target: Option<f64>) -> Result<Plot, PlotError> {
    const PLOT: &str = "accuracy_vs_time";
    let sorted = sorted_points(PLOT, series)?;
    check_points(PLOT, series, "time", "accuracy", 100.0)?;
    if let Some(t) = target.filter(|t| !(t.is_finite() && (0.0..=100.0).contains(t))) {
        let reason = format!("target accuracy is {t}; expected a percentage 0..100");
        return Err(PlotError::InvalidInput { plot: PLOT, reason });
    }
    let t_max = all(&sorted).map(|p| p.0).fold(0.0, f64::max);
    let (div, unit) = time_unit(t_max);
    let x_hi = if t_max > 0.0 { finite_or(t_max / div * 1.03, t_max / div) } else { 1.0 };
    let x = Axis::linear(0.0, x_hi, 10, false, format!("simulated training time ({unit})"));
    let (lo, hi) = all(&sorted).map(|p| p.1).chain(target).fold((100.0f64, 0.0f64), |(a, b), y| (a.min(y), b.max(y)));
    let y0 = if lo >= 12.0 { ((lo - 2.0) / 10.0).floor() * 10.0 } else { -1.5 };
    let y1 = if hi <= 88.0 { ((hi + 2.0) / 10.0).ceil() * 10.0 } else { 101.5 };
    let y = Axis::linear(y0, y1, 11, false, "test accuracy (%)".to_string());

    let mut notes = vec![count_note(series, &sorted)];
    if let Some((i, v)) = best_final(&sorted, |a, b| a > b) {
        notes.push(format!("best final accuracy {v:.1}% ({})", short(&series[i].label)));
    }
    if let Some(t) = target {
        let first = sorted
            .iter()
            .enumerate()
            .filter_map(|(i, pts)| pts.iter().find(|p| p.1 >= t).map(|p| (i, p.0)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        notes.push(match first {
            Some((i, s)) => format!(
                "target {}% first reached by {} at {} {unit}",
                fmt_si(t),
                short(&series[i].label),
                fmt_tick(s / div)
            ),
            None => format!("target {}% not reached", fmt_si(t)),
        });
    }
    let (lines, legend, thinned) = lines_of(series, &sorted, true, |p| (p.0 / div, p.1));
    notes.extend(thinned);
    let target = target.map(|t| (t, format!("target {}%", fmt_si(t))));
    let chart = LineChart { title, subtitle: notes.join("; "), lines, legend, x, y, target };
    render(PLOT, (WIDTH, HEIGHT), &chart)
}

/// Loss (y) against training iteration (x), one line per series (e.g. "train" and "test", or
/// one per policy). The y axis is logarithmic when the largest loss is more than 20 times the
/// smallest (and the smallest is positive), else linear from 0. Empty series are listed in the
/// legend as "(no data)"; no points at all is [`PlotError::NoData`]; a negative or non-finite
/// iteration or loss is [`PlotError::InvalidInput`].
pub fn loss_curves(title: &str, series: &[Series]) -> Result<Plot, PlotError> {
    const PLOT: &str = "loss";
    let sorted = sorted_points(PLOT, series)?;
    check_points(PLOT, series, "iteration", "loss", f64::INFINITY)?;
    let (it_lo, it_hi) = min_max(all(&sorted).map(|p| p.0));
    let (x0, x1) = padded(it_lo, it_hi, 0.5);
    let x = Axis::linear(x0, x1, 10, true, "training iteration".to_string());
    let (lo, hi) = min_max(all(&sorted).map(|p| p.1));
    // Log scale only where log10 and back stay far from under- and overflow.
    let log = lo > 0.0 && hi / lo > 20.0 && lo >= 1e-250 && hi <= 1e250;
    let y = if log {
        let (a, b) = (lo.log10(), hi.log10());
        let pad = (b - a) * 0.04;
        Axis::log10(a - pad, b + pad, "loss (log scale)".to_string())
    } else {
        Axis::linear(0.0, top(hi), 10, false, "loss".to_string())
    };
    let mut notes =
        vec![format!("{}, iterations {} to {}", count_note(series, &sorted), fmt_tick(it_lo), fmt_tick(it_hi))];
    let finals: Vec<(usize, f64)> =
        sorted.iter().enumerate().filter_map(|(i, pts)| pts.last().map(|p| (i, p.1))).collect();
    if finals.len() <= 4 {
        let each: Vec<String> =
            finals.iter().map(|&(i, v)| format!("{} {}", short(&series[i].label), fmt_tick(v))).collect();
        notes.push(format!("final loss: {}", each.join(", ")));
    } else if let Some((i, v)) = best_final(&sorted, |a, b| a < b) {
        notes.push(format!("lowest final loss {} ({})", fmt_tick(v), short(&series[i].label)));
    }
    let (lines, legend, thinned) = lines_of(series, &sorted, false, |p| (p.0, if log { p.1.log10() } else { p.1 }));
    notes.extend(thinned);
    let chart = LineChart { title, subtitle: notes.join("; "), lines, legend, x, y, target: None };
    render(PLOT, (WIDTH, HEIGHT), &chart)
}

/// Energy per epoch (y, given in joules, shown in the unit from pJ to J that keeps the largest
/// value >= 1) against epoch (x, 1-based; ticks at whole epochs), one line with markers per
/// series, y from 0; the subtitle gives each series' total. Empty series are listed in the
/// legend as "(no data)"; no points at all is [`PlotError::NoData`]; a negative or non-finite
/// epoch or energy is [`PlotError::InvalidInput`].
pub fn energy_per_epoch(title: &str, series: &[Series]) -> Result<Plot, PlotError> {
    const PLOT: &str = "energy_per_epoch";
    let sorted = sorted_points(PLOT, series)?;
    check_points(PLOT, series, "epoch", "energy", f64::INFINITY)?;
    let (e_lo, e_hi) = min_max(all(&sorted).map(|p| p.0));
    let (x0, x1) = padded(e_lo, e_hi, 0.5);
    let x = Axis::linear(x0, x1, 12, true, "epoch".to_string());
    let max_j = all(&sorted).map(|p| p.1).fold(0.0, f64::max);
    let (div, unit) = display_unit("J", max_j);
    let y = Axis::linear(0.0, top(max_j / div), 10, false, format!("energy per epoch ({unit})"));
    let totals: Vec<(usize, f64)> = sorted
        .iter()
        .enumerate()
        .filter(|(_, pts)| !pts.is_empty())
        .map(|(i, pts)| (i, pts.iter().map(|p| p.1).sum::<f64>()))
        .collect();
    let (tdiv, tunit) = display_unit("J", totals.iter().map(|t| t.1).fold(0.0, f64::max));
    let mut notes = vec![count_note(series, &sorted)];
    if totals.len() <= 3 {
        let each: Vec<String> = totals
            .iter()
            .map(|&(i, t)| {
                format!("{} {} {tunit} in {} epochs", short(&series[i].label), fmt_tick(t / tdiv), sorted[i].len())
            })
            .collect();
        notes.push(format!("total: {}", each.join(", ")));
    } else if let Some(&(i, t)) = totals.iter().min_by(|a, b| a.1.total_cmp(&b.1)) {
        notes.push(format!("lowest total {} {tunit} ({})", fmt_tick(t / tdiv), short(&series[i].label)));
    }
    let (lines, legend, thinned) = lines_of(series, &sorted, true, |p| (p.0, p.1 / div));
    notes.extend(thinned);
    let chart = LineChart { title, subtitle: notes.join("; "), lines, legend, x, y, target: None };
    render(PLOT, (WIDTH, HEIGHT), &chart)
}

// ---------------------------------------------------------------- line charts

/// Each series' points sorted by x (stably), or `NoData` when there are none at all.
fn sorted_points(plot: &'static str, series: &[Series]) -> Result<Vec<Vec<(f64, f64)>>, PlotError> {
    if series.iter().all(|s| s.points.is_empty()) {
        return Err(PlotError::NoData { plot });
    }
    Ok(series
        .iter()
        .map(|s| {
            let mut p = s.points.clone();
            p.sort_by(|a, b| a.0.total_cmp(&b.0));
            p
        })
        .collect())
}

/// `Err(InvalidInput)` naming the series and point unless every x and y is finite, >= 0, and
/// y <= `y_max`.
fn check_points(
    plot: &'static str,
    series: &[Series],
    x_what: &str,
    y_what: &str,
    y_max: f64,
) -> Result<(), PlotError> {
    for s in series {
        for (i, &(x, y)) in s.points.iter().enumerate() {
            let at = || format!("of point {i} of {:?}", short(&s.label));
            if !(x.is_finite() && x >= 0.0) {
                return check_value(plot, &format!("{x_what} {}", at()), x);
            }
            if !(y.is_finite() && y >= 0.0) {
                return check_value(plot, &format!("{y_what} {}", at()), y);
            }
            if y > y_max {
                let reason = format!("{y_what} {} is {y}; expected at most {y_max}", at());
                return Err(PlotError::InvalidInput { plot, reason });
            }
        }
    }
    Ok(())
}

fn all(sorted: &[Vec<(f64, f64)>]) -> impl Iterator<Item = &(f64, f64)> + Clone {
    sorted.iter().flatten()
}

fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)))
}

/// The series whose last point (in x order) has the best y by `better`, and that y.
fn best_final(sorted: &[Vec<(f64, f64)>], better: impl Fn(f64, f64) -> bool) -> Option<(usize, f64)> {
    let mut best: Option<(usize, f64)> = None;
    for (i, pts) in sorted.iter().enumerate() {
        if let Some(&(_, v)) = pts.last() {
            if best.is_none_or(|(_, b)| better(v, b)) {
                best = Some((i, v));
            }
        }
    }
    best
}

/// "3 series, 120 points" (and how many series have no points).
fn count_note(series: &[Series], sorted: &[Vec<(f64, f64)>]) -> String {
    let points: usize = sorted.iter().map(Vec::len).sum();
    let empty = sorted.iter().filter(|p| p.is_empty()).count();
    let mut s = format!("{} series, {} points", series.len(), fmt_si(points as f64));
    if empty > 0 {
        s.push_str(&format!(" ({empty} without data)"));
    }
    s
}

/// A label as shown in subtitles and messages.
fn short(label: &str) -> String {
    ellipsize(label, 24)
}

/// `v` if finite, else `fallback` (keeps padded axis ends from overflowing to infinity).
fn finite_or(v: f64, fallback: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        fallback
    }
}

/// Upper end of an axis from 0 whose largest value is `max`.
fn top(max: f64) -> f64 {
    if max > 0.0 {
        finite_or(max * 1.05, max)
    } else {
        1.0
    }
}

/// `lo..hi` padded by 3% of the span, at least `min_pad` on each side.
fn padded(lo: f64, hi: f64, min_pad: f64) -> (f64, f64) {
    let pad = if hi > lo {
        ((hi - lo) * 0.03).max(min_pad)
    } else if hi != 0.0 {
        (hi.abs() * 0.05).max(min_pad)
    } else {
        min_pad.max(1.0)
    };
    (finite_or(lo - pad, lo), finite_or(hi + pad, hi))
}

/// Divisor and unit (ns, µs, ms, s) for times in seconds whose largest is `max_s`.
fn time_unit(max_s: f64) -> (f64, &'static str) {
    const LADDER: [(&str, f64); 4] = [("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)];
    if max_s <= 0.0 {
        return (1.0, "s");
    }
    LADDER.iter().find(|(_, d)| max_s >= *d).map_or((1e-9, "ns"), |&(u, d)| (d, u))
}

/// Tick label: [`fmt_si`], or scientific notation for magnitudes it would spell out in full.
fn fmt_tick(v: f64) -> String {
    let a = v.abs();
    if a >= 1e15 || (a > 0.0 && a < 1e-3) {
        let s = format!("{v:.2e}");
        match s.split_once('e') {
            Some((m, e)) if m.contains('.') => format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.')),
            _ => s,
        }
    } else {
        fmt_si(v)
    }
}

/// At most about `n` values in `lo..hi` spaced 1, 2 or 5 times a power of ten (at least 1
/// when `integer`). Scale-free, unlike plotters' key points, which give a single point for
/// ranges narrower than `f64::EPSILON`; a range too narrow for the float spacing at its
/// magnitude gets its ends.
fn nice_ticks(lo: f64, hi: f64, n: usize, integer: bool) -> Vec<f64> {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) {
        return vec![lo];
    }
    let raw = span / n.max(1) as f64;
    let raw = if integer { raw.max(1.0) } else { raw };
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|&s| s >= raw).unwrap_or(10.0 * mag);
    let (first, last) = ((lo / step).ceil(), (hi / step).floor());
    if !(step > 0.0 && first.is_finite() && last.is_finite()) || last - first > 4.0 * n as f64 {
        return vec![lo, hi];
    }
    let mut values: Vec<f64> = (0..=(last - first).max(0.0) as i64)
        .map(|k| {
            let v = (first + k as f64) * step;
            // (-0.5 * step).ceil() is -0; and rounding leaves 1e-17 for 0.
            if v.abs() < step * 1e-9 {
                0.0
            } else {
                v
            }
        })
        .filter(|v| (lo..=hi).contains(v))
        .collect();
    values.dedup();
    values
}

/// One axis of a line chart: its range, the ticks (which are also the grid lines) and its name.
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<(f64, String)>,
    desc: String,
}

impl Axis {
    /// About `n` round ticks (1, 2 or 5 times a power of ten apart) in `lo..hi`; whole
    /// numbers only when `integer`.
    fn linear(lo: f64, hi: f64, n: usize, integer: bool, desc: String) -> Axis {
        let ticks = nice_ticks(lo, hi, n, integer).into_iter().map(|v| (v, fmt_tick(v))).collect();
        Axis { lo, hi, ticks, desc }
    }

    /// A log axis drawn linearly in log10 units `lo..hi`: ticks at powers of ten (every k-th
    /// when there are many), and at 2x and 5x when the range spans fewer than three decades.
    fn log10(lo: f64, hi: f64, desc: String) -> Axis {
        let (first, last) = (lo.ceil() as i32, hi.floor() as i32);
        let decades = (last - first + 1).max(0);
        let mut values: Vec<f64> = if decades >= 3 {
            let step = (decades as usize).div_ceil(10);
            (first..=last).step_by(step).map(f64::from).collect()
        } else {
            (lo.floor() as i32..=hi.ceil() as i32)
                .flat_map(|k| [1.0f64, 2.0, 5.0].map(|m| f64::from(k) + m.log10()))
                .filter(|v| (lo..=hi).contains(v))
                .collect()
        };
        values.dedup();
        let ticks = values.into_iter().map(|v| (v, fmt_tick(10f64.powf(v)))).collect();
        Axis { lo, hi, ticks, desc }
    }

    fn keyed(&self) -> Keyed {
        Keyed::new(self.lo..self.hi, self.ticks.iter().map(|t| t.0).collect())
    }
}

/// A line as drawn: its style (colour, marker shape, dash pattern) and points in axis units.
struct Line {
    style: SeriesStyle,
    points: Vec<(f64, f64)>,
    marked: bool,
}

/// The drawn lines (downsampled, mapped by `to_axes`), the legend entries, and a note when
/// some line was downsampled.
fn lines_of(
    series: &[Series],
    sorted: &[Vec<(f64, f64)>],
    markers: bool,
    to_axes: impl Fn((f64, f64)) -> (f64, f64),
) -> (Vec<Line>, Vec<LegendEntry>, Option<String>) {
    let non_empty = sorted.iter().filter(|p| !p.is_empty()).count().max(1);
    let cap = (MAX_POINTS_TOTAL / non_empty).clamp(MIN_POINTS_PER_LINE, MAX_POINTS_PER_LINE);
    let mut thinned = false;
    let mut lines = Vec::with_capacity(sorted.len());
    let mut legend = Vec::with_capacity(series.len());
    for (i, (s, pts)) in series.iter().zip(sorted).enumerate() {
        let style = series_style(i);
        thinned |= pts.len() > cap;
        let points: Vec<(f64, f64)> = downsample(pts, cap).into_iter().map(&to_axes).collect();
        let marked = points.len() == 1 || (markers && points.len() <= MAX_MARKED_POINTS);
        let mut label = ellipsize(&s.label, MAX_LABEL_CHARS);
        if pts.is_empty() {
            label.push_str(" (no data)");
        }
        legend.push(LegendEntry { label, color: style.color, mark: Mark::Series(style, marked) });
        lines.push(Line { style, points, marked });
    }
    let note = thinned.then(|| format!("lines thinned to {cap} points (min and max per bucket)"));
    (lines, legend, note)
}

/// At most about `cap` of `points` (sorted by x): the first and last point, and the lowest and
/// highest of each of `cap / 2` equal runs, in x order.
fn downsample(points: &[(f64, f64)], cap: usize) -> Vec<(f64, f64)> {
    let n = points.len();
    if n <= cap {
        return points.to_vec();
    }
    let buckets = (cap / 2).max(1);
    let mut out = Vec::with_capacity(2 * buckets + 2);
    out.push(points[0]);
    for b in 0..buckets {
        let chunk = &points[b * n / buckets..(b + 1) * n / buckets];
        if chunk.is_empty() {
            continue;
        }
        let (mut lo, mut hi) = (0, 0);
        for (k, p) in chunk.iter().enumerate() {
            if p.1 < chunk[lo].1 {
                lo = k;
            }
            if p.1 > chunk[hi].1 {
                hi = k;
            }
        }
        out.push(chunk[lo.min(hi)]);
        if lo != hi {
            out.push(chunk[lo.max(hi)]);
        }
    }
    out.push(points[n - 1]);
    out
}

struct LineChart<'a> {
    title: &'a str,
    subtitle: String,
    lines: Vec<Line>,
    legend: Vec<LegendEntry>,
    x: Axis,
    y: Axis,
    /// A dashed horizontal line at this y, with its label.
    target: Option<(f64, String)>,
}

const TARGET: RGBColor = RGBColor(70, 70, 70);

impl Draw for LineChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, pen: Pen) -> Result<(), PlotError> {
        let title = fit(root, self.title, TITLE_SIZE, WIDTH - 20);
        let subtitle = fit(root, &self.subtitle, SUBTITLE_SIZE, WIDTH - 20);
        let body = titled(root, pen, &title, Some(&subtitle))?;
        let (chart_area, legend_area) = body.split_horizontally(WIDTH - LEGEND_W);
        let widest = self.y.ticks.iter().map(|(_, t)| text_width(root, t, TICK_SIZE)).max().unwrap_or(0);
        let y_area = widest + 20 + AXIS_DESC_SIZE + 8;
        let x_area = TICK_SIZE + 16 + AXIS_DESC_SIZE + 10;
        let mut chart = ChartBuilder::on(&chart_area)
            .margin(10)
            .margin_right(20)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(self.x.keyed(), self.y.keyed())?;
        chart.configure_mesh().light_line_style(GRID).label_style(hidden()).axis_desc_style(hidden()).draw()?;
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        for line in &self.lines {
            // In pixels, without repeats: plotters' bitmap backend turns a wide path into a
            // polygon and puts a vertex at (0, 0) for a segment of zero length. Paths denser
            // than a point per pixel column are drawn 1 px wide, also because that polygon
            // grows spikes at the many sharp turns of a noisy line.
            let mut path: Vec<(i32, i32)> = Vec::with_capacity(line.points.len());
            for p in &line.points {
                let q = chart.backend_coord(p);
                if path.last() != Some(&q) {
                    path.push(q);
                }
            }
            if path.len() > 1 {
                // Dashed (each series its own pattern), so that a line drawn over an equal one
                // leaves gaps where the one underneath shows.
                let dense = path.len() > (xs.end - xs.start).max(1) as usize;
                let width = if dense { 1 } else { 2 };
                for piece in dash_pieces(&path, line.style.dash, dense) {
                    root.draw(&PathElement::new(piece, line.style.color.stroke_width(width)))?;
                }
            }
            if line.marked {
                for p in &line.points {
                    draw_marker(root, chart.backend_coord(p), line.style.shape, line.style.color)?;
                }
            }
        }
        let target_y = self.target.as_ref().map(|(t, _)| chart.backend_coord(&(self.x.lo, *t)).1);
        if let (Some(py), Some((_, label))) = (target_y, &self.target) {
            for x in (xs.start..xs.end).step_by(12) {
                let dash = vec![(x, py), ((x + 7).min(xs.end), py)];
                root.draw(&PathElement::new(dash, TARGET.stroke_width(2)))?;
            }
            // Above the line at the left (early training is below the target), or below it
            // when the line is at the top of the chart; on a white box so lines do not hide it.
            let h = TICK_SIZE as i32 + 4;
            let (v, y, box_y) =
                if py - ys.start > 24 { (VPos::Bottom, py - 4, py - 4 - h) } else { (VPos::Top, py + 4, py + 4) };
            let w = text_width(root, label, TICK_SIZE) as i32;
            root.draw(&Rectangle::new(
                [(xs.start + 5, box_y), (xs.start + 11 + w, box_y + h)],
                WHITE.mix(0.85).filled(),
            ))?;
            let style = TextStyle::from((FONT, TICK_SIZE)).color(&TARGET).pos(Pos::new(HPos::Left, v));
            pen.text(root, label, &style, (xs.start + 8, y))?;
        }
        x_axis_text(pen, root, &chart, &self.x.ticks, false, &self.x.desc, x_area)?;
        y_axis_text(pen, root, &chart, &self.y.ticks, false, &self.y.desc, y_area)?;
        legend(&legend_area, pen, None, &self.legend)
    }
}

/// The first [`MAX_LEGEND_ENTRIES`] of `entries`, then "+ N more" for the rest.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pen: Pen,
    heading: Option<&str>,
    entries: &[LegendEntry],
) -> Result<(), PlotError> {
    const TOP: i32 = 20;
    let shown = entries.len().min(MAX_LEGEND_ENTRIES);
    draw_legend(area, pen, heading, &entries[..shown], TOP)?;
    if shown < entries.len() {
        // Same row layout as draw_legend.
        let row = LEGEND_SIZE as i32 + 8;
        let y = TOP + if heading.is_some() { row + 2 } else { 0 } + shown as i32 * row;
        let text = format!("+ {} more", entries.len() - shown);
        let style = TextStyle::from((FONT, LEGEND_SIZE)).pos(Pos::new(HPos::Left, VPos::Center));
        pen.text(area, &text, &style, (30, y + row / 2))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- precision heat map

/// Most tensor classes (panels) in a heat map.
const MAX_CLASSES: usize = 3;
/// Most columns drawn; more iterations are binned.
const MAX_COLUMNS: usize = 600;
/// Preferred height of one layer's row, in pixels.
const ROW_PX: u32 = 18;
/// Smallest height of a drawn row; more layers are binned.
const MIN_ROW_PX: u32 = 2;
/// Height of the title and subtitle block above the panels.
const HEAD_TOP: u32 = 10 + TITLE_SIZE + 6 + SUBTITLE_SIZE + 6;
/// Per panel: its heading above, tick labels below, and a gap.
const PANEL_HEAD: u32 = 24;
const PANEL_TICKS: u32 = TICK_SIZE + 16;
const PANEL_GAP: u32 = 12;
/// Below the last panel: the x axis description and a margin.
const FOOT: u32 = AXIS_DESC_SIZE + 10;
/// Colour of element-wise (full precision) cells, width 0.
const FP: RGBColor = RGBColor(190, 190, 190);

/// Mantissa width per layer and iteration, one panel per tensor class (at most three, stacked
/// top to bottom in the given order and sharing the iteration axis). In each panel, layer 1 is
/// the top row, labelled with `layers[0]` (labels thinned when there are many), and
/// iterations run left to right. `classes[c].1` holds `layers.len() x iterations` widths, row
/// major; width 0 is an element-wise (full-precision) cell, drawn grey and listed as "fp".
/// Other widths get colours from light (fewest bits) to dark (most), spread evenly over the
/// widths present, with a legend of those widths. Above 600 iterations, columns are binned
/// and each drawn cell shows the most frequent width of its bin (ties to the wider); layers
/// too many for 2-pixel rows are binned the same way (both said in the subtitle). The image is
/// [`WIDTH`] wide and [`HEIGHT`] to [`MAX_HEIGHT`] tall. No layers, no iterations or no classes
/// is [`PlotError::NoData`]; more than three classes or a width list of the wrong length is
/// [`PlotError::InvalidInput`].
pub fn precision_heatmap(
    title: &str,
    layers: &[String],
    iterations: usize,
    classes: &[(&str, Vec<u8>)],
) -> Result<Plot, PlotError> {
    const PLOT: &str = "precision_heatmap";
    if layers.is_empty() || iterations == 0 || classes.is_empty() {
        return Err(PlotError::NoData { plot: PLOT });
    }
    if classes.len() > MAX_CLASSES {
        let reason = format!("{} tensor classes; at most {MAX_CLASSES} panels are drawn", classes.len());
        return Err(PlotError::InvalidInput { plot: PLOT, reason });
    }
    let n_layers = layers.len();
    let Some(cells) = n_layers.checked_mul(iterations) else {
        let reason = format!("{n_layers} layers x {iterations} iterations is too many cells");
        return Err(PlotError::InvalidInput { plot: PLOT, reason });
    };
    for (name, bits) in classes {
        if bits.len() != cells {
            let reason = format!(
                "{} widths for class {:?}; expected {n_layers} layers x {iterations} iterations = {cells}",
                bits.len(),
                ellipsize(name, MAX_LABEL_CHARS)
            );
            return Err(PlotError::InvalidInput { plot: PLOT, reason });
        }
    }
    let mut present = [false; 256];
    for (_, bits) in classes {
        for &b in bits {
            present[usize::from(b)] = true;
        }
    }
    let widths: Vec<u8> = (0..=255u8).filter(|&b| present[usize::from(b)]).collect();
    let mut slot_of = [0u8; 256];
    for (k, &w) in widths.iter().enumerate() {
        slot_of[usize::from(w)] = k as u8;
    }
    let colors = width_colors(&widths);

    // Geometry: rows of ROW_PX, filling at least HEIGHT and at most MAX_HEIGHT.
    let nc = classes.len() as u32;
    let per_panel = PANEL_HEAD + PANEL_TICKS + PANEL_GAP;
    let fill = (HEIGHT - HEAD_TOP - FOOT) / nc - per_panel;
    let most = (MAX_HEIGHT - HEAD_TOP - FOOT) / nc - per_panel;
    let want = u32::try_from(n_layers).unwrap_or(u32::MAX).saturating_mul(ROW_PX);
    let grid_h = want.clamp(fill.max(60), most);
    let height = HEAD_TOP + nc * (grid_h + per_panel) + FOOT;
    let row_bin = n_layers.div_ceil((grid_h / MIN_ROW_PX) as usize).max(1);
    let col_bin = iterations.div_ceil(MAX_COLUMNS).max(1);

    let panels: Vec<Panel> = classes
        .iter()
        .map(|(name, bits)| {
            let runs = binned_runs(bits, n_layers, iterations, row_bin, col_bin, &slot_of, widths.len());
            let (sum, n) = bits.iter().filter(|&&b| b > 0).fold((0u64, 0u64), |(s, n), &b| (s + u64::from(b), n + 1));
            let heading = if n > 0 {
                format!("{} (mean {:.1} bits over GEMM cells)", ellipsize(name, MAX_LABEL_CHARS), sum as f64 / n as f64)
            } else {
                format!("{} (element-wise only)", ellipsize(name, MAX_LABEL_CHARS))
            };
            Panel { heading, runs }
        })
        .collect();
    let legend = widths
        .iter()
        .zip(&colors)
        .map(|(&w, &color)| {
            let label = if w == 0 { "fp (element-wise)".to_string() } else { format!("{w} bits") };
            LegendEntry { label, color, mark: Mark::Box }
        })
        .collect();
    let mut subtitle = format!("{n_layers} layers x {} iterations", fmt_si(iterations as f64));
    match (row_bin > 1, col_bin > 1) {
        (false, false) => {}
        (false, true) => {
            subtitle.push_str(&format!("; each column shows the most frequent width of {col_bin} iterations"))
        }
        (true, false) => subtitle.push_str(&format!("; each row shows the most frequent width of {row_bin} layers")),
        (true, true) => subtitle
            .push_str(&format!("; each cell shows the most frequent width of {row_bin} layers x {col_bin} iterations")),
    }
    let names: Vec<String> = layers
        .iter()
        .enumerate()
        .map(|(i, l)| if l.is_empty() { format!("layer {}", i + 1) } else { ellipsize(l, 24) })
        .collect();
    let chart = PrecisionMap { title, subtitle, names, iterations, row_bin, col_bin, grid_h, panels, colors, legend };
    render(PLOT, (WIDTH, height), &chart)
}

/// Colours for `widths` (ascending): grey for 0, then viridis from light (fewest bits) to
/// dark (most), spread evenly over the non-zero widths present.
fn width_colors(widths: &[u8]) -> Vec<RGBColor> {
    let nonzero = widths.iter().filter(|&&w| w > 0).count();
    let mut rank = 0;
    widths
        .iter()
        .map(|&w| {
            if w == 0 {
                return FP;
            }
            let t = if nonzero > 1 { rank as f64 / (nonzero - 1) as f64 } else { 0.5 };
            rank += 1;
            // viridis(1) is light yellow, viridis(0.08) a dark purple that still shows a border.
            viridis(1.0 - 0.92 * t)
        })
        .collect()
}

/// One horizontal run of equal drawn cells: row bin, column bins `c0..c1`, width slot.
struct Run {
    row: usize,
    c0: usize,
    c1: usize,
    slot: u8,
}

/// The most frequent width slot of each `row_bin x col_bin` block (ties to the wider), as runs
/// of equal neighbours along each row. O(cells + blocks x widths).
fn binned_runs(
    bits: &[u8],
    n_layers: usize,
    iterations: usize,
    row_bin: usize,
    col_bin: usize,
    slot_of: &[u8; 256],
    n_widths: usize,
) -> Vec<Run> {
    let cols = iterations.div_ceil(col_bin);
    let mut counts = vec![0u64; cols * n_widths];
    let mut runs = Vec::new();
    for row in 0..n_layers.div_ceil(row_bin) {
        counts.fill(0);
        for layer in row * row_bin..((row + 1) * row_bin).min(n_layers) {
            let widths = &bits[layer * iterations..(layer + 1) * iterations];
            for (chunk, c) in widths.chunks(col_bin).zip(counts.chunks_mut(n_widths)) {
                for &b in chunk {
                    c[usize::from(slot_of[usize::from(b)])] += 1;
                }
            }
        }
        let mut open: Option<Run> = None;
        for (col, c) in counts.chunks(n_widths).enumerate() {
            let slot = c.iter().enumerate().fold(0, |best, (k, &n)| if n >= c[best] { k } else { best }) as u8;
            match &mut open {
                Some(r) if r.slot == slot => r.c1 = col + 1,
                _ => {
                    runs.extend(open.take());
                    open = Some(Run { row, c0: col, c1: col + 1, slot });
                }
            }
        }
        runs.extend(open);
    }
    runs
}

struct Panel {
    heading: String,
    runs: Vec<Run>,
}

struct PrecisionMap<'a> {
    title: &'a str,
    subtitle: String,
    names: Vec<String>,
    iterations: usize,
    row_bin: usize,
    col_bin: usize,
    grid_h: u32,
    panels: Vec<Panel>,
    colors: Vec<RGBColor>,
    legend: Vec<LegendEntry>,
}

impl Draw for PrecisionMap<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, pen: Pen) -> Result<(), PlotError> {
        let title = fit(root, self.title, TITLE_SIZE, WIDTH - 20);
        let subtitle = fit(root, &self.subtitle, SUBTITLE_SIZE, WIDTH - 20);
        let body = titled(root, pen, &title, Some(&subtitle))?;
        let (charts, legend_area) = body.split_horizontally(WIDTH - LEGEND_W + 40);
        let n = self.names.len();
        let its = self.iterations as f64;
        // Layer i (top down) is centred at n - i - 0.5; labels at least 16 px apart.
        let centres = thinned_centres(n, (self.grid_h / (TICK_SIZE + 2)) as usize);
        let y_ticks: Vec<(f64, String)> =
            centres.iter().map(|&c| (n as f64 - c, self.names[c as usize].clone())).collect();
        let y_keys: Vec<f64> = y_ticks.iter().map(|t| t.0).collect();
        let widest = y_ticks.iter().map(|(_, t)| text_width(root, t, TICK_SIZE)).max().unwrap_or(0);
        let label_w = widest.min(240) + 20 + AXIS_DESC_SIZE + 8;
        let x_ticks = Axis::linear(0.0, its, 10, true, String::new()).ticks;
        let x_keys: Vec<f64> = x_ticks.iter().map(|t| t.0).collect();
        let (row_bin, col_bin) = (self.row_bin as f64, self.col_bin as f64);
        let mut rest = charts;
        for (k, panel) in self.panels.iter().enumerate() {
            let last = k + 1 == self.panels.len();
            let x_area = PANEL_TICKS + if last { AXIS_DESC_SIZE + 10 } else { 0 };
            let panel_h = PANEL_HEAD + self.grid_h + x_area + PANEL_GAP;
            let (area, below) = rest.split_vertically(panel_h);
            rest = below;
            let mut chart = ChartBuilder::on(&area.margin(PANEL_HEAD, PANEL_GAP, 0, 0))
                .margin_right(20)
                .x_label_area_size(x_area)
                .y_label_area_size(label_w)
                .build_cartesian_2d(Keyed::new(0.0..its, x_keys.clone()), Keyed::new(0.0..n as f64, y_keys.clone()))?;
            chart.configure_mesh().disable_mesh().label_style(hidden()).axis_desc_style(hidden()).draw()?;
            chart.draw_series(panel.runs.iter().map(|r| {
                let (x0, x1) = (r.c0 as f64 * col_bin, (r.c1 as f64 * col_bin).min(its));
                let row = r.row as f64;
                let (ya, yb) = (n as f64 - ((row + 1.0) * row_bin).min(n as f64), n as f64 - row * row_bin);
                Rectangle::new([(x0, ya), (x1, yb)], self.colors[usize::from(r.slot)].filled())
            }))?;
            let (xs, ys) = chart.plotting_area().get_pixel_range();
            if self.row_bin == 1 && self.grid_h as usize >= 8 * n {
                // Thin white lines between layers, so that rows of one colour stay countable.
                for layer in 1..n {
                    let (_, y) = chart.backend_coord(&(0.0, layer as f64));
                    root.draw(&PathElement::new(vec![(xs.start, y), (xs.end, y)], WHITE.mix(0.7).stroke_width(1)))?;
                }
            }
            let heading_style = TextStyle::from((FONT, SUBTITLE_SIZE)).pos(Pos::new(HPos::Left, VPos::Bottom));
            let heading = fit(root, &panel.heading, SUBTITLE_SIZE, (xs.end - xs.start).max(40) as u32);
            pen.text(root, &heading, &heading_style, (xs.start, ys.start - 5))?;
            let desc = if last { "training iteration" } else { "" };
            x_axis_text(pen, root, &chart, &x_ticks, false, desc, x_area)?;
            y_axis_text(pen, root, &chart, &y_ticks, false, "layer", label_w)?;
        }
        legend(&legend_area, pen, Some("mantissa width"), &self.legend)
    }
}

#[cfg(test)]
mod tests {
    use super::super::PNG_SIGNATURE;
    use super::*;

    fn series(label: &str, points: Vec<(f64, f64)>) -> Series {
        Series { label: label.to_string(), points }
    }

    /// Accuracy rising towards `top` percent over `n` evaluations `dt` seconds apart.
    fn accuracy(label: &str, n: usize, dt: f64, top: f64) -> Series {
        series(label, (0..n).map(|i| (i as f64 * dt, top - (top - 10.0) * (-(i as f64) / 4.0).exp())).collect())
    }

    fn loss(label: &str, n: usize, every: usize, start: f64) -> Series {
        series(label, (0..n).map(|i| ((i * every) as f64, start * (-(i as f64) / 8.0).exp() + 0.05)).collect())
    }

    fn energy(label: &str, epochs: usize, joules: f64) -> Series {
        series(label, (1..=epochs).map(|e| (e as f64, joules * (1.0 + 0.1 * (e % 3) as f64))).collect())
    }

    /// FAST-like widths: 2 bits rising to 4, 6 and 8 over training, later layers first;
    /// every third layer element-wise (0) in the activation class.
    fn precision_classes(layers: usize, its: usize) -> Vec<(&'static str, Vec<u8>)> {
        ["weights", "activations", "gradients"]
            .iter()
            .enumerate()
            .map(|(c, &name)| {
                let mut bits = Vec::with_capacity(layers * its);
                for l in 0..layers {
                    for it in 0..its {
                        let phase = (it * 4 / its + l * 2 / layers + c).min(3);
                        let fp = c == 1 && l % 3 == 2;
                        bits.push(if fp { 0 } else { 2 + 2 * phase as u8 });
                    }
                }
                (name, bits)
            })
            .collect()
    }

    fn layer_names(n: usize) -> Vec<String> {
        (0..n).map(|i| if i + 1 == n { "fc".to_string() } else { format!("conv{}", i + 1) }).collect()
    }

    fn assert_drawn(p: &Plot, name: &str, texts: &[&str]) {
        assert_eq!(p.name, name);
        assert!(p.png.starts_with(&PNG_SIGNATURE), "{name}: PNG signature");
        for t in texts {
            assert!(p.svg.contains(t), "{name}: SVG lacks {t:?}");
        }
    }

    /// With `FASTBFP_PLOT_PREVIEW` set, writes the plot to `$TMPDIR/train-plots/` to look at.
    fn preview(p: &Plot, stem: &str) {
        if std::env::var_os("FASTBFP_PLOT_PREVIEW").is_some() {
            let dir = std::env::temp_dir().join("train-plots");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("{stem}.png")), &p.png).unwrap();
            std::fs::write(dir.join(format!("{stem}.svg")), &p.svg).unwrap();
        }
    }

    fn is_no_data(r: Result<Plot, PlotError>) -> bool {
        matches!(r, Err(PlotError::NoData { .. }))
    }

    fn is_invalid(r: Result<Plot, PlotError>) -> bool {
        matches!(r, Err(PlotError::InvalidInput { .. }))
    }

    #[test]
    fn accuracy_vs_time_draws_lines_target_and_labels() {
        let s = [accuracy("fast", 30, 2e-3, 91.0), accuracy("fp32", 30, 5e-3, 92.0), accuracy("bfp8", 30, 3e-3, 89.5)];
        let p = accuracy_vs_time("Test accuracy: resnet8", &s, Some(90.0)).unwrap();
        assert_drawn(
            &p,
            "accuracy_vs_time",
            &["Test accuracy: resnet8", "fast", "fp32", "bfp8", "target 90%", "test accuracy (%)", "time (ms)"],
        );
        assert!(p.svg.contains("first reached by fast"), "subtitle names the first to the target");
        preview(&p, "accuracy_vs_time");
    }

    #[test]
    fn time_axis_unit_follows_the_largest_time() {
        assert_eq!(time_unit(2.5), (1.0, "s"));
        assert_eq!(time_unit(0.25), (1e-3, "ms"));
        assert_eq!(time_unit(3e-5), (1e-6, "µs"));
        assert_eq!(time_unit(1e-12), (1e-9, "ns"));
        assert_eq!(time_unit(0.0), (1.0, "s"));
        let p = accuracy_vs_time("t", &[accuracy("a", 10, 1e-6, 80.0)], None).unwrap();
        assert!(p.svg.contains("time (µs)"));
    }

    #[test]
    fn loss_curves_switch_to_log_scale_beyond_20x() {
        let wide = [loss("fast train", 40, 50, 2.3), loss("fast test", 10, 200, 2.4)];
        let p = loss_curves("Loss: resnet8", &wide).unwrap();
        assert_drawn(
            &p,
            "loss",
            &["Loss: resnet8", "fast train", "fast test", "loss (log scale)", "training iteration"],
        );
        preview(&p, "loss");
        let narrow = [series("train", vec![(0.0, 2.0), (10.0, 1.0), (20.0, 0.5)])];
        let p = loss_curves("Loss", &narrow).unwrap();
        assert!(!p.svg.contains("log scale"));
        preview(&p, "loss_linear");
        // Per-iteration training loss is noisy: 5000 points, drawn 1 px wide.
        let mut r = 1u64;
        let noisy: Vec<(f64, f64)> = (0..5000)
            .map(|i| {
                r = r.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let noise = (r >> 11) as f64 / (1u64 << 53) as f64;
                (i as f64, 2.3 * (-(i as f64) / 1500.0).exp() * (0.7 + 0.6 * noise) + 0.02)
            })
            .collect();
        let p = loss_curves("Noisy loss", &[series("train", noisy), loss("test", 26, 200, 2.4)]).unwrap();
        preview(&p, "loss_noisy");
    }

    #[test]
    fn energy_per_epoch_uses_si_units_and_whole_epochs() {
        let s = [energy("fast", 10, 2.2e-3), energy("fp32", 10, 6.5e-3)];
        let p = energy_per_epoch("Energy per epoch: resnet8", &s).unwrap();
        assert_drawn(&p, "energy_per_epoch", &["Energy per epoch: resnet8", "fast", "fp32", "(mJ)", "epoch"]);
        preview(&p, "energy_per_epoch");
        let p = energy_per_epoch("E", &[energy("tiny", 3, 4e-6)]).unwrap();
        assert!(p.svg.contains("(µJ)"));
        let x = Axis::linear(0.5, 10.5, 12, true, String::new());
        assert_eq!(x.ticks.iter().map(|t| t.0).collect::<Vec<_>>(), (1..=10).map(f64::from).collect::<Vec<_>>());
    }

    /// Two policies with equal energy per epoch (msfp12 and fixed:4) draw one line over the
    /// other: their dash patterns and marker shapes differ, on the chart and in the legend.
    #[test]
    fn coinciding_series_stay_distinguishable() {
        let same = energy("msfp12", 30, 13e-3);
        let s = [energy("fp32", 30, 62e-3), same.clone(), Series { label: "fixed:4".to_string(), ..same }];
        let sorted = sorted_points("t", &s).unwrap();
        let (lines, legend, _) = lines_of(&s, &sorted, true, |p| p);
        assert_eq!(lines[1].points, lines[2].points);
        for (a, b) in [(0, 1), (1, 2), (0, 2)] {
            let (x, y) = (lines[a].style, lines[b].style);
            assert!(x.dash != y.dash && x.shape != y.shape && x.color != y.color, "series {a} and {b}");
        }
        assert!(lines.iter().all(|l| l.marked));
        for (l, e) in lines.iter().zip(&legend) {
            assert!(e.mark == Mark::Series(l.style, true), "legend shows the line's own style");
        }
        let p = energy_per_epoch("Energy per epoch", &s).unwrap();
        preview(&p, "energy_coinciding");
    }

    #[test]
    fn precision_heatmap_draws_one_panel_per_class() {
        let layers = layer_names(9);
        let classes = precision_classes(9, 300);
        let p = precision_heatmap("Mantissa bits: resnet8", &layers, 300, &classes).unwrap();
        assert_drawn(
            &p,
            "precision_heatmap",
            &[
                "Mantissa bits: resnet8",
                "weights",
                "activations",
                "gradients",
                "conv1",
                "fc",
                "fp (element-wise)",
                "2 bits",
                "8 bits",
            ],
        );
        preview(&p, "precision_heatmap");
    }

    #[test]
    fn empty_input_is_no_data() {
        assert!(is_no_data(accuracy_vs_time("t", &[], Some(90.0))));
        assert!(is_no_data(accuracy_vs_time("t", &[series("a", vec![])], None)));
        assert!(is_no_data(loss_curves("t", &[])));
        assert!(is_no_data(loss_curves("t", &[series("a", vec![]), series("b", vec![])])));
        assert!(is_no_data(energy_per_epoch("t", &[])));
        let layers = layer_names(2);
        assert!(is_no_data(precision_heatmap("t", &[], 10, &[("weights", vec![])])));
        assert!(is_no_data(precision_heatmap("t", &layers, 0, &[("weights", vec![])])));
        assert!(is_no_data(precision_heatmap("t", &layers, 10, &[])));
    }

    #[test]
    fn an_empty_series_beside_others_is_listed_without_data() {
        let p = loss_curves("t", &[series("train", vec![]), loss("test", 5, 10, 2.0)]).unwrap();
        assert!(p.svg.contains("train (no data)"));
    }

    #[test]
    fn nan_negative_and_out_of_range_values_are_invalid() {
        let nan = [series("a", vec![(0.0, 50.0), (f64::NAN, 60.0)])];
        assert!(is_invalid(accuracy_vs_time("t", &nan, None)));
        assert!(is_invalid(loss_curves("t", &nan)));
        assert!(is_invalid(energy_per_epoch("t", &nan)));
        let nan_y = [series("a", vec![(1.0, f64::NAN)])];
        assert!(is_invalid(accuracy_vs_time("t", &nan_y, None)));
        assert!(is_invalid(loss_curves("t", &nan_y)));
        assert!(is_invalid(energy_per_epoch("t", &nan_y)));
        let inf = [series("a", vec![(1.0, f64::INFINITY)])];
        assert!(is_invalid(loss_curves("t", &inf)));
        let negative = [series("a", vec![(1.0, -0.5)])];
        assert!(is_invalid(loss_curves("t", &negative)));
        assert!(is_invalid(energy_per_epoch("t", &negative)));
        assert!(is_invalid(accuracy_vs_time("t", &[series("a", vec![(-1.0, 50.0)])], None)));
        assert!(is_invalid(accuracy_vs_time("t", &[series("a", vec![(1.0, 150.0)])], None)));
        let ok = [series("a", vec![(1.0, 50.0)])];
        assert!(is_invalid(accuracy_vs_time("t", &ok, Some(f64::NAN))));
        assert!(is_invalid(accuracy_vs_time("t", &ok, Some(120.0))));
        let layers = layer_names(2);
        assert!(is_invalid(precision_heatmap("t", &layers, 10, &[("weights", vec![4; 19])])));
        let four: Vec<(&str, Vec<u8>)> = (0..4).map(|_| ("c", vec![4; 20])).collect();
        assert!(is_invalid(precision_heatmap("t", &layers, 10, &four)));
        assert!(is_invalid(precision_heatmap("t", &layers, usize::MAX, &[("weights", vec![])])));
    }

    #[test]
    fn many_series_and_points_render() {
        let many: Vec<Series> = (0..1000)
            .map(|k| {
                series(&format!("policy {k}"), (0..200).map(|i| (i as f64 * 1e-3, (i + k) as f64 % 100.0)).collect())
            })
            .collect();
        let p = accuracy_vs_time("1000 series", &many, Some(50.0)).unwrap();
        assert!(p.svg.contains("+ 988 more"));
        preview(&p, "accuracy_1000_series");
        assert!(loss_curves("1000 series", &many).is_ok());
        assert!(energy_per_epoch("1000 series", &many).is_ok());
        let long = series("one", (0..1_000_000).map(|i| (i as f64, 1.0 + (i % 977) as f64)).collect());
        let p = loss_curves("10^6 points", std::slice::from_ref(&long)).unwrap();
        assert!(p.svg.contains("thinned to 4000 points"));
        preview(&p, "loss_1e6_points");
        assert!(energy_per_epoch("10^6 points", &[long]).is_ok());
    }

    #[test]
    fn downsampling_keeps_ends_and_extremes() {
        let pts: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, if i == 5000 { 99.0 } else { 1.0 })).collect();
        let d = downsample(&pts, 100);
        assert!(d.len() <= 102);
        assert_eq!(d.first(), pts.first());
        assert_eq!(d.last(), pts.last());
        assert!(d.contains(&(5000.0, 99.0)));
        assert!(d.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn long_labels_and_titles_are_cut() {
        let label = "x".repeat(5000);
        let s = [accuracy(&label, 20, 1.0, 90.0)];
        let title = "T".repeat(5000);
        for p in [accuracy_vs_time(&title, &s, Some(80.0)), loss_curves(&title, &s), energy_per_epoch(&title, &s)] {
            let p = p.unwrap();
            assert!(!p.svg.contains(&"x".repeat(41)), "{}: label cut to 40 characters", p.name);
            assert!(!p.svg.contains(&"T".repeat(201)), "{}: title cut", p.name);
        }
        let layers = vec!["L".repeat(5000); 3];
        let p = precision_heatmap(&title, &layers, 5, &[(&label, vec![4; 15])]).unwrap();
        assert!(!p.svg.contains(&"L".repeat(41)));
        assert!(!p.svg.contains(&"x".repeat(41)));
    }

    #[test]
    fn extreme_values_and_single_points_render() {
        let cases: [&[(f64, f64)]; 6] = [
            &[(0.0, 0.0)],
            &[(5.0, 50.0)],
            &[(f64::MAX, 100.0), (f64::MAX / 2.0, 0.0)],
            &[(5e-324, 1e-300), (1e-320, 2e-300)],
            &[(1e15, 1.0), (1e15 + 1.0, 2.0)],
            &[(0.0, 1e-200), (1.0, 1e200)],
        ];
        for (k, pts) in cases.iter().enumerate() {
            let s = [series("s", pts.to_vec())];
            let acc: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x, y.min(100.0))).collect();
            preview(&accuracy_vs_time("t", &[series("s", acc)], Some(100.0)).unwrap(), &format!("extreme_{k}_acc"));
            preview(&loss_curves("t", &s).unwrap(), &format!("extreme_{k}_loss"));
            preview(&energy_per_epoch("t", &s).unwrap(), &format!("extreme_{k}_energy"));
        }
        let huge = [series("s", vec![(1.0, f64::MAX), (2.0, f64::MIN_POSITIVE)])];
        loss_curves("t", &huge).unwrap();
        energy_per_epoch("t", &huge).unwrap();
        let p = precision_heatmap("t", &layer_names(1), 1, &[("weights", vec![255])]).unwrap();
        assert!(p.svg.contains("255 bits"));
        precision_heatmap("t", &layer_names(1), 1, &[("weights", vec![0])]).unwrap();
    }

    #[test]
    fn large_heatmaps_are_binned() {
        let (layers, its) = (40, 100_000);
        let p = precision_heatmap(
            "40 layers x 100k iterations",
            &layer_names(layers),
            its,
            &precision_classes(layers, its),
        )
        .unwrap();
        assert!(p.svg.contains("most frequent width of 167 iterations"));
        preview(&p, "precision_heatmap_large");
        let many = layer_names(3000);
        let p = precision_heatmap("3000 layers", &many, 50, &precision_classes(3000, 50)).unwrap();
        assert!(p.svg.contains("layers x"));
        preview(&p, "precision_heatmap_3000_layers");
        let distinct: Vec<u8> = (0..=255).collect();
        precision_heatmap("all widths", &layer_names(4), 64, &[("weights", distinct)]).unwrap();
    }

    #[test]
    fn binning_takes_the_most_frequent_width_ties_to_the_wider() {
        let mut slot_of = [0u8; 256];
        for (k, w) in [2u8, 4, 8].iter().enumerate() {
            slot_of[usize::from(*w)] = k as u8;
        }
        // One layer, 6 iterations in bins of 3: [2 2 8] -> 2, [4 8 2] -> tie of three -> 8.
        let runs = binned_runs(&[2, 2, 8, 4, 8, 2], 1, 6, 1, 3, &slot_of, 3);
        let got: Vec<(usize, usize, u8)> = runs.iter().map(|r| (r.c0, r.c1, r.slot)).collect();
        assert_eq!(got, vec![(0, 1, 0), (1, 2, 2)]);
        // Equal neighbours merge into one run.
        let runs = binned_runs(&[4; 12], 2, 6, 1, 2, &slot_of, 3);
        assert_eq!(runs.len(), 2);
        assert!(runs.iter().all(|r| r.c0 == 0 && r.c1 == 3 && r.slot == 1));
    }

    #[test]
    fn widths_are_coloured_light_to_dark() {
        let c = width_colors(&[0, 2, 4, 8]);
        assert_eq!(c[0], FP);
        let lightness = |c: RGBColor| u32::from(c.0) + u32::from(c.1) + u32::from(c.2);
        assert!(lightness(c[1]) > lightness(c[2]) && lightness(c[2]) > lightness(c[3]));
    }

    #[test]
    fn tick_labels_stay_short() {
        assert_eq!(fmt_tick(1e300), "1e300");
        assert_eq!(fmt_tick(2.5e-7), "2.5e-7");
        assert_eq!(fmt_tick(0.25), "0.25");
        assert_eq!(fmt_tick(12000.0), "12k");
    }
}
