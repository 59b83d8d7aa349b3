-- The rollup on one PostgreSQL server or on a Citus cluster, with one SQL (docs/operations.md,
-- "The rollup on Citus")
--
-- On Citus the mirror rollup.raw_rental is distributed by rental_id (it grows with the source)
-- and every other table of the rollup stays a plain table on the coordinator (weeks times films:
-- small, written by the coordinator in the run's transaction, read there). Citus refuses what
-- the run did with temporary tables next to a distributed mirror (it cannot join them with it),
-- and refuses parameterized SQL functions that read distributed tables. So:
--
-- 1. The rows a run stages next to the mirror live in three unlogged tables of the schema,
--    emptied at the start of every incremental run (only the run holding the rollup's lock
--    touches them; unlogged: scratch rows are not worth WAL, and a crash empties them). On Citus
--    they are distributed by rental_id and co-located with the mirror, so every join between them
--    and the mirror is on rental_id, shard by shard.
-- 2. rollup.next_rental_of(copy, after rental_date, after rental_id): the next rental of a copy,
--    one index probe (raw_rental_copy_idx). int_weekly_store_events calls it for the rentals
--    rented before the weeks it recomputes (a correlated lookup Citus cannot plan as a join: the
--    mirror is not distributed by the copy). PL/pgSQL, so that Citus plans its query as a
--    distributed one on every call.
-- 3. The incremental models' functions become PL/pgSQL (`return query`, created by the runner):
--    their records in runner_models are removed here so that the runner creates them again.
-- 4. When the database has the citus extension, the mirror and the staging tables are
--    distributed here, on this migration; the runner never distributes anything on its own.
--    (Without Citus, nothing of this block runs.)

create unlogged table rollup.stage_rental (like rollup.raw_rental);

comment on table rollup.stage_rental is 'scratch: the rentals an incremental run copied from the source (changed since the watermark minus the lookback, or differing from the mirror), before they are applied to rollup.raw_rental; emptied at the start of every run';

create unlogged table rollup.stage_deleted (
    rental_id integer not null,
    constraint stage_deleted_pkey primary key (rental_id)
);

comment on table rollup.stage_deleted is 'scratch: the mirror''s rentals an incremental run found deleted at the source; emptied at the start of every run';

create unlogged table rollup.source_rental_hash (
    rental_id integer not null,
    row_hash integer not null
);

comment on table rollup.source_rental_hash is 'scratch: the ids and row hashes of the source''s rentals in the blocks of ids whose sums differed from the mirror''s; emptied at the start of every run';

create function rollup.next_rental_of(
    copy integer,
    after_rental_date timestamptz,
    after_rental_id integer,
    out rental_date timestamptz,
    out rental_week date
)
language plpgsql
stable
as $function$
begin
    select
        later.rental_date,
        later.rental_week
    into
        rental_date,
        rental_week
    from rollup.raw_rental as later
    where later.inventory_id = copy
        and (later.rental_date, later.rental_id) > (after_rental_date, after_rental_id)
    order by later.rental_date, later.rental_id
    limit 1;
end
$function$;

comment on function rollup.next_rental_of(integer, timestamptz, integer) is 'the next rental of the copy after the rental given (by rental_date, then rental_id): its rental_date and rental_week, NULL when there is none';

do $citus$
begin
    if to_regclass('public.runner_models') is not null then
        delete from public.runner_models
        where runner_models.materialized = 'incremental';
    end if;
    if exists (select from pg_extension where pg_extension.extname = 'citus') then
        -- (a table already distributed, by an operator before this migration, stays as it is)
        if not exists (
            select from pg_dist_partition
            where pg_dist_partition.logicalrelid = 'rollup.raw_rental'::regclass
        ) then
            perform create_distributed_table('rollup.raw_rental', 'rental_id');
            -- a mirror loaded before: its rows were copied to the shards
            perform truncate_local_data_after_distributing_table('rollup.raw_rental');
        end if;
        perform create_distributed_table(
            'rollup.stage_rental', 'rental_id', colocate_with => 'rollup.raw_rental'
        );
        perform create_distributed_table(
            'rollup.stage_deleted', 'rental_id', colocate_with => 'rollup.raw_rental'
        );
        perform create_distributed_table(
            'rollup.source_rental_hash', 'rental_id', colocate_with => 'rollup.raw_rental'
        );
    end if;
end
$citus$;
