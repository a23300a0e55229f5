//! Timestamps: in as RFC 3339 or Unix epoch milliseconds, out as RFC 3339 UTC with milliseconds.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::Value;

/// A point in time, always UTC.
pub type Timestamp = DateTime<Utc>;

/// The earliest instant accepted, `0001-01-01T00:00:00.000Z`, in epoch milliseconds.
pub const MIN_MILLIS: i64 = -62_135_596_800_000;
/// The latest instant accepted, `9999-12-31T23:59:59.999Z`, in epoch milliseconds.
pub const MAX_MILLIS: i64 = 253_402_300_799_999;

/// Reads a timestamp from JSON: an RFC 3339 string or an integer of epoch milliseconds, within years 0001 to 9999.
///
/// Outside those years a timestamp has no RFC 3339 form (RFC 3339 has four-digit years), so what the server answered
/// could not be sent back. Sub-millisecond digits are dropped: what is stored is what is shown.
pub fn parse(value: &Value) -> Result<Timestamp, String> {
    const EXPECTED: &str = "must be an RFC 3339 timestamp or an integer of Unix epoch milliseconds";
    let millis = match value {
        Value::String(s) => {
            DateTime::parse_from_rfc3339(s).map_err(|_| EXPECTED.to_owned())?.with_timezone(&Utc).timestamp_millis()
        }
        Value::Number(n) => match n.as_i64() {
            Some(ms) => ms,
            // A whole number too large for an integer (beyond i64, or written with an exponent) is out of range.
            None if n
                .as_f64()
                .is_some_and(|f| f.fract() == 0.0 && !(MIN_MILLIS as f64..=MAX_MILLIS as f64).contains(&f)) =>
            {
                return Err(out_of_range());
            }
            None => return Err(EXPECTED.into()),
        },
        _ => return Err(EXPECTED.into()),
    };
    if !(MIN_MILLIS..=MAX_MILLIS).contains(&millis) {
        return Err(out_of_range());
    }
    Utc.timestamp_millis_opt(millis).single().ok_or_else(out_of_range)
}

fn out_of_range() -> String {
    "must be between 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z (epoch milliseconds \
     -62135596800000 to 253402300799999)"
        .to_owned()
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

/// A timestamp as a member of a serialized struct (`#[serde(serialize_with = "time::serialize")]`), written as
/// [`format`] writes it.
pub fn serialize<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(t))
}

/// An optional timestamp as a member of a record (`#[serde(default, with = "time::optional")]`): written as
/// [`format`] writes it, or null; read as [`parse`] reads it, null or absent being `None`.
pub mod optional {
    use serde::{Deserialize, Deserializer, Serializer};
    use serde_json::Value;

    use super::Timestamp;

    /// The timestamp as the API writes it, or null.
    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    /// A timestamp in either form the API reads, or `None` for null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Option::<Value>::deserialize(d)?.map(|v| super::parse(&v).map_err(serde::de::Error::custom)).transpose()
    }
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
    fn optional_members_read_and_write_as_the_api_does() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Member {
            #[serde(default, with = "super::optional")]
            at: Option<Timestamp>,
        }
        let set = Member { at: Some(parse(&json!(1777658400000i64)).unwrap()) };
        assert_eq!(serde_json::to_value(&set).unwrap(), json!({"at": "2026-05-01T18:00:00.000Z"}));
        assert_eq!(serde_json::from_value::<Member>(json!({"at": "2026-05-01T20:00:00+02:00"})).unwrap(), set);
        assert_eq!(serde_json::to_value(Member { at: None }).unwrap(), json!({"at": null}));
        for none in [json!({"at": null}), json!({})] {
            assert_eq!(serde_json::from_value::<Member>(none).unwrap(), Member { at: None });
        }
        assert!(serde_json::from_value::<Member>(json!({"at": "yesterday"})).is_err());
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in [json!("yesterday"), json!(1.5), json!(true), json!(null), json!("2026-05-01")] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keeps_to_years_1_to_9999_and_round_trips_their_ends() {
        for (sent, shown) in [
            (json!("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00.000Z"),
            (json!(MIN_MILLIS), "0001-01-01T00:00:00.000Z"),
            (json!("9999-12-31T23:59:59.999Z"), "9999-12-31T23:59:59.999Z"),
            (json!("9999-12-31T23:59:59.9999999Z"), "9999-12-31T23:59:59.999Z"),
            (json!(MAX_MILLIS), "9999-12-31T23:59:59.999Z"),
        ] {
            let shown_again = format(&parse(&sent).unwrap());
            assert_eq!(shown_again, shown, "{sent}");
            assert_eq!(format(&parse(&json!(shown_again)).unwrap()), shown, "{sent} sent back");
        }
        for bad in [
            json!(-99999999999999i64),
            json!(MIN_MILLIS - 1),
            json!(MAX_MILLIS + 1),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1e300),
            json!("0000-12-31T23:59:59.999Z"),
            json!("0001-01-01T00:59:59+01:00"),
            json!("9999-12-31T23:00:00-01:00"),
        ] {
            assert!(parse(&bad).unwrap_err().contains("9999"), "{bad}");
        }
    }
}
