//! Bar charts of the statistics, drawn as SVG on the server (decision 0010): a value axis with
//! a few round graduations, labels thinned so that none overlaps another, occupancy on a fixed
//! 0–100 % scale, and no chart at all when a period has nothing to show. Every text is escaped
//! here; the page inserts the SVG as is.

use crate::text::console as t;

/// What a chart's values count, which decides its scale and how values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Hours,
    /// Always drawn on 0–100 %.
    Percent,
}

impl Unit {
    /// The unit as written in the CSV export.
    pub fn csv_name(self) -> &'static str {
        match self {
            Unit::Count => t::CSV_UNIT_SESSIONS,
            Unit::Hours => t::CSV_UNIT_HOURS,
            Unit::Percent => t::CSV_UNIT_PERCENT,
        }
    }
}

/// How the bars stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Vertical bars along a time line or the hours of a day, labels below.
    Columns,
    /// Horizontal bars, one named thing a row, its name on the left (workstations, categories).
    Rows,
}

/// One bar of a chart.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Under the bar (`24/11`).
    pub label: String,
    /// In the table, the tooltip and the CSV export (`24/11/2026`).
    pub name: String,
    pub value: f64,
}

impl Bar {
    /// The value as staff read it (`1,5 h`, `< 1 %`).
    pub fn shown(&self, unit: Unit) -> String {
        format_value(self.value, unit)
    }
}

/// A chart of the statistics page, drawn at the width it is shown at ([`Chart::svg`]).
#[derive(Debug, Clone)]
pub struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    pub unit: Unit,
    pub shape: Shape,
    /// Takes the page's whole width (the time series).
    pub wide: bool,
    pub bars: Vec<Bar>,
}

/// Widths a chart is drawn at, in SVG units: close to the CSS pixels it takes on a 1366-pixel
/// screen, so that [`FONT`] stays about its size there; a page of A4 is 186 mm (703 px) wide.
pub const SCREEN_WIDE: f64 = 1200.0;
pub const SCREEN_HALF: f64 = 600.0;
pub const PAPER: f64 = 700.0;

/// Size of every text of a chart, in SVG units.
const FONT: f64 = 13.0;
/// Width of one character at [`FONT`], a little more than DejaVu Sans's average.
const CHAR: f64 = FONT * 0.65;
/// Longest name written beside a row; the tooltip and the table have it whole.
const MAX_ROW_LABEL: usize = 22;

const INK: &str = "#1b1f24";
const SOFT: &str = "#4a5560";
const GRID: &str = "#d5dbe1";
const BAR: &str = "#0b5cad";

impl Chart {
    /// A bar's value as staff read it, in this chart's unit.
    pub fn shown(&self, bar: &Bar) -> String {
        bar.shown(self.unit)
    }

    /// True when no bar has a value: the page says « Aucune donnée » instead of a chart.
    pub fn is_empty(&self) -> bool {
        !self.bars.iter().any(|bar| bar.value > 0.0)
    }

    /// The chart `width` units wide, or `None` when it has nothing to show.
    pub fn svg(&self, width: f64) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let ticks = graduations(
            self.bars.iter().map(|bar| bar.value).fold(0.0, f64::max),
            self.unit,
        );
        Some(match self.shape {
            Shape::Columns => self.columns(width, &ticks),
            Shape::Rows => self.rows(width, &ticks),
        })
    }

    fn open(&self, width: f64, height: f64) -> String {
        format!(
            "<svg class=\"graphique\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" \
             aria-labelledby=\"{id}-titre\" xmlns=\"http://www.w3.org/2000/svg\" \
             font-size=\"{FONT}\" fill=\"{INK}\"><title id=\"{id}-titre\">{title}</title>",
            id = self.id,
            title = escape(self.title),
        )
    }

    fn bar_rect(&self, bar: &Bar, x: f64, y: f64, w: f64, h: f64) -> String {
        format!(
            "<rect class=\"barre\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" \
             fill=\"{BAR}\"><title>{name} : {shown}</title></rect>",
            name = escape(&bar.name),
            shown = escape(&bar.shown(self.unit)),
        )
    }

    fn columns(&self, width: f64, ticks: &[f64]) -> String {
        const TOP: f64 = FONT + 8.0;
        const PLOT: f64 = 220.0;
        const RIGHT: f64 = 10.0;
        let top_value = ticks.last().copied().unwrap_or(1.0);
        let left = axis_width(ticks, self.unit);
        let base = TOP + PLOT;
        let mut svg = self.open(width, base + FONT + 16.0);
        let y_of = |value: f64| base - value / top_value * PLOT;
        for &tick in ticks {
            let y = y_of(tick);
            svg.push_str(&format!(
                "<line x1=\"{left:.0}\" y1=\"{y:.1}\" x2=\"{x2:.0}\" y2=\"{y:.1}\" stroke=\"{g}\"/>\
                 <text x=\"{tx:.0}\" y=\"{y:.1}\" dy=\"0.35em\" text-anchor=\"end\" fill=\"{SOFT}\">{label}</text>",
                x2 = width - RIGHT,
                g = if tick == 0.0 { SOFT } else { GRID },
                tx = left - 6.0,
                label = escape(&tick_label(tick, self.unit)),
            ));
        }
        let count = self.bars.len();
        let step = (width - left - RIGHT) / count as f64;
        let bar_width = (step * 0.7).min(48.0);
        let every = label_every(&self.bars, step);
        // Values above the bars when there are few and each fits over its own bar.
        let values_fit = count <= 16
            && self
                .bars
                .iter()
                .all(|bar| text_width(&bar.shown(self.unit)) + 4.0 <= step);
        for (index, bar) in self.bars.iter().enumerate() {
            let centre = left + (index as f64 + 0.5) * step;
            let h = (bar.value.max(0.0) / top_value * PLOT).min(PLOT);
            svg.push_str(&self.bar_rect(bar, centre - bar_width / 2.0, base - h, bar_width, h));
            if values_fit && bar.value > 0.0 {
                svg.push_str(&format!(
                    "<text x=\"{centre:.1}\" y=\"{y:.1}\" text-anchor=\"middle\">{}</text>",
                    escape(&bar.shown(self.unit)),
                    y = base - h - 5.0,
                ));
            }
            // The latest bar always has its label; the others every `every` bars back from it.
            if (count - 1 - index).is_multiple_of(every) {
                svg.push_str(&format!(
                    "<line x1=\"{centre:.1}\" y1=\"{base:.0}\" x2=\"{centre:.1}\" y2=\"{y2:.0}\" stroke=\"{SOFT}\"/>\
                     <text x=\"{centre:.1}\" y=\"{y:.0}\" text-anchor=\"middle\">{}</text>",
                    escape(&bar.label),
                    y2 = base + 4.0,
                    y = base + FONT + 10.0,
                ));
            }
        }
        svg.push_str("</svg>");
        svg
    }

    fn rows(&self, width: f64, ticks: &[f64]) -> String {
        const ROW: f64 = 30.0;
        const THICK: f64 = 18.0;
        const TOP: f64 = 4.0;
        let top_value = ticks.last().copied().unwrap_or(1.0);
        let labels: Vec<String> = self.bars.iter().map(|bar| shorten(&bar.label)).collect();
        let left =
            (labels.iter().map(|l| text_width(l)).fold(0.0, f64::max) + 12.0).min(width * 0.4);
        // Room for the value written at the end of the longest bar.
        let right = self
            .bars
            .iter()
            .map(|bar| text_width(&bar.shown(self.unit)))
            .fold(
                text_width(&format_value(top_value, self.unit)) / 2.0,
                f64::max,
            )
            + 10.0;
        let plot = width - left - right;
        let base = TOP + ROW * self.bars.len() as f64;
        let mut svg = self.open(width, base + FONT + 16.0);
        let x_of = |value: f64| left + value / top_value * plot;
        for &tick in ticks {
            let x = x_of(tick);
            svg.push_str(&format!(
                "<line x1=\"{x:.1}\" y1=\"{TOP:.0}\" x2=\"{x:.1}\" y2=\"{base:.0}\" stroke=\"{g}\"/>\
                 <text x=\"{x:.1}\" y=\"{y:.0}\" text-anchor=\"middle\" fill=\"{SOFT}\">{label}</text>",
                g = if tick == 0.0 { SOFT } else { GRID },
                y = base + FONT + 10.0,
                label = escape(&tick_label(tick, self.unit)),
            ));
        }
        for (index, (bar, label)) in self.bars.iter().zip(&labels).enumerate() {
            let middle = TOP + (index as f64 + 0.5) * ROW;
            let w = (bar.value.max(0.0) / top_value * plot).min(plot);
            svg.push_str(&format!(
                "<text x=\"{lx:.0}\" y=\"{middle:.1}\" dy=\"0.35em\" text-anchor=\"end\">{label}</text>",
                lx = left - 8.0,
                label = escape(label),
            ));
            svg.push_str(&self.bar_rect(bar, left, middle - THICK / 2.0, w, THICK));
            svg.push_str(&format!(
                "<text x=\"{vx:.1}\" y=\"{middle:.1}\" dy=\"0.35em\">{}</text>",
                escape(&bar.shown(self.unit)),
                vx = left + w + 5.0,
            ));
        }
        svg.push_str("</svg>");
        svg
    }
}

/// Width of `text` at [`FONT`], generously estimated.
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR
}

fn shorten(label: &str) -> String {
    if label.chars().count() > MAX_ROW_LABEL {
        label.chars().take(MAX_ROW_LABEL - 1).chain(['…']).collect()
    } else {
        label.to_owned()
    }
}

/// A graduation of the value axis: its value, or a bare 0 at the origin.
fn tick_label(tick: f64, unit: Unit) -> String {
    if tick == 0.0 {
        "0".to_owned()
    } else {
        format_value(tick, unit)
    }
}

/// Room left of a column chart for its graduations.
fn axis_width(ticks: &[f64], unit: Unit) -> f64 {
    ticks
        .iter()
        .map(|&tick| text_width(&tick_label(tick, unit)))
        .fold(0.0, f64::max)
        + 12.0
}

/// One label every how many bars, so that labels `step` units apart do not touch.
pub fn label_every(bars: &[Bar], step: f64) -> usize {
    let widest = bars
        .iter()
        .map(|bar| text_width(&bar.label))
        .fold(0.0, f64::max);
    if step <= 0.0 {
        return bars.len().max(1);
    }
    ((widest + 8.0) / step).ceil().max(1.0) as usize
}

/// The graduations of a value axis from 0 to a round value at or above `max`: 0–100 % for a
/// rate, otherwise steps of 1, 2 or 5 times a power of ten (whole numbers for counts; minutes
/// below an hour).
pub fn graduations(max: f64, unit: Unit) -> Vec<f64> {
    match unit {
        Unit::Percent => vec![0.0, 25.0, 50.0, 75.0, 100.0],
        Unit::Count => round_steps(max, 1.0),
        Unit::Hours if max >= 1.0 => round_steps(max, 0.5),
        Unit::Hours => round_steps(max * 60.0, 1.0)
            .into_iter()
            .map(|minutes| minutes / 60.0)
            .collect(),
    }
}

fn round_steps(max: f64, min_step: f64) -> Vec<f64> {
    let max = if max.is_finite() { max.max(0.0) } else { 0.0 };
    let raw = max / 4.0;
    let step = if raw > 0.0 {
        let magnitude = 10f64.powf(raw.log10().floor());
        [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|factor| factor * magnitude)
            .find(|step| *step >= raw)
            .unwrap_or(10.0 * magnitude)
    } else {
        min_step
    }
    .max(min_step);
    let steps = ((max / step) - 1e-9).ceil().max(1.0) as usize;
    (0..=steps).map(|i| i as f64 * step).collect()
}

/// A value as staff read it: `12`, `1,5 h`, `45 min`, `< 1 min`, `38 %`, `< 1 %`.
pub fn format_value(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Count => format!("{value:.0}"),
        Unit::Hours if value >= 1.0 || value <= 0.0 => t::hours_value(&decimal(value.max(0.0), 1)),
        Unit::Hours if (value * 60.0).round() < 1.0 => t::UNDER_A_MINUTE.to_owned(),
        Unit::Hours => t::minutes_value(value * 60.0),
        Unit::Percent if value > 0.0 && value < 0.5 => t::UNDER_ONE_PERCENT.to_owned(),
        Unit::Percent => t::percent_value(value),
    }
}

/// `value` with at most `places` decimals, a decimal comma, no trailing zero (`1,5`, `2`).
pub fn decimal(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    match text {
        "-0" => "0".to_owned(),
        text => text.replace('.', ","),
    }
}

/// The height of a chart drawn by [`Chart::svg`], read from its view box (to lay it on a page).
pub fn view_box_height(svg: &str) -> Option<f64> {
    let start = svg.find("viewBox=\"")? + "viewBox=\"".len();
    let end = start + svg[start..].find('"')?;
    svg[start..end].split_whitespace().nth(3)?.parse().ok()
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_drawn_chart_says_its_height_for_a_page_to_lay_it_out() {
        let chart = Chart {
            id: "c",
            title: "Titre",
            unit: Unit::Count,
            shape: Shape::Rows,
            wide: false,
            bars: vec![Bar {
                label: "P1".into(),
                name: "P1".into(),
                value: 2.0,
            }],
        };
        let svg = chart.svg(PAPER).unwrap();
        // One row of 30 under a margin of 4, and the axis' labels below.
        assert_eq!(view_box_height(&svg), Some(4.0 + 30.0 + FONT + 16.0));
        assert_eq!(view_box_height("<svg>"), None);
    }

    fn bars(values: &[f64]) -> Vec<Bar> {
        values
            .iter()
            .enumerate()
            .map(|(i, value)| Bar {
                label: format!("{:02}/11", i + 1),
                name: format!("{:02}/11/2026", i + 1),
                value: *value,
            })
            .collect()
    }

    fn chart(unit: Unit, shape: Shape, bars: Vec<Bar>) -> Chart {
        Chart {
            id: "test",
            title: "Titre",
            unit,
            shape,
            wide: false,
            bars,
        }
    }

    /// The `height` (or `width`) of each bar of an SVG.
    fn bar_sizes(svg: &str, attribute: &str) -> Vec<f64> {
        svg.split("<rect class=\"barre\"")
            .skip(1)
            .map(|rect| {
                let start = rect.find(&format!(" {attribute}=\"")).unwrap() + attribute.len() + 3;
                let end = start + rect[start..].find('"').unwrap();
                rect[start..end].parse().unwrap()
            })
            .collect()
    }

    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .map(|text| {
                let start = text.find('>').unwrap() + 1;
                let end = text.find("</text>").unwrap();
                text[start..end].to_owned()
            })
            .collect()
    }

    #[test]
    fn graduations_are_round_and_cover_the_largest_value() {
        assert_eq!(graduations(7.0, Unit::Count), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(graduations(1.0, Unit::Count), [0.0, 1.0]);
        assert_eq!(graduations(3.0, Unit::Count), [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(
            graduations(38.0, Unit::Count),
            [0.0, 10.0, 20.0, 30.0, 40.0]
        );
        assert_eq!(graduations(430.0, Unit::Count), [0.0, 200.0, 400.0, 600.0]);
        assert_eq!(graduations(12.5, Unit::Hours), [0.0, 5.0, 10.0, 15.0]);
        // Under an hour, the steps are whole minutes.
        let minutes: Vec<f64> = graduations(0.75, Unit::Hours)
            .iter()
            .map(|h| (h * 60.0).round())
            .collect();
        assert_eq!(minutes, [0.0, 20.0, 40.0, 60.0]);
        let seconds = graduations(10.0 / 3600.0, Unit::Hours);
        assert_eq!(seconds.len(), 2);
        assert!((seconds[1] * 60.0 - 1.0).abs() < 1e-9);
        let labels: Vec<String> = graduations(0.75, Unit::Hours)
            .iter()
            .map(|h| format_value(*h, Unit::Hours))
            .collect();
        assert_eq!(labels, ["0 h", "20 min", "40 min", "1 h"]);
        assert_eq!(tick_label(0.0, Unit::Hours), "0");
    }

    #[test]
    fn occupancy_is_drawn_on_a_percent_scale_and_zero_is_no_bar() {
        // A workstation used 0.2 % of the opening hours, one not at all, one half of them.
        let mut rates = bars(&[0.2, 0.0, 50.0]);
        rates[0].name = "Salle-01".into();
        let drawn = chart(Unit::Percent, Shape::Rows, rates);
        let svg = drawn.svg(SCREEN_HALF).unwrap();
        let widths = bar_sizes(&svg, "width");
        assert_eq!(widths[1], 0.0);
        assert!(widths[0] > 0.0 && widths[0] <= 1.0, "{widths:?}");
        // Half the plot for half the time.
        assert!(widths[2] > 200.0 && widths[2] < 300.0, "{widths:?}");
        let labels = texts(&svg);
        for graduation in ["0", "25 %", "50 %", "75 %", "100 %"] {
            assert!(labels.iter().any(|l| l == graduation), "{labels:?}");
        }
        assert!(svg.contains("<title>Salle-01 : &lt; 1 %</title>"), "{svg}");
        // Alone, a tiny rate is still a tiny bar, not a full one.
        let alone = chart(Unit::Percent, Shape::Columns, bars(&[0.001]))
            .svg(SCREEN_HALF)
            .unwrap();
        assert!(bar_sizes(&alone, "height")[0] < 1.0);
    }

    #[test]
    fn a_period_without_data_draws_no_chart() {
        let cases = [
            (Unit::Count, Shape::Columns, bars(&[0.0; 30]), false),
            (Unit::Percent, Shape::Rows, bars(&[0.0, 0.0]), false),
            (Unit::Hours, Shape::Rows, Vec::new(), false),
            (Unit::Count, Shape::Columns, bars(&[0.0, 1.0]), true),
        ];
        for (unit, shape, bars, drawn) in cases {
            let svg = chart(unit, shape, bars).svg(SCREEN_WIDE);
            assert_eq!(svg.is_some(), drawn, "{unit:?} {shape:?}");
        }
    }

    #[test]
    fn thirty_days_are_labelled_without_overlap_ending_with_today() {
        let days = chart(Unit::Count, Shape::Columns, bars(&[1.0; 30]));
        for width in [SCREEN_WIDE, PAPER] {
            let svg = days.svg(width).unwrap();
            let labels: Vec<String> = texts(&svg)
                .into_iter()
                .filter(|text| text.ends_with("/11"))
                .collect();
            assert!(labels.len() < 30 && labels.len() >= 5, "{labels:?}");
            assert_eq!(labels.last().unwrap(), "30/11");
            // Labels are spread evenly, wide enough apart for their own width.
            let every = 29 / (labels.len() - 1);
            let step =
                (width - axis_width(&graduations(1.0, Unit::Count), Unit::Count) - 10.0) / 30.0;
            assert!(
                every as f64 * step >= text_width("30/11") + 8.0,
                "{width}: {labels:?}"
            );
        }
        // Twelve months fit whole on the screen.
        let months = chart(Unit::Count, Shape::Columns, bars(&[2.0; 12]));
        let svg = months.svg(SCREEN_WIDE).unwrap();
        assert_eq!(
            texts(&svg).iter().filter(|t| t.ends_with("/11")).count(),
            12
        );
    }

    #[test]
    fn labels_and_titles_are_escaped() {
        let mut hostile = bars(&[1.0]);
        hostile[0].label = "<script>alert(1)</script>".into();
        hostile[0].name = "\"><img src=x onerror=alert(1)>".into();
        for shape in [Shape::Columns, Shape::Rows] {
            let svg = chart(Unit::Count, shape, hostile.clone())
                .svg(SCREEN_HALF)
                .unwrap();
            assert!(!svg.contains("<script>"), "{svg}");
            assert!(!svg.contains("<img"), "{svg}");
            assert!(svg.contains("&lt;"), "{svg}");
        }
    }

    #[test]
    fn values_read_in_french() {
        assert_eq!(format_value(1.5, Unit::Hours), "1,5 h");
        assert_eq!(format_value(2.0, Unit::Hours), "2 h");
        assert_eq!(format_value(0.75, Unit::Hours), "45 min");
        assert_eq!(format_value(0.001, Unit::Hours), "< 1 min");
        assert_eq!(format_value(0.0, Unit::Hours), "0 h");
        assert_eq!(format_value(37.6, Unit::Percent), "38 %");
        assert_eq!(format_value(0.01, Unit::Percent), "< 1 %");
        assert_eq!(format_value(0.0, Unit::Percent), "0 %");
        assert_eq!(decimal(0.0004, 2), "0");
        assert_eq!(decimal(12.346, 2), "12,35");
    }
}
