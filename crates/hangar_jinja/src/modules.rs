//! `modules.datetime` and `modules.re`, the parts dbt projects use.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use minijinja::value::{DynObject, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};
use regex::Regex;

use crate::context::{arg, split_args};

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// The `modules` context variable.
#[derive(Debug)]
pub(crate) struct Modules;

impl Object for Modules {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "datetime" => Some(Value::from_object(DatetimeModule)),
            "re" => Some(Value::from_object(ReModule)),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct DatetimeModule;

impl Object for DatetimeModule {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "datetime" => Some(Value::from_object(DatetimeClass { date_only: false })),
            "date" => Some(Value::from_object(DatetimeClass { date_only: true })),
            "timedelta" => Some(Value::from_object(TimedeltaClass)),
            _ => None,
        }
    }
}

const MAX_MICROS: f64 = i64::MAX as f64;
const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// `datetime.timedelta`.
#[derive(Debug)]
struct TimedeltaClass;

impl Object for TimedeltaClass {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        timedelta(args)
    }
}

/// `datetime.timedelta(days, seconds, microseconds, milliseconds, minutes,
/// hours, weeks)`, by position or keyword as in Python.
fn timedelta(args: &[Value]) -> Result<Value, Error> {
    let (pos, kw) = split_args(args);
    const PARTS: [(&str, f64); 7] = [
        ("days", 86_400e6),
        ("seconds", 1e6),
        ("microseconds", 1.0),
        ("milliseconds", 1e3),
        ("minutes", 60e6),
        ("hours", 3_600e6),
        ("weeks", 604_800e6),
    ];
    if let Some((k, _)) = kw.iter().find(|(k, _)| !PARTS.iter().any(|(p, _)| p == k)) {
        return Err(bad(format!(
            "timedelta() got an unexpected keyword argument '{k}'"
        )));
    }
    let mut micros = 0.0;
    for (idx, (name, scale)) in PARTS.iter().enumerate() {
        let Some(v) = arg(&pos, &kw, name, idx) else {
            continue;
        };
        let n = match v.kind() {
            ValueKind::Number | ValueKind::Bool => f64::try_from(v)?,
            _ => {
                return Err(bad(format!(
                    "unsupported type for timedelta {name} component: {}",
                    v.kind()
                )));
            }
        };
        micros += n * scale;
    }
    Timedelta::from_micros_f64(micros.round())
}

/// A Python `timedelta`, kept in microseconds like CPython.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timedelta(i64);

impl Timedelta {
    /// Microseconds are kept in an `i64`, about ±292,000 years: more than
    /// any two datetimes (years 1 to 9999) are apart.
    fn from_micros_f64(micros: f64) -> Result<Value, Error> {
        if !micros.is_finite() || micros.abs() >= MAX_MICROS {
            return Err(bad("timedelta out of range"));
        }
        Ok(Self::from_micros(micros as i64))
    }

    fn from_micros(micros: i64) -> Value {
        Value::from_object(Timedelta(micros))
    }

    /// Python's `repr()`: `datetime.timedelta(days=1, seconds=5)`.
    pub(crate) fn python_repr(self) -> String {
        let parts: Vec<String> = [
            ("days", self.days()),
            ("seconds", self.seconds()),
            ("microseconds", self.microseconds()),
        ]
        .iter()
        .filter(|(_, n)| *n != 0)
        .map(|(name, n)| format!("{name}={n}"))
        .collect();
        if parts.is_empty() {
            "datetime.timedelta(0)".into()
        } else {
            format!("datetime.timedelta({})", parts.join(", "))
        }
    }

    fn days(self) -> i64 {
        self.0.div_euclid(MICROS_PER_DAY)
    }

    fn seconds(self) -> i64 {
        self.0.rem_euclid(MICROS_PER_DAY) / MICROS_PER_SECOND
    }

    fn microseconds(self) -> i64 {
        self.0.rem_euclid(MICROS_PER_SECOND)
    }
}

impl Object for Timedelta {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn is_true(self: &Arc<Self>) -> bool {
        self.0 != 0
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "days" => Some(Value::from(self.days())),
            "seconds" => Some(Value::from(self.seconds())),
            "microseconds" => Some(Value::from(self.microseconds())),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "total_seconds" => Ok(Value::from(self.0 as f64 / MICROS_PER_SECOND as f64)),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        Some(self.0.cmp(&other.downcast_ref::<Self>()?.0))
    }

    /// Python's `str(timedelta)`: `3 days, 4:05:06.000007`.
    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = self.days();
        if days != 0 {
            let plural = if days.abs() != 1 { "s" } else { "" };
            write!(f, "{days} day{plural}, ")?;
        }
        let seconds = self.seconds();
        write!(
            f,
            "{}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )?;
        match self.microseconds() {
            0 => Ok(()),
            micros => write!(f, ".{micros:06}"),
        }
    }
}

/// A datetime-module value taking part in `+` or `-`.
enum Temporal<'a> {
    DateTime(&'a DateTime),
    Delta(Timedelta),
}

fn temporal(v: &Value) -> Option<Temporal<'_>> {
    if let Some(dt) = v.downcast_object_ref::<DateTime>() {
        return Some(Temporal::DateTime(dt));
    }
    v.downcast_object_ref::<Timedelta>()
        .map(|td| Temporal::Delta(*td))
}

/// Python's name for an operand type, for error messages.
fn python_type(v: &Value) -> String {
    match temporal(v) {
        Some(Temporal::DateTime(dt)) if dt.date_only => "datetime.date".into(),
        Some(Temporal::DateTime(_)) => "datetime.datetime".into(),
        Some(Temporal::Delta(_)) => "datetime.timedelta".into(),
        None => v.kind().to_string(),
    }
}

fn unsupported(op: char, lhs: &Value, rhs: &Value) -> Error {
    bad(format!(
        "unsupported operand type(s) for {op}: '{}' and '{}'",
        python_type(lhs),
        python_type(rhs)
    ))
}

/// `lhs + rhs` when either side is a datetime or timedelta; `None` leaves
/// other values to the ordinary operator.
pub(crate) fn temporal_add(lhs: &Value, rhs: &Value) -> Option<Result<Value, Error>> {
    let result = match (temporal(lhs), temporal(rhs)) {
        (None, None) => return None,
        (Some(Temporal::DateTime(dt)), Some(Temporal::Delta(td)))
        | (Some(Temporal::Delta(td)), Some(Temporal::DateTime(dt))) => dt.shifted(td, false),
        (Some(Temporal::Delta(a)), Some(Temporal::Delta(b))) => {
            a.0.checked_add(b.0)
                .map(Timedelta::from_micros)
                .ok_or_else(|| bad("timedelta out of range"))
        }
        _ => Err(unsupported('+', lhs, rhs)),
    };
    Some(result)
}

/// `lhs - rhs` when either side is a datetime or timedelta.
pub(crate) fn temporal_sub(lhs: &Value, rhs: &Value) -> Option<Result<Value, Error>> {
    let result = match (temporal(lhs), temporal(rhs)) {
        (None, None) => return None,
        (Some(Temporal::DateTime(dt)), Some(Temporal::Delta(td))) => dt.shifted(td, true),
        (Some(Temporal::DateTime(a)), Some(Temporal::DateTime(b))) => a.difference(b, lhs, rhs),
        (Some(Temporal::Delta(a)), Some(Temporal::Delta(b))) => {
            a.0.checked_sub(b.0)
                .map(Timedelta::from_micros)
                .ok_or_else(|| bad("timedelta out of range"))
        }
        _ => Err(unsupported('-', lhs, rhs)),
    };
    Some(result)
}

#[derive(Debug)]
struct DatetimeClass {
    date_only: bool,
}

impl Object for DatetimeClass {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (pos, kw) = split_args(args);
        let part = |name: &str, idx: usize, default: i64| {
            arg(&pos, &kw, name, idx)
                .and_then(|v| v.as_i64())
                .unwrap_or(default)
        };
        let date = NaiveDate::from_ymd_opt(
            part("year", 0, 1) as i32,
            part("month", 1, 1) as u32,
            part("day", 2, 1) as u32,
        )
        .ok_or_else(|| bad("date out of range"))?;
        let dt = date
            .and_hms_micro_opt(
                part("hour", 3, 0) as u32,
                part("minute", 4, 0) as u32,
                part("second", 5, 0) as u32,
                part("microsecond", 6, 0) as u32,
            )
            .ok_or_else(|| bad("time out of range"))?;
        Ok(DateTime::build(dt, false, self.date_only))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (pos, _) = split_args(args);
        let text = |i: usize| pos.get(i).map(|v| v.to_string()).unwrap_or_default();
        match method {
            "now" | "today" => Ok(DateTime::build(
                chrono::Local::now().naive_local(),
                false,
                self.date_only,
            )),
            "utcnow" => Ok(DateTime::build(
                chrono::Utc::now().naive_utc(),
                false,
                self.date_only,
            )),
            "strptime" => {
                let fmt = text(1).replace("%f", "%6f");
                NaiveDateTime::parse_from_str(&text(0), &fmt)
                    .or_else(|_| {
                        NaiveDate::parse_from_str(&text(0), &fmt)
                            .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
                    })
                    .map(|dt| DateTime::build(dt, false, false))
                    .map_err(|e| bad(format!("strptime: {e}")))
            }
            "fromisoformat" => {
                let s = text(0);
                NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f")
                    .or_else(|_| NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f"))
                    .map(|dt| DateTime::build(dt, false, false))
                    .or_else(|_| {
                        NaiveDate::parse_from_str(&s, "%Y-%m-%d").map(|d| {
                            DateTime::build(d.and_hms_opt(0, 0, 0).unwrap_or_default(), false, true)
                        })
                    })
                    .map_err(|e| bad(format!("fromisoformat: {e}")))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A Python `datetime` (or `date` when `date_only`).
#[derive(Debug)]
pub(crate) struct DateTime {
    dt: NaiveDateTime,
    /// Timezone-aware UTC (prints `+00:00`).
    aware: bool,
    date_only: bool,
}

impl DateTime {
    pub fn value(dt: NaiveDateTime, aware: bool) -> Value {
        Self::build(dt, aware, false)
    }

    /// A date keeps no time of day, so date arithmetic and comparisons see
    /// whole days.
    fn build(dt: NaiveDateTime, aware: bool, date_only: bool) -> Value {
        let dt = if date_only {
            dt.date().and_time(chrono::NaiveTime::MIN)
        } else {
            dt
        };
        Value::from_object(DateTime {
            dt,
            aware,
            date_only,
        })
    }

    fn strftime(&self, fmt: &str) -> Result<String, Error> {
        let fmt = fmt.replace("%f", "%6f");
        let mut out = String::new();
        let offset = if self.aware { "+0000" } else { "" };
        let fmt = fmt.replace("%z", offset);
        write!(out, "{}", self.dt.format(&fmt))
            .map_err(|_| bad(format!("invalid strftime format {fmt:?}")))?;
        Ok(out)
    }

    /// `self + td` (or `self - td` when `subtract`). A date moves by
    /// `td.days` only, as in Python; results stay within years 1 to 9999.
    fn shifted(&self, td: Timedelta, subtract: bool) -> Result<Value, Error> {
        let sign = if subtract { -1 } else { 1 };
        let delta = if self.date_only {
            chrono::TimeDelta::try_days(sign * td.days())
        } else {
            Some(chrono::TimeDelta::microseconds(sign * td.0))
        };
        let dt = delta
            .and_then(|d| self.dt.checked_add_signed(d))
            .filter(|dt| (1..=9999).contains(&dt.year()))
            .ok_or_else(|| bad("date value out of range"))?;
        Ok(Self::build(dt, self.aware, self.date_only))
    }

    /// `self - other` for two datetimes or two dates.
    fn difference(&self, other: &DateTime, lhs: &Value, rhs: &Value) -> Result<Value, Error> {
        if self.date_only != other.date_only {
            return Err(unsupported('-', lhs, rhs));
        }
        if self.aware != other.aware {
            return Err(bad(
                "can't subtract offset-naive and offset-aware datetimes",
            ));
        }
        (self.dt - other.dt)
            .num_microseconds()
            .map(Timedelta::from_micros)
            .ok_or_else(|| bad("timedelta out of range"))
    }

    /// `dt.replace(year=…, …, microsecond=…, tzinfo=None)`.
    fn replace(&self, args: &[Value]) -> Result<Value, Error> {
        let (pos, kw) = split_args(args);
        let d = &self.dt;
        let part = |name: &str, idx: usize, current: i64| -> Result<i64, Error> {
            match arg(&pos, &kw, name, idx) {
                None => Ok(current),
                Some(v) => v
                    .as_i64()
                    .filter(|_| v.is_integer())
                    .ok_or_else(|| bad(format!("replace(): {name} must be an integer"))),
            }
        };
        let date = NaiveDate::from_ymd_opt(
            part("year", 0, d.year() as i64)? as i32,
            part("month", 1, d.month() as i64)? as u32,
            part("day", 2, d.day() as i64)? as u32,
        )
        .ok_or_else(|| bad("replace(): day is out of range for month"))?;
        let dt = date
            .and_hms_micro_opt(
                part("hour", 3, d.hour() as i64)? as u32,
                part("minute", 4, d.minute() as i64)? as u32,
                part("second", 5, d.second() as i64)? as u32,
                part("microsecond", 6, (d.nanosecond() / 1000) as i64)? as u32,
            )
            .ok_or_else(|| bad("replace(): time is out of range"))?;
        let aware = match kw.iter().find(|(k, _)| k == "tzinfo") {
            Some((_, tz)) => !tz.is_none(),
            None => self.aware,
        };
        Ok(Self::build(dt, aware, self.date_only))
    }

    /// Python's `repr()`: `datetime.datetime(2024, 3, 5, 6, 7)`, trailing
    /// zero seconds and microseconds left out as Python does.
    pub(crate) fn python_repr(&self) -> String {
        let d = &self.dt;
        if self.date_only {
            return format!("datetime.date({}, {}, {})", d.year(), d.month(), d.day());
        }
        let mut parts = vec![
            d.year() as i64,
            d.month() as i64,
            d.day() as i64,
            d.hour() as i64,
            d.minute() as i64,
            d.second() as i64,
            (d.nanosecond() / 1000) as i64,
        ];
        while parts.len() > 5 && parts.last() == Some(&0) {
            parts.pop();
        }
        let mut out = parts
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if self.aware {
            out.push_str(", tzinfo=datetime.timezone.utc");
        }
        format!("datetime.datetime({out})")
    }

    fn isoformat(&self, sep: &str) -> String {
        if self.date_only {
            return self.dt.format("%Y-%m-%d").to_string();
        }
        let mut s = self
            .dt
            .format(&format!("%Y-%m-%d{sep}%H:%M:%S"))
            .to_string();
        if self.dt.nanosecond() >= 1000 {
            let _ = write!(s, ".{:06}", self.dt.nanosecond() / 1000);
        }
        if self.aware {
            s.push_str("+00:00");
        }
        s
    }
}

impl Object for DateTime {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let d = &self.dt;
        let key = key.as_str()?;
        if key == "tzinfo" {
            // Only UTC is known here; `replace(tzinfo=…)` keeps it.
            return Some(if self.aware {
                Value::from("UTC")
            } else {
                Value::from(())
            });
        }
        Some(Value::from(match key {
            "year" => d.year() as i64,
            "month" => d.month() as i64,
            "day" => d.day() as i64,
            "hour" => d.hour() as i64,
            "minute" => d.minute() as i64,
            "second" => d.second() as i64,
            "microsecond" => (d.nanosecond() / 1000) as i64,
            _ => return None,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let first = args.first().map(|v| v.to_string());
        match method {
            "strftime" => Ok(Value::from(self.strftime(&first.unwrap_or_default())?)),
            "isoformat" => Ok(Value::from(self.isoformat(first.as_deref().unwrap_or("T")))),
            "date" => Ok(DateTime::build(self.dt, false, true)),
            "replace" => self.replace(args),
            "timestamp" => Ok(Value::from(
                self.dt.and_utc().timestamp_micros() as f64 / 1e6,
            )),
            "weekday" => Ok(Value::from(self.dt.weekday().num_days_from_monday())),
            "isoweekday" => Ok(Value::from(self.dt.weekday().number_from_monday())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    /// Dates compare with dates and datetimes with datetimes; Python raises
    /// for a mix, here it falls back to minijinja's default comparison.
    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        let other = other.downcast_ref::<Self>()?;
        (self.date_only == other.date_only).then(|| self.dt.cmp(&other.dt))
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.isoformat(" "))
    }
}

const IGNORECASE: i64 = 2;
const MULTILINE: i64 = 8;
const DOTALL: i64 = 16;
const VERBOSE: i64 = 64;

#[derive(Debug)]
struct ReModule;

/// Compiled patterns are cached for the process: dbt projects reuse a
/// handful of patterns across thousands of renders.
fn compile(pattern: &str, flags: i64, anchor: Anchor) -> Result<Regex, Error> {
    type Key = (String, i64, Anchor);
    static CACHE: LazyLock<Mutex<HashMap<Key, Regex>>> = LazyLock::new(Default::default);
    let key = (pattern.to_string(), flags, anchor);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(re) = cache.get(&key) {
        return Ok(re.clone());
    }
    let mut prefix = String::new();
    for (bit, c) in [
        (IGNORECASE, 'i'),
        (MULTILINE, 'm'),
        (DOTALL, 's'),
        (VERBOSE, 'x'),
    ] {
        if flags & bit != 0 {
            prefix.push(c);
        }
    }
    let body = match anchor {
        Anchor::None => pattern.to_string(),
        Anchor::Start => format!(r"\A(?:{pattern})"),
        Anchor::Full => format!(r"\A(?:{pattern})\z"),
    };
    let full = if prefix.is_empty() {
        body
    } else {
        format!("(?{prefix}){body}")
    };
    let re = Regex::new(&full).map_err(|e| bad(format!("invalid regular expression: {e}")))?;
    cache.insert(key, re.clone());
    Ok(re)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Anchor {
    None,
    Start,
    Full,
}

impl Object for ReModule {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(Value::from(match key.as_str()? {
            "IGNORECASE" | "I" => IGNORECASE,
            "MULTILINE" | "M" => MULTILINE,
            "DOTALL" | "S" => DOTALL,
            "VERBOSE" | "X" => VERBOSE,
            _ => return None,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (pos, kw) = split_args(args);
        let pattern = pos.first().map(|v| v.to_string()).unwrap_or_default();
        if method == "escape" {
            return Ok(Value::from(regex::escape(&pattern)));
        }
        if method == "compile" {
            let flags = arg(&pos, &kw, "flags", 1)
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            compile(&pattern, flags, Anchor::None)?;
            return Ok(Value::from_object(Pattern { pattern, flags }));
        }
        let flags_idx = if method == "sub" { 4 } else { 2 };
        let flags = arg(&pos, &kw, "flags", flags_idx)
            .and_then(|v| v.as_i64())
            .unwrap_or(0);
        regex_op(&pattern, flags, method, &pos[pos.len().min(1)..], &kw)
    }
}

/// A compiled pattern from `re.compile`.
#[derive(Debug)]
struct Pattern {
    pattern: String,
    flags: i64,
}

impl Object for Pattern {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        (key.as_str()? == "pattern").then(|| Value::from(self.pattern.as_str()))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (pos, kw) = split_args(args);
        regex_op(&self.pattern, self.flags, method, &pos, &kw)
    }
}

/// `match`, `search`, `fullmatch`, `sub`, `findall`, `split` with the
/// pattern already taken from the arguments.
fn regex_op(
    pattern: &str,
    flags: i64,
    method: &str,
    rest: &[Value],
    kw: &[(String, Value)],
) -> Result<Value, Error> {
    let text = |i: usize| rest.get(i).map(|v| v.to_string()).unwrap_or_default();
    match method {
        "match" | "search" | "fullmatch" => {
            let anchor = match method {
                "match" => Anchor::Start,
                "fullmatch" => Anchor::Full,
                _ => Anchor::None,
            };
            let re = compile(pattern, flags, anchor)?;
            let haystack = text(0);
            Ok(re
                .captures(&haystack)
                .map(|c| match_value(&re, &c))
                .unwrap_or(Value::from(())))
        }
        "sub" => {
            let re = compile(pattern, flags, Anchor::None)?;
            let count = arg(rest, kw, "count", 2)
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            let repl = python_replacement(&text(0));
            let haystack = text(1);
            Ok(Value::from(
                re.replacen(&haystack, count.max(0) as usize, repl.as_str())
                    .into_owned(),
            ))
        }
        "findall" => {
            let re = compile(pattern, flags, Anchor::None)?;
            let haystack = text(0);
            let groups = re.captures_len() - 1;
            let found = re.captures_iter(&haystack).map(|c| {
                let group = |i: usize| Value::from(c.get(i).map_or("", |m| m.as_str()));
                match groups {
                    0 => group(0),
                    1 => group(1),
                    n => Value::from((1..=n).map(group).collect::<Vec<_>>()),
                }
            });
            Ok(Value::from(found.collect::<Vec<_>>()))
        }
        "split" => {
            let re = compile(pattern, flags, Anchor::None)?;
            let haystack = text(0);
            Ok(Value::from(
                re.split(&haystack).map(Value::from).collect::<Vec<_>>(),
            ))
        }
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

/// Python's `\1` / `\g<name>` replacement syntax → the regex crate's.
fn python_replacement(repl: &str) -> String {
    static GROUP: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\\(\d+)|\\g<(\w+)>").expect("valid regex"));
    let escaped = repl.replace('$', "$$");
    GROUP
        .replace_all(&escaped, |c: &regex::Captures| {
            let g = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
            format!("${{{g}}}")
        })
        .into_owned()
}

fn match_value(re: &Regex, caps: &regex::Captures) -> Value {
    let groups: Vec<Value> = (0..caps.len())
        .map(|i| {
            caps.get(i)
                .map(|m| Value::from(m.as_str()))
                .unwrap_or(Value::from(()))
        })
        .collect();
    let names: Vec<(String, usize)> = re
        .capture_names()
        .enumerate()
        .filter_map(|(i, n)| n.map(|n| (n.to_string(), i)))
        .collect();
    let whole = caps.get(0);
    Value::from_object(Match {
        groups,
        names,
        span: whole.map_or((0, 0), |m| (m.start(), m.end())),
    })
}

#[derive(Debug)]
struct Match {
    groups: Vec<Value>,
    names: Vec<(String, usize)>,
    span: (usize, usize),
}

impl Match {
    fn group(&self, key: Option<&Value>) -> Value {
        let idx = match key {
            None => Some(0),
            Some(k) => k.as_usize().or_else(|| {
                let name = k.as_str()?;
                self.names.iter().find(|(n, _)| n == name).map(|(_, i)| *i)
            }),
        };
        idx.and_then(|i| self.groups.get(i).cloned())
            .unwrap_or(Value::from(()))
    }
}

impl Object for Match {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        // `m[0]` works like `m.group(0)`.
        key.as_usize().map(|_| self.group(Some(key)))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "group" if args.len() > 1 => Ok(Value::from(
                args.iter().map(|a| self.group(Some(a))).collect::<Vec<_>>(),
            )),
            "group" => Ok(self.group(args.first())),
            "groups" => Ok(Value::from(self.groups.get(1..).unwrap_or(&[]).to_vec())),
            "groupdict" => Ok(Value::from_pairs(
                self.names
                    .iter()
                    .map(|(n, i)| (n.clone(), self.groups[*i].clone())),
            )),
            "start" => Ok(Value::from(self.span.0)),
            "end" => Ok(Value::from(self.span.1)),
            "span" => Ok(Value::from(vec![
                Value::from(self.span.0),
                Value::from(self.span.1),
            ])),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<re.Match object; span=({}, {})>",
            self.span.0, self.span.1
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_replacement_groups() {
        assert_eq!(python_replacement(r"\1-\g<name>$"), "${1}-${name}$$");
    }
}
