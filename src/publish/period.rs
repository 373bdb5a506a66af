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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn sunday_late_evening_in_shanghai_belongs_to_that_week() {
        // 2022-12-25 is a Sunday; 23:30 in Shanghai is 15:30 UTC.
        let local = Asia::Shanghai
            .with_ymd_and_hms(2022, 12, 25, 23, 30, 0)
            .unwrap();
        let start = PeriodKind::Weekly.start_at(local.with_timezone(&Utc), Asia::Shanghai);
        assert_eq!(start, day(2022, 12, 19));
    }

    #[test]
    fn sunday_utc_evening_is_monday_in_shanghai_so_next_week() {
        let instant = Utc.with_ymd_and_hms(2022, 12, 25, 17, 0, 0).unwrap();
        assert_eq!(
            PeriodKind::Weekly.start_at(instant, Asia::Shanghai),
            day(2022, 12, 26)
        );
        assert_eq!(
            PeriodKind::Weekly.start_at(instant, chrono_tz::UTC),
            day(2022, 12, 19)
        );
        assert_eq!(
            PeriodKind::Daily.start_at(instant, Asia::Shanghai),
            day(2022, 12, 26)
        );
    }

    #[test]
    fn weekly_bounds_in_shanghai_are_local_midnights() {
        let (from, to) = PeriodKind::Weekly.bounds(day(2022, 12, 19), Asia::Shanghai);
        assert_eq!(from, Utc.with_ymd_and_hms(2022, 12, 18, 16, 0, 0).unwrap());
        assert_eq!(to, Utc.with_ymd_and_hms(2022, 12, 25, 16, 0, 0).unwrap());
    }

    #[test]
    fn berlin_week_with_dst_change_is_an_hour_short() {
        // Clocks went forward on Sunday 2023-03-26 at 02:00 in Berlin.
        let (from, to) = PeriodKind::Weekly.bounds(day(2023, 3, 20), Europe::Berlin);
        assert_eq!(from, Utc.with_ymd_and_hms(2023, 3, 19, 23, 0, 0).unwrap());
        assert_eq!(to, Utc.with_ymd_and_hms(2023, 3, 26, 22, 0, 0).unwrap());
        assert_eq!((to - from).num_hours(), 7 * 24 - 1);
    }

    #[test]
    fn every_hour_of_a_dst_year_falls_inside_its_period() {
        for zone in [Europe::Berlin, America::Sao_Paulo, America::Havana] {
            for kind in [PeriodKind::Daily, PeriodKind::Weekly] {
                let mut instant = Utc.with_ymd_and_hms(2018, 1, 1, 0, 30, 0).unwrap();
                while instant.year() < 2019 {
                    let start = kind.start_at(instant, zone);
                    let (from, to) = kind.bounds(start, zone);
                    assert!(from <= instant && instant < to, "{zone} {kind:?} {instant}");
                    instant += Duration::hours(1);
                }
            }
        }
    }

    #[test]
    fn day_without_a_midnight_starts_at_its_first_instant() {
        // São Paulo skipped 2018-11-04 00:00-00:59 (DST began at midnight).
        let (from, _) = PeriodKind::Daily.bounds(day(2018, 11, 4), America::Sao_Paulo);
        assert_eq!(from, Utc.with_ymd_and_hms(2018, 11, 4, 3, 0, 0).unwrap());
    }
}
