//! Counters for `GET /metrics` (Prometheus text format): decisions (refused tokens among
//! the RED ones) and scan latency.

use crate::scan::{Decision, ScanOutcome};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Scan counters.
#[derive(Debug, Default)]
pub struct Metrics {
    green: AtomicU64,
    red: AtomicU64,
    retry: AtomicU64,
    refused: AtomicU64,
    duration_us_total: AtomicU64,
    replayed: AtomicU64,
    selected: AtomicU64,
}

impl Metrics {
    /// Count one stored scan.
    pub fn record(&self, o: &ScanOutcome, took: Duration) {
        match o.decision {
            Decision::Green => self.green.fetch_add(1, Ordering::Relaxed),
            Decision::Red => self.red.fetch_add(1, Ordering::Relaxed),
            Decision::Retry => self.retry.fetch_add(1, Ordering::Relaxed),
        };
        if o.refused {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.duration_us_total.fetch_add(us, Ordering::Relaxed);
        if o.reasons.iter().any(|r| r.code == "token.replayed") {
            self.replayed.fetch_add(1, Ordering::Relaxed);
        }
        if o.reasons.iter().any(|r| r.code.starts_with("selection.")) {
            self.selected.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let g = self.green.load(Ordering::Relaxed);
        let r = self.red.load(Ordering::Relaxed);
        let mut s = String::new();
        let _ = writeln!(s, "# HELP gate_scans_total Scans decided, by decision.");
        let _ = writeln!(s, "# TYPE gate_scans_total counter");
        let _ = writeln!(s, "gate_scans_total{{decision=\"green\"}} {g}");
        let _ = writeln!(s, "gate_scans_total{{decision=\"red\"}} {r}");
        let _ = writeln!(
            s,
            "gate_scans_total{{decision=\"retry\"}} {}",
            self.retry.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP gate_scans_refused_total RED scans whose token was refused before it verified (no case)."
        );
        let _ = writeln!(s, "# TYPE gate_scans_refused_total counter");
        let _ = writeln!(
            s,
            "gate_scans_refused_total {}",
            self.refused.load(Ordering::Relaxed)
        );
        let _ = writeln!(s, "# TYPE gate_scans_replayed_total counter");
        let _ = writeln!(
            s,
            "gate_scans_replayed_total {}",
            self.replayed.load(Ordering::Relaxed)
        );
        let _ = writeln!(s, "# TYPE gate_scans_selected_total counter");
        let _ = writeln!(
            s,
            "gate_scans_selected_total {}",
            self.selected.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP gate_scan_duration_seconds_sum Time deciding and storing scans."
        );
        let _ = writeln!(s, "# TYPE gate_scan_duration_seconds_sum counter");
        let _ = writeln!(
            s,
            "gate_scan_duration_seconds_sum {:.6}",
            self.duration_us_total.load(Ordering::Relaxed) as f64 / 1e6
        );
        s
    }
}
