//! Timestamps: in as RFC 3339 or Unix epoch milliseconds, out as RFC 3339 UTC with milliseconds.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::Value;

/// A point in time, always UTC.
pub type Timestamp = DateTime<Utc>;

/// Reads a timestamp from JSON: an RFC 3339 string or an integer of epoch milliseconds.
pub fn parse(value: &Value) -> Result<Timestamp, String> {
    const EXPECTED: &str = "must be an RFC 3339 timestamp or an integer of Unix epoch milliseconds";
    match value {
        Value::String(s) => DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| EXPECTED.into()),
        Value::Number(n) => {
            n.as_i64().and_then(|ms| Utc.timestamp_millis_opt(ms).single()).ok_or_else(|| EXPECTED.into())
        }
        _ => Err(EXPECTED.into()),
    }
}

/// Writes a timestamp the one way the API answers: `2026-05-01T18:00:00.000Z`.
pub fn format(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Now, truncated to milliseconds so that what is stored is what is shown.
pub fn now() -> Timestamp {
    let now = Utc::now();
    Utc.timestamp_millis_opt(now.timestamp_millis()).single().unwrap_or(now)
}

/// A stored timestamp (epoch milliseconds) back into a [`Timestamp`].
pub fn from_millis(ms: i64) -> Timestamp {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_both_forms_and_writes_one() {
        let a = parse(&json!("2026-05-01T20:00:00+02:00")).unwrap();
        let b = parse(&json!(1777658400000i64)).unwrap();
        assert_eq!(a, b);
        assert_eq!(format(&a), "2026-05-01T18:00:00.000Z");
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in [json!("yesterday"), json!(1.5), json!(true), json!(null), json!("2026-05-01")] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
    }
}
