//! Money as integer cents: prices arrive as JSON numbers in USD with at most two decimals.

use serde_json::Value;

/// The largest price accepted, in cents: keeps every price exact in an `f64` on the way out.
const MAX_CENTS: i64 = 99_999_999_999;

/// An amount of money in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cents(pub i64);

impl Cents {
    /// The largest amount: every price, and every order's total, is at most this.
    pub const MAX: Cents = Cents(MAX_CENTS);

    /// Reads a non-negative amount with at most two decimals.
    pub fn parse(value: &Value) -> Result<Cents, String> {
        let Value::Number(n) = value else {
            return Err("must be a number".into());
        };
        if let Some(whole) = n.as_i64() {
            return match whole.checked_mul(100) {
                Some(c) if c < 0 => Err("must be at least 0".into()),
                Some(c) if c <= MAX_CENTS => Ok(Cents(c)),
                _ => Err("is too large".into()),
            };
        }
        let f = n.as_f64().ok_or("must be a number")?;
        if f < 0.0 {
            return Err("must be at least 0".into());
        }
        // The shortest decimal form that reads back as the same number: what the client wrote, for any price
        // written with at most 17 significant digits.
        let written = format!("{f}");
        if written.split_once('.').is_some_and(|(_, decimals)| decimals.len() > 2) {
            return Err("must have at most 2 decimals".into());
        }
        let cents = (f * 100.0).round();
        if cents > MAX_CENTS as f64 {
            return Err("is too large".into());
        }
        Ok(Cents(cents as i64))
    }

    /// The amount as the JSON number clients send: whole dollars as integers, otherwise two decimals at most.
    pub fn to_json(self) -> Value {
        if self.0 % 100 == 0 { Value::from(self.0 / 100) } else { Value::from(self.dollars()) }
    }

    /// The amount in dollars: the number [`Cents::to_json`] writes, as a float (what money columns hold).
    pub fn dollars(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

/// Written as [`Cents::to_json`] writes it, so an amount reads back exactly as it was stored.
impl serde::Serialize for Cents {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// Read as [`Cents::parse`] reads a client's amount.
impl<'de> serde::Deserialize<'de> for Cents {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cents, D::Error> {
        Cents::parse(&Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_prices() {
        assert_eq!(Cents::parse(&json!(0)), Ok(Cents(0)));
        assert_eq!(Cents::parse(&json!(25)), Ok(Cents(2500)));
        assert_eq!(Cents::parse(&json!(19.99)), Ok(Cents(1999)));
        assert_eq!(Cents::parse(&json!(0.29)), Ok(Cents(29)));
        assert_eq!(Cents::parse(&json!(1.1)), Ok(Cents(110)));
    }

    #[test]
    fn refuses_bad_prices() {
        assert!(Cents::parse(&json!(-1)).unwrap_err().contains("at least 0"));
        assert!(Cents::parse(&json!(-0.5)).unwrap_err().contains("at least 0"));
        assert!(Cents::parse(&json!(1.001)).unwrap_err().contains("2 decimals"));
        assert!(Cents::parse(&json!(1.000000001)).unwrap_err().contains("2 decimals"));
        assert!(Cents::parse(&json!(0.000000001)).unwrap_err().contains("2 decimals"));
        for ok in [json!(1.15), json!(4.35), json!(19.99), json!(0.1), json!(123456789.99)] {
            assert!(Cents::parse(&ok).is_ok(), "{ok}");
        }
        assert!(Cents::parse(&json!("12")).is_err());
        assert!(Cents::parse(&json!(1e15)).is_err());
    }

    #[test]
    fn round_trips_to_json() {
        for p in [json!(0), json!(25), json!(19.99), json!(0.5), json!(1234.05)] {
            let cents = Cents::parse(&p).unwrap();
            assert_eq!(cents.to_json(), p);
            assert_eq!(serde_json::to_string(&cents).unwrap(), p.to_string(), "serialized as to_json writes it");
            assert_eq!(serde_json::from_value::<Cents>(p.clone()).unwrap(), cents, "{p} read back");
        }
        assert!(serde_json::from_value::<Cents>(json!(1.001)).is_err());
    }
}
