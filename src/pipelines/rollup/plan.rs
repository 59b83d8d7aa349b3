//! Which weeks an incremental run recomputes: the series (first and last week) after the changes,
//! the first week a change touched, and where the running totals of each weekly table must start
//! again. Reads the temporary table rental_change that the mirror's update filled.

use anyhow::{Context, Result};
use postgres::Transaction;

use super::report::DATE_FORMAT;

/// Which weeks this run recomputes; weeks as `YYYY-MM-DD`.
pub struct WeekPlan {
    pub first_changed_week: Option<String>,
    pub first_week: Option<String>,
    pub last_week: Option<String>,
    pub from_week: Option<String>,
    pub film_from_week: Option<String>,
    /// weekly_film_store_demand's: from_week, or the first week when the inventory or the films
    /// changed in any way (a copy's store, a film's price).
    pub store_from_week: Option<String>,
    /// film_store_weekly_features': two weeks before store_from_week or the week before the last
    /// week, whichever comes first, never before the first week. A row reads the next week (its
    /// target) and whether that one is the partial last week: when the series grows, the row
    /// before the old last week changes (from_week is at most the old last week + 7); when it
    /// shrinks, the row before the new last week.
    pub features_from_week: Option<String>,
}

/// Works out the series (first and last week) and where an incremental run starts recomputing.
///
/// first_changed_week: the first week an event of a changed rental moved in or out of (old and
/// new rental and return weeks of what changed), or, for a rental whose dates moved within their
/// weeks, the first of its weeks: the weekly counts are the same, but a peak, whether it was
/// returned before it was rented, and the effective return of the copy's previous rental may not
/// be (int_weekly_store_events). The series starts at the first rental's week:
/// the stored first week unless a change touched it or anything before it. It ends at the latest
/// rental or return week. Recomputing starts at first_changed_week, or right after the stored last
/// week when the series grew past it (the new weeks in between have no events but must appear),
/// and never before the first week. weekly_film_demand is recomputed from the first week when the
/// films changed (`films_changed`), the per-store tables when the inventory or the films changed
/// at all (`small_tables_changed`). (A full load recomputes every week.)
pub fn plan(
    tx: &mut Transaction<'_>,
    films_changed: bool,
    small_tables_changed: bool,
) -> Result<WeekPlan> {
    let row = tx
        .query_one(
            &format!(
                "with \
                 changes as ( \
                     select min(least( \
                         case when rental_change.change_kind = 'inserted' \
                             then least(rental_change.new_rental_week, rental_change.new_return_week) end, \
                         case when rental_change.change_kind = 'deleted' \
                             then least(rental_change.old_rental_week, rental_change.old_return_week) end, \
                         case when rental_change.change_kind = 'updated' \
                             and rental_change.old_inventory_id = rental_change.new_inventory_id \
                             and rental_change.old_rental_week = rental_change.new_rental_week \
                             and rental_change.old_return_week is not distinct from rental_change.new_return_week \
                             then least(rental_change.old_rental_week, rental_change.old_return_week) end, \
                         case when rental_change.change_kind = 'updated' \
                             and rental_change.old_inventory_id <> rental_change.new_inventory_id \
                             then least( \
                                 rental_change.old_rental_week, rental_change.new_rental_week, \
                                 rental_change.old_return_week, rental_change.new_return_week) end, \
                         case when rental_change.change_kind = 'updated' \
                             and rental_change.old_rental_week <> rental_change.new_rental_week \
                             then least(rental_change.old_rental_week, rental_change.new_rental_week) end, \
                         case when rental_change.change_kind = 'updated' \
                             and rental_change.old_return_week is distinct from rental_change.new_return_week \
                             then least(rental_change.old_return_week, rental_change.new_return_week) end \
                     )) as first_changed_week \
                     from rental_change \
                 ), \
                 stored_weeks as ( \
                     select \
                         min(weekly_rentals.week_beginning) as old_first_week, \
                         max(weekly_rentals.week_beginning) as old_last_week \
                     from rollup.weekly_rentals \
                 ), \
                 series as ( \
                     select \
                         changes.first_changed_week, \
                         stored_weeks.old_first_week, \
                         stored_weeks.old_last_week, \
                         case \
                             when stored_weeks.old_first_week is null \
                                 or changes.first_changed_week <= stored_weeks.old_first_week \
                                 then (select min(raw_rental.rental_week) from rollup.raw_rental) \
                             else stored_weeks.old_first_week \
                         end as first_week, \
                         (select max(raw_rental.last_event_week) from rollup.raw_rental) as last_week \
                     from changes \
                     cross join stored_weeks \
                 ), \
                 final as ( \
                     select \
                         series.first_changed_week, \
                         series.first_week, \
                         series.last_week, \
                         case \
                             when series.old_first_week is null then series.first_week \
                             when series.first_changed_week is null then null \
                             else greatest( \
                                 series.first_week, \
                                 least(series.first_changed_week, series.old_last_week + 7) \
                             ) \
                         end as from_week \
                     from series \
                 ), \
                 store_plan as ( \
                     select \
                         final.*, \
                         case when $2::boolean then final.first_week else final.from_week end \
                             as store_from_week \
                     from final \
                 ) \
                 select \
                     to_char(store_plan.first_changed_week, '{DATE_FORMAT}'), \
                     to_char(store_plan.first_week, '{DATE_FORMAT}'), \
                     to_char(store_plan.last_week, '{DATE_FORMAT}'), \
                     to_char(store_plan.from_week, '{DATE_FORMAT}'), \
                     to_char( \
                         case when $1::boolean then store_plan.first_week else store_plan.from_week end, \
                         '{DATE_FORMAT}' \
                     ), \
                     to_char(store_plan.store_from_week, '{DATE_FORMAT}'), \
                     to_char( \
                         case when store_plan.store_from_week is not null then greatest( \
                             store_plan.first_week, \
                             least(store_plan.store_from_week - 14, store_plan.last_week - 7) \
                         ) end, \
                         '{DATE_FORMAT}' \
                     ) \
                 from store_plan"
            ),
            &[&films_changed, &small_tables_changed],
        )
        .context("working out the weeks to recompute")?;
    Ok(WeekPlan {
        first_changed_week: row.get(0),
        first_week: row.get(1),
        last_week: row.get(2),
        from_week: row.get(3),
        film_from_week: row.get(4),
        store_from_week: row.get(5),
        features_from_week: row.get(6),
    })
}

/// An incremental recompute starts its running totals from the stored row of the week before it.
/// If that row is missing (the tables were changed by hand), recompute from the first week.
pub fn check_stored_prefix(tx: &mut Transaction<'_>, plan: &mut WeekPlan) -> Result<()> {
    let Some(first) = plan.first_week.clone() else {
        return Ok(());
    };
    if let Some(from) = plan.from_week.clone().filter(|from| *from > first) {
        let stored: bool = tx
            .query_one(
                "select exists ( \
                     select \
                     from rollup.weekly_rentals \
                     where weekly_rentals.week_beginning = $1::text::date - 7 \
                 )",
                &[&from],
            )
            .context("reading the stored week before the recompute")?
            .get(0);
        if !stored {
            tracing::warn!(
                "rollup: rollup.weekly_rentals lacks the week before {from}: recomputing every week"
            );
            plan.from_week = Some(first.clone());
        }
    }
    if let Some(from) = plan.film_from_week.clone().filter(|from| *from > first) {
        let stored: bool = tx
            .query_one(
                "select \
                     ( \
                         select count(*) \
                         from rollup.weekly_film_demand \
                         where weekly_film_demand.week_beginning = $1::text::date - 7 \
                     ) = ( \
                         select count(distinct raw_inventory.film_id) \
                         from rollup.raw_inventory \
                         inner join rollup.raw_film \
                             on raw_film.film_id = raw_inventory.film_id \
                     )",
                &[&from],
            )
            .context("reading the stored film rows of the week before the recompute")?
            .get(0);
        if !stored {
            tracing::warn!(
                "rollup: rollup.weekly_film_demand lacks film rows of the week before {from}: \
                 recomputing every week"
            );
            plan.film_from_week = Some(first.clone());
        }
    }
    // The per-store tables: the stored rows of every film-store pair in the week before.
    for (table, from) in [
        ("weekly_film_store_demand", plan.store_from_week.clone()),
        (
            "film_store_weekly_features",
            plan.features_from_week.clone(),
        ),
    ] {
        let Some(from) = from.filter(|from| *from > first) else {
            continue;
        };
        let stored: bool = tx
            .query_one(
                &format!(
                    "select \
                         ( \
                             select count(*) \
                             from rollup.{table} \
                             where {table}.week_beginning = $1::text::date - 7 \
                         ) = ( \
                             select count(*) \
                             from (select distinct film_id, store_id from rollup.raw_inventory) as pairs \
                         )"
                ),
                &[&from],
            )
            .with_context(|| format!("reading the stored rows of rollup.{table} before the recompute"))?
            .get(0);
        if !stored {
            tracing::warn!(
                "rollup: rollup.{table} lacks film-store rows of the week before {from}: \
                 recomputing every week"
            );
            plan.store_from_week = Some(first.clone());
            plan.features_from_week = Some(first.clone());
        }
    }
    Ok(())
}

/// Number of weeks from `first` to `last`, both included.
pub fn weeks_between(tx: &mut Transaction<'_>, first: &str, last: &str) -> Result<u64> {
    let weeks: i32 = tx
        .query_one(
            "select greatest(($2::text::date - $1::text::date) / 7 + 1, 0)",
            &[&first, &last],
        )
        .context("counting weeks")?
        .get(0);
    Ok(weeks as u64)
}
