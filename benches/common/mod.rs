//! Data the benchmarks seed: registrations spread over events, cities, organizations, orders and groups.

use serde_json::{Value, json};

use crate::cluster::Cluster;

/// Events the registrations are spread over.
pub const EVENTS: usize = 20;

/// The `i`-th registration of a seeded data set.
pub fn registration(i: usize) -> Value {
    let first = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John"][i % 8];
    let city = ["London", "Paris", "Berlin", "Madrid", "Rome", "Vienna", "Prague", "Lisbon"][(i / 8) % 8];
    let order_status = ["completed", "open", "awaiting payment"][i % 3];
    let status = if i.is_multiple_of(10) { "cancelled" } else { "active" };
    json!({
        "eventId": format!("event-{}", i % EVENTS),
        "name": format!("{first} Person{i}"),
        "firstName": first,
        "lastName": format!("Person{i}"),
        "contactId": format!("contact-{i}"),
        "typeId": "attendee",
        "packageId": "full",
        "city": city,
        "organizationId": format!("org-{}", i % 500),
        "orderId": format!("order-{}", i / 3),
        "orderStatus": order_status,
        "orderTotal": (i % 1000) as f64,
        "status": status,
        "groupId": format!("group-{}", i / 10),
        "emailAddress": format!("person{i}@example.org"),
    })
}

/// After seeding a PostgreSQL database: its statistics and visibility map brought up to date, as autovacuum would
/// before long (rather than during the measurements), and its dirty buffers written.
pub fn settle_postgres(cluster: &Cluster, database: &str) {
    for sql in ["VACUUM (ANALYZE)", "CHECKPOINT"] {
        if let Err(error) = cluster.query(database, sql) {
            println!("{sql} failed: {error}");
        }
    }
}
