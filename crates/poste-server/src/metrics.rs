//! Prometheus metrics, in the text exposition format, served on `/metrics`: live connections
//! and workstations, running sessions, timer leases held, sessions started and ended (by reason), refused codes
//! (by reason), the lateness of every pushed warning and expiry, and the database's round trip.
//! A few atomics and fixed histogram buckets: no registry crate is needed for this many.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the lateness histogram, in seconds.
const LATENESS_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Debug, Default)]
pub struct Metrics {
    sessions_started: AtomicU64,
    sessions_ended: Mutex<BTreeMap<String, u64>>,
    codes_refused: Mutex<BTreeMap<String, u64>>,
    lateness: Mutex<Histogram>,
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: [u64; LATENESS_BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What is read at scrape time rather than counted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    pub connections: usize,
    pub workstations_online: usize,
    pub active_sessions: usize,
    /// Timer leases this instance holds (PostgreSQL, several instances; 0 on SQLite).
    pub timers_owned: u64,
    /// The database's round trip, None when it does not answer.
    pub database_secs: Option<f64>,
}

fn bump(map: &Mutex<BTreeMap<String, u64>>, key: &str) {
    let mut map = map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    *map.entry(key.to_owned()).or_default() += 1;
}

impl Metrics {
    pub fn session_started(&self) {
        self.sessions_started.fetch_add(1, Ordering::Relaxed);
    }

    /// `reason`: the protocol's end reason (`temps_expire`, …).
    pub fn session_ended(&self, reason: &str) {
        bump(&self.sessions_ended, reason);
    }

    /// `reason`: the protocol's refusal reason (`inconnu`, …).
    pub fn code_refused(&self, reason: &str) {
        bump(&self.codes_refused, reason);
    }

    /// How late a warning or an expiry was pushed, in milliseconds.
    pub fn timer_fired(&self, lateness_ms: i64) {
        let secs = lateness_ms.max(0) as f64 / 1000.0;
        let mut histogram = self
            .lateness
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (bucket, bound) in histogram.buckets.iter_mut().zip(LATENESS_BUCKETS) {
            if secs <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += secs;
    }

    /// The exposition text.
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, value: f64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        gauge(
            "poste_connections",
            "Open WebSocket connections.",
            gauges.connections as f64,
        );
        gauge(
            "poste_workstations_online",
            "Workstations with at least one live connection.",
            gauges.workstations_online as f64,
        );
        gauge(
            "poste_active_sessions",
            "Sessions running on this instance.",
            gauges.active_sessions as f64,
        );
        gauge(
            "poste_timers_owned",
            "Session timer leases this instance holds (PostgreSQL, several instances).",
            gauges.timers_owned as f64,
        );
        gauge(
            "poste_database_up",
            "1 when the database answered the scrape's ping.",
            if gauges.database_secs.is_some() {
                1.0
            } else {
                0.0
            },
        );
        if let Some(secs) = gauges.database_secs {
            gauge(
                "poste_database_ping_seconds",
                "Round trip of a trivial query at scrape time.",
                secs,
            );
        }
        let _ = writeln!(
            out,
            "# HELP poste_sessions_started_total Sessions started on this instance.\n\
             # TYPE poste_sessions_started_total counter\n\
             poste_sessions_started_total {}",
            self.sessions_started.load(Ordering::Relaxed)
        );
        labelled_counter(
            &mut out,
            "poste_sessions_ended_total",
            "Sessions ended, by reason.",
            "raison",
            &self.sessions_ended,
        );
        labelled_counter(
            &mut out,
            "poste_codes_refused_total",
            "Access codes refused, by reason.",
            "raison",
            &self.codes_refused,
        );
        let histogram = self
            .lateness
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let name = "poste_timer_lateness_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} How late warnings and expiries were pushed after their due instant.\n\
             # TYPE {name} histogram"
        );
        for (count, bound) in histogram.buckets.iter().zip(LATENESS_BUCKETS) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}",
            count = histogram.count,
            sum = histogram.sum
        );
        out
    }
}

fn labelled_counter(
    out: &mut String,
    name: &str,
    help: &str,
    label: &str,
    values: &Mutex<BTreeMap<String, u64>>,
) {
    let values = values
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (key, count) in values.iter() {
        // Label values come from our own enums; escape anyway.
        let key = key.replace('\\', "\\\\").replace('"', "\\\"");
        let _ = writeln!(out, "{name}{{{label}=\"{key}\"}} {count}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_the_histogram() {
        let metrics = Metrics::default();
        metrics.session_started();
        metrics.session_ended("temps_expire");
        metrics.session_ended("temps_expire");
        metrics.code_refused("inconnu");
        metrics.timer_fired(3);
        metrics.timer_fired(700);
        let text = metrics.render(Gauges {
            connections: 4,
            workstations_online: 3,
            active_sessions: 1,
            timers_owned: 2,
            database_secs: Some(0.002),
        });
        assert!(text.contains("poste_timers_owned 2\n"), "{text}");
        assert!(text.contains("poste_connections 4\n"), "{text}");
        assert!(text.contains("poste_workstations_online 3\n"));
        assert!(text.contains("poste_sessions_started_total 1\n"));
        assert!(text.contains("poste_sessions_ended_total{raison=\"temps_expire\"} 2\n"));
        assert!(text.contains("poste_codes_refused_total{raison=\"inconnu\"} 1\n"));
        assert!(text.contains("poste_timer_lateness_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("poste_timer_lateness_seconds_bucket{le=\"1\"} 2\n"));
        assert!(text.contains("poste_timer_lateness_seconds_count 2\n"));
        assert!(text.contains("poste_database_up 1\n"));
    }
}
