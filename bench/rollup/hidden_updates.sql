-- 1,000 hidden updates (issue 17): return dates moved by a day, spread over the whole rental
-- table, made behind the trigger so last_update keeps its old value, as a restore, a replication
-- apply or maintenance with triggers off would leave them. No lookback reads them; the runner's
-- block sums must.

set session_replication_role = replica;

with

bounds as (
    select min(rental.rental_id) as first_id, max(rental.rental_id) as last_id
    from public.rental
)

update public.rental
set return_date = rental.return_date + interval '1 day'
from bounds
where rental.return_date is not null
    and rental.rental_id in (
        select bounds.first_id + (bounds.last_id - bounds.first_id) * step / 1001
        from generate_series(1, 1000) as step
    );

set session_replication_role = origin;
