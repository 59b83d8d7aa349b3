-- severity: fail
-- description: per film and week, the stores' new rentals in weekly_film_store_demand sum to weekly_film_demand's, and every store row has its features row
-- Weeks from rollup.check_from_week() on.
with
store_sums as (
    select
        weekly_film_store_demand.week_beginning,
        weekly_film_store_demand.film_id,
        sum(weekly_film_store_demand.new_rentals) as new_rentals,
        sum(weekly_film_store_demand.copies_owned) as copies_owned
    from rollup.weekly_film_store_demand
    where weekly_film_store_demand.week_beginning >= rollup.check_from_week()
    group by weekly_film_store_demand.week_beginning, weekly_film_store_demand.film_id
),

film_rows as (
    select
        weekly_film_demand.week_beginning,
        weekly_film_demand.film_id,
        weekly_film_demand.new_rentals,
        weekly_film_demand.copies_owned
    from rollup.weekly_film_demand
    where weekly_film_demand.week_beginning >= rollup.check_from_week()
),

store_rows as (
    select
        weekly_film_store_demand.week_beginning,
        weekly_film_store_demand.film_id,
        weekly_film_store_demand.store_id
    from rollup.weekly_film_store_demand
    where weekly_film_store_demand.week_beginning >= rollup.check_from_week()
),

feature_rows as (
    select
        film_store_weekly_features.week_beginning,
        film_store_weekly_features.film_id,
        film_store_weekly_features.store_id
    from rollup.film_store_weekly_features
    where film_store_weekly_features.week_beginning >= rollup.check_from_week()
)

select
    coalesce(film_rows.week_beginning, store_sums.week_beginning) as week_beginning,
    coalesce(film_rows.film_id, store_sums.film_id) as film_id,
    null::integer as store_id,
    'film row and store rows differ' as problem
from film_rows
full join store_sums
    on store_sums.week_beginning = film_rows.week_beginning
    and store_sums.film_id = film_rows.film_id
where film_rows.film_id is null
    or store_sums.film_id is null
    or film_rows.new_rentals <> store_sums.new_rentals
    or film_rows.copies_owned <> store_sums.copies_owned
union all
select
    coalesce(store_rows.week_beginning, feature_rows.week_beginning),
    coalesce(store_rows.film_id, feature_rows.film_id),
    coalesce(store_rows.store_id, feature_rows.store_id),
    'store row without features row, or features row without store row'
from store_rows
full join feature_rows
    on feature_rows.week_beginning = store_rows.week_beginning
    and feature_rows.film_id = store_rows.film_id
    and feature_rows.store_id = store_rows.store_id
where store_rows.film_id is null
    or feature_rows.film_id is null
