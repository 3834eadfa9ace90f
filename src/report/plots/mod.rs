//! Plots of a run, rendered in memory as SVG text and PNG bytes (this module writes no files;
//! the caller stores [`Plot::svg`] and [`Plot::png`] with the report module's atomic writes).
//!
//! Text is drawn with an embedded copy of DejaVu Sans (`assets/fonts/`, Bitstream Vera licence,
//! see `assets/fonts/LICENSE-DejaVu.txt`) registered with plotters' `ab_glyph` backend, so no
//! system font library is needed. PNGs come from a small built-in encoder ([`encode_png_rgb`]).
//!
//! Every plot is [`WIDTH`] x [`HEIGHT`] pixels except [`fold_timeline`], which grows taller with
//! the number of lanes (up to [`MAX_HEIGHT`]). Empty input (no bars, no spans, a 0x0 array, ...)
//! is an error, [`PlotError::NoData`], so a caller can skip that plot; input that cannot be drawn
//! honestly (NaN, a span ending before it starts, a heat map of the wrong length) is
//! [`PlotError::InvalidInput`].

mod bars;
mod heatmap;
mod labels;
mod legend;
mod marks;
mod pareto;
mod png;
mod roofline;
mod scatter;
mod text;
mod timeline;
mod training;

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use bars::{breakdown_bars, utilization_per_layer, UtilizationBar};
pub use heatmap::cell_heatmap;
pub use pareto::{pareto, pareto_front, pareto_labelled, MAX_LABELLED_POINTS};
pub use png::{encode_png_rgb, PNG_SIGNATURE};
pub use roofline::{roofline, RooflinePoint, Roofs};
pub use scatter::{precision_over_iterations, PrecisionPoint};
pub use timeline::{cycle_share, fold_timeline, CycleShares, SpanKind, TimelineSpan, MAX_LANES};
pub use training::{accuracy_vs_time, energy_per_epoch, loss_curves, precision_heatmap, Series};

pub(crate) use legend::{draw_legend, draw_note, LegendEntry, Mark};
use text::Pen;

/// Width in pixels of every plot.
pub const WIDTH: u32 = 1000;
/// Height in pixels of every plot except a fold timeline with many lanes.
pub const HEIGHT: u32 = 600;
/// Largest height a fold timeline grows to.
pub const MAX_HEIGHT: u32 = 2400;

/// One rendered plot: SVG text and PNG bytes.
#[derive(Debug, Clone)]
pub struct Plot {
    /// File stem to store it under, e.g. `"utilization_per_layer"` (then `.svg` / `.png`).
    pub name: &'static str,
    /// The plot as a standalone SVG document.
    pub svg: String,
    /// The same plot as a PNG file (8-bit RGB).
    pub png: Vec<u8>,
}

/// Why a plot could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The input had nothing to draw; the caller may skip this plot.
    #[error("{plot}: nothing to plot (empty input)")]
    NoData {
        /// Which plot function.
        plot: &'static str,
    },
    /// The input cannot be drawn (NaN or negative values, mismatched lengths, ...).
    #[error("{plot}: {reason}")]
    InvalidInput {
        /// Which plot function.
        plot: &'static str,
        /// What is wrong with the input.
        reason: String,
    },
    /// The embedded font could not be registered.
    #[error("embedded font could not be loaded")]
    Font,
    /// plotters failed while drawing (as text, since its error types are backend-specific).
    #[error("drawing failed: {0}")]
    Draw(String),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError::Draw(e.to_string())
    }
}

static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Family name all plots use; it is bound to the embedded font.
pub(crate) const FONT: &str = "sans-serif";

fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

/// A plot body that can be drawn on any plotters backend (it is drawn twice: SVG and bitmap).
pub(crate) trait Draw {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, pen: Pen) -> Result<(), PlotError>;
}

/// Renders `body` to SVG and PNG at `width` x `height`.
pub(crate) fn render(name: &'static str, (width, height): (u32, u32), body: &impl Draw) -> Result<Plot, PlotError> {
    ensure_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        body.draw(&root, Pen { per_glyph: false })?;
        root.present()?;
    }
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        body.draw(&root, Pen { per_glyph: true })?;
        root.present()?;
    }
    Ok(Plot { name, svg, png: encode_png_rgb(width, height, &rgb) })
}

/// Font sizes shared by all plots (even, see the `text` module).
pub(crate) const TITLE_SIZE: u32 = 26;
pub(crate) const SUBTITLE_SIZE: u32 = 16;
pub(crate) const AXIS_DESC_SIZE: u32 = 18;
pub(crate) const TICK_SIZE: u32 = 14;
pub(crate) const LEGEND_SIZE: u32 = 14;

/// Most lines a title, or a subtitle, is wrapped onto.
pub(crate) const MAX_TITLE_LINES: usize = 2;

/// Draws the title (and an optional grey subtitle), each wrapped at spaces onto at most
/// [`MAX_TITLE_LINES`] lines that fit the width (the rest cut with "…"), and returns the area below.
pub(crate) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pen: Pen,
    title: &str,
    subtitle: Option<&str>,
) -> Result<DrawingArea<DB, Shift>, PlotError> {
    let (w, _) = root.dim_in_pixel();
    let max_w = w.saturating_sub(20).max(40);
    let center = Pos::new(HPos::Center, VPos::Top);
    let mut top = 10;
    for line in text::wrap(root, title, TITLE_SIZE, max_w, MAX_TITLE_LINES) {
        pen.text(root, &line, &TextStyle::from((FONT, TITLE_SIZE)).pos(center), (w as i32 / 2, top))?;
        top += TITLE_SIZE as i32 + 6;
    }
    if top == 10 {
        top += TITLE_SIZE as i32 + 6;
    }
    if let Some(sub) = subtitle {
        let grey = RGBColor(90, 90, 90);
        let style = TextStyle::from((FONT, SUBTITLE_SIZE)).color(&grey).pos(center);
        for line in text::wrap(root, sub, SUBTITLE_SIZE, max_w, MAX_TITLE_LINES) {
            pen.text(root, &line, &style, (w as i32 / 2, top))?;
            top += SUBTITLE_SIZE as i32 + 6;
        }
    }
    Ok(root.margin(top, 0, 0, 0))
}

/// Shortens `s` to at most `max` characters, ending in "…" when cut.
pub(crate) fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Width in pixels of `text` at `size` in the embedded font (approximate if the font is missing).
pub(crate) fn text_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str, size: u32) -> u32 {
    let cut = ellipsize(text, text::MAX_TEXT_CHARS);
    area.estimate_text_size(&cut, &TextStyle::from((FONT, size)))
        .map(|(w, _)| w)
        .unwrap_or(cut.chars().count() as u32 * size * 6 / 10)
}

/// Twenty distinguishable series colours (Tableau 10, then its lighter companions).
const PALETTE: [RGBColor; 20] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
    RGBColor(0xae, 0xc7, 0xe8),
    RGBColor(0xff, 0xbb, 0x78),
    RGBColor(0x98, 0xdf, 0x8a),
    RGBColor(0xff, 0x98, 0x96),
    RGBColor(0xc5, 0xb0, 0xd5),
    RGBColor(0xc4, 0x9c, 0x94),
    RGBColor(0xf7, 0xb6, 0xd2),
    RGBColor(0xc7, 0xc7, 0xc7),
    RGBColor(0xdb, 0xdb, 0x8d),
    RGBColor(0x9e, 0xda, 0xe5),
];

/// The `i`-th series colour (cycles after twenty).
pub(crate) fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Light grey for grid lines.
pub(crate) const GRID: RGBColor = RGBColor(225, 225, 225);

/// Compact number with three significant digits: `1234` -> "1234", `2.5e6` -> "2.5M",
/// `0.25` -> "0.25", `6.30` -> "6.3".
pub(crate) fn fmt_si(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e12 {
        (v / 1e12, "T")
    } else if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    if scaled == 0.0 {
        return "0".to_string();
    }
    if scaled.abs() < 1e-3 {
        return format!("{scaled:.1e}");
    }
    let decimals = (2 - scaled.abs().log10().floor() as i32).clamp(0, 4) as usize;
    let mut s = format!("{scaled:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{s}{suffix}")
}

/// Divisor and unit to show values of `unit` whose largest is `max` in.
pub(crate) fn display_unit(unit: &str, max: f64) -> (f64, String) {
    const ENERGY: [(&str, f64); 6] =
        [("pJ", 1e-12), ("nJ", 1e-9), ("uJ", 1e-6), ("µJ", 1e-6), ("mJ", 1e-3), ("J", 1.0)];
    if let Some(&(_, joules)) = ENERGY.iter().find(|(u, _)| *u == unit) {
        let ladder = [("pJ", 1e-12), ("nJ", 1e-9), ("µJ", 1e-6), ("mJ", 1e-3), ("J", 1.0)];
        let (name, j) = ladder.iter().rev().find(|(_, j)| max * joules >= *j).copied().unwrap_or(ladder[0]);
        return (j / joules, name.to_string());
    }
    if ["um^2", "um²", "µm^2", "µm²"].contains(&unit) && max >= 1e5 {
        return (1e6, "mm²".to_string());
    }
    (1.0, unit.to_string())
}

/// `Err(InvalidInput)` unless `v` is finite and non-negative.
pub(crate) fn check_value(plot: &'static str, what: &str, v: f64) -> Result<(), PlotError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(PlotError::InvalidInput { plot, reason: format!("{what} is {v}; expected a finite value >= 0") })
    }
}

/// Names in order of first appearance, and each item's index into them.
pub(crate) fn index_names<'a>(names: impl Iterator<Item = &'a str>) -> (Vec<String>, Vec<usize>) {
    let mut order: Vec<String> = Vec::new();
    let mut lookup = std::collections::HashMap::<&str, usize>::new();
    let mut idx = Vec::new();
    for n in names {
        let next = order.len();
        let i = *lookup.entry(n).or_insert(next);
        if i == next {
            order.push(n.to_string());
        }
        idx.push(i);
    }
    (order, idx)
}

/// Every `step`-th of `n` category centres (`i + 0.5`), with `step` chosen so at most `max` remain.
pub(crate) fn thinned_centres(n: usize, max: usize) -> Vec<f64> {
    let step = n.div_ceil(max.max(1)).max(1);
    (0..n).step_by(step).map(|i| i as f64 + 0.5).collect()
}

/// A linear `f64` axis whose ticks sit exactly at `keys` (e.g. category centres `i + 0.5`);
/// plotters' own `with_key_points` loses the `f64` label formatter, this keeps it.
#[derive(Clone)]
pub(crate) struct Keyed {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl Keyed {
    pub(crate) fn new(range: std::ops::Range<f64>, keys: Vec<f64>) -> Self {
        Keyed { lo: range.start, hi: range.end, keys }
    }
}

impl plotters::coord::ranged1d::Ranged for Keyed {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        if self.hi == self.lo {
            return (limit.0 + limit.1) / 2;
        }
        let f = (v - self.lo) / (self.hi - self.lo);
        limit.0 + (f64::from(limit.1 - limit.0) * f + 1e-3).floor() as i32
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}
