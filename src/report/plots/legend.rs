//! Legends: a column of entries (a mark and a label) in a strip beside a chart, and an
//! optional note below them.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::marks::{dash_pieces, draw_marker, SeriesStyle};
use super::text::{wrap, Pen};
use super::{ellipsize, PlotError, FONT, LEGEND_SIZE};

/// What a legend entry shows next to its label.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Mark {
    /// A filled square (bars, spans, cells).
    Box,
    /// A short line (line series).
    Line,
    /// A filled circle (scatter points).
    Dot,
    /// A line sample in the series' dash pattern, with its marker in the middle when `true`
    /// (when the chart marks the series' points).
    Series(SeriesStyle, bool),
    /// A number in the series colour (points labelled by number on the chart).
    Number(usize),
}

/// One legend row.
pub(crate) struct LegendEntry {
    pub label: String,
    pub color: RGBColor,
    pub mark: Mark,
}

/// Draws a legend as a column of entries inside `area` (normally a strip right of the chart),
/// starting at `top` pixels; entries that do not fit are summarised as "+ N more". Returns the
/// y below the last row.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pen: Pen,
    heading: Option<&str>,
    entries: &[LegendEntry],
    top: i32,
) -> Result<i32, PlotError> {
    let (w, h) = area.dim_in_pixel();
    let row = LEGEND_SIZE as i32 + 8;
    let mut y = top;
    let left = Pos::new(HPos::Left, VPos::Center);
    if let Some(heading) = heading {
        pen.text(area, heading, &TextStyle::from((FONT, LEGEND_SIZE + 2)).pos(left), (8, y + row / 2))?;
        y += row + 2;
    }
    let fits = ((h as i32 - y - 8) / row).max(1) as usize;
    let shown = if entries.len() > fits { fits.saturating_sub(1) } else { entries.len() };
    // Series samples are longer, to show their dash pattern.
    let text_x = if entries.iter().any(|e| matches!(e.mark, Mark::Series(..))) {
        62
    } else if entries.iter().any(|e| matches!(e.mark, Mark::Number(_))) {
        44
    } else {
        30
    };
    let max_chars = ((w as i32 - text_x - 10) / (LEGEND_SIZE as i32 * 55 / 100)).max(6) as usize;
    for e in &entries[..shown] {
        let cy = y + row / 2;
        match e.mark {
            Mark::Box => area.draw(&Rectangle::new([(8, cy - 6), (22, cy + 6)], e.color.filled()))?,
            Mark::Line => area.draw(&PathElement::new(vec![(6, cy), (24, cy)], e.color.stroke_width(3)))?,
            Mark::Dot => area.draw(&Circle::new((15, cy), 5, e.color.filled()))?,
            Mark::Series(s, marked) => {
                for piece in dash_pieces(&[(4, cy), (54, cy)], s.dash, false) {
                    area.draw(&PathElement::new(piece, s.color.stroke_width(2)))?;
                }
                if marked {
                    area.draw(&Rectangle::new([(22, cy - 7), (37, cy + 7)], WHITE.filled()))?;
                    draw_marker(area, (29, cy), s.shape, s.color)?;
                }
            }
            Mark::Number(n) => {
                let style =
                    TextStyle::from((FONT, LEGEND_SIZE)).color(&e.color).pos(Pos::new(HPos::Right, VPos::Center));
                pen.text(area, &n.to_string(), &style, (36, cy))?;
            }
        }
        pen.text(area, &ellipsize(&e.label, max_chars), &TextStyle::from((FONT, LEGEND_SIZE)).pos(left), (text_x, cy))?;
        y += row;
    }
    if shown < entries.len() {
        let text = format!("+ {} more", entries.len() - shown);
        pen.text(area, &text, &TextStyle::from((FONT, LEGEND_SIZE)).pos(left), (text_x, y + row / 2))?;
        y += row;
    }
    Ok(y)
}

/// Grey text wrapped to the width of `area`, from `top` down, at most `max_lines` lines;
/// returns the y below it.
pub(crate) fn draw_note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pen: Pen,
    note: &str,
    top: i32,
    max_lines: usize,
) -> Result<i32, PlotError> {
    let (w, _) = area.dim_in_pixel();
    let size = LEGEND_SIZE - 2;
    let grey = RGBColor(90, 90, 90);
    let style = TextStyle::from((FONT, size)).color(&grey).pos(Pos::new(HPos::Left, VPos::Top));
    let mut y = top;
    for line in wrap(area, note, size, w.saturating_sub(20).max(40), max_lines) {
        pen.text(area, &line, &style, (8, y))?;
        y += size as i32 + 4;
    }
    Ok(y)
}
