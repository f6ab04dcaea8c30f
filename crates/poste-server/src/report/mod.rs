//! The monthly report (issue #17, item 4): a month's sessions, hours, occupancy, use by visitor
//! category and busiest hours, with the statistics' charts ([`chart`], [`stats`], shared with
//! the console's « Statistiques »), laid out on A4 pages drawn as SVG and made a PDF ([`pdf`]).
//! The console serves it, and it is mailed on demand and each month ([`send`]).

pub mod chart;
pub mod month;
pub mod pdf;
pub mod send;
pub mod stats;

use std::collections::{BTreeMap, BTreeSet};

use jiff::tz::TimeZone;
use poste_store::{Millis, SpaceScope, Store, StoreError, UsageRow};

use crate::settings::Settings;
use crate::text::console as t;
use crate::text::report as rt;
use chart::{Bar, Chart, Shape, Unit, format_value};
use stats::{Bucket, Period, compute_stats, open_secs};

pub use month::{Month, MonthError};
pub use pdf::PdfError;

/// What a month's report says, ready to be drawn.
#[derive(Debug)]
pub struct MonthlyReport {
    pub site_name: String,
    pub month: Month,
    /// `du 01/11/2026 au 30/11/2026` (to today for the month in progress).
    pub dates: String,
    pub sessions: usize,
    pub hours: f64,
    /// Hours used over the hours the workstations could be used, in %; `None` without
    /// workstations or opening time.
    pub occupancy: Option<f64>,
    pub charts: Vec<Chart>,
    /// `Édité le 01/12/2026 08:00`.
    pub printed_on: String,
}

/// The days of `month` as the buckets of its time series (`1` … `30` under the bars).
fn day_buckets(month: Month, tz: &TimeZone) -> Vec<Bucket> {
    month
        .days()
        .into_iter()
        .map(|day| Bucket {
            start: month::midnight(day, tz),
            label: day.day().to_string(),
            name: day.strftime("%d/%m/%Y").to_string(),
        })
        .collect()
}

/// Registered visitors who came (had a session), counted once each, by category: what the
/// console's hours by category do not say.
fn visitors_by_category(rows: &[UsageRow]) -> Chart {
    let mut visitors: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for row in rows {
        if let Some(visitor) = row.visiteur_id {
            let category = row
                .categorie_nom
                .clone()
                .unwrap_or_else(|| t::STATS_NO_CATEGORY.to_owned());
            visitors.entry(category).or_default().insert(visitor);
        }
    }
    Chart {
        id: "visiteurs",
        title: rt::VISITORS_BY_CATEGORY,
        unit: Unit::Count,
        shape: Shape::Rows,
        wide: false,
        bars: visitors
            .into_iter()
            .map(|(category, ids)| Bar {
                label: category.clone(),
                name: category,
                value: ids.len() as f64,
            })
            .collect(),
    }
}

/// The figures of `month` as of `now` (a month still running is reported up to `now`), in
/// the spaces of `view`: the whole site's, consolidated, or some spaces' only. One space's
/// report bears its name and follows its calendar and time zone.
pub async fn build(
    store: &Store,
    settings: &Settings,
    month: Month,
    now: Millis,
    view: &SpaceScope,
) -> Result<MonthlyReport, StoreError> {
    let spaces = store.list_spaces().await?;
    let (settings, name) = match view {
        SpaceScope::Only(ids) if ids.len() == 1 && spaces.len() > 1 => (
            settings.for_space(ids[0]),
            crate::ops::spaces::public_name(&spaces, Some(ids[0]), &settings.site_name),
        ),
        SpaceScope::Only(ids) if spaces.len() > 1 => (
            settings,
            spaces
                .iter()
                .filter(|space| ids.contains(&space.id))
                .map(|space| space.nom.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => (settings, settings.site_name.clone()),
    };
    let tz = &settings.timezone;
    let from = month.start(tz);
    let until = month.end(tz).min(now).max(from);
    let mut rows = store.usage(from, until).await?;
    if let SpaceScope::Only(_) = view {
        rows.retain(|row| row.espace_id.is_some_and(|id| view.contains(id)));
    }
    let postes: Vec<String> = store
        .list_postes()
        .await?
        .into_iter()
        .filter(|p| view.contains(p.espace_id))
        .map(|p| p.nom)
        .collect();
    let buckets = day_buckets(month, tz);
    let open = open_secs(from, until, &settings.opening_hours, tz);
    let stats = compute_stats(
        &Period {
            rows: &rows,
            buckets: &buckets,
            postes: &postes,
            open_secs: open,
        },
        until,
        tz,
    );
    let mut charts = stats.charts;
    // Right after the hours by category.
    let at = charts
        .iter()
        .position(|chart| chart.id == "categories")
        .map_or(charts.len(), |index| index + 1);
    charts.insert(at, visitors_by_category(&rows));
    let capacity = open as f64 * postes.len() as f64;
    Ok(MonthlyReport {
        site_name: name,
        month,
        // Up to the last day counted: the month's last, or today for the month in progress.
        dates: rt::dates(
            &crate::clock::local_date(from, tz),
            &crate::clock::local_date((until - 1).max(from), tz),
        ),
        sessions: stats.sessions,
        occupancy: (capacity > 0.0).then(|| (stats.hours * 3600.0 / capacity * 100.0).min(100.0)),
        hours: stats.hours,
        charts,
        printed_on: t::printed_on(&crate::clock::local_datetime(now, tz)),
    })
}

// ----- pages ---------------------------------------------------------------------------------

/// A4 in SVG units (CSS pixels at 96 per inch) and the margins: the charts' paper width
/// ([`chart::PAPER`]) fills the line.
const PAGE_WIDTH: f64 = 794.0;
const PAGE_HEIGHT: f64 = 1123.0;
const MARGIN: f64 = (PAGE_WIDTH - chart::PAPER) / 2.0;
const TOP: f64 = 56.0;
/// Where the footer's line sits; nothing is drawn below it but the footer.
const BOTTOM: f64 = PAGE_HEIGHT - 60.0;
const INK: &str = "#1b1f24";
const SOFT: &str = "#4a5560";
const RULE: &str = "#d5dbe1";

/// One thing on a page: its SVG at the origin, and its height.
struct Block {
    height: f64,
    svg: String,
}

fn escape(text: &str) -> String {
    chart::escape(text)
}

impl MonthlyReport {
    /// `Rapport mensuel — novembre 2026`.
    pub fn title(&self) -> String {
        rt::title(&self.month.name())
    }

    /// `rapport-2026-11.pdf`.
    pub fn file_name(&self) -> String {
        rt::file_name(&self.month.to_string())
    }

    /// The space, the month and its key figures, at the top of the first page.
    fn heading(&self) -> Block {
        let mut svg = format!(
            "<text x=\"0\" y=\"24\" font-size=\"24\" font-weight=\"bold\">{site}</text>\
             <text x=\"0\" y=\"56\" font-size=\"18\">{title}</text>\
             <text x=\"0\" y=\"80\" font-size=\"13\" fill=\"{SOFT}\">{dates}</text>",
            site = escape(&self.site_name),
            title = escape(&self.title()),
            dates = escape(&self.dates),
        );
        let figures = [
            (rt::FIGURE_SESSIONS, self.sessions.to_string()),
            (rt::FIGURE_HOURS, format_value(self.hours, Unit::Hours)),
            (
                rt::FIGURE_OCCUPANCY,
                self.occupancy.map_or_else(
                    || rt::NO_FIGURE.to_owned(),
                    |rate| format_value(rate, Unit::Percent),
                ),
            ),
        ];
        let gap = 16.0;
        let width = (chart::PAPER - gap * 2.0) / 3.0;
        for (index, (label, value)) in figures.iter().enumerate() {
            let x = index as f64 * (width + gap);
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"100\" width=\"{width:.1}\" height=\"74\" rx=\"6\" \
                 fill=\"#f1f4f7\" stroke=\"{RULE}\"/>\
                 <text x=\"{tx:.1}\" y=\"140\" font-size=\"26\" font-weight=\"bold\">{value}</text>\
                 <text x=\"{tx:.1}\" y=\"163\" font-size=\"12\" fill=\"{SOFT}\">{label}</text>",
                tx = x + 14.0,
                value = escape(value),
                label = escape(label),
            ));
        }
        Block { height: 200.0, svg }
    }

    /// A chart under its title, or the title and « Aucune donnée » for an empty one.
    fn chart_block(chart: &Chart) -> Block {
        let title = format!(
            "<text x=\"0\" y=\"16\" font-size=\"15\" font-weight=\"bold\">{}</text>",
            escape(chart.title)
        );
        let drawn = chart
            .svg(chart::PAPER)
            .and_then(|svg| chart::view_box_height(&svg).map(|height| (svg, height)));
        match drawn {
            Some((svg, height)) => Block {
                height: 28.0 + height + 24.0,
                svg: format!(
                    "{title}{}",
                    svg.replacen(
                        "<svg ",
                        &format!(
                            "<svg x=\"0\" y=\"28\" width=\"{w:.0}\" height=\"{height:.0}\" ",
                            w = chart::PAPER
                        ),
                        1
                    )
                ),
            },
            None => Block {
                height: 28.0 + 20.0 + 24.0,
                svg: format!(
                    "{title}<text x=\"0\" y=\"46\" font-size=\"13\" fill=\"{SOFT}\">{}</text>",
                    escape(t::STATS_EMPTY)
                ),
            },
        }
    }

    /// The A4 pages, as SVG documents: the heading, then the charts in order, a new page
    /// when the next one does not fit; each page with its footer (`Page 1 / 2`).
    pub fn page_svgs(&self) -> Vec<String> {
        let mut pages: Vec<Vec<(f64, Block)>> = vec![Vec::new()];
        let mut y = TOP;
        let blocks =
            std::iter::once(self.heading()).chain(self.charts.iter().map(Self::chart_block));
        for block in blocks {
            let on_page = pages.last().is_some_and(|page| !page.is_empty());
            if on_page && y + block.height > BOTTOM {
                pages.push(Vec::new());
                y = TOP;
            }
            let height = block.height;
            if let Some(page) = pages.last_mut() {
                page.push((y, block));
            }
            y += height;
        }
        let count = pages.len();
        let footer = escape(&rt::footer(
            &self.site_name,
            &self.month.name(),
            &self.printed_on,
        ));
        pages
            .into_iter()
            .enumerate()
            .map(|(index, blocks)| {
                let mut svg = format!(
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"210mm\" height=\"297mm\" \
                     viewBox=\"0 0 {PAGE_WIDTH} {PAGE_HEIGHT}\" font-family=\"{font}\" \
                     fill=\"{INK}\"><rect width=\"{PAGE_WIDTH}\" height=\"{PAGE_HEIGHT}\" fill=\"#fff\"/>",
                    font = pdf::FONT_FAMILY,
                );
                for (y, block) in blocks {
                    svg.push_str(&format!(
                        "<g transform=\"translate({MARGIN:.1} {y:.1})\">{}</g>",
                        block.svg
                    ));
                }
                svg.push_str(&format!(
                    "<line x1=\"{MARGIN:.1}\" y1=\"{BOTTOM:.0}\" x2=\"{right:.1}\" y2=\"{BOTTOM:.0}\" stroke=\"{RULE}\"/>\
                     <text x=\"{MARGIN:.1}\" y=\"{fy:.0}\" font-size=\"10\" fill=\"{SOFT}\">{footer}</text>\
                     <text x=\"{right:.1}\" y=\"{fy:.0}\" font-size=\"10\" fill=\"{SOFT}\" text-anchor=\"end\">{page}</text></svg>",
                    right = PAGE_WIDTH - MARGIN,
                    fy = BOTTOM + 20.0,
                    page = escape(&rt::page_of(index + 1, count)),
                ));
                svg
            })
            .collect()
    }

    /// The report as a PDF document.
    pub fn pdf(&self) -> Result<Vec<u8>, PdfError> {
        pdf::pdf_of_pages(&self.page_svgs(), &self.title())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn report(charts: Vec<Chart>) -> MonthlyReport {
        MonthlyReport {
            site_name: "EPN <Saint-Denis>".to_owned(),
            month: Month::new(2026, 11).unwrap(),
            dates: "du 01/11/2026 au 30/11/2026".to_owned(),
            sessions: 42,
            hours: 31.5,
            occupancy: Some(12.0),
            charts,
            printed_on: "Édité le 01/12/2026 08:00".to_owned(),
        }
    }

    fn chart(id: &'static str, shape: Shape, bars: usize) -> Chart {
        Chart {
            id,
            title: "Titre",
            unit: Unit::Count,
            shape,
            wide: false,
            bars: (0..bars)
                .map(|i| Bar {
                    label: format!("P{i}"),
                    name: format!("Poste {i}"),
                    value: (i % 5) as f64,
                })
                .collect(),
        }
    }

    #[test]
    fn charts_flow_onto_as_many_pages_as_they_need_each_with_its_number() {
        let charts = vec![
            chart("a", Shape::Columns, 30),
            chart("b", Shape::Columns, 30),
            chart("c", Shape::Rows, 20),
            chart("d", Shape::Rows, 20),
            chart("e", Shape::Rows, 0),
        ];
        let pages = report(charts).page_svgs();
        assert_eq!(pages.len(), 3);
        assert!(pages[0].contains("EPN &lt;Saint-Denis&gt;"));
        assert!(pages[0].contains("Rapport mensuel — novembre 2026"));
        assert!(pages[2].contains("Page 3 / 3"));
        assert!(pages[2].contains(t::STATS_EMPTY));
        for page in &pages {
            assert!(page.starts_with("<svg xmlns"));
            assert!(page.contains("width=\"210mm\" height=\"297mm\""));
        }
    }

    #[test]
    fn visitors_are_counted_once_by_category_and_walk_ins_not_at_all() {
        let row = |visitor: Option<i64>, category: Option<&str>| UsageRow {
            session_id: 1,
            started_at: 0,
            ended_at: Some(60_000),
            total_secs: 3600,
            poste_id: None,
            poste_nom: None,
            espace_id: Some(1),
            visiteur_id: visitor,
            categorie_nom: category.map(str::to_owned),
            atelier: None,
        };
        let rows = [
            row(Some(1), Some("Jeunes")),
            row(Some(1), Some("Jeunes")),
            row(Some(2), Some("Jeunes")),
            row(Some(3), None),
            row(None, None),
        ];
        let chart = visitors_by_category(&rows);
        let bars: Vec<(&str, f64)> = chart
            .bars
            .iter()
            .map(|bar| (bar.label.as_str(), bar.value))
            .collect();
        assert_eq!(bars, [("Jeunes", 2.0), (t::STATS_NO_CATEGORY, 1.0)]);
        assert!(visitors_by_category(&[row(None, None)]).is_empty());
    }

    #[test]
    fn the_report_is_a_pdf_of_its_pages() {
        let pdf = report(vec![chart("a", Shape::Columns, 30)]).pdf().unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
