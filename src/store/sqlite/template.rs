//! Each network's own templates in SQLite, one row per network and kind. A put reads the stored template and
//! writes what the rule makes of it in the writer's transaction, so racing puts come one after the other.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension};

use super::{SqliteStore, insert, read, update};
use crate::auth::NetworkScope;
use crate::domain::ids::{ActorId, NetworkId};
use crate::domain::template::{StoredTemplate, Template, TemplateKind};
use crate::error::Result;
use crate::store::Templates;
use crate::store::rows::{template_columns, template_from, template_row};

const KEY: &[&str] = &["network_id", "kind"];

fn get(conn: &Connection, network: &NetworkId, kind: TemplateKind) -> Result<Option<StoredTemplate>> {
    let sql = concat!("SELECT ", template_columns!(), " FROM templates WHERE network_id = ?1 AND kind = ?2");
    Ok(conn
        .prepare_cached(sql)?
        .query_row([network.as_str(), kind.as_str()], |row| read(row, template_from))
        .optional()?)
}

fn put(conn: &Connection, network: &NetworkId, template: Template, actor: &ActorId) -> Result<StoredTemplate> {
    let current = get(conn, network, template.kind)?;
    let Some(next) = StoredTemplate::put(current.as_ref(), template, actor) else {
        // The same template: nothing written, the stored one answered.
        return current.ok_or_else(|| crate::error::Error::Internal("an unchanged template that is not kept".into()));
    };
    match &current {
        None => {
            insert(conn, "templates", &template_row(network, &next))?;
        }
        Some(current) => {
            update(conn, "templates", KEY, &template_row(network, current), &template_row(network, &next))?
        }
    }
    Ok(next)
}

#[async_trait]
impl Templates for SqliteStore {
    async fn template(&self, scope: &NetworkScope, kind: TemplateKind) -> Result<Option<StoredTemplate>> {
        let network = scope.network().clone();
        self.read(move |c| get(c, &network, kind)).await
    }

    async fn put_template(&self, scope: &NetworkScope, template: Template) -> Result<StoredTemplate> {
        let (network, actor) = (scope.network().clone(), scope.actor().clone());
        self.write(move |c| put(c, &network, template, &actor)).await
    }

    async fn delete_template(&self, scope: &NetworkScope, kind: TemplateKind) -> Result<bool> {
        let network = scope.network().clone();
        self.write(move |c| {
            let sql = "DELETE FROM templates WHERE network_id = ?1 AND kind = ?2";
            Ok(c.prepare_cached(sql)?.execute([network.as_str(), kind.as_str()])? > 0)
        })
        .await
    }
}
