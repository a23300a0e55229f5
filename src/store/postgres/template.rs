//! Each network's own templates on PostgreSQL. A put locks the template's row (`FOR UPDATE`) before it reads it,
//! so puts racing on one kind, on any number of servers, come one after the other; the first put of a kind inserts,
//! and a racing first put that finds the row taken reads it under the lock and replaces it.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::writer::write;
use super::{Failure, Lock, Named, PostgresStore, Tx, insert, update};
use crate::auth::NetworkScope;
use crate::domain::ids::{ActorId, NetworkId};
use crate::domain::template::{StoredTemplate, Template, TemplateKind};
use crate::error::{Error, Result};
use crate::store::Templates;
use crate::store::rows::{template_columns, template_from, template_row};

const KEY: &[&str] = &["network_id", "kind"];

async fn find(
    db: &impl GenericClient,
    network: &NetworkId,
    kind: TemplateKind,
    lock: Lock,
) -> std::result::Result<Option<StoredTemplate>, Failure> {
    let sql = format!(
        "{} FROM templates WHERE network_id = $1 AND kind = $2{}",
        concat!("SELECT ", template_columns!()),
        lock.clause()
    );
    let statement = db.prepare_cached(&sql).await?;
    match db.query_opt(&statement, &[&network.as_str(), &kind.as_str()]).await? {
        Some(row) => Ok(Some(template_from(&Named(&row))?)),
        None => Ok(None),
    }
}

async fn put(
    tx: &Tx<'_>,
    network: &NetworkId,
    template: Template,
    actor: &ActorId,
) -> std::result::Result<StoredTemplate, Failure> {
    let mut current = find(tx, network, template.kind, Lock::Update).await?;
    if current.is_none() {
        let Some(made) = StoredTemplate::put(None, template.clone(), actor) else {
            return Err(Error::Internal("a first template that writes nothing".into()).into());
        };
        // The key refuses the insert when a racing put made the row first: then it is read under its lock.
        if insert(tx, "templates", &template_row(network, &made)).await? {
            return Ok(made);
        }
        current = find(tx, network, template.kind, Lock::Update).await?;
    }
    let current = current.ok_or_else(|| Error::Internal("a template row that vanished under its lock".into()))?;
    match StoredTemplate::put(Some(&current), template, actor) {
        None => Ok(current),
        Some(next) => {
            update(tx, "templates", KEY, &template_row(network, &current), &template_row(network, &next)).await?;
            Ok(next)
        }
    }
}

#[async_trait]
impl Templates for PostgresStore {
    async fn template(&self, scope: &NetworkScope, kind: TemplateKind) -> Result<Option<StoredTemplate>> {
        let db = self.client().await?;
        Ok(find(&db, scope.network(), kind, Lock::None).await?)
    }

    async fn put_template(&self, scope: &NetworkScope, template: Template) -> Result<StoredTemplate> {
        let scope = scope.clone();
        write!(self, (scope, template), |tx| put(tx, scope.network(), template, scope.actor()).await)
    }

    async fn delete_template(&self, scope: &NetworkScope, kind: TemplateKind) -> Result<bool> {
        let scope = scope.clone();
        write!(self, (scope), |tx| {
            let statement = tx.prepare_cached("DELETE FROM templates WHERE network_id = $1 AND kind = $2").await?;
            Ok(tx.execute(&statement, &[&scope.network().as_str(), &kind.as_str()]).await? > 0)
        })
    }
}
