//! The guard on the record namespaces: every `registration.*` and `functionTicket.*` method refuses a caller
//! without a token and a caller without `network.manage` on the network, before reading its params.
//! (The matrix over the ticket and admin methods is `tests/guard.rs`.)

use crate::common;

use common::{Client, network};
use serde_json::json;

const METHODS: &[&str] = &[
    "registration.create",
    "registration.get",
    "registration.update",
    "registration.patch",
    "registration.delete",
    "registration.search",
    "registration.listByContact",
    "registration.listByEventContact",
    "registration.listByParent",
    "registration.listByOrder",
    "registration.listByGroup",
    "registration.listByEventOrganization",
    "registration.transfer",
    "registration.batch",
    "registration.detectSchedulingConflicts",
    "functionTicket.create",
    "functionTicket.get",
    "functionTicket.update",
    "functionTicket.patch",
    "functionTicket.delete",
    "functionTicket.listByFunction",
    "functionTicket.listByEventContact",
    "functionTicket.batch",
];

#[tokio::test]
async fn every_record_method_is_guarded() {
    let (a, b) = (network("guard-rec-a"), network("guard-rec-b"));
    let admin = Client::admin();
    let outsider = Client::anonymous().with_token(&admin.make_token(&[&format!("network.manage@{b}")]).await).on(&a);
    let insider = Client::anonymous().with_token(&admin.make_token(&[&format!("network.manage@{a}")]).await).on(&a);
    for method in METHODS {
        assert_eq!(Client::anonymous().on(&a).call(method, json!({})).await.unwrap_err().code, -32001, "{method}");
        let denied = outsider.call(method, json!({})).await.unwrap_err();
        assert_eq!(
            (denied.code, denied.data.clone()),
            (-32003, json!({"permission": "network.manage", "networkId": a})),
            "{method}"
        );
        // Past the guard, empty params are the handler's to judge (-32602), or a search that finds nothing.
        match insider.call(method, json!({})).await {
            Ok(found) => assert_eq!(found["count"], 0, "{method}"),
            Err(e) => assert_eq!(e.code, -32602, "{method}: {e:?}"),
        }
    }
}
