//! The shortest path through the server: make a ticket, read it back in both wire forms.

use serde_json::json;

use crate::common;

use common::{Client, manager, network, ticket};

#[tokio::test]
async fn create_then_list_in_both_wire_forms() {
    let net = network("smoke");
    let client = manager(&net).await;
    let created = client.bare("ticket.createPurchasableTicket", json!({"ticket": ticket("vip")})).await.unwrap();
    assert_eq!(created["ticket"]["productId"], "vip");
    assert_eq!(created["ticket"]["price"], 99.5);
    assert_eq!(created["ticket"]["sysVersion"], 1);
    let listed = client.call("ticket.getPurchasableTickets", json!({})).await.unwrap();
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["tickets"][0]["productId"], "vip");
    let health = reqwest::get(format!("{}/health", Client::anonymous().base)).await.unwrap();
    assert_eq!(health.status(), 200);
}
