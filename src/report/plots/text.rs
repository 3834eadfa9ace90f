//! Text placement for the plots.
//!
//! plotters' `ab_glyph` text drawing puts each glyph's ink box at the pen position, ignoring
//! the glyph's left side bearing, so at chart font sizes letters visibly wobble in bitmaps
//! ("back ward"). [`Pen`] therefore draws bitmap text one glyph at a time: pen positions come
//! from plotters' own layout (so sizes and anchors agree with plotters), each shifted by the
//! glyph's left side bearing, read from the embedded font's `cmap` and `hmtx` tables. SVG text
//! is left whole (the viewer lays it out). Because plotters' tick labels and axis descriptions
//! bypass this, the charts hide them and draw their own with [`x_axis_text`] / [`y_axis_text`].
//! Font sizes are even so that plotters' half-size baseline offset is a whole pixel.

use std::collections::HashMap;
use std::sync::OnceLock;

use plotters::coord::ranged1d::{BoldPoints, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{PlotError, AXIS_DESC_SIZE, FONT, TICK_SIZE};

/// Left side bearings of the embedded font, in font units, and the unit-to-pixel divisor.
struct Bearings {
    lsb: HashMap<char, i16>,
    /// ascender - descender (ab_glyph scales so that this spans the font size in pixels).
    height: f64,
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn table<'a>(font: &'a [u8], tag: &[u8; 4]) -> Option<&'a [u8]> {
    let n = usize::from(u16_at(font, 4)?);
    (0..n).find_map(|i| {
        let rec = font.get(12 + 16 * i..28 + 16 * i)?;
        let off = u32::from_be_bytes(rec[8..12].try_into().ok()?) as usize;
        let len = u32::from_be_bytes(rec[12..16].try_into().ok()?) as usize;
        (&rec[..4] == tag).then(|| font.get(off..off + len)).flatten()
    })
}

/// Parses `hhea`, `hmtx` and the Unicode BMP `cmap` subtable (format 4) of a TrueType font.
fn parse(font: &[u8]) -> Option<Bearings> {
    let hhea = table(font, b"hhea")?;
    let ascender = u16_at(hhea, 4)? as i16;
    let descender = u16_at(hhea, 6)? as i16;
    let metrics = usize::from(u16_at(hhea, 34)?);
    let hmtx = table(font, b"hmtx")?;
    let lsb_of = |glyph: usize| -> Option<i16> {
        let at = if glyph < metrics { 4 * glyph + 2 } else { 4 * metrics + 2 * (glyph - metrics) };
        Some(u16_at(hmtx, at)? as i16)
    };
    let cmap = table(font, b"cmap")?;
    let sub = (0..usize::from(u16_at(cmap, 2)?)).find_map(|i| {
        let (platform, encoding) = (u16_at(cmap, 4 + 8 * i)?, u16_at(cmap, 6 + 8 * i)?);
        let off = u32::from_be_bytes(cmap.get(8 + 8 * i..12 + 8 * i)?.try_into().ok()?) as usize;
        let ok = (platform == 3 && encoding == 1) || platform == 0;
        (ok && u16_at(cmap, off)? == 4).then(|| cmap.get(off..)).flatten()
    })?;
    let segs = usize::from(u16_at(sub, 6)? / 2);
    let (ends, starts, deltas, ranges) = (14, 16 + 2 * segs, 16 + 4 * segs, 16 + 6 * segs);
    let mut lsb = HashMap::new();
    for s in 0..segs {
        let (start, end) = (u16_at(sub, starts + 2 * s)?, u16_at(sub, ends + 2 * s)?);
        let delta = u16_at(sub, deltas + 2 * s)?;
        let range = usize::from(u16_at(sub, ranges + 2 * s)?);
        for code in start..=end.min(0xfffe) {
            let glyph = if range == 0 {
                code.wrapping_add(delta)
            } else {
                let at = ranges + 2 * s + range + 2 * usize::from(code - start);
                match u16_at(sub, at)? {
                    0 => 0,
                    g => g.wrapping_add(delta),
                }
            };
            if let (Some(c), true) = (char::from_u32(u32::from(code)), glyph != 0) {
                lsb.insert(c, lsb_of(usize::from(glyph))?);
            }
        }
    }
    Some(Bearings { lsb, height: f64::from(ascender) - f64::from(descender) })
}

fn bearings() -> Option<&'static Bearings> {
    static B: OnceLock<Option<Bearings>> = OnceLock::new();
    B.get_or_init(|| parse(super::DEJAVU_SANS)).as_ref()
}

/// Most characters of one text a plot draws: longer texts (a title with a very long arch or
/// workload name) end in `…` here.
pub const MAX_TEXT_CHARS: usize = 200;

/// Draws text on a drawing area, whole (SVG) or glyph by glyph (bitmap).
#[derive(Clone, Copy)]
pub(crate) struct Pen {
    pub per_glyph: bool,
}

impl Pen {
    /// Draws `text` with `style` (anchor and rotation included) at `pos` in `area`'s pixels.
    pub(crate) fn text<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        text: &str,
        style: &TextStyle,
        pos: (i32, i32),
    ) -> Result<(), PlotError> {
        // Nothing longer fits across a plot; the cut also bounds the glyph layout below, which
        // measures each glyph's prefix (a name of 1 MB took minutes).
        let cut = super::ellipsize(text, MAX_TEXT_CHARS);
        let text = cut.as_str();
        let b = match (self.per_glyph, bearings()) {
            (true, Some(b)) => b,
            _ => return Ok(area.draw_text(text, style, pos)?),
        };
        let (w, h) = area.estimate_text_size(text, style)?;
        let (w, h) = (w as i32, h as i32);
        let dx = match style.pos.h_pos {
            HPos::Left => 0,
            HPos::Right => -w,
            HPos::Center => -w / 2,
        };
        let dy = match style.pos.v_pos {
            VPos::Top => 0,
            VPos::Center => -h / 2,
            VPos::Bottom => -h,
        };
        let scale = style.font.get_size() / b.height;
        let trans = style.font.get_transform();
        let glyph_style = style.pos(Pos::new(HPos::Left, VPos::Top));
        for (i, c) in text.char_indices() {
            if c.is_whitespace() {
                continue;
            }
            // Pen position from plotters' own layout of the prefix (includes kerning).
            let pen = if i == 0 { 0 } else { area.estimate_text_size(&text[..i], style)?.0 as i32 };
            let bearing = b.lsb.get(&c).map_or(0.0, |&l| (f64::from(l) * scale).floor()) as i32;
            let (ox, oy) = trans.transform(pen + bearing + dx, dy);
            area.draw_text(&text[i..i + c.len_utf8()], &glyph_style, (pos.0 + ox, pos.1 + oy))?;
        }
        Ok(())
    }
}

/// `text` cut (with "…") so that it is at most `max_w` pixels wide at `size`.
pub(crate) fn fit<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str, size: u32, max_w: u32) -> String {
    let mut chars = text.chars().count().min(MAX_TEXT_CHARS);
    let mut s = super::ellipsize(text, chars);
    for _ in 0..8 {
        let w = super::text_width(area, &s, size);
        if w <= max_w || chars <= 4 {
            break;
        }
        let shorter = (chars as u64 * u64::from(max_w) / u64::from(w.max(1))) as usize;
        chars = shorter.min(chars - 1).max(4);
        s = super::ellipsize(text, chars);
    }
    s
}

/// `text` broken at spaces into at most `max_lines` lines, each at most `max_w` pixels wide at
/// `size`; what does not fit ends the last line in "…" (as does a word wider than a line).
pub(crate) fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: u32,
    max_w: u32,
    max_lines: usize,
) -> Vec<String> {
    let text = super::ellipsize(text, MAX_TEXT_CHARS.saturating_mul(max_lines.max(1)));
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    let mut lines: Vec<String> = Vec::new();
    let mut k = 0;
    while k < words.len() && lines.len() < max_lines.max(1) {
        let last = lines.len() + 1 == max_lines.max(1);
        let mut line = words[k].to_string();
        k += 1;
        while k < words.len() {
            let longer = format!("{line} {}", words[k]);
            if super::text_width(area, &longer, size) > max_w {
                break;
            }
            line = longer;
            k += 1;
        }
        if last && k < words.len() {
            // The rest does not fit: the last line takes it all, cut to the width.
            line = format!("{line} {}", words[k..].join(" "));
            k = words.len();
        }
        lines.push(fit(area, &line, size, max_w));
    }
    lines
}

/// Tick values and labels for a numeric axis: the points plotters' mesh uses for `n` labels.
pub(crate) fn ticks<R: Ranged<ValueType = f64>>(spec: &R, n: usize, fmt: impl Fn(f64) -> String) -> Vec<(f64, String)> {
    spec.key_points(BoldPoints(n)).into_iter().map(|v| (v, fmt(v))).collect()
}

/// Style for plotters' own tick labels and axis descriptions: invisible, since the charts draw
/// them with [`x_axis_text`] / [`y_axis_text`].
pub(crate) fn hidden() -> TextStyle<'static> {
    TextStyle::from((FONT, TICK_SIZE)).color(&TRANSPARENT)
}

/// Tick labels below the x axis of `chart` (centred, or rotated to read upwards), and `desc`
/// centred at the bottom of the label area `area_h` pixels tall.
#[allow(clippy::too_many_arguments)]
pub(crate) fn x_axis_text<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    pen: Pen,
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<DB, Cartesian2d<X, Y>>,
    ticks: &[(f64, String)],
    rotated: bool,
    desc: &str,
    area_h: u32,
) -> Result<(), PlotError> {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let axis_y = ys.end;
    let style = TextStyle::from((FONT, TICK_SIZE));
    for (v, label) in ticks {
        let (x, _) = chart.backend_coord(&(*v, chart.y_range().start));
        if rotated {
            let s = style.transform(FontTransform::Rotate270).pos(Pos::new(HPos::Right, VPos::Center));
            pen.text(root, label, &s, (x, axis_y + 8))?;
        } else {
            pen.text(root, label, &style.pos(Pos::new(HPos::Center, VPos::Top)), (x, axis_y + 8))?;
        }
    }
    let desc_style = TextStyle::from((FONT, AXIS_DESC_SIZE)).pos(Pos::new(HPos::Center, VPos::Bottom));
    pen.text(root, desc, &desc_style, ((xs.start + xs.end) / 2, axis_y + area_h as i32 - 4))
}

/// Tick labels beside the y axis of `chart` (left, or right when `right`), and `desc` rotated
/// at the outer edge of the label area `area_w` pixels wide.
#[allow(clippy::too_many_arguments)]
pub(crate) fn y_axis_text<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    pen: Pen,
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<DB, Cartesian2d<X, Y>>,
    ticks: &[(f64, String)],
    right: bool,
    desc: &str,
    area_w: u32,
) -> Result<(), PlotError> {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let style = TextStyle::from((FONT, TICK_SIZE));
    for (v, label) in ticks {
        let (_, y) = chart.backend_coord(&(chart.x_range().start, *v));
        if right {
            pen.text(root, label, &style.pos(Pos::new(HPos::Left, VPos::Center)), (xs.end + 10, y))?;
        } else {
            pen.text(root, label, &style.pos(Pos::new(HPos::Right, VPos::Center)), (xs.start - 10, y))?;
        }
    }
    let mid = (ys.start + ys.end) / 2;
    let desc_style = TextStyle::from((FONT, AXIS_DESC_SIZE));
    if right {
        let s = desc_style.transform(FontTransform::Rotate90).pos(Pos::new(HPos::Center, VPos::Top));
        pen.text(root, desc, &s, (xs.end + area_w as i32 - 4, mid))
    } else {
        let s = desc_style.transform(FontTransform::Rotate270).pos(Pos::new(HPos::Center, VPos::Top));
        pen.text(root, desc, &s, (xs.start - area_w as i32 + 4, mid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_tables_parse() {
        let b = bearings().expect("DejaVu Sans tables");
        assert!(b.lsb.len() > 3000, "{} mapped characters", b.lsb.len());
        assert!((2000.0..2600.0).contains(&b.height), "height {}", b.height);
        // Glyphs with visible left side bearings, in font units (2048 per em).
        assert!(b.lsb[&'l'] > 100 && b.lsb[&'b'] > 100 && b.lsb[&'.'] > 100);
    }
}
