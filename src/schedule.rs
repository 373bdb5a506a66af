//! Cron schedules as operators write them. The `cron` crate wants a seconds
//! field first and numbers weekdays 1=Sunday..7=Saturday, while every
//! crontab an operator has seen numbers them 0=Sunday..6=Saturday (7 is
//! Sunday too). This module accepts ordinary crontab lines, checks each field
//! itself so errors can name the field and value, and hands the crate an
//! expression with explicit values, so the two numberings never mix.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::str::FromStr;

/// Why a cron expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("empty cron expression")]
    Empty,
    #[error(
        "expected 5 fields (minute hour day-of-month month day-of-week), \
         6 or 7 with seconds first, or @hourly/@daily/@weekly/@monthly/@yearly; got {count} in {expr:?}"
    )]
    FieldCount { count: usize, expr: String },
    #[error(
        "unknown shorthand {0:?} (use @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually)"
    )]
    UnknownShorthand(String),
    #[error("{field} field {value:?}: {reason}")]
    Field {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("{0}")]
    Cron(String),
}

/// A parsed cron schedule; keeps the text the user wrote.
#[derive(Debug, Clone)]
pub struct Schedule {
    text: String,
    /// One schedule, or two when both day-of-month and day-of-week are
    /// restricted: crontab then fires when *either* matches, the crate only
    /// when both do, so each half gets its own schedule.
    parts: Vec<cron::Schedule>,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Schedule {
    type Err = ScheduleError;
    fn from_str(expr: &str) -> Result<Self, Self::Err> {
        Schedule::parse(expr)
    }
}

/// The range and names of one cron field.
struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// Value of `names[0]`.
    names_start: u32,
}

const SECOND: FieldSpec = FieldSpec::numeric("second", 0, 59);
const MINUTE: FieldSpec = FieldSpec::numeric("minute", 0, 59);
const HOUR: FieldSpec = FieldSpec::numeric("hour", 0, 23);
const DAY_OF_MONTH: FieldSpec = FieldSpec::numeric("day-of-month", 1, 31);
const MONTH: FieldSpec = FieldSpec {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
    names_start: 1,
};
/// Crontab weekdays: 0 and 7 are Sunday.
const DAY_OF_WEEK: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    names_start: 0,
};
/// Weekday names the `cron` crate understands, indexed by crontab number.
const CRATE_WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl FieldSpec {
    const fn numeric(name: &'static str, min: u32, max: u32) -> FieldSpec {
        FieldSpec {
            name,
            min,
            max,
            names: &[],
            names_start: 0,
        }
    }

    fn error(&self, value: &str, reason: impl Into<String>) -> ScheduleError {
        ScheduleError::Field {
            field: self.name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// One number or name, checked against the field's range.
    fn value(&self, field: &str, token: &str) -> Result<u32, ScheduleError> {
        if let Ok(number) = token.parse::<u32>() {
            if number < self.min || number > self.max {
                return Err(self.error(
                    field,
                    format!("{number} is out of range {}-{}", self.min, self.max),
                ));
            }
            return Ok(number);
        }
        let upper = token.to_ascii_uppercase();
        match self.names.iter().position(|name| *name == upper) {
            Some(index) => Ok(self.names_start + index as u32),
            None if self.names.is_empty() => Err(self.error(
                field,
                format!("{token:?} is not a number in {}-{}", self.min, self.max),
            )),
            None => Err(self.error(
                field,
                format!(
                    "{token:?} is neither a number in {}-{} nor one of {}",
                    self.min,
                    self.max,
                    self.names.join(",")
                ),
            )),
        }
    }

    /// The set of values a whole field (`1-5`, `*/15`, `MON,WED`, ...) selects.
    fn expand(&self, field: &str) -> Result<Vec<bool>, ScheduleError> {
        let mut selected = vec![false; self.max as usize + 1];
        for part in field.split(',') {
            if part.is_empty() {
                return Err(self.error(field, "empty list element"));
            }
            let (range, step) = match part.split_once('/') {
                Some((range, step)) => (range, Some(self.step(field, step)?)),
                None => (part, None),
            };
            let (start, end) = self.range(field, range, step.is_some())?;
            let step = step.unwrap_or(1) as usize;
            for value in (start..=end).step_by(step) {
                selected[value as usize] = true;
            }
        }
        Ok(selected)
    }

    fn step(&self, field: &str, step: &str) -> Result<u32, ScheduleError> {
        match step.parse::<u32>() {
            Ok(0) => Err(self.error(field, "step must not be 0")),
            Ok(step) => Ok(step),
            Err(_) => Err(self.error(field, format!("step {step:?} is not a number"))),
        }
    }

    /// `*`, `N`, `N-M`; a lone `N` with a step runs to the field's maximum.
    fn range(&self, field: &str, range: &str, stepped: bool) -> Result<(u32, u32), ScheduleError> {
        if range == "*" || range == "?" {
            return Ok((self.min, self.max));
        }
        if let Some((start, end)) = range.split_once('-') {
            let (start, end) = (self.value(field, start)?, self.value(field, end)?);
            if start > end {
                return Err(self.error(field, format!("range {range} runs backwards")));
            }
            return Ok((start, end));
        }
        let start = self.value(field, range)?;
        Ok((start, if stepped { self.max } else { start }))
    }

    /// The field in the crate's syntax, as an explicit list of values.
    fn to_crate(&self, field: &str) -> Result<String, ScheduleError> {
        let selected = self.expand(field)?;
        if is_unrestricted(field) {
            return Ok("*".to_string());
        }
        let values = selected
            .iter()
            .enumerate()
            .filter(|(_, on)| **on)
            .map(|(value, _)| value.to_string());
        Ok(values.collect::<Vec<_>>().join(","))
    }

    /// The weekday field in the crate's syntax: names, never numbers.
    fn weekdays_to_crate(&self, field: &str) -> Result<String, ScheduleError> {
        let selected = self.expand(field)?;
        if is_unrestricted(field) {
            return Ok("*".to_string());
        }
        let days = CRATE_WEEKDAYS
            .iter()
            .enumerate()
            // 7 is Sunday as well as 0.
            .filter(|(day, _)| selected[*day] || (*day == 0 && selected[7]))
            .map(|(_, name)| *name);
        Ok(days.collect::<Vec<_>>().join(","))
    }
}

/// `*` or `?`: the field does not restrict anything.
fn is_unrestricted(field: &str) -> bool {
    field == "*" || field == "?"
}

/// The crate's fields for a crontab shorthand.
fn shorthand(expr: &str) -> Result<[&'static str; 5], ScheduleError> {
    let fields = match expr.to_ascii_lowercase().as_str() {
        "@hourly" => ["0", "*", "*", "*", "*"],
        "@daily" | "@midnight" => ["0", "0", "*", "*", "*"],
        "@weekly" => ["0", "0", "*", "*", "0"],
        "@monthly" => ["0", "0", "1", "*", "*"],
        "@yearly" | "@annually" => ["0", "0", "1", "1", "*"],
        _ => return Err(ScheduleError::UnknownShorthand(expr.to_string())),
    };
    Ok(fields)
}

impl Schedule {
    /// Parse a crontab line: 5 fields (`*/30 * * * *`, `0 8 * * 1-5`),
    /// 6 or 7 with seconds first (and a year last), or an `@` shorthand.
    /// Weekdays are numbered as crontab does in every form: 0 or 7 is
    /// Sunday; names (`MON`, `JAN`) are accepted.
    pub fn parse(expr: &str) -> Result<Schedule, ScheduleError> {
        let text = expr.trim();
        if text.is_empty() {
            return Err(ScheduleError::Empty);
        }
        let owned: Vec<&str>;
        let fields: &[&str] = if text.starts_with('@') {
            owned = shorthand(text)?.to_vec();
            &owned
        } else {
            owned = text.split_whitespace().collect();
            &owned
        };
        let (seconds, rest) = match fields.len() {
            5 => ("0", fields),
            6 | 7 => (fields[0], &fields[1..]),
            count => {
                return Err(ScheduleError::FieldCount {
                    count,
                    expr: text.to_string(),
                })
            }
        };
        let parts = build_parts(seconds, rest)?;
        Ok(Schedule {
            text: expr.to_string(),
            parts,
        })
    }

    /// The expression exactly as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first firing strictly after `after`, with the fields read as
    /// wall-clock time in `tz`. `None` if the schedule never fires again
    /// (e.g. a past year, or 31 February).
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&tz);
        self.parts
            .iter()
            .filter_map(|part| part.after(&local).next())
            .map(|next| next.with_timezone(&Utc))
            .min()
    }
}

/// `rest` is minute, hour, day-of-month, month, day-of-week [, year].
fn build_parts(seconds: &str, rest: &[&str]) -> Result<Vec<cron::Schedule>, ScheduleError> {
    let [minute, hour, dom, month, dow] = [rest[0], rest[1], rest[2], rest[3], rest[4]];
    let year = rest.get(5).copied();
    let head = [
        SECOND.to_crate(seconds)?,
        MINUTE.to_crate(minute)?,
        HOUR.to_crate(hour)?,
    ]
    .join(" ");
    let dom = DAY_OF_MONTH.to_crate(dom)?;
    let month = MONTH.to_crate(month)?;
    let dow = DAY_OF_WEEK.weekdays_to_crate(dow)?;
    let tail = year.map(|year| format!(" {year}")).unwrap_or_default();
    let line = |dom: &str, dow: &str| format!("{head} {dom} {month} {dow}{tail}");
    let lines = if dom != "*" && dow != "*" {
        vec![line(&dom, "*"), line("*", &dow)]
    } else {
        vec![line(&dom, &dow)]
    };
    lines
        .iter()
        .map(|line| {
            cron::Schedule::from_str(line).map_err(|error| ScheduleError::Cron(error.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn shanghai(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn next(expr: &str, after: DateTime<Utc>) -> DateTime<Utc> {
        let schedule = Schedule::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        schedule
            .next_after(after, chrono_tz::Asia::Shanghai)
            .unwrap_or_else(|| panic!("{expr} never fires"))
    }

    #[test]
    fn weekdays_from_saturday_gives_monday_8am_in_shanghai() {
        // 2024-06-15 is a Saturday.
        let saturday = shanghai(2024, 6, 15, 10, 0);
        assert_eq!(next("0 8 * * 1-5", saturday), shanghai(2024, 6, 17, 8, 0));
        assert_eq!(
            next("0 8 * * MON-FRI", saturday),
            shanghai(2024, 6, 17, 8, 0)
        );
    }

    #[test]
    fn zero_and_seven_are_sunday() {
        let saturday = shanghai(2024, 6, 15, 10, 0);
        let sunday_9 = shanghai(2024, 6, 16, 9, 0);
        assert_eq!(next("0 9 * * 0", saturday), sunday_9);
        assert_eq!(next("0 9 * * 7", saturday), sunday_9);
        assert_eq!(next("0 9 * * sun", saturday), sunday_9);
        // `5-7` is Friday to Sunday.
        assert_eq!(next("0 9 * * 5-7", saturday), sunday_9);
    }

    #[test]
    fn every_half_hour_fires_on_the_hour_and_half_hour() {
        let start = shanghai(2024, 6, 15, 10, 7);
        let first = next("*/30 * * * *", start);
        let second = next("*/30 * * * *", first);
        let third = next("*/30 * * * *", second);
        assert_eq!(first, shanghai(2024, 6, 15, 10, 30));
        assert_eq!(second, shanghai(2024, 6, 15, 11, 0));
        assert_eq!(third, shanghai(2024, 6, 15, 11, 30));
    }

    #[test]
    fn daily_fires_at_local_midnight() {
        let start = shanghai(2024, 6, 15, 10, 7);
        assert_eq!(next("@daily", start), shanghai(2024, 6, 16, 0, 0));
        assert_eq!(next("@midnight", start), shanghai(2024, 6, 16, 0, 0));
        assert_eq!(next("@hourly", start), shanghai(2024, 6, 15, 11, 0));
        // @weekly is Sunday midnight, as in crontab.
        assert_eq!(next("@weekly", start), shanghai(2024, 6, 16, 0, 0));
        assert_eq!(next("@annually", start), shanghai(2025, 1, 1, 0, 0));
    }

    #[test]
    fn six_and_seven_fields_have_seconds_first() {
        let start = shanghai(2024, 6, 15, 10, 7);
        let six = next("30 0 12 * * *", start);
        assert_eq!(
            six,
            shanghai(2024, 6, 15, 12, 0) + chrono::Duration::seconds(30)
        );
        assert_eq!(
            next("0 0 12 1 JAN * 2026", start),
            shanghai(2026, 1, 1, 12, 0)
        );
    }

    #[test]
    fn day_of_month_or_day_of_week_as_in_crontab() {
        // The 1st of the month or any Monday, whichever comes first.
        let start = shanghai(2024, 6, 15, 10, 0);
        assert_eq!(next("0 8 1 * 1", start), shanghai(2024, 6, 17, 8, 0));
        let after_monday = shanghai(2024, 6, 25, 10, 0);
        assert_eq!(next("0 8 1 * 1", after_monday), shanghai(2024, 7, 1, 8, 0));
    }

    #[test]
    fn lists_steps_and_month_names() {
        let start = shanghai(2024, 6, 15, 10, 0);
        assert_eq!(
            next("15,45 9-17/4 * * *", start),
            shanghai(2024, 6, 15, 13, 15)
        );
        assert_eq!(next("0 0 1 dec *", start), shanghai(2024, 12, 1, 0, 0));
    }

    #[test]
    fn time_zone_is_applied() {
        let utc_noon = Utc.from_utc_datetime(
            &NaiveDate::from_ymd_opt(2024, 6, 15)
                .unwrap_or_default()
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
        );
        let schedule = Schedule::parse("0 8 * * *").unwrap_or_else(|e| panic!("{e}"));
        let in_utc = schedule.next_after(utc_noon, chrono_tz::UTC);
        let in_shanghai = schedule.next_after(utc_noon, chrono_tz::Asia::Shanghai);
        assert_eq!(in_utc, Some(utc_noon + chrono::Duration::hours(8)));
        assert_eq!(in_shanghai, Some(utc_noon + chrono::Duration::hours(24)));
    }

    #[test]
    fn keeps_the_users_text() {
        let schedule = Schedule::parse("0 8 * * 1-5").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(schedule.as_str(), "0 8 * * 1-5");
        assert_eq!(
            schedule,
            Schedule::parse("0 8 * * 1-5").unwrap_or_else(|e| panic!("{e}"))
        );
    }

    fn error(expr: &str) -> String {
        match Schedule::parse(expr) {
            Ok(schedule) => panic!("{expr} was accepted as {schedule:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn errors_name_the_field_and_value() {
        let minute = error("61 * * * *");
        assert!(
            minute.contains("minute") && minute.contains("61"),
            "{minute}"
        );
        let count = error("* * *");
        assert!(count.contains("got 3"), "{count}");
        let weekday = error("0 8 * * 8");
        assert!(
            weekday.contains("day-of-week") && weekday.contains('8'),
            "{weekday}"
        );
        let name = error("0 8 * * MOX");
        assert!(name.contains("MOX"), "{name}");
        assert!(error("*/0 * * * *").contains("step"));
        assert!(error("0 8 * * 5-1").contains("backwards"));
        assert!(error("@fortnightly").contains("@fortnightly"));
        assert!(error("0 25 * * *").contains("hour"));
        assert!(error("0 0 0 * *").contains("day-of-month"));
        assert!(error("0 0 1 13 *").contains("month"));
        assert!(error("1,,2 * * * *").contains("empty"));
        assert_eq!(Schedule::parse("  "), Err(ScheduleError::Empty));
    }
}
