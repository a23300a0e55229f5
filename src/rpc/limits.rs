//! Rate limits: a token bucket per token, per network (the tenant) and per client address for calls without a
//! valid token, through `governor` (GCRA, no lock on the hot path). The burst of each bucket is twice its rate, so a
//! dashboard that fires a page's worth of calls at once is never refused.
//!
//! A request pays one call before its body is read (the HTTP front refuses it with 429 when that bucket is empty,
//! so no one reads a body for a caller who is over the limit); every further call of the request (the entries of a
//! batch after the first) pays in the guard. The network's bucket is charged only once the guard has admitted the
//! call, so a caller without the permission cannot drain another tenant's budget.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::RateLimits;
use crate::error::Error;
use crate::metrics::Metrics;

/// One family of buckets, by key; `None` when the limit is off.
struct Buckets<K: Hash + Eq + Clone> {
    name: &'static str,
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    metrics: Arc<Metrics>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(name: &'static str, per_second: u32, metrics: Arc<Metrics>) -> Self {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(rate);
            DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Buckets { name, limiter, metrics }
    }

    /// Takes one call from the bucket of the key `key` makes (only made when the limit is on).
    fn take(&self, key: impl FnOnce() -> K) -> Result<(), Error> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        limiter.check_key(&key()).map_err(|not_until| {
            self.metrics.rate_limited(self.name);
            Error::RateLimited {
                limit: self.name,
                retry_after_ms: retry_after_ms(not_until.wait_time_from(limiter.clock().now())),
            }
        })
    }

    fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Whole milliseconds to wait, never 0 (a client told to retry in 0 ms would spin).
fn retry_after_ms(wait: Duration) -> u64 {
    (wait.as_micros().div_ceil(1000) as u64).max(1)
}

/// The client an address stands for: an IPv4 address, or an IPv6 /64 (one host holds a whole /64, and could
/// otherwise take a fresh bucket for every call).
fn client(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// Every rate limit of one server.
pub struct RateLimiter {
    token: Buckets<String>,
    network: Buckets<String>,
    anonymous: Buckets<Option<IpAddr>>,
}

impl RateLimiter {
    /// The limits of `rates` (0 turns one off), their refusals counted in `metrics`.
    pub fn new(rates: RateLimits, metrics: Arc<Metrics>) -> Self {
        RateLimiter {
            token: Buckets::new("token", rates.token, metrics.clone()),
            network: Buckets::new("network", rates.network, metrics.clone()),
            anonymous: Buckets::new("anonymous", rates.anonymous, metrics),
        }
    }

    /// Charges one call to whoever pays for it: the token by its id, or else the client's address (unknown
    /// addresses share one bucket). `-32029` with the limit's name and how long to wait when over it.
    pub fn charge(&self, token_id: Option<&str>, peer: Option<IpAddr>) -> Result<(), Error> {
        match token_id {
            Some(id) => self.token.take(|| id.to_owned()),
            None => self.anonymous.take(|| peer.map(client)),
        }
    }

    /// Charges one call to a network's budget.
    pub fn charge_network(&self, network: &str) -> Result<(), Error> {
        self.network.take(|| network.to_owned())
    }

    /// Drops the buckets that are full again (nothing to remember), so the maps stay as small as the active callers.
    pub fn forget_idle(&self) {
        self.token.forget_idle();
        self.network.forget_idle();
        self.anonymous.forget_idle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(outcome: Result<(), Error>) -> Option<(&'static str, u64)> {
        match outcome {
            Ok(()) => None,
            Err(Error::RateLimited { limit, retry_after_ms }) => Some((limit, retry_after_ms)),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_bucket_holds_twice_its_rate_then_refuses_with_a_wait() {
        let limits = RateLimiter::new(RateLimits { token: 10, network: 0, anonymous: 0 }, Default::default());
        let admitted = (0..25).filter(|_| refused(limits.charge(Some("t1"), None)).is_none()).count();
        assert!((20..=21).contains(&admitted), "burst of 20 (one more if a cell refilled): {admitted}");
        let (limit, wait) = refused(limits.charge(Some("t1"), None)).expect("over the burst");
        assert_eq!(limit, "token");
        assert!((1..=100).contains(&wait), "one cell refills in 100 ms at 10/s: {wait}");
        assert!(refused(limits.charge(Some("t2"), None)).is_none(), "each token has its own bucket");
    }

    #[test]
    fn a_limit_of_zero_is_off_and_each_family_is_named() {
        let limits = RateLimiter::new(RateLimits { token: 0, network: 1, anonymous: 1 }, Default::default());
        assert!((0..1000).all(|_| limits.charge(Some("t"), None).is_ok()));
        let anonymous = Some([127, 0, 0, 1].into());
        assert!(limits.charge(None, anonymous).is_ok() && limits.charge(None, anonymous).is_ok());
        assert_eq!(refused(limits.charge(None, anonymous)).map(|r| r.0), Some("anonymous"));
        assert!(limits.charge(None, Some([127, 0, 0, 2].into())).is_ok(), "per address");
        assert!(limits.charge_network("n").is_ok() && limits.charge_network("n").is_ok());
        assert_eq!(refused(limits.charge_network("n")).map(|r| r.0), Some("network"));
    }

    #[test]
    fn an_ipv6_client_is_its_64() {
        let limits = RateLimiter::new(RateLimits { token: 0, network: 0, anonymous: 1 }, Default::default());
        let host = |last: &str| Some(format!("2001:db8:1:2::{last}").parse().expect("IPv6"));
        assert!(limits.charge(None, host("1")).is_ok() && limits.charge(None, host("2")).is_ok());
        assert!(limits.charge(None, host("3")).is_err(), "one bucket for the whole /64");
        let other = Some("2001:db8:1:3::1".parse().expect("IPv6"));
        assert!(limits.charge(None, other).is_ok(), "another /64 is another client");
    }

    #[test]
    fn waits_are_rounded_up_to_whole_milliseconds() {
        assert_eq!(retry_after_ms(Duration::ZERO), 1);
        assert_eq!(retry_after_ms(Duration::from_micros(1)), 1);
        assert_eq!(retry_after_ms(Duration::from_micros(1001)), 2);
        assert_eq!(retry_after_ms(Duration::from_secs(2)), 2000);
    }
}
