//! The roofline of a run: one point per GEMM (layer and pass), operational intensity (MACs
//! per DRAM byte) against achieved MACs per cycle, under the array's peak at each precision
//! the run used and the DRAM channel's bandwidth line. Log-log axes.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::text::{hidden, ticks, x_axis_text, y_axis_text, Pen};
use super::{
    check_value, draw_legend, fmt_si, render, series_color, titled, Draw, LegendEntry, Mark, Plot, PlotError,
    AXIS_DESC_SIZE, GRID, HEIGHT, TICK_SIZE, WIDTH,
};

/// One GEMM on the roofline.
#[derive(Debug, Clone, PartialEq)]
pub struct RooflinePoint {
    /// Which series (pass) it belongs to: an index into the series names.
    pub series: usize,
    /// MACs per DRAM byte.
    pub intensity_macs_per_byte: f64,
    /// MACs per cycle achieved.
    pub macs_per_cycle: f64,
}

/// The roofs: the DRAM channel's bytes per cycle and the array's peak MACs per cycle at each
/// precision (label, peak).
#[derive(Debug, Clone, PartialEq)]
pub struct Roofs {
    /// DRAM bytes per cycle.
    pub dram_bytes_per_cycle: f64,
    /// `(label, peak MACs per cycle)`.
    pub peaks: Vec<(String, f64)>,
}

const LEGEND_W: u32 = 240;
const ROOF: RGBColor = RGBColor(0x44, 0x44, 0x44);

/// The roofline plot of `points` (series named by `series`) under `roofs`. Points with zero
/// intensity or throughput (nothing moved, nothing computed) are left out and counted in the
/// subtitle.
pub fn roofline(title: &str, series: &[String], points: &[RooflinePoint], roofs: &Roofs) -> Result<Plot, PlotError> {
    const PLOT: &str = "roofline";
    check_value(PLOT, "DRAM bytes per cycle", roofs.dram_bytes_per_cycle)?;
    for (l, p) in &roofs.peaks {
        check_value(PLOT, &format!("peak of {l}"), *p)?;
    }
    let shown: Vec<&RooflinePoint> = points
        .iter()
        .filter(|p| {
            p.intensity_macs_per_byte.is_finite()
                && p.macs_per_cycle.is_finite()
                && p.intensity_macs_per_byte > 0.0
                && p.macs_per_cycle > 0.0
                && p.series < series.len()
        })
        .collect();
    if shown.is_empty() || roofs.peaks.is_empty() || roofs.dram_bytes_per_cycle <= 0.0 {
        return Err(PlotError::NoData { plot: PLOT });
    }
    let mut subtitle = format!(
        "{} GEMMs; DRAM {} B/cycle; peak {}",
        shown.len(),
        fmt_si(roofs.dram_bytes_per_cycle),
        roofs.peaks.iter().map(|(l, p)| format!("{} MAC/cycle ({l})", fmt_si(*p))).collect::<Vec<_>>().join(", ")
    );
    if shown.len() < points.len() {
        subtitle.push_str(&format!("; {} without DRAM traffic or cycles left out", points.len() - shown.len()));
    }
    render(PLOT, (WIDTH, HEIGHT), &Roofline { title, subtitle, series, points: shown, roofs })
}

struct Roofline<'a> {
    title: &'a str,
    subtitle: String,
    series: &'a [String],
    points: Vec<&'a RooflinePoint>,
    roofs: &'a Roofs,
}

impl Draw for Roofline<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, pen: Pen) -> Result<(), PlotError> {
        let body = titled(root, pen, self.title, Some(&self.subtitle))?;
        let (area, legend_area) = body.split_horizontally(WIDTH - LEGEND_W);
        let bw = self.roofs.dram_bytes_per_cycle;
        let peak_max = self.roofs.peaks.iter().map(|p| p.1).fold(0.0, f64::max);
        let ridge = peak_max / bw;
        let xs = self.points.iter().map(|p| p.intensity_macs_per_byte);
        let x0 = xs.clone().fold(ridge, f64::min) / 2.0;
        let x1 = xs.fold(ridge, f64::max) * 2.0;
        let y0 = self.points.iter().map(|p| p.macs_per_cycle).fold(peak_max, f64::min).min(bw * x0) / 2.0;
        let y1 = peak_max * 2.0;
        let (x_area, y_area) = (TICK_SIZE + 16 + AXIS_DESC_SIZE + 10, 80);
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .max_light_lines(4)
            .label_style(hidden())
            .axis_desc_style(hidden())
            .draw()?;
        let x_ticks = ticks(chart.as_coord_spec().x_spec(), 10, fmt_si);
        let y_ticks = ticks(chart.as_coord_spec().y_spec(), 10, fmt_si);
        x_axis_text(pen, root, &chart, &x_ticks, false, "operational intensity (MACs per DRAM byte)", x_area)?;
        y_axis_text(pen, root, &chart, &y_ticks, false, "MACs per cycle", y_area)?;
        // Each roof: bandwidth-bound up to its ridge, flat after.
        for (i, (_, peak)) in self.roofs.peaks.iter().enumerate() {
            let r = peak / bw;
            let line = vec![(x0, bw * x0), (r, *peak), (x1, *peak)];
            let style = if i == 0 { ROOF.stroke_width(2) } else { ROOF.mix(0.5).stroke_width(1) };
            chart.draw_series(std::iter::once(PathElement::new(line, style)))?;
        }
        for (s, _) in self.series.iter().enumerate() {
            let c = series_color(s);
            chart.draw_series(
                self.points
                    .iter()
                    .filter(|p| p.series == s)
                    .map(|p| Circle::new((p.intensity_macs_per_byte, p.macs_per_cycle), 4, c.filled())),
            )?;
        }
        let mut entries: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(s, name)| LegendEntry {
                label: format!("{name} ({})", self.points.iter().filter(|p| p.series == s).count()),
                color: series_color(s),
                mark: Mark::Dot,
            })
            .collect();
        entries.push(LegendEntry { label: "roofs".to_string(), color: ROOF, mark: Mark::Line });
        draw_legend(&legend_area, pen, None, &entries, 20).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_and_refuses_nonsense() {
        let series = vec!["forward".to_string(), "backward-data".to_string()];
        let pts = vec![
            RooflinePoint { series: 0, intensity_macs_per_byte: 3.0, macs_per_cycle: 90.0 },
            RooflinePoint { series: 1, intensity_macs_per_byte: 300.0, macs_per_cycle: 2000.0 },
            RooflinePoint { series: 1, intensity_macs_per_byte: 0.0, macs_per_cycle: 1.0 },
        ];
        let roofs = Roofs { dram_bytes_per_cycle: 32.0, peaks: vec![("m=4".into(), 4096.0), ("m=8".into(), 1024.0)] };
        let p = roofline("r", &series, &pts, &roofs).unwrap();
        assert!(p.svg.contains("1 without DRAM traffic"), "the left-out point is said");
        assert!(!p.png.is_empty());
        assert!(roofline("r", &series, &pts[2..], &roofs).is_err());
        let bad = Roofs { dram_bytes_per_cycle: f64::NAN, ..roofs };
        assert!(roofline("r", &series, &pts, &bad).is_err());
    }
}
