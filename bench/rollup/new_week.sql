-- One new week at the source, as the benchmark's incremental run sees it: 10,000 new rentals in
-- the week after the latest rental or return, and 10,000 returns, in that week, of the oldest
-- rentals still out. Inserts take last_update's default (now()), the updates get now() from the
-- BEFORE UPDATE trigger, as an application's writes would.

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
    latest.week_start + (rental_number - 0.5) * interval '60 seconds',
    inventory.inventory_ids[1 + (rental_number * 7919) % cardinality(inventory.inventory_ids)],
    1 + (rental_number * 31) % 599,
    null,
    1 + rental_number % 2
from latest
cross join inventory
cross join generate_series(1, 10000) as rental_number;

with

this_week as (
    select date_trunc('week', max(rental.rental_date) at time zone 'UTC') at time zone 'UTC'
        as week_start
    from public.rental
),

oldest_out as (
    select rental.rental_id
    from public.rental
    cross join this_week
    where rental.return_date is null
        and rental.rental_date < this_week.week_start
    order by rental.rental_date
    limit 10000
)

update public.rental
set return_date = this_week.week_start
    + (oldest_out.rental_id % 600000) * interval '1 second'
from oldest_out
cross join this_week
where rental.rental_id = oldest_out.rental_id;
