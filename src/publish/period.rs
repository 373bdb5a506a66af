//! Digest periods in the configured time zone.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// How long a digest covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Daily,
    /// Monday to Sunday.
    #[default]
    Weekly,
}

impl PeriodKind {
    /// First day of the period that contains `day`.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            PeriodKind::Daily => day,
            PeriodKind::Weekly => {
                day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
            }
        }
    }

    /// First day of the period that contains `instant`, in `timezone`.
    pub fn start_at(self, instant: DateTime<Utc>, timezone: Tz) -> NaiveDate {
        self.start_of(instant.with_timezone(&timezone).date_naive())
    }

    /// Number of days in a period.
    pub fn days(self) -> i64 {
        match self {
            PeriodKind::Daily => 1,
            PeriodKind::Weekly => 7,
        }
    }

    /// The UTC instants `[from, to)` the period starting at `start` covers.
    pub fn bounds(self, start: NaiveDate, timezone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let end = start + Duration::days(self.days());
        (
            local_midnight(start, timezone),
            local_midnight(end, timezone),
        )
    }
}

/// The first instant of `day` in `timezone` (handles days that do not start
/// at 00:00 because of a DST change).
fn local_midnight(day: NaiveDate, timezone: Tz) -> DateTime<Utc> {
    let mut time = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..4 {
        if let Some(local) = timezone.from_local_datetime(&time).earliest() {
            return local.with_timezone(&Utc);
        }
        time += Duration::hours(1);
    }
    Utc.from_utc_datetime(&time)
}
