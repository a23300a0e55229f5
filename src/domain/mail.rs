//! Mail: the messages of the outbox, their states, the plain-text part derived from the HTML, and the rule of
//! retrying (growing delays, `failed` after a day).
//!
//! **States.** A message is made `queued` (or `held` when the server has no SMTP URL). The sender claims a due
//! `queued` message by marking it `sending` in a committed transaction *before* it speaks SMTP, and then marks it
//! `sent`, or `queued` again with a later `nextAttemptAt` (a temporary failure), or `failed` (a permanent refusal,
//! or a day of failures). A message found `sending` by a server that did not claim it (the claimer died between its
//! SMTP `DATA` and the outbox update) is never sent again by itself: it is marked `failed` with
//! [`INTERRUPTED`], for an operator to send again with `mail.retry`; so is a message whose SMTP exchange a shutdown
//! cut off ([`CUT_OFF`]). That is the outbox's at-most-once guarantee. A message claimed with others and not yet
//! begun when the server stops is handed back `queued`, its attempt uncounted: no byte of it reached SMTP.

use chrono::Duration;
use serde_json::{Map, Value, json};

use super::ids::RecordId;
use super::sys::Sys;
use super::time::{self, Timestamp};

/// A message's id, made by the server.
pub type MessageId = RecordId<Message>;

/// The states a message can be in, as the API names them.
pub const STATUSES: &[&str] = &["queued", "sending", "sent", "failed", "held"];

/// The last error of a message whose delivery was cut off by a crash after it was claimed.
pub const INTERRUPTED: &str = "interrupted during delivery; mail.retry to send again";

/// The last error of a message whose delivery a shutdown cut off: its SMTP exchange had begun, so the mailbox may
/// have it, and like [`INTERRUPTED`] it is not sent again by itself.
pub const CUT_OFF: &str = "cut off by a shutdown during delivery; mail.retry to send again";

/// How long a message is retried before it is marked `failed`, counted from when it was queued.
pub const GIVE_UP_AFTER: Duration = Duration::days(1);

/// Where a message is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailStatus {
    /// Waiting for the sender (maybe for a retry's time).
    Queued,
    /// Claimed by a sender, which is speaking SMTP for it.
    Sending,
    /// Accepted by the SMTP server.
    Sent,
    /// Refused for good, retried for a day in vain, or interrupted: only `mail.retry` sends it again.
    Failed,
    /// Kept unsent because the server has no SMTP URL; `mail.retry` queues it once one is configured.
    Held,
}

impl MailStatus {
    pub const ALL: [MailStatus; 5] =
        [MailStatus::Queued, MailStatus::Sending, MailStatus::Sent, MailStatus::Failed, MailStatus::Held];

    /// Every status with its count among `counted` (status names and counts, as a `GROUP BY` gives them): 0 for
    /// one not there.
    pub fn every_counted(counted: &[(String, i64)]) -> Vec<(MailStatus, i64)> {
        let count = |s: MailStatus| counted.iter().find(|(n, _)| n == s.as_str()).map_or(0, |(_, c)| *c);
        MailStatus::ALL.into_iter().map(|s| (s, count(s))).collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Queued => "queued",
            MailStatus::Sending => "sending",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
            MailStatus::Held => "held",
        }
    }

    pub fn parse(s: &str) -> Result<MailStatus, String> {
        MailStatus::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("must be one of {}", STATUSES.join(", ")))
    }

    /// Whether `mail.retry` may queue a message in this state.
    pub fn retryable(self) -> bool {
        matches!(self, MailStatus::Failed | MailStatus::Held)
    }
}

/// A message as it is queued: its recipient, subject, HTML and the plain text derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The registration it is about, when there is one.
    pub registration_id: Option<String>,
}

impl Message {
    /// A message of `html`, its plain-text part derived from it.
    pub fn new(to: String, subject: String, html: String, registration_id: Option<String>) -> Message {
        let text = text_of(&html);
        Message { to, subject, html, text, registration_id }
    }
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    pub id: MessageId,
    pub message: Message,
    pub status: MailStatus,
    /// SMTP exchanges begun for it.
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<Timestamp>,
    /// When it was queued (or queued again by `mail.retry`): retries stop a day after.
    pub queued_at: Timestamp,
    /// When the sender may take it next.
    pub next_attempt_at: Timestamp,
    pub sys: Sys,
}

impl StoredMessage {
    /// A new message, `queued` or `held`.
    pub fn new(message: Message, held: bool, actor: &super::ids::ActorId) -> StoredMessage {
        let sys = Sys::new(actor);
        StoredMessage {
            id: MessageId::new(),
            message,
            status: if held { MailStatus::Held } else { MailStatus::Queued },
            attempts: 0,
            last_error: None,
            sent_at: None,
            queued_at: sys.created_at,
            next_attempt_at: sys.created_at,
            sys,
        }
    }

    /// The message queued again by `mail.retry` (still `held` while no SMTP URL is configured); `None` when it is
    /// already so and nothing changes.
    pub fn retried(&self, held: bool, actor: &super::ids::ActorId) -> Option<StoredMessage> {
        let status = if held { MailStatus::Held } else { MailStatus::Queued };
        if self.status == status && self.last_error.is_none() {
            return None;
        }
        let sys = self.sys.changed(actor);
        Some(StoredMessage {
            status,
            last_error: None,
            queued_at: sys.last_modified_at,
            next_attempt_at: sys.last_modified_at,
            sys,
            ..self.clone()
        })
    }

    /// The message as the API shows it.
    pub fn to_json(&self) -> Map<String, Value> {
        let m = &self.message;
        let Value::Object(mut out) = json!({
            "id": self.id.as_str(),
            "to": m.to,
            "subject": m.subject,
            "html": m.html,
            "text": m.text,
            "status": self.status.as_str(),
            "attempts": self.attempts,
            "lastError": self.last_error,
            "sentAt": self.sent_at.as_ref().map(time::format),
            "registrationId": m.registration_id,
        }) else {
            unreachable!("json! of an object literal is an object")
        };
        self.sys.write_to(&mut out);
        out
    }
}

/// The plain-text part of an HTML message: the text of its elements, a line for each paragraph, line break,
/// heading or list item, entities decoded, blank runs collapsed.
pub fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        if matches!(name.as_str(), "p" | "br" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6") {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let decoded = decode_entities(&out);
    let lines: Vec<String> =
        decoded.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect();
    lines.join("\n")
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let entity = &tail[1..e];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ if entity.starts_with("#x") || entity.starts_with("#X") => {
                    u32::from_str_radix(&entity[2..], 16).ok().and_then(char::from_u32)
                }
                _ if entity.starts_with('#') => entity[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &tail[e + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_part_keeps_the_words_a_line_per_paragraph_and_decodes_entities() {
        let html = "<p>Dear Ada,</p>\n<p>your registration for <strong>Gala &amp; Ball</strong> is confirmed.</p>\
                    <p>See you&#33;<br>The team &lt;3</p>";
        assert_eq!(text_of(html), "Dear Ada,\nyour registration for Gala & Ball is confirmed.\nSee you!\nThe team <3");
        assert_eq!(text_of("no tags &unknown; & more"), "no tags &unknown; & more");
    }

    #[test]
    fn statuses_read_back_and_only_failed_or_held_are_retried() {
        for status in MailStatus::ALL {
            assert_eq!(MailStatus::parse(status.as_str()), Ok(status));
        }
        assert!(MailStatus::parse("lost").is_err());
        let retryable: Vec<&str> = MailStatus::ALL.into_iter().filter(|s| s.retryable()).map(|s| s.as_str()).collect();
        assert_eq!(retryable, ["failed", "held"]);
    }
}
