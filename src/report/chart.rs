//! The report's charts, drawn by `plotters` into inline SVG: lines over
//! time (balance and banked credit, usage per day, findings by severity).
//! Credits are exact integers everywhere else; only a chart's coordinates
//! are floats, as drawing needs.

use plotters::prelude::*;

use super::ReportError;
use crate::model::credits::MICROS_PER_CREDIT;
use crate::model::time::{day_label, day_of, MS_PER_DAY};

/// One line of a chart: points as (epoch ms, value).
pub struct Series {
    pub name: String,
    pub color: RGBColor,
    pub points: Vec<(i64, f64)>,
}

/// Colours of series, in order.
pub const PALETTE: [RGBColor; 6] = [RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44), RGBColor(214, 39, 40), RGBColor(148, 103, 189), RGBColor(140, 86, 75)];

/// Colours of severity_id 0..=5 (unknown, informational .. critical).
pub const SEVERITY: [RGBColor; 6] = [RGBColor(127, 127, 127), RGBColor(31, 119, 180), RGBColor(44, 160, 44), RGBColor(255, 187, 0), RGBColor(255, 127, 14), RGBColor(214, 39, 40)];

/// Micro-credits as a chart coordinate.
pub fn credits(micros: i64) -> f64 {
    micros as f64 / MICROS_PER_CREDIT as f64
}

/// A line chart of `series` over time, `width` × `height` pixels, as SVG text.
pub fn lines(title: &str, y_label: &str, series: &[Series], (width, height): (u32, u32)) -> Result<String, ReportError> {
    let mut svg = String::new();
    let draw = |e: &dyn std::fmt::Display| ReportError::Chart(format!("{title}: {e}"));
    {
        let all = || series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1) = (all().map(|p| p.0).min().unwrap_or(0), all().map(|p| p.0).max().unwrap_or(0));
        if x1 - x0 < MS_PER_DAY {
            x0 -= MS_PER_DAY / 2;
            x1 += MS_PER_DAY / 2;
        }
        let y1 = all().map(|p| p.1).fold(0.0f64, f64::max).max(1.0) * 1.08;
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, 0f64..y1)
            .map_err(|e| draw(&e))?;
        chart
            .configure_mesh()
            .x_labels((((x1 - x0) / MS_PER_DAY) as usize + 1).clamp(2, 7))
            .y_labels(5)
            .x_label_formatter(&|ms| day_label(day_of(*ms)))
            .y_desc(y_label)
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .map_err(|e| draw(&e))?;
        for s in series.iter().filter(|s| !s.points.is_empty()) {
            let color = s.color;
            // A line needs two points: a series of one or two shows its points too.
            if s.points.len() <= 2 {
                chart.draw_series(s.points.iter().map(|p| Circle::new(*p, 3, color.filled()))).map_err(|e| draw(&e))?;
            }
            chart
                .draw_series(LineSeries::new(s.points.iter().copied(), color.stroke_width(2)))
                .map_err(|e| draw(&e))?
                .label(s.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
        }
        if series.len() > 1 {
            chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK.mix(0.3)).position(SeriesLabelPosition::UpperLeft).draw().map_err(|e| draw(&e))?;
        }
        root.present().map_err(|e| draw(&e))?;
    }
    Ok(svg)
}
