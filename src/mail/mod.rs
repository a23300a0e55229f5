//! Mail: what the RPC layer needs to queue a message (whether a sender is configured, and the composing of a
//! confirmation from a template), and the sender that delivers the outbox over SMTP.
//!
//! A message is written to the outbox in the transaction of the change that asks for it (see
//! [`crate::store::Outbox`] for the claim that makes delivery at most once).

use tokio::sync::Notify;

use crate::domain::ids::NetworkId;
use crate::domain::mail::Message;
use crate::domain::order::StoredOrder;
use crate::domain::registration::StoredRegistration;
use crate::domain::template::{self, Text, Variables};
use crate::domain::ticket::StoredTicket;
use crate::error::{Error, Result};

/// What handlers know of delivery.
#[derive(Debug, Default)]
pub struct Mailer {
    /// Whether a sender runs (an SMTP URL is configured): without one, messages are queued `held`.
    pub sending: bool,
    /// Wakes the sender when a message is queued, so it need not wait for its next look.
    pub wake: Notify,
}

impl Mailer {
    /// A mailer whose messages are delivered (`sending`) or held.
    pub fn new(sending: bool) -> Mailer {
        Mailer { sending, wake: Notify::new() }
    }

    /// Whether new messages are queued `held`.
    pub fn held(&self) -> bool {
        !self.sending
    }

    /// Tells the sender that a message may be due.
    pub fn queued(&self) {
        if self.sending {
            self.wake.notify_one();
        }
    }
}

/// An e-mail template with what it is rendered with, ready to compose a message for a registration.
#[derive(Debug, Clone)]
pub struct Composer {
    pub network: NetworkId,
    pub subject: String,
    pub body: String,
    /// The ticket the registration holds, when it exists.
    pub ticket: Option<StoredTicket>,
    /// The registration's order, once the server has made one.
    pub order: Option<StoredOrder>,
    /// The recipient; `None`: the registration's `emailAddress`.
    pub to: Option<String>,
    /// Put before the rendered subject (`[Preview] `).
    pub prefix: &'static str,
}

impl Composer {
    /// The message for `registration`: `-32602` when it has no address to go to, or the template cannot be
    /// rendered with its data.
    pub fn compose(&self, registration: &StoredRegistration) -> Result<Message> {
        let to = match &self.to {
            Some(to) => to.clone(),
            None => registration.registration.email_address.clone().ok_or_else(|| {
                Error::invalid("emailAddress", "the registration has no emailAddress to send the confirmation to")
            })?,
        };
        let variables =
            Variables::of(&self.network, registration, self.ticket.as_ref()).with_order(self.order.as_ref());
        let subject = template::render(&self.subject, Text::Plain, &variables)
            .map_err(|e| Error::InvalidParams(vec![e.at("subject")]))?;
        let html = template::render(&self.body, Text::Html, &variables)
            .map_err(|e| Error::InvalidParams(vec![e.at("body")]))?;
        let subject = format!("{}{}", self.prefix, subject.trim().replace(['\r', '\n'], " "));
        Ok(Message::new(to, subject, html, Some(registration.id.as_str().to_owned())))
    }
}

pub mod sender;
