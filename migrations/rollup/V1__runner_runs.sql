-- runner_runs, runner_run_steps
--
-- Grain: runner_runs has one row per `runner migrate` or `runner stage` of the rollup target;
--        runner_run_steps has one row per step of such a run.
-- Purpose: the run history an operator reads with `runner status`: when each run started and
--          ended, how it ended, and how long each step took.
-- Sources: written by the runner itself.
--
-- runner_runs
--   run_id          surrogate key, increasing with start time
--   command         migrate | stage
--   runner_version  version of the runner binary that made the run
--   started_at      start time (timestamptz)
--   finished_at     end time; NULL while running or when the runner died
--   outcome         running | succeeded | failed | abandoned (died without recording an outcome)
--   error_message   the error that failed the run, NULL otherwise
-- runner_run_steps
--   run_id          the run (runner_runs.run_id)
--   step_number     1, 2, ... in execution order
--   step_name       what the step is, e.g. migrations
--   duration_ms     wall-clock duration in milliseconds
--   rows_affected   rows the step wrote or counted, when it has such a number
--   detail          one line on what it did, or why it failed
--
-- On PostgreSQL a migration and its history row commit in one transaction.

create table runner_runs (
    run_id bigint generated always as identity primary key,
    command varchar(32) not null,
    runner_version varchar(32) not null,
    started_at timestamptz not null,
    finished_at timestamptz null,
    outcome varchar(16) not null,
    error_message text null
);

create table runner_run_steps (
    run_id bigint not null references runner_runs (run_id),
    step_number int not null,
    step_name varchar(128) not null,
    duration_ms bigint not null,
    rows_affected bigint null,
    detail text null,
    primary key (run_id, step_number)
);

comment on table runner_runs is 'one row per runner migrate or runner stage of the rollup target';
comment on column runner_runs.run_id is 'surrogate key, increasing with start time';
comment on column runner_runs.command is 'migrate | stage';
comment on column runner_runs.runner_version is 'version of the runner binary that made the run';
comment on column runner_runs.started_at is 'start time';
comment on column runner_runs.finished_at is 'end time; NULL while running or when the runner died';
comment on column runner_runs.outcome is 'running | succeeded | failed | abandoned';
comment on column runner_runs.error_message is 'the error that failed the run';
comment on table runner_run_steps is 'one row per step of a run in runner_runs';
comment on column runner_run_steps.run_id is 'the run (runner_runs.run_id)';
comment on column runner_run_steps.step_number is '1, 2, ... in execution order';
comment on column runner_run_steps.step_name is 'what the step is, e.g. migrations';
comment on column runner_run_steps.duration_ms is 'wall-clock duration in milliseconds';
comment on column runner_run_steps.rows_affected is 'rows the step wrote or counted, when it has such a number';
comment on column runner_run_steps.detail is 'one line on what it did, or why it failed';
