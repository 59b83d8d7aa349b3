//! Dropping a table's indexes before a bulk write and building them again after: much faster
//! than maintaining them row by row. The definitions come from the catalog, so the migrations stay
//! their only source.

use anyhow::{Context, Result};
use postgres::Transaction;

use super::report::timed;

/// An index of a table, with the statements that drop it and create it again.
pub struct SavedIndex {
    drop: String,
    create: String,
}

/// Drops every index of `table` (constraints through their constraint) and returns how to
/// rebuild them, from their definitions in the catalog (the migrations stay their only source).
pub fn drop_indexes(tx: &mut Transaction<'_>, table: &str) -> Result<Vec<SavedIndex>> {
    let rows = tx
        .query(
            "select \
                 quote_ident(index_namespace.nspname) || '.' || quote_ident(index_class.relname), \
                 pg_get_indexdef(pg_index.indexrelid), \
                 quote_ident(pg_constraint.conname), \
                 pg_get_constraintdef(pg_constraint.oid) \
             from pg_index \
             inner join pg_class as index_class \
                 on index_class.oid = pg_index.indexrelid \
             inner join pg_namespace as index_namespace \
                 on index_namespace.oid = index_class.relnamespace \
             left join pg_constraint \
                 on pg_constraint.conindid = pg_index.indexrelid \
                 and pg_constraint.conrelid = pg_index.indrelid \
                 and pg_constraint.contype in ('p', 'u', 'x') \
             where pg_index.indrelid = $1::text::regclass \
             order by pg_constraint.conname is null, index_class.relname",
            &[&table],
        )
        .with_context(|| format!("reading the index definitions of {table}"))?;
    let mut saved = Vec::with_capacity(rows.len());
    for row in rows {
        let index: String = row.get(0);
        let index_def: String = row.get(1);
        let constraint: Option<String> = row.get(2);
        let constraint_def: Option<String> = row.get(3);
        saved.push(match (constraint, constraint_def) {
            (Some(name), Some(def)) => SavedIndex {
                drop: format!("alter table {table} drop constraint {name}"),
                create: format!("alter table {table} add constraint {name} {def}"),
            },
            _ => SavedIndex {
                drop: format!("drop index {index}"),
                create: index_def,
            },
        });
    }
    for index in &saved {
        tx.batch_execute(&index.drop)
            .with_context(|| format!("dropping an index of {table}: {}", index.drop))?;
    }
    Ok(saved)
}

/// Creates again the indexes [`drop_indexes`] dropped.
pub fn rebuild_indexes(
    tx: &mut Transaction<'_>,
    table: &str,
    indexes: &[SavedIndex],
) -> Result<()> {
    for index in indexes {
        timed(&format!("rebuilt an index: {}", index.create), || {
            tx.batch_execute(&index.create)
                .with_context(|| format!("rebuilding an index of {table}: {}", index.create))
        })?;
    }
    Ok(())
}
