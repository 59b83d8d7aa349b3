-- A far-reaching batch of ordinary changes (issue 17): 1,000 new rentals in a new week (after the
-- latest rental or return, as new_week.sql), 500 returns of rentals still out, 199 deletes and 98
-- rental dates corrected by three days, both spread over every year of the source. The corrections and deletes touch the oldest weeks, so
-- an incremental run recomputes (nearly) every week. Application writes: the trigger sets
-- last_update.

with

latest as (
    select date_trunc('week', max(greatest(rental.rental_date, rental.return_date)) at time zone 'UTC')
        at time zone 'UTC' + interval '7 days' as week_start
    from public.rental
),

inventory as (
    select array_agg(inventory.inventory_id order by inventory.inventory_id) as inventory_ids
    from public.inventory
)

insert into public.rental (rental_date, inventory_id, customer_id, return_date, staff_id)
select
    latest.week_start + rental_number * interval '5 minutes',
    inventory.inventory_ids[1 + (rental_number * 7919) % cardinality(inventory.inventory_ids)],
    1 + (rental_number * 31) % 599,
    null,
    1 + rental_number % 2
from latest
cross join inventory
cross join generate_series(1, 1000) as rental_number;

update public.rental
set return_date = rental.rental_date + interval '2 days'
where rental.rental_id in (
    select out.rental_id
    from public.rental as out
    where out.return_date is null
    order by out.rental_id
    limit 500
);

with

bounds as (
    select min(rental.rental_id) as first_id, max(rental.rental_id) as last_id
    from public.rental
),

picked as (
    select (bounds.first_id + (bounds.last_id - bounds.first_id)::bigint * step / 200)::integer
        as rental_id
    from bounds
    cross join generate_series(1, 199) as step
)

delete from public.rental
using picked
where rental.rental_id = picked.rental_id;

with

bounds as (
    select min(rental.rental_id) as first_id, max(rental.rental_id) as last_id
    from public.rental
),

picked as (
    select (bounds.first_id + (bounds.last_id - bounds.first_id)::bigint * step / 99 + 1)::integer
        as rental_id
    from bounds
    cross join generate_series(1, 98) as step
)

update public.rental
set rental_date = rental.rental_date - interval '3 days'
from picked
where rental.rental_id = picked.rental_id;
