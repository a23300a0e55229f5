//! The sender: one task per server that delivers the outbox over SMTP (lettre, on tokio, rustls for TLS).
//!
//! It claims due messages ([`Outbox::claim_due`]: `queued` → `sending`, committed), speaks SMTP for each, and
//! settles it: `sent`; `queued` again after a growing delay ([`retry_delay`]) on a temporary failure (a 4xx, a
//! refused or dropped connection, a timeout); `failed` on a permanent refusal (a 5xx) or once a day has passed
//! since the message was queued.
//!
//! **At most once.** The claim is committed before the first SMTP byte, and only a `queued` message is ever
//! claimed, so a message is handed to an SMTP server by one exchange at most. If the server dies between its SMTP
//! `DATA` and the settlement (a `kill -9`, a power cut), the SMTP server may or may not have taken the message; the
//! message is found `sending`, and rather than risk a second copy it is marked `failed` with
//! [`INTERRUPTED`](crate::domain::mail::INTERRUPTED): an operator who has checked the mailbox sends it again with
//! `mail.retry`. On a store only this server writes (SQLite) that happens at start; on a shared one (PostgreSQL) to
//! messages claimed longer ago than [`CLAIM_EXPIRY`], well past the SMTP timeout, so no live claim is cut off.
//!
//! **A bounded stop.** [`Sender::stop`] is given the shutdown's deadline. The sender claims nothing more; an SMTP
//! exchange under way may finish until the deadline and is then cut off (the connection dropped), its message
//! marked `failed` with [`CUT_OFF`] for the same reason as above: its `DATA` may have been taken. Messages claimed
//! in the same batch and not yet begun are handed back `queued` ([`Delivery::Released`]); no byte of them reached
//! SMTP, so sending them later sends them once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use tokio::sync::watch;
use tokio::time::Instant;

use super::Mailer;
use crate::domain::mail::{CUT_OFF, GIVE_UP_AFTER, StoredMessage};
use crate::domain::time;
use crate::store::{Delivery, SharedStore};

/// How long one SMTP exchange may take (each command's answer) before it counts as a temporary failure.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(60);
/// A message `sending` for longer than this has lost its claimer (on a shared store).
pub const CLAIM_EXPIRY: chrono::Duration = chrono::Duration::minutes(10);
/// Messages claimed at once.
const BATCH: usize = 16;
/// The longest the sender sleeps before it looks for due messages again.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How long past the shutdown's deadline the sender has to record how its last messages ended (a write or two);
/// past it the task is dropped, and a message it left `sending` is marked interrupted by the next start.
pub const SETTLE_GRACE: Duration = Duration::from_secs(2);

/// How the sender delivers: the SMTP server (`smtp://user:password@host:port`, STARTTLS when offered;
/// `smtps://` for implicit TLS), the certificates it is trusted by, the sender's address, and the retry schedule.
#[derive(Clone)]
pub struct Smtp {
    pub url: String,
    pub from: String,
    /// A PEM file of CA certificates trusted for the SMTP server's TLS besides the webpki roots (a relay with a
    /// certificate of a private CA, or a self-signed one).
    pub ca_file: Option<PathBuf>,
    /// The wait after the first failure; it doubles with each, up to an hour.
    pub first_retry: Duration,
    /// Retries stop this long after a message was queued: it is marked `failed`.
    pub give_up_after: Duration,
}

impl Smtp {
    /// An SMTP configuration with the retry schedule the contract states (30 s doubling; `failed` after a day).
    pub fn new(url: String, from: String) -> Smtp {
        let give_up_after = GIVE_UP_AFTER.to_std().unwrap_or(Duration::from_secs(86_400));
        Smtp { url, from, ca_file: None, first_retry: Duration::from_secs(30), give_up_after }
    }

    /// The URL without its password, for logs.
    pub fn shown(&self) -> String {
        crate::config::without_password(&self.url)
    }

    /// The transport and the sender's mailbox; why not, for a URL or an address that cannot serve.
    pub fn transport(&self) -> Result<(AsyncSmtpTransport<Tokio1Executor>, Mailbox), String> {
        if self.from.is_empty() {
            return Err("--mail-from (TICKET_ADMIN_MAIL_FROM) is required with --smtp-url".into());
        }
        let from: Mailbox = self.from.parse().map_err(|e| format!("--mail-from '{}': {e}", self.from))?;
        let refused = |e: lettre::transport::smtp::Error| format!("--smtp-url {}: {e}", self.shown());
        // The URL's scheme, port, credentials and `tls=` checked by lettre first; then TLS set anew, so that the
        // certificates of --smtp-ca-file are trusted whichever way TLS is spoken.
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&self.url).map_err(refused)?;
        let mut parameters = TlsParameters::builder(host(&self.url));
        if let Some(ca) = self.ca_certificate()? {
            parameters = parameters.add_root_certificate(ca);
        }
        let parameters = parameters.build().map_err(refused)?;
        let tls = match tls_asked(&self.url) {
            TlsAsked::Implicit => Tls::Wrapper(parameters),
            TlsAsked::Required => Tls::Required(parameters),
            // STARTTLS when the server offers it, plain text when it does not (a relay on localhost).
            TlsAsked::Offered => Tls::Opportunistic(parameters),
        };
        Ok((builder.tls(tls).timeout(Some(SMTP_TIMEOUT)).build(), from))
    }

    /// The certificates of [`Smtp::ca_file`], read and checked; why not, naming the flag.
    fn ca_certificate(&self) -> Result<Option<Certificate>, String> {
        let Some(path) = &self.ca_file else { return Ok(None) };
        let refused = |why: String| format!("--smtp-ca-file {}: {why}", path.display());
        let pem = std::fs::read(path).map_err(|e| refused(e.to_string()))?;
        // An empty or DER file would add nothing and leave the server's certificate untrusted without a word.
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(refused("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
        }
        Certificate::from_pem(&pem).map(Some).map_err(|e| refused(e.to_string()))
    }
}

/// Never shows the password.
impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").field("url", &self.shown()).field("from", &self.from).finish_non_exhaustive()
    }
}

/// How an SMTP URL asks for TLS.
#[derive(Debug, PartialEq, Eq)]
enum TlsAsked {
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp://...?tls=required`: STARTTLS, and no message goes without it.
    Required,
    /// `smtp://`, or `?tls=opportunistic`: STARTTLS when the server offers it.
    Offered,
}

/// How `url` (one lettre has read) asks for TLS.
fn tls_asked(url: &str) -> TlsAsked {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    if url.starts_with("smtps://") {
        TlsAsked::Implicit
    } else if query.split('&').any(|pair| pair == "tls=required") {
        TlsAsked::Required
    } else {
        TlsAsked::Offered
    }
}

/// The host of an SMTP URL.
fn host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host_port.rsplit_once(':').map_or(host_port, |(h, _)| h).to_owned()
}

/// The running sender: stop it with [`Sender::stop`], which gives a delivery under way until a deadline.
pub struct Sender {
    task: tokio::task::JoinHandle<()>,
    /// The deadline of the stop, once one is asked for.
    stop: watch::Sender<Option<Instant>>,
}

impl Sender {
    /// Starts delivering the outbox of `store`.
    pub fn start(store: SharedStore, smtp: Smtp, mailer: Arc<Mailer>) -> Result<Sender, String> {
        let (transport, from) = smtp.transport()?;
        let (stop, stopping) = watch::channel(None);
        let task = tokio::spawn(run(store, transport, from, smtp, mailer, Stopping(stopping)));
        Ok(Sender { task, stop })
    }

    /// Stops taking messages at once and ends by `deadline` (and [`SETTLE_GRACE`]): a delivery under way is cut
    /// off at the deadline, as the module says.
    pub async fn stop(self, deadline: Instant) {
        self.stop.send_replace(Some(deadline));
        let mut task = self.task;
        if tokio::time::timeout_at(deadline + SETTLE_GRACE, &mut task).await.is_err() {
            tracing::warn!("the sender did not record its last delivery in time; the next start finds it interrupted");
            task.abort();
        }
    }
}

/// The sender's side of a stop: whether one is asked, and its deadline. A [`Sender`] dropped without a stop counts
/// as a stop with no time left.
struct Stopping(watch::Receiver<Option<Instant>>);

impl Stopping {
    fn asked(&self) -> bool {
        self.0.borrow().is_some() || self.0.has_changed().is_err()
    }

    /// Waits until a stop is asked (at once if its [`Sender`] is gone); its deadline, `None` for the latter.
    async fn asked_for(&mut self) -> Option<Instant> {
        self.0.wait_for(Option::is_some).await.ok().and_then(|deadline| *deadline)
    }

    /// Waits until the deadline of a stop has passed.
    async fn deadline_passed(&mut self) {
        if let Some(deadline) = self.asked_for().await {
            tokio::time::sleep_until(deadline).await;
        }
    }
}

async fn run(
    store: SharedStore,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    smtp: Smtp,
    mailer: Arc<Mailer>,
    mut stopping: Stopping,
) {
    // On a store this server alone writes, every `sending` message was left by a server that died.
    let alone = store.token_changes().is_none();
    let mut sweep_at = std::time::Instant::now();
    let look = LOOK_EVERY.min(smtp.first_retry);
    while !stopping.asked() {
        if std::time::Instant::now() >= sweep_at {
            let cutoff = if alone { time::now() } else { time::now() - CLAIM_EXPIRY };
            match store.interrupt_sending(cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(messages = n, "messages interrupted during delivery marked failed"),
                Err(e) => tracing::warn!(error = %e, "cannot look for interrupted deliveries"),
            }
            // Later sweeps only catch claims that expired.
            sweep_at = std::time::Instant::now() + Duration::from_secs(60);
        }
        let claimed = match store.claim_due(time::now(), BATCH).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim due messages");
                Vec::new()
            }
        };
        let idle = claimed.is_empty();
        for (network, message) in claimed {
            let delivery = if stopping.asked() {
                Delivery::Released
            } else {
                tokio::select! {
                    biased;
                    delivery = deliver(&transport, &from, &message, &smtp) => delivery,
                    () = stopping.deadline_passed() => Delivery::Failed { error: CUT_OFF.to_owned() },
                }
            };
            match &delivery {
                Delivery::Sent => tracing::info!(id = %message.id, network = %network, "message sent"),
                Delivery::Retry { error, .. } => {
                    tracing::warn!(id = %message.id, attempts = message.attempts, error, "message not sent; will retry")
                }
                Delivery::Failed { error } => tracing::warn!(id = %message.id, error, "message failed"),
                Delivery::Released => tracing::info!(id = %message.id, "message handed back unsent: shutting down"),
            }
            if let Err(e) = store.settle_message(&network, &message.id, delivery).await {
                // Left `sending`: interrupted, never sent again by itself.
                tracing::error!(id = %message.id, error = %e, "cannot record a delivery");
            }
        }
        if idle {
            tokio::select! {
                _ = stopping.asked_for() => {}
                _ = mailer.wake.notified() => {}
                _ = tokio::time::sleep(look) => {}
            }
        }
    }
}

/// One SMTP exchange for a claimed message, and what it leaves the message as.
async fn deliver(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    message: &StoredMessage,
    smtp: &Smtp,
) -> Delivery {
    let failed = |error: String| Delivery::Failed { error };
    let to: Mailbox = match message.message.to.parse() {
        Ok(to) => to,
        Err(e) => return failed(format!("the address {} is not one SMTP takes: {e}", message.message.to)),
    };
    let email = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.message.subject.clone())
        // Stable per message: a receiver that sees one twice (it never should) can tell.
        .message_id(Some(format!("<{}@ticket-admin>", message.id)))
        .multipart(MultiPart::alternative_plain_html(message.message.text.clone(), message.message.html.clone()));
    let email = match email {
        Ok(email) => email,
        Err(e) => return failed(format!("cannot build the message: {e}")),
    };
    match transport.send(email).await {
        Ok(_) => Delivery::Sent,
        Err(e) if e.is_permanent() => failed(format!("refused: {e}")),
        Err(e) => {
            let error = format!("{e}");
            let queued_for = (time::now() - message.queued_at).to_std().unwrap_or_default();
            let wait = retry_wait(smtp.first_retry, message.attempts);
            if queued_for + wait > smtp.give_up_after {
                failed(format!("{error} (retried for {})", humantime::format_duration(smtp.give_up_after)))
            } else {
                Delivery::Retry { error, at: time::now() + chrono::Duration::from_std(wait).unwrap_or_default() }
            }
        }
    }
}

/// The wait after `attempts` failed attempts: `first`, doubling, at most an hour.
pub fn retry_wait(first: Duration, attempts: i64) -> Duration {
    let doublings = attempts.clamp(1, 16) as u32 - 1;
    first.saturating_mul(1 << doublings).min(Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_of_a_url_and_a_url_shown_without_its_password() {
        assert_eq!(host("smtp://user:secret@mail.example:2525"), "mail.example");
        assert_eq!(host("smtps://mail.example"), "mail.example");
        let smtp = Smtp::new("smtp://user:secret@mail.example:2525".into(), "events@example.org".into());
        assert_eq!(smtp.shown(), "smtp://user:***@mail.example:2525");
        assert!(!format!("{smtp:?}").contains("secret"));
    }

    #[test]
    fn waits_grow_and_a_bad_url_or_sender_is_refused_by_name() {
        let waits: Vec<u64> = (1..=9).map(|n| retry_wait(Duration::from_secs(30), n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        let bad = Smtp::new("ftp://mail.example".into(), "events@example.org".into());
        assert!(bad.transport().err().unwrap_or_default().contains("--smtp-url"));
        let bad = Smtp::new("smtp://mail.example".into(), "not an address".into());
        assert!(bad.transport().err().unwrap_or_default().contains("--mail-from"));
    }

    #[test]
    fn the_url_says_how_tls_is_spoken() {
        assert_eq!(tls_asked("smtps://user:secret@mail.example"), TlsAsked::Implicit);
        assert_eq!(tls_asked("smtp://mail.example:587?tls=required"), TlsAsked::Required);
        assert_eq!(tls_asked("smtp://mail.example:587?tls=opportunistic"), TlsAsked::Offered);
        assert_eq!(tls_asked("smtp://mail.example:25"), TlsAsked::Offered);
    }

    #[test]
    fn a_ca_file_that_cannot_serve_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let with =
            |path: PathBuf| Smtp { ca_file: Some(path), ..Smtp::new("smtps://mail.example".into(), "a@b.c".into()) };
        let missing = with(dir.path().join("none.pem")).transport().err().unwrap_or_default();
        assert!(missing.starts_with("--smtp-ca-file ") && missing.contains("none.pem"), "{missing}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let refused = with(empty).transport().err().unwrap_or_default();
        assert!(refused.contains("holds no PEM certificate"), "{refused}");
    }
}
