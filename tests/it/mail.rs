//! E-mail held to API.md section 10, black-box over HTTP: `registration.resendConfirmationEmail`,
//! `registration.previewEmail`, `mail.list`, `mail.get`, `mail.retry` and the confirmation of
//! `registration.transfer`, every case in both wire forms (plain JSON-RPC 2.0 on `/jsonRpc`, bare params on
//! `/jsonRpc/{method}`). On the shared server, which has no SMTP URL, every message is `held`.

use crate::common;

use common::{
    Client, WIRES, Wire, assert_problem as assert_invalid, create_registration, manager, network, ok, refused,
    registration, rpc, ticket,
};
use serde_json::{Value, json};

const RESEND: &str = "registration.resendConfirmationEmail";
const PREVIEW: &str = "registration.previewEmail";
const LIST: &str = "mail.list";
const GET: &str = "mail.get";
const RETRY: &str = "mail.retry";

/// A network with a ticket and a registration of Ada holding it (with an address); the manager and the
/// registration.
async fn setup(prefix: &str) -> (Client, Value) {
    let net = network(prefix);
    let client = manager(&net).await;
    client.call("ticket.createPurchasableTicket", json!({"ticket": ticket("vip")})).await.expect("ticket");
    let mut ada = registration("c-ada");
    ada["productId"] = json!("vip");
    ada["firstName"] = json!("Ada");
    ada["emailAddress"] = json!("ada@example.org");
    let made = create_registration(&client, ada).await.expect("registration");
    (client, made)
}

#[tokio::test]
async fn a_confirmation_is_queued_held_to_the_registrations_address_and_read_back() {
    let (client, ada) = setup("mail-resend").await;
    for wire in WIRES {
        let message = ok(&client, wire, RESEND, json!({"id": ada["id"]})).await["message"].clone();
        assert_eq!(message["to"], "ada@example.org");
        assert_eq!(message["subject"], "Your registration for Summit 2027");
        assert_eq!(message["status"], "held", "no SMTP URL: held");
        assert_eq!((message["attempts"].clone(), message["lastError"].clone()), (json!(0), json!(null)));
        assert_eq!((message["sentAt"].clone(), message["registrationId"].clone()), (json!(null), ada["id"].clone()));
        assert_eq!(message["sysVersion"], 1);
        let html = message["html"].as_str().expect("html");
        assert!(html.contains("<p>Dear Ada,</p>") && html.contains("<strong>Summit 2027</strong>"), "{html}");
        let text = message["text"].as_str().expect("text");
        assert!(text.starts_with("Dear Ada,\nyour registration for Summit 2027 is confirmed"), "{text}");
        assert!(!text.contains('<'), "{text}");
        let read = ok(&client, wire, GET, json!({"id": message["id"]})).await;
        assert_eq!(read["message"], message);
    }
    let listed = ok(&client, Wire::Plain, LIST, json!({"registrationId": ada["id"]})).await;
    assert_eq!(listed["count"], 2);
}

#[tokio::test]
async fn the_networks_own_template_serves_and_a_preview_goes_to_the_address_given() {
    let (client, ada) = setup("mail-template").await;
    let own = json!({"kind": "confirmationEmail", "subject": "Welcome, {{ registration.firstName }}",
                     "body": "<h1>{{ registration.name }}</h1><p>&lt;3 from {{ networkId }}</p>"});
    client.call("template.put", own).await.expect("template");
    for wire in WIRES {
        let sent = ok(&client, wire, RESEND, json!({"id": ada["id"]})).await["message"].clone();
        assert_eq!(sent["subject"], "Welcome, Ada");
        assert!(sent["text"].as_str().expect("text").starts_with("Ada Lovelace\n<3 from mail-template"), "{sent}");

        let preview = ok(
            &client,
            wire,
            PREVIEW,
            json!({"registrationId": ada["id"],
            "destinationEmailAddress": "team@example.org", "reviewId": "r1", "abstractId": "a1"}),
        )
        .await["message"]
            .clone();
        assert_eq!(
            (preview["to"].clone(), preview["subject"].clone()),
            (json!("team@example.org"), json!("[Preview] Welcome, Ada"))
        );
        let given = json!({"subject": "Try {{ ticket.ticketName }}", "body": "<p>{{ registration.lastName }}</p>"});
        let tried = ok(
            &client,
            wire,
            PREVIEW,
            json!({"registrationId": ada["id"], "type": "confirmationEmail",
            "destinationEmailAddress": "team@example.org", "emailTemplate": given}),
        )
        .await["message"]
            .clone();
        assert_eq!(tried["subject"], "[Preview] Try Standard");
        assert_eq!(tried["html"], "<p></p>", "an unset field prints as nothing");
    }
}

#[tokio::test]
async fn every_refusal_names_what_is_wrong() {
    let (client, ada) = setup("mail-refusals").await;
    let no_address = create_registration(&client, registration("c-none")).await.expect("registration");
    let other = manager(&network("mail-elsewhere")).await;
    let message = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
    for wire in WIRES {
        assert_invalid(
            &refused(&client, wire, RESEND, json!({"id": no_address["id"]})).await,
            "emailAddress",
            &["no emailAddress"],
        );
        let missing = refused(&client, wire, RESEND, json!({"id": "no-such-registration"})).await;
        assert_eq!((missing.code, missing.data["resource"].clone()), (-32004, json!("registration")));
        assert_invalid(&refused(&client, wire, RESEND, json!({})).await, "id", &["required"]);
        assert_invalid(
            &refused(&client, wire, RESEND, json!({"id": ada["id"], "to": "x@example.org"})).await,
            "to",
            &[],
        );

        let preview = |more: Value| {
            let mut params = json!({"registrationId": ada["id"], "destinationEmailAddress": "team@example.org"});
            params.as_object_mut().expect("object").extend(more.as_object().expect("object").clone());
            params
        };
        let bad_body = json!({"emailTemplate": {"subject": "Hi", "body": "<p>\n{{ registration.nmae }}</p>"}});
        assert_invalid(
            &refused(&client, wire, PREVIEW, preview(bad_body)).await,
            "emailTemplate.body",
            &["line 2", "nmae"],
        );
        let two_lines = json!({"emailTemplate": {"subject": "a\nb", "body": "<p></p>"}});
        assert_invalid(
            &refused(&client, wire, PREVIEW, preview(two_lines)).await,
            "emailTemplate.subject",
            &["one line"],
        );
        let no_body = json!({"emailTemplate": {"subject": "Hi"}});
        assert_invalid(&refused(&client, wire, PREVIEW, preview(no_body)).await, "emailTemplate.body", &["required"]);
        assert_invalid(
            &refused(&client, wire, PREVIEW, preview(json!({"type": "certificate"}))).await,
            "type",
            &["confirmationEmail"],
        );
        let bad_address = json!({"destinationEmailAddress": "not an address"});
        assert_invalid(
            &refused(&client, wire, PREVIEW, preview(bad_address)).await,
            "destinationEmailAddress",
            &["e-mail"],
        );
        let missing = refused(
            &client,
            wire,
            PREVIEW,
            json!({"registrationId": "nobody", "destinationEmailAddress": "t@example.org"}),
        )
        .await;
        assert_eq!(missing.code, -32004);

        assert_invalid(&refused(&client, wire, LIST, json!({"status": "lost"})).await, "status", &["queued"]);
        assert_invalid(
            &refused(&client, wire, LIST, json!({"status": ["held", "lost"]})).await,
            "status[1]",
            &["held"],
        );
        assert_invalid(&refused(&client, wire, LIST, json!({"limit": 0})).await, "limit", &[]);
        assert_invalid(&refused(&client, wire, LIST, json!({"fields": ["to"]})).await, "fields", &[]);
        let missing = refused(&client, wire, GET, json!({"id": "no-such-message"})).await;
        assert_eq!((missing.code, missing.data["resource"].clone()), (-32004, json!("mail")));
        assert_eq!(refused(&client, wire, RETRY, json!({"id": "no-such-message"})).await.code, -32004);
        // Another network's message is not there at all.
        assert_eq!(refused(&other, wire, GET, json!({"id": message["id"]})).await.code, -32004);
        assert_eq!(refused(&other, wire, RETRY, json!({"id": message["id"]})).await.code, -32004);
        assert_eq!(ok(&other, wire, LIST, json!({})).await["count"], 0, "an empty list is no refusal");
    }
}

#[tokio::test]
async fn the_list_filters_by_status_and_registration_and_pages() {
    let (client, ada) = setup("mail-list").await;
    let mut grace = registration("c-grace");
    grace["emailAddress"] = json!("grace@example.org");
    let grace = create_registration(&client, grace).await.expect("registration");
    let mut made = Vec::new();
    for who in [&ada, &grace, &ada] {
        made.push(client.call(RESEND, json!({"id": who["id"]})).await.expect("queued")["message"]["id"].clone());
    }
    for wire in WIRES {
        let all = ok(&client, wire, LIST, json!({})).await;
        let ids: Vec<Value> = all["items"].as_array().expect("items").iter().map(|m| m["id"].clone()).collect();
        assert_eq!((all["count"].clone(), ids), (json!(3), made.clone()), "in the order queued");
        let of_ada = ok(&client, wire, LIST, json!({"registrationId": ada["id"]})).await;
        assert_eq!(of_ada["count"], 2);
        let either =
            ok(&client, wire, LIST, json!({"registrationId": [ada["id"], grace["id"]], "status": ["held", "sent"]}))
                .await;
        assert_eq!(either["count"], 3);
        assert_eq!(ok(&client, wire, LIST, json!({"status": "sent"})).await["count"], 0);
        let first = ok(&client, wire, LIST, json!({"limit": 2})).await;
        assert_eq!((first["count"].clone(), first["items"].as_array().map(Vec::len)), (json!(3), Some(2)));
        let cursor = first["nextCursor"].clone();
        assert!(cursor.is_string(), "{first}");
        let rest = ok(&client, wire, LIST, json!({"limit": 2, "cursor": cursor})).await;
        assert_eq!((rest["items"][0]["id"].clone(), rest["nextCursor"].clone()), (made[2].clone(), json!(null)));
    }
}

#[tokio::test]
async fn without_an_smtp_url_a_retry_keeps_a_message_held() {
    let (client, ada) = setup("mail-held").await;
    let message = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
    for wire in WIRES {
        let retried = ok(&client, wire, RETRY, json!({"id": message["id"]})).await["message"].clone();
        assert_eq!(retried, message, "held it stays, unchanged");
    }
}

#[tokio::test]
async fn a_transfer_queues_the_confirmation_of_the_moved_registration_or_moves_nothing() {
    let (client, ada) = setup("mail-transfer").await;
    let no_address = create_registration(&client, registration("c-none")).await.expect("registration");
    for (wire, contact) in [(Wire::Plain, "c-babbage"), (Wire::Bare, "c-byron")] {
        let moved = ok(
            &client,
            wire,
            "registration.transfer",
            json!({"id": ada["id"], "contactId": contact, "sendConfirmationEmail": true}),
        )
        .await;
        assert_eq!(moved["registration"]["contactId"], contact);
        let listed = ok(&client, wire, LIST, json!({"registrationId": ada["id"]})).await;
        let last = listed["items"].as_array().and_then(|items| items.last()).expect("a message").clone();
        assert_eq!((last["to"].clone(), last["status"].clone()), (json!("ada@example.org"), json!("held")));

        let refused = refused(
            &client,
            wire,
            "registration.transfer",
            json!({"id": no_address["id"], "contactId": contact, "sendConfirmationEmail": true}),
        )
        .await;
        assert_invalid(&refused, "emailAddress", &["no emailAddress"]);
        let kept = client.call("registration.get", json!({"id": no_address["id"]})).await.expect("registration");
        assert_eq!(kept["registration"]["contactId"], "c-none", "a refused confirmation moves nothing");
    }
    // Without the flag, no message.
    client.call("registration.transfer", json!({"id": ada["id"], "contactId": "c-ada"})).await.expect("moved");
    assert_eq!(client.call(LIST, json!({"registrationId": ada["id"]})).await.expect("list")["count"], 2);
}

/// An SMTP server for the tests, over real TCP on `127.0.0.1:0`: it speaks enough SMTP for lettre (EHLO/HELO,
/// MAIL, RCPT, DATA, RSET, NOOP, QUIT, and STARTTLS when it has a certificate), records each message it accepts and
/// whether it came through TLS, and behaves as its [`Mode`] says at the moment a connection reaches each step.
pub(crate) mod sink {
    use std::net::SocketAddr;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, Lines};
    use tokio::net::{TcpListener, TcpSocket, TcpStream};
    use tokio::sync::Notify;
    use tokio_rustls::TlsAcceptor;
    use tokio_rustls::rustls::{self, ServerConfig, pki_types::PrivatePkcs8KeyDer};

    /// How the sink answers.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Mode {
        /// Takes every message.
        Accept,
        /// Answers RCPT with this code (4xx: try later; 5xx: never).
        RefuseRcpt(u16),
        /// Takes the message's text, then answers the final dot with this code.
        RefuseData(u16),
        /// Closes the connection in the middle of the message's text.
        DropMidData,
        /// Takes the message's text and never answers the final dot: the client waits in `DATA`.
        HoldData,
    }

    /// How a sink with a certificate speaks TLS.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Tls {
        /// Plain text first, TLS after the client's `STARTTLS` (offered in the `EHLO` answer); `smtp://`.
        StartTls,
        /// TLS from the first byte; `smtps://`.
        Implicit,
    }

    /// A certificate authority made for one test, and a certificate it signed for `127.0.0.1`: what a TLS sink
    /// serves, and the CA a server is told to trust (or not).
    pub struct TestCa {
        /// The CA's certificate, PEM.
        pub pem: String,
        acceptor: TlsAcceptor,
    }

    impl TestCa {
        pub fn new() -> TestCa {
            let ca_key = rcgen::KeyPair::generate().expect("a CA key");
            let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
            ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            ca.distinguished_name.push(rcgen::DnType::CommonName, "ticket-admin test CA");
            let ca_certificate = ca.self_signed(&ca_key).expect("the CA's certificate");
            let issuer = rcgen::Issuer::new(ca, ca_key);
            let key = rcgen::KeyPair::generate().expect("the sink's key");
            let mut leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("parameters");
            leaf.distinguished_name.push(rcgen::DnType::CommonName, "sink");
            let certificate = leaf.signed_by(&key, &issuer).expect("the sink's certificate");
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("TLS versions")
                .with_no_client_auth()
                .with_single_cert(
                    vec![certificate.der().clone(), ca_certificate.der().clone()],
                    PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
                )
                .expect("the sink's TLS configuration");
            TestCa { pem: ca_certificate.pem(), acceptor: TlsAcceptor::from(Arc::new(config)) }
        }

        /// Writes the CA's certificate into `dir`; its path, for `--smtp-ca-file`.
        pub fn write_in(&self, dir: &Path) -> PathBuf {
            let path = dir.join("smtp-ca.pem");
            std::fs::write(&path, &self.pem).expect("the CA file written");
            path
        }
    }

    #[derive(Default)]
    struct State {
        mode: Option<Mode>,
        /// The messages taken, as their raw text.
        taken: Vec<String>,
        /// How many of them came through a TLS session.
        taken_over_tls: usize,
        /// When each connection was opened.
        connections: Vec<Instant>,
        /// Messages whose text reached the final dot while the sink held it.
        held: usize,
    }

    /// What a conversation runs on: the TCP stream, or the TLS session over it.
    trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
    impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

    type Conversation = Lines<BufReader<Box<dyn Io>>>;

    /// Writes one answer line (or lines joined by CRLF); `false` when the client is gone.
    async fn say(conversation: &mut Conversation, text: &str) -> bool {
        conversation.get_mut().get_mut().write_all(format!("{text}\r\n").as_bytes()).await.is_ok()
    }

    /// A running sink; it stops with the test's runtime.
    #[derive(Clone)]
    pub struct Sink {
        pub addr: SocketAddr,
        state: Arc<Mutex<State>>,
        changed: Arc<Notify>,
        tls: Option<(Tls, TlsAcceptor)>,
    }

    impl Sink {
        /// A sink that speaks plain text only.
        pub async fn start(mode: Mode) -> Sink {
            Sink::listen(mode, None, TcpListener::bind("127.0.0.1:0").await.expect("the sink listens")).await
        }

        /// A sink that speaks plain text only, listening on `socket` (bound already: until now its port refused
        /// connections).
        pub async fn start_on(mode: Mode, socket: TcpSocket) -> Sink {
            Sink::listen(mode, None, socket.listen(1024).expect("the sink listens")).await
        }

        /// A sink that speaks TLS as `tls` says, with the certificate `ca` signed.
        pub async fn start_tls(mode: Mode, tls: Tls, ca: &TestCa) -> Sink {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("the sink listens");
            Sink::listen(mode, Some((tls, ca.acceptor.clone())), listener).await
        }

        async fn listen(mode: Mode, tls: Option<(Tls, TlsAcceptor)>, listener: TcpListener) -> Sink {
            let addr = listener.local_addr().expect("address");
            let sink = Sink {
                addr,
                state: Arc::new(Mutex::new(State { mode: Some(mode), ..State::default() })),
                changed: Arc::new(Notify::new()),
                tls,
            };
            let serving = sink.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serving.clone().converse(stream));
                }
            });
            sink
        }

        /// The URL of the sink: `smtps://` when it speaks TLS from the first byte, else `smtp://`.
        pub fn url(&self) -> String {
            let scheme = if matches!(self.tls, Some((Tls::Implicit, _))) { "smtps" } else { "smtp" };
            format!("{scheme}://tester:secret-password@{}", self.addr)
        }

        pub fn set(&self, mode: Mode) {
            self.state.lock().unwrap().mode = Some(mode);
        }

        fn mode(&self) -> Mode {
            self.state.lock().unwrap().mode.unwrap_or(Mode::Accept)
        }

        pub fn taken(&self) -> Vec<String> {
            self.state.lock().unwrap().taken.clone()
        }

        /// How many of the messages taken came through a TLS session.
        pub fn taken_over_tls(&self) -> usize {
            self.state.lock().unwrap().taken_over_tls
        }

        pub fn connections(&self) -> Vec<Instant> {
            self.state.lock().unwrap().connections.clone()
        }

        /// Waits (at most 30 s) until `done` holds of the messages taken and the messages held.
        pub async fn wait(&self, what: &str, done: impl Fn(&[String], usize) -> bool) {
            let deadline = Instant::now() + std::time::Duration::from_secs(30);
            loop {
                let notified = self.changed.notified();
                {
                    let state = self.state.lock().unwrap();
                    if done(&state.taken, state.held) {
                        return;
                    }
                }
                let left = deadline.saturating_duration_since(Instant::now());
                assert!(tokio::time::timeout(left, notified).await.is_ok(), "the sink waited in vain for {what}");
            }
        }

        async fn converse(self, stream: TcpStream) {
            self.state.lock().unwrap().connections.push(Instant::now());
            let (stream, mut secure): (Box<dyn Io>, bool) = match &self.tls {
                // A client that does not trust the certificate ends the handshake: nothing more to say.
                Some((Tls::Implicit, acceptor)) => match acceptor.accept(stream).await {
                    Ok(session) => (Box::new(session), true),
                    Err(_) => return,
                },
                _ => (Box::new(stream), false),
            };
            let mut lines = BufReader::new(stream).lines();
            if !say(&mut lines, "220 sink ESMTP ready").await {
                return;
            }
            while let Ok(Some(line)) = lines.next_line().await {
                let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
                let starttls = match &self.tls {
                    Some((Tls::StartTls, acceptor)) if !secure => Some(acceptor.clone()),
                    _ => None,
                };
                let answer = match verb.as_str() {
                    "EHLO" if starttls.is_some() => {
                        "250-sink\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN".to_owned()
                    }
                    "EHLO" => "250-sink\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN".to_owned(),
                    "STARTTLS" => match starttls {
                        Some(acceptor) => {
                            if !say(&mut lines, "220 go ahead with TLS").await {
                                return;
                            }
                            // The client waits for that answer before its handshake: nothing is left unread.
                            let plain = lines.into_inner().into_inner();
                            let Ok(session) = acceptor.accept(plain).await else { return };
                            secure = true;
                            lines = BufReader::new(Box::new(session) as Box<dyn Io>).lines();
                            continue;
                        }
                        None => "502 not implemented".to_owned(),
                    },
                    "HELO" | "MAIL" | "RSET" | "NOOP" => "250 OK".to_owned(),
                    "AUTH" => "235 accepted".to_owned(),
                    "RCPT" => match self.mode() {
                        Mode::RefuseRcpt(code) => format!("{code} not this recipient"),
                        _ => "250 OK".to_owned(),
                    },
                    "DATA" => {
                        if !say(&mut lines, "354 go ahead").await {
                            return;
                        }
                        let mut text = String::new();
                        let mut lines_read = 0;
                        loop {
                            let Ok(Some(line)) = lines.next_line().await else { return };
                            lines_read += 1;
                            if self.mode() == Mode::DropMidData && lines_read == 3 {
                                // Gone in the middle of the message.
                                return;
                            }
                            if line == "." {
                                break;
                            }
                            text.push_str(&line);
                            text.push('\n');
                        }
                        match self.mode() {
                            Mode::RefuseData(code) => format!("{code} not this message"),
                            Mode::HoldData => {
                                self.state.lock().unwrap().held += 1;
                                self.changed.notify_waiters();
                                // Never answers: the client waits until it is killed or times out.
                                std::future::pending::<()>().await;
                                return;
                            }
                            _ => {
                                let mut state = self.state.lock().unwrap();
                                state.taken.push(text);
                                state.taken_over_tls += usize::from(secure);
                                self.changed.notify_waiters();
                                "250 queued".to_owned()
                            }
                        }
                    }
                    "QUIT" => {
                        say(&mut lines, "221 bye").await;
                        return;
                    }
                    _ => "502 not implemented".to_owned(),
                };
                if !say(&mut lines, &answer).await {
                    return;
                }
            }
        }
    }
}

pub(crate) mod delivery {
    use super::sink::{Mode, Sink, TestCa, Tls};
    use super::*;

    use std::time::Duration;

    use ticket_admin::mail::sender::Smtp;

    /// An SMTP configuration for the sink, with retries this quick.
    fn smtp(sink: &Sink, first_retry_ms: u64, give_up_after_ms: u64) -> Smtp {
        smtp_at(sink.url(), first_retry_ms, give_up_after_ms)
    }

    /// An SMTP configuration for the relay at `url`, with retries this quick.
    fn smtp_at(url: String, first_retry_ms: u64, give_up_after_ms: u64) -> Smtp {
        Smtp {
            first_retry: Duration::from_millis(first_retry_ms),
            give_up_after: Duration::from_millis(give_up_after_ms),
            ..Smtp::new(url, "Events <events@example.org>".into())
        }
    }

    /// A registration of Ada (with an address) on a network of its own on `client`'s server; a client on it.
    async fn ada_on(admin: &Client) -> (Client, Value) {
        let client = admin.clone().on(&network("mail-sent"));
        let mut ada = registration("c-ada");
        ada["emailAddress"] = json!("ada@example.org");
        ada["firstName"] = json!("Ada");
        (client.clone(), create_registration(&client, ada).await.expect("registration"))
    }

    /// Reads the message until `done` holds of it (at most 30 s); the message then.
    pub(crate) async fn message_when(client: &Client, id: &Value, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let message = client.call(GET, json!({"id": id})).await.expect("mail.get")["message"].clone();
            if done(&message) {
                return message;
            }
            assert!(std::time::Instant::now() < deadline, "the message never became {what}: {message}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn a_message_is_sent_once_over_smtp_with_both_parts_and_a_stable_message_id() {
        let sink = Sink::start(Mode::Accept).await;
        let server = common::launch(|c| c.smtp = Some(smtp(&sink, 50, 60_000))).await;
        let (client, ada) = ada_on(&server.admin()).await;
        let queued = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
        assert_eq!(queued["status"], "queued", "a sender is configured");
        let sent = message_when(&client, &queued["id"], "sent", |m| m["status"] == "sent").await;
        assert_eq!((sent["attempts"].clone(), sent["lastError"].clone()), (json!(1), json!(null)));
        assert!(sent["sentAt"].is_string(), "{sent}");
        let taken = sink.taken();
        assert_eq!(taken.len(), 1);
        let text = &taken[0];
        let id = queued["id"].as_str().expect("id");
        assert!(text.contains(&format!("Message-ID: <{id}@ticket-admin>")), "{text}");
        assert!(text.contains("To: ada@example.org") && text.contains("events@example.org>"), "{text}");
        assert!(text.contains("Subject: Your registration for ev1"), "{text}");
        assert!(text.contains("multipart/alternative") && text.contains("text/plain") && text.contains("text/html"));
        // A second message goes too, and the first is not sent again.
        let second = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
        message_when(&client, &second["id"], "sent", |m| m["status"] == "sent").await;
        let taken = sink.taken();
        assert_eq!(taken.len(), 2, "each message once");
        assert_eq!(taken.iter().filter(|t| t.contains(&format!("<{id}@ticket-admin>"))).count(), 1);
        // A sent message is not sent again by a retry.
        let again = client.call(RETRY, json!({"id": queued["id"]})).await.expect_err("sent already");
        assert_eq!((again.code, again.reason()), (-32009, "notRetryable"));
        assert_eq!(again.data["status"], "sent");
        server.stop().await;
    }

    #[tokio::test]
    async fn temporary_refusals_are_retried_with_growing_waits_until_the_server_takes_the_message() {
        let sink = Sink::start(Mode::RefuseRcpt(451)).await;
        let server = common::launch(|c| c.smtp = Some(smtp(&sink, 100, 60_000))).await;
        let (client, ada) = ada_on(&server.admin()).await;
        let queued = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
        let failing = message_when(&client, &queued["id"], "tried 4 times", |m| {
            m["attempts"].as_i64() >= Some(4) && m["status"] == "queued"
        })
        .await;
        assert_eq!(failing["status"], "queued", "{failing}");
        assert!(failing["lastError"].as_str().is_some_and(|e| e.contains("451")), "{failing}");
        let at = sink.connections();
        let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.len() >= 3, "{gaps:?}");
        assert!(gaps[0] >= Duration::from_millis(100) && gaps[1] >= Duration::from_millis(200), "{gaps:?}");
        assert!(gaps[2] >= Duration::from_millis(400), "each wait doubles: {gaps:?}");
        sink.set(Mode::Accept);
        let sent = message_when(&client, &queued["id"], "sent", |m| m["status"] == "sent").await;
        assert!(sent["attempts"].as_i64() >= Some(5), "{sent}");
        assert_eq!(sink.taken().len(), 1);
        server.stop().await;
    }

    #[tokio::test]
    async fn a_permanent_refusal_fails_the_message_at_once_and_mail_retry_sends_it() {
        for refusal in [Mode::RefuseRcpt(550), Mode::RefuseData(554)] {
            let sink = Sink::start(refusal).await;
            let server = common::launch(|c| c.smtp = Some(smtp(&sink, 50, 60_000))).await;
            let (client, ada) = ada_on(&server.admin()).await;
            let queued = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
            let failed = message_when(&client, &queued["id"], "failed", |m| m["status"] == "failed").await;
            assert_eq!(failed["attempts"], 1, "{failed}");
            let code = if refusal == Mode::RefuseRcpt(550) { "550" } else { "554" };
            assert!(failed["lastError"].as_str().is_some_and(|e| e.contains(code)), "{failed}");
            assert!(sink.taken().is_empty());
            sink.set(Mode::Accept);
            for wire in WIRES {
                let retried = rpc(&client, wire, RETRY, json!({"id": queued["id"]})).await;
                match retried {
                    Ok(answer) => {
                        assert_eq!(answer["message"]["status"], "queued");
                        assert_eq!(answer["message"]["lastError"], json!(null));
                    }
                    // The sender may have sent it between the first retry and this one.
                    Err(e) => assert_eq!((wire, e.reason()), (Wire::Bare, "notRetryable"), "{e:?}"),
                }
            }
            let sent = message_when(&client, &queued["id"], "sent", |m| m["status"] == "sent").await;
            assert_eq!(sent["attempts"], 2);
            assert_eq!(sink.taken().len(), 1);
            server.stop().await;
        }
    }

    #[tokio::test]
    async fn a_connection_dropped_in_the_middle_of_the_message_is_tried_again() {
        let sink = Sink::start(Mode::DropMidData).await;
        let server = common::launch(|c| c.smtp = Some(smtp(&sink, 50, 60_000))).await;
        let (client, ada) = ada_on(&server.admin()).await;
        let queued = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
        let dropped = message_when(&client, &queued["id"], "tried", |m| m["lastError"].is_string()).await;
        assert_ne!(dropped["status"], "failed", "a dropped connection is a temporary failure: {dropped}");
        sink.set(Mode::Accept);
        let sent = message_when(&client, &queued["id"], "sent", |m| m["status"] == "sent").await;
        assert!(sent["attempts"].as_i64() >= Some(2), "{sent}");
        assert_eq!(sink.taken().len(), 1, "the cut message was not taken; the whole one once");
        server.stop().await;
    }

    #[tokio::test]
    async fn a_relay_that_refuses_the_connection_is_tried_again_and_gets_the_message_once_it_listens() {
        // A port bound by a socket that does not listen yet: each connection to it is refused, and nothing else
        // can take the port meanwhile.
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.bind("127.0.0.1:0".parse().expect("an address")).expect("a free port");
        let addr = socket.local_addr().expect("its address");
        let smtp = smtp_at(format!("smtp://tester:secret-password@{addr}"), 50, 60_000);
        let server = common::launch(|c| c.smtp = Some(smtp)).await;
        let (client, ada) = ada_on(&server.admin()).await;
        let queued = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
        let refused = message_when(&client, &queued["id"], "tried twice", |m| {
            m["attempts"].as_i64() >= Some(2) || m["status"] == "failed"
        })
        .await;
        assert_ne!(refused["status"], "failed", "a refused connection is a temporary failure: {refused}");
        assert!(refused["lastError"].as_str().is_some_and(|e| e.contains("Connection refused")), "{refused}");
        let sink = Sink::start_on(Mode::Accept, socket).await;
        let sent = message_when(&client, &queued["id"], "sent", |m| m["status"] == "sent").await;
        assert!(sent["attempts"].as_i64() >= Some(3), "{sent}");
        assert_eq!(sink.taken().len(), 1);
        server.stop().await;
    }

    #[tokio::test]
    async fn retries_stop_and_the_message_fails_once_its_time_is_up() {
        let sink = Sink::start(Mode::RefuseRcpt(421)).await;
        let server = common::launch(|c| c.smtp = Some(smtp(&sink, 50, 400))).await;
        let (client, ada) = ada_on(&server.admin()).await;
        let queued = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
        let failed = message_when(&client, &queued["id"], "failed", |m| m["status"] == "failed").await;
        let error = failed["lastError"].as_str().unwrap_or_default();
        assert!(error.contains("421") && error.contains("retried for"), "{failed}");
        assert!(failed["attempts"].as_i64() >= Some(2), "{failed}");
        server.stop().await;
    }

    #[tokio::test]
    async fn held_messages_wait_for_a_start_with_an_smtp_url_and_mail_retry() {
        let sink = Sink::start(Mode::Accept).await;
        let first = common::launch(|_| {}).await;
        let (client, ada) = ada_on(&first.admin()).await;
        let held = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
        assert_eq!(held["status"], "held");
        let net = client.network.clone().expect("a client on a network");
        let dir = first.stop().await;
        let second = common::launch_in(dir, |c| c.smtp = Some(smtp(&sink, 50, 60_000))).await;
        let again = Client::of(second.addr).with_token(common::ADMIN).on(&net);
        // Still held after the start: nothing goes out until it is asked for.
        let still = again.call(GET, json!({"id": held["id"]})).await.expect("mail.get")["message"].clone();
        assert_eq!(still["status"], "held");
        let queued = again.call(RETRY, json!({"id": held["id"]})).await.expect("retried")["message"].clone();
        assert_eq!(queued["status"], "queued");
        message_when(&again, &held["id"], "sent", |m| m["status"] == "sent").await;
        assert_eq!(sink.taken().len(), 1);
        second.stop().await;
    }

    /// Through TLS, each way the sender speaks it: STARTTLS when the relay offers it (`smtp://`), STARTTLS insisted
    /// on (`?tls=required`), and implicit TLS (`smtps://`), to a relay whose certificate a CA made for the test
    /// signed, which the server trusts because `ca_file` names it. The message arrives inside the TLS session.
    #[tokio::test]
    async fn a_message_goes_through_tls_to_a_relay_whose_ca_the_server_is_told_to_trust() {
        let ca = TestCa::new();
        let dir = tempfile::tempdir().expect("temporary directory");
        let ca_file = ca.write_in(dir.path());
        for (how, query) in [(Tls::StartTls, ""), (Tls::StartTls, "?tls=required"), (Tls::Implicit, "")] {
            let sink = Sink::start_tls(Mode::Accept, how, &ca).await;
            let trusting = Smtp {
                url: format!("{}{query}", sink.url()),
                ca_file: Some(ca_file.clone()),
                ..smtp(&sink, 50, 60_000)
            };
            let server = common::launch(|c| c.smtp = Some(trusting)).await;
            let (client, ada) = ada_on(&server.admin()).await;
            let queued = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
            let sent = message_when(&client, &queued["id"], "sent", |m| m["status"] == "sent").await;
            assert_eq!(
                (sent["attempts"].clone(), sent["lastError"].clone()),
                (json!(1), json!(null)),
                "{how:?}{query}"
            );
            assert_eq!((sink.taken().len(), sink.taken_over_tls()), (1, 1), "{how:?}{query}: once, inside TLS");
            server.stop().await;
        }
    }

    /// A relay whose certificate the server does not trust (no `ca_file`; the webpki roots do not know the test's
    /// CA) gets no message, in either TLS, and not in plain text either: the attempt fails on the certificate and
    /// the message waits to be tried again.
    #[tokio::test]
    async fn a_relay_whose_certificate_is_not_trusted_gets_no_message() {
        let ca = TestCa::new();
        for how in [Tls::StartTls, Tls::Implicit] {
            let sink = Sink::start_tls(Mode::Accept, how, &ca).await;
            let server = common::launch(|c| c.smtp = Some(smtp(&sink, 50, 60_000))).await;
            let (client, ada) = ada_on(&server.admin()).await;
            let queued = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
            let refused = message_when(&client, &queued["id"], "tried", |m| m["lastError"].is_string()).await;
            let error = refused["lastError"].as_str().unwrap_or_default();
            assert!(error.contains("certificate"), "{how:?}: {refused}");
            assert_ne!(refused["status"], "sent", "{how:?}");
            assert!(sink.taken().is_empty(), "{how:?}");
            server.stop().await;
        }
    }

    /// `--smtp-ca-file`, as an operator gives it to the binary: the server trusts the relay's CA and the
    /// confirmation goes through STARTTLS.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_smtp_ca_file_flag_makes_the_binary_trust_the_relays_ca() {
        use crate::process::{Server, serve_args};
        let ca = TestCa::new();
        let dir = tempfile::tempdir().expect("temporary directory");
        let ca_file = ca.write_in(dir.path());
        let sink = Sink::start_tls(Mode::Accept, Tls::StartTls, &ca).await;
        let mut command = serve_args(&dir.path().join("tls.db"));
        command
            .env("TICKET_ADMIN_BOOTSTRAP_TOKEN", common::ADMIN)
            .env("TICKET_ADMIN_SMTP_URL", format!("{}?tls=required", sink.url()))
            .args(["--mail-from", "events@example.org", "--smtp-ca-file"])
            .arg(&ca_file);
        let server = Server::start(command).await;
        let (client, ada) = ada_on(&server.client(common::ADMIN, "any")).await;
        let queued = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
        message_when(&client, &queued["id"], "sent", |m| m["status"] == "sent").await;
        assert_eq!((sink.taken().len(), sink.taken_over_tls()), (1, 1));
        let id = queued["id"].as_str().expect("id");
        assert!(sink.taken()[0].contains(&format!("<{id}@ticket-admin>")));
    }

    /// The last error of a message whose SMTP exchange a shutdown cut off.
    const CUT_OFF: &str = "cut off by a shutdown during delivery; mail.retry to send again";

    /// A shutdown has a bound however long the SMTP server takes: SIGTERM with `--shutdown-timeout 1s` while the SMTP
    /// server holds the message's `DATA` open, and the process has exited within 8 s (the 1 s, the sender's 2 s to
    /// record the cut, and the closing), not after the 60 s SMTP timeout. The message may have reached the mailbox,
    /// so it is `failed` as cut off and the next start does not send it; one queued behind it, never begun, goes out
    /// then, once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigterm_cuts_a_stalled_delivery_off_within_the_shutdown_timeout_and_it_is_not_sent_again_by_itself() {
        use crate::process::{Server, serve_args};
        let holding = Sink::start(Mode::HoldData).await;
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = dir.path().join("mail.db");
        let serve =
            |sink: &Sink| {
                let mut command = serve_args(&db);
                command
                    .env("TICKET_ADMIN_BOOTSTRAP_TOKEN", common::ADMIN)
                    .env("TICKET_ADMIN_SMTP_URL", sink.url())
                    .args(["--mail-from", "events@example.org", "--shutdown-timeout", "1s"]);
                command
            };
        let mut server = Server::start(serve(&holding)).await;
        let (client, ada) = ada_on(&server.client(common::ADMIN, "any")).await;
        let stalled = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
        holding.wait("the message's text, held in DATA", |_, held| held == 1).await;
        let behind = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
        let (status, log) = server.stop_within("TERM", Duration::from_secs(8)).await;
        assert!(status.success(), "exit {status:?}; log {log:?}");
        assert!(log.iter().any(|l| l.contains("stopped; database closed")), "{log:?}");

        let taking = Sink::start(Mode::Accept).await;
        let server = Server::start(serve(&taking)).await;
        let client = Client::of(server.addr).with_token(common::ADMIN).on(client.network.as_deref().expect("network"));
        let cut = client.call(GET, json!({"id": stalled["id"]})).await.expect("mail.get")["message"].clone();
        assert_eq!((cut["status"].clone(), cut["lastError"].clone()), (json!("failed"), json!(CUT_OFF)), "{cut}");
        assert_eq!(cut["attempts"], 1);
        let sent = message_when(&client, &behind["id"], "sent", |m| m["status"] == "sent").await;
        assert_eq!(sent["attempts"], 1);
        let taken = taking.taken();
        assert_eq!(taken.len(), 1, "only the message behind");
        assert!(taken[0].contains(&format!("<{}@ticket-admin>", behind["id"].as_str().expect("id"))));
    }

    /// Messages claimed together and not begun when the server stops are handed back `queued`, their attempt
    /// uncounted, while the one whose exchange was under way is cut off at the shutdown timeout: started again with
    /// an SMTP server that takes everything, the server sends each handed-back message once and no cut one.
    #[tokio::test]
    async fn a_shutdown_hands_back_the_messages_it_claimed_and_had_not_begun() {
        let holding = Sink::start(Mode::HoldData).await;
        let stalling = |c: &mut ticket_admin::config::Config| {
            c.smtp = Some(smtp(&holding, 50, 60_000));
            c.bounds.shutdown_timeout = Duration::from_millis(300);
        };
        let first = common::launch(stalling).await;
        let (client, ada) = ada_on(&first.admin()).await;
        let net = client.network.clone().expect("a client on a network");
        let mut queued = Vec::new();
        for held in 1..=3 {
            queued.push(client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"]["id"].clone());
            if held == 1 {
                holding.wait("the first message, held in DATA", |_, held| held == 1).await;
            }
        }
        let dir = first.stop().await;
        // Started again, the server claims the two queued messages at once and stalls in the first one's DATA.
        let second = common::launch_in(dir, stalling).await;
        let again = Client::of(second.addr).with_token(common::ADMIN).on(&net);
        holding.wait("the second message, held in DATA", |_, held| held == 2).await;
        let claimed = again.call(GET, json!({"id": queued[2]})).await.expect("mail.get")["message"].clone();
        assert_eq!((claimed["status"].clone(), claimed["attempts"].clone()), (json!("sending"), json!(1)));
        let dir = second.stop().await;

        let taking = Sink::start(Mode::Accept).await;
        let third = common::launch_in(dir, |c| c.smtp = Some(smtp(&taking, 50, 60_000))).await;
        let last = Client::of(third.addr).with_token(common::ADMIN).on(&net);
        let sent = message_when(&last, &queued[2], "sent", |m| m["status"] == "sent").await;
        assert_eq!(sent["attempts"], 1, "the claim that never began is not counted: {sent}");
        for cut in &queued[..2] {
            let cut = last.call(GET, json!({"id": cut})).await.expect("mail.get")["message"].clone();
            assert_eq!((cut["status"].clone(), cut["lastError"].clone()), (json!("failed"), json!(CUT_OFF)), "{cut}");
            assert_eq!(cut["attempts"], 1);
        }
        let taken = taking.taken();
        assert_eq!(taken.len(), 1, "the handed-back message, once");
        assert!(taken[0].contains(&format!("<{}@ticket-admin>", queued[2].as_str().expect("id"))));
        third.stop().await;
    }

    /// The guarantee of the outbox (README, "Delivery"): at most once. The server is killed (`kill -9`) while the SMTP
    /// server holds its `DATA` open, so the message may or may not have reached the mailbox; started again, the
    /// server does not send it a second time by itself, but marks it `failed` as interrupted, and sends it only when
    /// an operator asks with `mail.retry`.
    #[tokio::test]
    async fn a_kill_between_data_and_the_outbox_update_never_sends_the_message_again_by_itself() {
        use crate::process::{Server, serve_args};
        let holding = Sink::start(Mode::HoldData).await;
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = dir.path().join("mail.db");
        let serve = |sink: &Sink| {
            let mut command = serve_args(&db);
            command
                .env("TICKET_ADMIN_BOOTSTRAP_TOKEN", common::ADMIN)
                .env("TICKET_ADMIN_SMTP_URL", sink.url())
                .args(["--mail-from", "events@example.org"]);
            command
        };
        let mut server = Server::start(serve(&holding)).await;
        assert!(server.early.iter().all(|line| !line.contains("secret-password")), "{:?}", server.early);
        let net = network("mail-crash");
        let client = server.client(common::ADMIN, &net);
        let (client, ada) = ada_on(&client).await;
        let queued = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
        holding.wait("the message's text, held in DATA", |_, held| held == 1).await;
        let sending = client.call(GET, json!({"id": queued["id"]})).await.expect("mail.get")["message"].clone();
        assert_eq!((sending["status"].clone(), sending["attempts"].clone()), (json!("sending"), json!(1)));
        server.kill_now().await;

        let taking = Sink::start(Mode::Accept).await;
        let server = Server::start(serve(&taking)).await;
        let client = Client::of(server.addr).with_token(common::ADMIN).on(client.network.as_deref().expect("network"));
        let failed = message_when(&client, &queued["id"], "failed", |m| m["status"] == "failed").await;
        assert_eq!(failed["lastError"], "interrupted during delivery; mail.retry to send again");
        assert_eq!(failed["attempts"], 1);
        // A message queued after the start goes out; the interrupted one does not.
        let later = client.call(RESEND, json!({"id": ada["id"]})).await.expect("queued")["message"].clone();
        message_when(&client, &later["id"], "sent", |m| m["status"] == "sent").await;
        let interrupted = format!("<{}@ticket-admin>", queued["id"].as_str().expect("id"));
        assert_eq!(taking.taken().len(), 1);
        assert!(!taking.taken()[0].contains(&interrupted));
        // The operator sends it again: once.
        client.call(RETRY, json!({"id": queued["id"]})).await.expect("retried");
        message_when(&client, &queued["id"], "sent", |m| m["status"] == "sent").await;
        let copies = taking.taken().iter().filter(|t| t.contains(&interrupted)).count();
        assert_eq!(copies, 1);
    }
}
