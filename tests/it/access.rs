//! The guard on every method that acts on a network (each `ticket.*`, `registration.*` and `functionTicket.*` method
//! of the method table, so a new one is covered as soon as it is described): it refuses a caller without a token and
//! a caller without `network.manage` on the network, before reading its params. (The matrix of identities over the
//! ticket and admin methods is `tests/guard.rs`.)

use crate::common;

use common::{Client, network};
use serde_json::json;

/// Every method of the method table that acts on one network: the record methods, and the ticket methods too.
fn network_methods() -> Vec<&'static str> {
    let table = ticket_admin::rpc::methods::METHODS.iter();
    table.filter(|m| m.requires == ticket_admin::auth::Requirement::NetworkManage).map(|m| m.name).collect()
}

#[tokio::test]
async fn every_network_method_is_guarded() {
    let (a, b) = (network("guard-rec-a"), network("guard-rec-b"));
    let admin = Client::admin();
    let outsider = Client::anonymous().with_token(&admin.make_token(&[&format!("network.manage@{b}")]).await).on(&a);
    let insider = Client::anonymous().with_token(&admin.make_token(&[&format!("network.manage@{a}")]).await).on(&a);
    let methods = network_methods();
    assert!(methods.len() >= 30 && methods.contains(&"ticket.runCommand"), "{methods:?}");
    for method in &methods {
        assert_eq!(Client::anonymous().on(&a).call(method, json!({})).await.unwrap_err().code, -32001, "{method}");
        let denied = outsider.call(method, json!({})).await.unwrap_err();
        assert_eq!(
            (denied.code, denied.data.clone()),
            (-32003, json!({"permission": "network.manage", "networkId": a})),
            "{method}"
        );
        // Past the guard, empty params are the handler's to judge (-32602), or a read that finds nothing.
        match insider.call(method, json!({})).await {
            Ok(found) => assert!(found.get("count").is_none_or(|count| count == 0), "{method}: {found}"),
            Err(e) => assert_eq!(e.code, -32602, "{method}: {e:?}"),
        }
    }
}
