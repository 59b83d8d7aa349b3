-- rollup.weekly_film_demand: weekly_rentals per film, with the copies each film has
--
-- Grain: one row per week and per film with at least one inventory copy, over the same weeks as
--        rollup.weekly_rentals; zeros included, so every film has a dense weekly series.
-- Purpose: inventory forecasting: demand (rentals started), returns and copies out per film and
--          week, next to the copies the stores own. Kept equal to a full recompute by the same
--          incremental MERGE as rollup.weekly_rentals.
-- Sources: rollup.raw_rental, rollup.raw_inventory, rollup.raw_film (the mirror of Pagila's
--          rental, inventory and film tables).
--
-- Weeks and counts are defined as in rollup.weekly_rentals, counting only the rentals of copies
-- of the film. A rental whose inventory copy is missing from the inventory table counts in
-- weekly_rentals but in no film's row.
--
--   week_beginning           the Monday (UTC) the week starts
--   film_id                  the film (raw_film.film_id); with week_beginning the primary key
--   title                    film title
--   copies_owned             inventory copies of the film, all stores, as the source has them now
--                            (Pagila keeps no acquisition dates, so the same number every week)
--   new_rentals              rentals of the film whose rental_date falls in the week
--   returned_rentals         rentals of the film whose return_date falls in the week
--   outstanding_rentals      rentals of the film out at the end of the week
--   rentals_out_during_week  rentals of the film out at any moment of the week
--   utilisation              rentals_out_during_week / copies_owned, 4 decimals: above 1 means
--                            copies were rented more than once in the week; derived

create table rollup.weekly_film_demand (
    week_beginning date not null,
    film_id integer not null,
    title text not null,
    copies_owned integer not null,
    new_rentals integer not null,
    returned_rentals integer not null,
    outstanding_rentals integer not null,
    rentals_out_during_week integer not null,
    utilisation numeric(12, 4) generated always as (
        round(rentals_out_during_week::numeric / copies_owned, 4)
    ) stored,
    constraint weekly_film_demand_pkey primary key (week_beginning, film_id),
    constraint weekly_film_demand_has_copies check (copies_owned > 0)
);

comment on table rollup.weekly_film_demand is 'one row per week and per film with at least one inventory copy, zeros included';
comment on column rollup.weekly_film_demand.week_beginning is 'the Monday (UTC) the week starts';
comment on column rollup.weekly_film_demand.film_id is 'the film (raw_film.film_id)';
comment on column rollup.weekly_film_demand.title is 'film title';
comment on column rollup.weekly_film_demand.copies_owned is 'inventory copies of the film, all stores, as the source has them now';
comment on column rollup.weekly_film_demand.new_rentals is 'rentals of the film whose rental_date falls in the week';
comment on column rollup.weekly_film_demand.returned_rentals is 'rentals of the film whose return_date falls in the week';
comment on column rollup.weekly_film_demand.outstanding_rentals is 'rentals of the film out at the end of the week';
comment on column rollup.weekly_film_demand.rentals_out_during_week is 'rentals of the film out at any moment of the week';
comment on column rollup.weekly_film_demand.utilisation is 'rentals_out_during_week / copies_owned, 4 decimals; above 1: copies rented more than once in the week';
