-- How far a run reaches: the weeks its data checks examine, and why it took the full path
--
-- rollup.check_from_week(): the first week the data checks (migrations/rollup/checks/) examine.
--
-- A rollup run recomputes the weeks from the first one its changes touched; the weeks before are
-- the rows the last run checked, unchanged. So the run sets runner.check_from_week (SET LOCAL,
-- its transaction only) to the first week it recomputed, and its checks examine those weeks and
-- the mirror's rentals with an event in them: their cost follows what the run changed. A full
-- refresh, `runner check rollup` and any other session leave it unset, and the checks examine
-- every week ('-infinity').

create function rollup.check_from_week() returns date
language sql
stable
as $$
    select coalesce(nullif(current_setting('runner.check_from_week', true), ''), '-infinity')::date
$$;

comment on function rollup.check_from_week() is 'the first week the data checks examine: the run''s first recomputed week inside a rollup run, -infinity (every week) otherwise';

-- An incremental run whose changes reach back so far that recomputing from the mirror would cost
-- more than a full build takes the full path in the same run (src/pipelines/rollup/merge.rs,
-- FULL_PATH_SHARE) and says why here.

alter table rollup.refresh_state
    add column last_full_path_reason text null;

comment on column rollup.refresh_state.last_full_path_reason is 'why the last run, due to be incremental, loaded everything instead (its changes reached back so far that a full build cost less); NULL otherwise';
