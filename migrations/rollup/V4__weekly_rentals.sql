-- rollup.weekly_rentals: rentals started, returned and out, per week
--
-- Grain: one row per week, every week from the week of the first rental to the week of the latest
--        rental or return, with no gaps (weeks without any rental or return included).
-- Purpose: the weekly series of outstanding and returned rentals of the Pagila DVD stores, kept
--          equal to a full recompute by `runner migrate rollup` (incremental MERGE of the weeks a
--          change touches; docs/rollup.md says how and why it is exact).
-- Sources: rollup.raw_rental (the mirror of Pagila's rental table).
--
-- A week starts Monday 00:00 UTC (`date_trunc('week', ts at time zone 'UTC')`), whatever the
-- session's time zone, and ends at the next Monday 00:00 UTC (excluded): a rental at Sunday
-- 23:59:59 belongs to that week, one at Monday 00:00:00 to the next.
--
--   week_beginning           the Monday (UTC) the week starts; primary key
--   new_rentals              rentals whose rental_date falls in the week
--   returned_rentals         rentals whose return_date falls in the week
--   outstanding_rentals      rentals out at the end of the week: rented before it ended and not
--                            returned before it ended (the challenge's "OutstandingRentals")
--   rentals_out_during_week  rentals out at any moment of the week: rented before it ended and
--                            not returned before it began (= outstanding at its end + returned
--                            during it)

create table rollup.weekly_rentals (
    week_beginning date not null,
    new_rentals integer not null,
    returned_rentals integer not null,
    outstanding_rentals integer not null,
    rentals_out_during_week integer not null,
    constraint weekly_rentals_pkey primary key (week_beginning),
    constraint weekly_rentals_week_is_monday check (extract(isodow from week_beginning) = 1)
);

comment on table rollup.weekly_rentals is 'one row per week (Monday 00:00 UTC), from the first rental''s week to the latest rental or return, no gaps';
comment on column rollup.weekly_rentals.week_beginning is 'the Monday (UTC) the week starts; primary key';
comment on column rollup.weekly_rentals.new_rentals is 'rentals whose rental_date falls in the week';
comment on column rollup.weekly_rentals.returned_rentals is 'rentals whose return_date falls in the week';
comment on column rollup.weekly_rentals.outstanding_rentals is 'rentals out at the end of the week: rented before it ended and not returned before it ended';
comment on column rollup.weekly_rentals.rentals_out_during_week is 'rentals out at any moment of the week: rented before it ended, not returned before it began';
