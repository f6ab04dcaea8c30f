//! `poste-history` writes a past that reads as a space's: sessions only within the opening
//! hours it also sets, none on a closed day, never two at once on a workstation, each with its
//! workstation, most with a visitor's category, and all of them ended.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::tz::TimeZone;
use poste_loadgen::history::{HistoryPlan, opening_hours_setting, write_history};
use poste_store::Store;

#[tokio::test]
async fn five_weeks_of_history_stay_within_the_hours_and_never_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("h.sqlite").display());
    let tz = TimeZone::get("Indian/Reunion").unwrap();
    // Friday 2026-12-04, 12:00 in La Réunion.
    let now = "2026-12-04T08:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond();
    let plan = HistoryPlan {
        database: database.clone(),
        days: 35,
        now,
        tz: tz.clone(),
        workstations: 3,
        set_opening_hours: true,
        seed: 1,
    };
    let report = write_history(&plan).await.unwrap();
    assert_eq!((report.workstations, report.visitors), (3, 20));
    // 30 open days, 3 workstations, a few sessions each a day.
    assert!(
        report.sessions > 150 && report.sessions < 1000,
        "{report:?}"
    );

    let store = Store::connect(&database, "test").await.unwrap();
    let settings = store.settings().await.unwrap();
    assert!(settings.contains(&("opening_hours".to_owned(), opening_hours_setting())));
    let rows = store.usage(now - 40 * 86_400_000, now).await.unwrap();
    assert_eq!(rows.len() as u64, report.sessions);
    let with_category = rows.iter().filter(|r| r.categorie_nom.is_some()).count();
    assert!(
        with_category * 2 > rows.len(),
        "most sessions are registered visitors'"
    );
    let mut last_end = std::collections::HashMap::new();
    for row in &rows {
        let ended = row.ended_at.expect("every session of the past ended");
        assert!(ended > row.started_at && ended - row.started_at <= row.total_secs * 1000);
        let start = jiff::Timestamp::from_millisecond(row.started_at)
            .unwrap()
            .to_zoned_datetime(tz.clone());
        let end = jiff::Timestamp::from_millisecond(ended)
            .unwrap()
            .to_zoned_datetime(tz.clone());
        assert_ne!(start.weekday(), jiff::civil::Weekday::Sunday);
        assert_eq!(start.date(), end.date());
        let (open, close) = match start.weekday() {
            jiff::civil::Weekday::Monday => ((13, 0), (17, 30)),
            jiff::civil::Weekday::Saturday => ((9, 0), (12, 30)),
            _ => ((9, 0), (17, 30)),
        };
        let hm = |z: &jiff::ZonedDateTime| (z.hour(), z.minute());
        assert!(hm(&start) >= open && hm(&end) <= close, "{start} – {end}");
        let poste = row.poste_id.expect("on a workstation");
        if let Some(previous) = last_end.insert(poste, ended) {
            assert!(
                row.started_at >= previous,
                "two sessions at once on {poste}"
            );
        }
    }
    store.close().await;
}
