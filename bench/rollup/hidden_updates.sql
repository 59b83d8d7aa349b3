-- 1,000 hidden updates (issue 17): return dates moved by a day, spread over the latest tenth of
-- the rental ids, made behind the trigger so last_update keeps its old value, as a restore, a
-- replication apply or maintenance with triggers off would leave them. No lookback reads them;
-- the runner's block sums must. They stay in the latest tenth so that the run measures the
-- incremental path with its block comparison: spread over every year they would reach back past
-- --full-path-percent and the run would take the full path (far_batch.sql measures that).

set session_replication_role = replica;

with

bounds as (
    select
        max(rental.rental_id) - (max(rental.rental_id) - min(rental.rental_id)) / 10 as first_id,
        max(rental.rental_id) as last_id
    from public.rental
),

picked as (
    select (bounds.first_id + (bounds.last_id - bounds.first_id)::bigint * step / 1001)::integer
        as rental_id
    from bounds
    cross join generate_series(1, 1000) as step
)

update public.rental
set return_date = rental.return_date + interval '1 day'
from picked
where rental.rental_id = picked.rental_id
    and rental.return_date is not null;

set session_replication_role = origin;
