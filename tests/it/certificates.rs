//! Templates and certificates held to API.md section 10, black-box over HTTP: `template.put`, `template.get`,
//! `template.delete`, `registration.getCertificate` and `registration.previewCertificate`, every case in both wire
//! forms (plain JSON-RPC 2.0 on `/jsonRpc`, bare params on `/jsonRpc/{method}`). Then the certificate printed by
//! headless Chromium: one A4 landscape page that holds the attendee's name and the event.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{
    Client, WIRES, Wire, assert_problem as assert_invalid, create_registration, manager, network, ok, refused,
    registration, ticket,
};
use serde_json::{Value, json};

const PUT: &str = "template.put";
const GET: &str = "template.get";
const DELETE: &str = "template.delete";
const CERTIFICATE: &str = "registration.getCertificate";
const PREVIEW: &str = "registration.previewCertificate";

/// The built-in certificate's text, as `template.get` answers it for a network that keeps none.
async fn default_certificate(client: &Client) -> String {
    let got = ok(client, Wire::Plain, GET, json!({"kind": "certificate"})).await;
    assert_eq!(got["template"]["default"], true, "{got}");
    got["template"]["body"].as_str().expect("body").to_owned()
}

/// A manager of a fresh network holding ticket `gala` ("Annual Gala 2027") and an active registration of it by
/// `name`; the registration's id.
async fn registered(prefix: &str, name: &str) -> (Client, String) {
    let c = manager(&network(prefix)).await;
    let mut gala = ticket("gala");
    gala["eventName"] = json!("Annual Gala 2027");
    c.call("ticket.createPurchasableTicket", json!({"ticket": gala})).await.expect("ticket");
    let made = create_registration(&c, with(registration("c-ada"), json!({"name": name, "productId": "gala"})))
        .await
        .expect("registration");
    (c, made["id"].as_str().expect("id").to_owned())
}

fn with(mut base: Value, more: Value) -> Value {
    for (k, v) in more.as_object().expect("an object") {
        base[k] = v.clone();
    }
    base
}

#[tokio::test]
async fn each_template_method_succeeds_in_both_wires() {
    for wire in WIRES {
        let c = manager(&network("tpl-ok")).await;
        // Nothing kept: the defaults, marked as such, without sys fields.
        let certificate = ok(&c, wire, GET, json!({"kind": "certificate"})).await["template"].clone();
        assert_eq!(
            (&certificate["kind"], &certificate["subject"], &certificate["default"]),
            (&json!("certificate"), &json!(null), &json!(true))
        );
        assert!(certificate["body"].as_str().unwrap().contains("{{ registration.name }}"), "{certificate}");
        assert!(certificate.get("sysVersion").is_none(), "{certificate}");
        let email = ok(&c, wire, GET, json!({"kind": "confirmationEmail"})).await["template"].clone();
        assert!(email["subject"].as_str().unwrap().starts_with("Your registration for"), "{email}");
        assert_eq!(email["default"], true);

        // A network's own: version 1, the next when it changes, the same when it does not.
        let body = "<h1>{{ registration.name }}</h1>";
        let put = ok(&c, wire, PUT, json!({"kind": "certificate", "body": body})).await["template"].clone();
        assert_eq!(
            (&put["body"], &put["default"], &put["sysVersion"]),
            (&json!(body), &json!(false), &json!(1)),
            "{put}"
        );
        assert_eq!(put["subject"], json!(null));
        for member in ["sysCreatedAt", "sysLastModifiedAt", "sysCreatedById", "sysLastModifiedById"] {
            assert!(put[member].is_string(), "{member}: {put}");
        }
        assert_eq!(ok(&c, wire, GET, json!({"kind": "certificate"})).await["template"], put);
        let again = ok(&c, wire, PUT, json!({"kind": "certificate", "body": body})).await["template"].clone();
        assert_eq!(again, put, "an equal put changes nothing");
        let changed =
            ok(&c, wire, PUT, json!({"kind": "certificate", "body": "<h2>{{ registration.name }}</h2>"})).await;
        assert_eq!(changed["template"]["sysVersion"], 2);
        assert_eq!(changed["template"]["sysCreatedAt"], put["sysCreatedAt"]);

        // An e-mail's subject, or the default one when left out.
        let subject = "Welcome to {{ ticket.eventName }}";
        let mail =
            ok(&c, wire, PUT, json!({"kind": "confirmationEmail", "subject": subject, "body": "<p>Hi</p>"})).await;
        assert_eq!(mail["template"]["subject"], subject);
        let mail = ok(&c, wire, PUT, json!({"kind": "confirmationEmail", "body": "<p>Hi</p>"})).await;
        assert_eq!(mail["template"]["subject"], email["subject"]);
        assert_eq!(mail["template"]["sysVersion"], 2);

        // Deleting is back to the default; deleting again answers the same.
        assert_eq!(ok(&c, wire, DELETE, json!({"kind": "certificate"})).await, json!({}));
        assert_eq!(ok(&c, wire, GET, json!({"kind": "certificate"})).await["template"], certificate);
        assert_eq!(ok(&c, wire, DELETE, json!({"kind": "certificate"})).await, json!({}));
        assert_eq!(ok(&c, wire, GET, json!({"kind": "confirmationEmail"})).await["template"]["default"], false);
    }
}

#[tokio::test]
async fn a_template_put_is_refused_for_each_problem_in_both_wires() {
    for wire in WIRES {
        let c = manager(&network("tpl-bad")).await;
        for method in [PUT, GET, DELETE] {
            let e = refused(&c, wire, method, json!({"kind": "badge", "body": "x"})).await;
            assert_invalid(&e, "kind", &["certificate", "confirmationEmail"]);
            assert_invalid(&refused(&c, wire, method, json!({})).await, "kind", &["required"]);
        }
        // A template that does not parse: its line and the problem.
        // (An unclosed block: minijinja names the line where the text it could not close begins.)
        let broken = "<h1>Certificate</h1>\n<p>{{ registration.name }}</p>\n{% if ticket %}\n<p>x</p>";
        let e = refused(&c, wire, PUT, json!({"kind": "certificate", "body": broken})).await;
        assert_invalid(&e, "body", &["line 3", "syntax error", "end of input"]);
        let e = refused(&c, wire, PUT, json!({"kind": "certificate", "body": "<p>{{ registration.name }</p>"})).await;
        assert_invalid(&e, "body", &["line 1", "syntax error"]);
        // A variable that does not exist, in a branch taken or not, and a member an order does not have.
        let typo = "<h1>Certificate</h1>\n<p>{{ registration.nmae }}</p>";
        let e = refused(&c, wire, PUT, json!({"kind": "certificate", "body": typo})).await;
        assert_invalid(&e, "body", &["line 2", "does not exist", "registration.nmae"]);
        let hidden = "{% if registration.isGuestRegistration %}\n{{ guest.name }}\n{% endif %}";
        let e = refused(&c, wire, PUT, json!({"kind": "certificate", "body": hidden})).await;
        assert_invalid(&e, "body", &["line 2", "guest"]);
        let e = refused(&c, wire, PUT, json!({"kind": "certificate", "body": "{{ order.totl }}"})).await;
        assert_invalid(&e, "body", &["line 1", "order.totl"]);
        let e = refused(&c, wire, PUT, json!({"kind": "certificate", "body": "{{ registration.name|shout }}"})).await;
        assert_invalid(&e, "body", &["line 1", "unknown filter"]);
        // A subject only for an e-mail, one line, and checked as a body is.
        let e = refused(&c, wire, PUT, json!({"kind": "certificate", "subject": "Hi", "body": "x"})).await;
        assert_invalid(&e, "subject", &["confirmationEmail"]);
        let e = refused(&c, wire, PUT, json!({"kind": "confirmationEmail", "subject": "a\nb", "body": "x"})).await;
        assert_invalid(&e, "subject", &["one line"]);
        let e =
            refused(&c, wire, PUT, json!({"kind": "confirmationEmail", "subject": "{{ tiket }}", "body": "x"})).await;
        assert_invalid(&e, "subject", &["line 1", "tiket"]);
        // Bounds, a missing body and unknown members.
        let e = refused(&c, wire, PUT, json!({"kind": "certificate", "body": "x".repeat(65_537)})).await;
        assert_invalid(&e, "body", &["65536"]);
        assert_invalid(&refused(&c, wire, PUT, json!({"kind": "certificate"})).await, "body", &["required"]);
        let e = refused(&c, wire, PUT, json!({"kind": "certificate", "body": "x", "sysLocked": true})).await;
        assert_invalid(&e, "sysLocked", &[]);
        let loops = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}";
        let e = refused(&c, wire, PUT, json!({"kind": "certificate", "body": loops})).await;
        assert_invalid(&e, "body", &["too long"]);
        // Nothing was stored.
        assert_eq!(ok(&c, wire, GET, json!({"kind": "certificate"})).await["template"]["default"], true);
    }
}

#[tokio::test]
async fn a_certificate_is_a_complete_printable_page_of_an_active_registration_in_both_wires() {
    let (c, id) = registered("cert-ok", "Ada Lovelace").await;
    for wire in WIRES {
        let html = ok(&c, wire, CERTIFICATE, json!({"id": id})).await["html"].as_str().expect("html").to_owned();
        assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"), "{html}");
        assert!(html.contains("<meta charset=\"utf-8\">") && html.contains("<title>Certificate: Ada Lovelace</title>"));
        assert!(html.contains("@page { size: A4 landscape; margin: 0; }"), "{html}");
        for shown in ["Ada Lovelace", "Annual Gala 2027", "1 May 2027", "Registration no. 1"] {
            assert!(html.contains(shown), "{shown}: {html}");
        }
        assert!(!html.contains("{{") && !html.contains("{%"), "{html}");
    }
    // Only an active registration has one: a cancelled, a draft, a pending one is refused, saying what it is.
    for status in ["cancelled", "draft", "pending approval"] {
        let other = create_registration(&c, with(registration("c-other"), json!({"status": status}))).await.unwrap();
        for wire in WIRES {
            let e = refused(&c, wire, CERTIFICATE, json!({"id": other["id"]})).await;
            assert_eq!((e.code, e.reason()), (-32009, "notActive"), "{e:?}");
            assert_eq!(e.data["status"], status);
            assert_eq!(e.data["id"], other["id"]);
            assert!(e.message.contains("not active"), "{e:?}");
        }
    }
    for wire in WIRES {
        let e = refused(&c, wire, CERTIFICATE, json!({"id": "no-such-registration"})).await;
        assert_eq!((e.code, &e.data), (-32004, &json!({"resource": "registration", "id": "no-such-registration"})));
        assert_invalid(&refused(&c, wire, CERTIFICATE, json!({})).await, "id", &["required"]);
        assert_invalid(&refused(&c, wire, CERTIFICATE, json!({"id": id, "kind": "x"})).await, "kind", &[]);
    }
    // Another network does not see the registration.
    let outsider = manager(&network("cert-other")).await;
    assert_eq!(refused(&outsider, Wire::Plain, CERTIFICATE, json!({"id": id})).await.code, -32004);
}

#[tokio::test]
async fn a_registrations_name_is_html_escaped_unless_the_template_asks_otherwise() {
    let (c, id) = registered("cert-escape", "<script>alert(1)</script> & Co").await;
    for wire in WIRES {
        let html = ok(&c, wire, CERTIFICATE, json!({"id": id})).await["html"].as_str().unwrap().to_owned();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; Co"), "{html}");
        assert!(html.contains("<title>Certificate: &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</title>"), "{html}");
        let raw = json!({"registrationId": id, "certificateTemplate": "<div>{{ registration.name|safe }}</div>"});
        let html = ok(&c, wire, PREVIEW, raw).await["html"].as_str().unwrap().to_owned();
        assert!(html.contains("<div><script>alert(1)</script> & Co</div>"), "{html}");
    }
}

#[tokio::test]
async fn the_networks_template_makes_its_certificates_and_deleting_it_brings_back_the_default() {
    let (c, id) = registered("cert-own", "Ada Lovelace").await;
    let (other, other_id) = registered("cert-own-other", "Grace Hopper").await;
    let default = default_certificate(&c).await;
    let own = "<section class=\"own\">{{ registration.name }} at {{ ticket.eventName }} ({{ networkId }})</section>";
    for wire in WIRES {
        let before = ok(&c, wire, CERTIFICATE, json!({"id": id})).await["html"].as_str().unwrap().to_owned();
        assert!(before.contains("Certificate</div>"), "the built-in certificate: {before}");
        ok(&c, wire, PUT, json!({"kind": "certificate", "body": own})).await;
        let html = ok(&c, wire, CERTIFICATE, json!({"id": id})).await["html"].as_str().unwrap().to_owned();
        let net = c.network.clone().unwrap();
        assert!(
            html.contains(&format!("<section class=\"own\">Ada Lovelace at Annual Gala 2027 ({net})</section>")),
            "{html}"
        );
        assert!(html.contains("size: A4 landscape") && !html.contains("Certificate</div>"), "{html}");
        // The other network still prints the built-in certificate.
        let theirs = ok(&other, wire, CERTIFICATE, json!({"id": other_id})).await["html"].as_str().unwrap().to_owned();
        assert!(theirs.contains("Certificate</div>") && theirs.contains("Grace Hopper"), "{theirs}");
        ok(&c, wire, DELETE, json!({"kind": "certificate"})).await;
        let after = ok(&c, wire, CERTIFICATE, json!({"id": id})).await["html"].as_str().unwrap().to_owned();
        assert_eq!(after, before, "back to the built-in certificate");
    }
    assert_eq!(default_certificate(&c).await, default);
}

#[tokio::test]
async fn a_preview_renders_the_given_text_and_stores_nothing_in_both_wires() {
    let (c, id) = registered("cert-preview", "Ada Lovelace").await;
    let text = "<h1>{{ registration.name }}</h1>\n<p>{{ ticket.eventName }}, {{ ticket.eventStartDate|date }}</p>";
    let cancelled =
        create_registration(&c, with(registration("c-gone"), json!({"status": "cancelled"}))).await.unwrap();
    for wire in WIRES {
        let html = ok(&c, wire, PREVIEW, json!({"registrationId": id, "certificateTemplate": text})).await["html"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("size: A4 landscape"), "{html}");
        assert!(html.contains("<h1>Ada Lovelace</h1>\n<p>Annual Gala 2027, 1 May 2027</p>"), "{html}");
        assert_eq!(ok(&c, wire, GET, json!({"kind": "certificate"})).await["template"]["default"], true);
        // A preview serves a registration of any status (a template is designed before the event), and one
        // without a ticket shows its members as nothing.
        let html = ok(&c, wire, PREVIEW, json!({"registrationId": cancelled["id"], "certificateTemplate": text})).await;
        assert!(html["html"].as_str().unwrap().contains("<h1>Ada Lovelace</h1>\n<p>, </p>"), "{html}");

        let e = refused(&c, wire, PREVIEW, json!({"registrationId": id, "certificateTemplate": "a\n{% for %}"})).await;
        assert_invalid(&e, "certificateTemplate", &["line 2", "syntax error"]);
        let typo = json!({"registrationId": id, "certificateTemplate": "<p>\n{{ registration.lastname }}</p>"});
        assert_invalid(&refused(&c, wire, PREVIEW, typo).await, "certificateTemplate", &["line 2", "lastname"]);
        let missing = json!({"registrationId": "no-such-registration", "certificateTemplate": text});
        assert_eq!(refused(&c, wire, PREVIEW, missing).await.code, -32004);
        let e = refused(&c, wire, PREVIEW, json!({})).await;
        assert_eq!(e.fields(), ["registrationId", "certificateTemplate"], "{e:?}");
    }
}

/// Where a program is on the `PATH`.
fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// Chromium and pdftotext, or `None` (the test skipped) where either is missing; with
/// `TICKET_ADMIN_REQUIRE_CHROMIUM` set (as CI sets it), a missing one fails the test instead.
fn printing_tools() -> Option<(PathBuf, PathBuf)> {
    let found = (program("chromium"), program("pdftotext"), program("pdfinfo"));
    if let (Some(chromium), Some(pdftotext), Some(_)) = found {
        return Some((chromium, pdftotext));
    }
    assert!(
        std::env::var_os("TICKET_ADMIN_REQUIRE_CHROMIUM").is_none(),
        "TICKET_ADMIN_REQUIRE_CHROMIUM is set but chromium or poppler-utils (pdftotext, pdfinfo) is not installed"
    );
    eprintln!("chromium or poppler-utils is not installed: the printed certificate is not checked (skipped)");
    None
}

/// Runs headless Chromium on `page` with `args` (its own profile in `dir`), within a minute.
async fn chromium(chromium: &Path, dir: &Path, page: &Path, args: &[String]) {
    let run = tokio::process::Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run).await.expect("chromium ends within a minute");
    let out = out.expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A program's standard output, which must succeed.
async fn output(program: &Path, args: &[&str]) -> String {
    let out = tokio::process::Command::new(program).args(args).output().await.expect("runs");
    assert!(out.status.success(), "{}: {}", program.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Printed by Chromium, a certificate is one A4 landscape page (842 x 595 points) that holds the attendee's name and
/// the event. With `TICKET_ADMIN_WRITE_DOCS` set, it also takes the picture of the built-in certificate in
/// `docs/certificate.png`.
#[tokio::test]
async fn chromium_prints_a_certificate_as_one_a4_landscape_page_with_the_name_and_the_event() {
    let Some((chromium_bin, pdftotext)) = printing_tools() else { return };
    let (c, id) = registered("cert-print", "Ada Lovelace").await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let page = dir.path().join("certificate.html");
    let pdf = dir.path().join("out.pdf");
    let html = c.call(CERTIFICATE, json!({"id": id})).await.expect("certificate")["html"].as_str().unwrap().to_owned();
    std::fs::write(&page, &html).expect("page written");
    chromium(
        &chromium_bin,
        dir.path(),
        &page,
        &[format!("--print-to-pdf={}", pdf.display()), "--no-pdf-header-footer".into()],
    )
    .await;

    let pdf_path = pdf.to_str().expect("a path");
    let pdfinfo = pdftotext.with_file_name("pdfinfo");
    let info = output(&pdfinfo, &["-box", pdf_path]).await;
    let field = |name: &str| {
        info.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).unwrap_or_else(|| panic!("no {name}: {info}"))
    };
    assert_eq!(field("Pages:"), "1", "{info}");
    let media: Vec<f64> = field("MediaBox:").split_whitespace().map(|n| n.parse().expect("a number")).collect();
    let (width, height) = (media[2] - media[0], media[3] - media[1]);
    assert!((width - 842.0).abs() <= 1.5 && (height - 595.0).abs() <= 1.5, "not A4 landscape: {width} x {height}");
    let text = output(&pdftotext, &["-layout", pdf_path, "-"]).await;
    for shown in ["Ada Lovelace", "Annual Gala 2027", "of Attendance"] {
        assert!(text.contains(shown), "{shown} is not on the page: {text}");
    }

    if std::env::var_os("TICKET_ADMIN_WRITE_DOCS").is_some() {
        let (sample, sample_id) = registered("cert-picture", "Ada Lovelace").await;
        let html = sample.call(CERTIFICATE, json!({"id": sample_id})).await.expect("certificate")["html"].clone();
        std::fs::write(&page, html.as_str().unwrap()).expect("page written");
        let picture = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/certificate.png");
        chromium(
            &chromium_bin,
            dir.path(),
            &page,
            &[format!("--screenshot={picture}"), "--window-size=1123,794".into()],
        )
        .await;
    }
}
