//! Per-series line styles: a colour, a marker shape and a dash pattern, so that series whose
//! lines coincide (two policies with equal energy per epoch) stay distinguishable, on the
//! chart and in its legend. Markers are drawn hollow so that one on top of another of a
//! different shape leaves both visible; dashes leave gaps through which a line underneath
//! shows.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{series_color, PlotError};

/// Marker shape at a series' points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Cross,
}

/// Shapes in the order series take them.
pub(crate) const SHAPES: [Shape; 6] =
    [Shape::Circle, Shape::Square, Shape::TriangleUp, Shape::Diamond, Shape::TriangleDown, Shape::Cross];

/// On/off lengths in pixels along the line; empty is solid.
pub(crate) type Dash = &'static [u32];

/// Dash patterns in the order series take them (solid first).
pub(crate) const DASHES: [Dash; 5] = [&[], &[10, 5], &[3, 4], &[12, 4, 3, 4], &[6, 3, 6, 3, 1, 3]];

/// How one series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeriesStyle {
    pub color: RGBColor,
    pub shape: Shape,
    pub dash: Dash,
}

/// The `i`-th series' style: colours cycle every 20, shapes every 6 and dashes every 5, so
/// that no two of the first 60 series look alike and neighbours differ in all three.
pub(crate) fn series_style(i: usize) -> SeriesStyle {
    SeriesStyle { color: series_color(i), shape: SHAPES[i % SHAPES.len()], dash: DASHES[i % DASHES.len()] }
}

/// Half the size of a marker in pixels.
pub(crate) const MARKER_R: i32 = 5;

/// Draws a hollow marker of `shape` centred at `(x, y)` (pixels of `area`).
pub(crate) fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    shape: Shape,
    color: RGBColor,
) -> Result<(), PlotError> {
    let r = MARKER_R;
    let stroke = color.stroke_width(2);
    let closed = |pts: Vec<(i32, i32)>| {
        let mut pts = pts;
        if let Some(&first) = pts.first() {
            pts.push(first);
        }
        PathElement::new(pts, stroke)
    };
    match shape {
        Shape::Circle => area.draw(&Circle::new((x, y), r, stroke))?,
        Shape::Square => area.draw(&closed(vec![(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)]))?,
        Shape::TriangleUp => area.draw(&closed(vec![(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)]))?,
        Shape::TriangleDown => area.draw(&closed(vec![(x, y + r + 1), (x + r + 1, y - r), (x - r - 1, y - r)]))?,
        Shape::Diamond => {
            let d = r + 1;
            area.draw(&closed(vec![(x, y - d), (x + d, y), (x, y + d), (x - d, y)]))?
        }
        Shape::Cross => {
            area.draw(&PathElement::new(vec![(x - r, y - r), (x + r, y + r)], stroke))?;
            area.draw(&PathElement::new(vec![(x - r, y + r), (x + r, y - r)], stroke))?;
        }
    }
    Ok(())
}

/// The drawn pieces of the pixel polyline `path` under `dash` (on, off, on, ... lengths in
/// pixels, repeating). The pattern runs along the line's length, or, when `by_x`, along its x
/// extent only (for lines denser than a point per pixel column, whose length is mostly
/// up-and-down noise). A solid or degenerate pattern gives the whole path.
pub(crate) fn dash_pieces(path: &[(i32, i32)], dash: Dash, by_x: bool) -> Vec<Vec<(i32, i32)>> {
    let period: u32 = dash.iter().sum();
    if dash.len() < 2 || period == 0 || path.len() < 2 {
        return vec![path.to_vec()];
    }
    let mut pieces = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    // Index into `dash` and the length left in that entry.
    let (mut k, mut left) = (0usize, f64::from(dash[0]));
    let to_px = |p: &[(f64, f64)]| -> Vec<(i32, i32)> {
        let mut out: Vec<(i32, i32)> = Vec::with_capacity(p.len());
        for &(x, y) in p {
            let q = (x.round() as i32, y.round() as i32);
            if out.last() != Some(&q) {
                out.push(q);
            }
        }
        out
    };
    let on = |k: usize| k.is_multiple_of(2);
    let first = (f64::from(path[0].0), f64::from(path[0].1));
    current.push(first);
    for w in path.windows(2) {
        let (a, b) = ((f64::from(w[0].0), f64::from(w[0].1)), (f64::from(w[1].0), f64::from(w[1].1)));
        let len = if by_x { (b.0 - a.0).abs() } else { ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt() };
        let mut t = 0.0; // fraction of the segment done
        let mut rest = len;
        while rest > left {
            t += left / len;
            rest -= left;
            let p = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            if on(k) {
                current.push(p);
                pieces.push(to_px(&current));
                current.clear();
            } else {
                current.push(p);
            }
            k = (k + 1) % dash.len();
            left = f64::from(dash[k]);
        }
        left -= rest;
        if on(k) {
            current.push(b);
        } else {
            current.clear();
            current.push(b);
        }
    }
    if on(k) && current.len() > 1 {
        pieces.push(to_px(&current));
    }
    pieces.retain(|p| p.len() > 1);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbouring_series_differ_in_colour_shape_and_dash() {
        for i in 0..59 {
            let (a, b) = (series_style(i), series_style(i + 1));
            assert!(a.color != b.color && a.shape != b.shape && a.dash != b.dash, "series {i} and {}", i + 1);
        }
        let all: Vec<SeriesStyle> = (0..60).map(series_style).collect();
        for i in 0..60 {
            for j in i + 1..60 {
                assert!(all[i] != all[j], "series {i} and {j} look alike");
            }
        }
    }

    #[test]
    fn dashes_follow_the_pattern_along_the_line() {
        // 30 px straight line, 10 on 5 off: pieces 0..10, 15..25 (and 30..30 dropped).
        let pieces = dash_pieces(&[(0, 0), (30, 0)], &[10, 5], false);
        assert_eq!(pieces, vec![vec![(0, 0), (10, 0)], vec![(15, 0), (25, 0)]]);
        // The pattern carries over a corner.
        let pieces = dash_pieces(&[(0, 0), (8, 0), (8, 10)], &[10, 5], false);
        assert_eq!(pieces[0], vec![(0, 0), (8, 0), (8, 2)]);
        assert_eq!(pieces[1], vec![(8, 7), (8, 10)]);
        // By x, vertical zigzags do not count.
        let pieces = dash_pieces(&[(0, 0), (5, 50), (10, 0), (20, 50)], &[10, 5], true);
        assert_eq!(pieces[0].first(), Some(&(0, 0)));
        assert_eq!(pieces[0].last(), Some(&(10, 0)));
        assert_eq!(pieces[1].first().map(|p| p.0), Some(15));
        assert_eq!(dash_pieces(&[(0, 0), (30, 0)], &[], false), vec![vec![(0, 0), (30, 0)]]);
    }
}
