-- runner_runs, runner_run_steps
--
-- Grain: runner_runs has one row per `runner migrate` or `runner stage` of the movies target;
--        runner_run_steps has one row per step of such a run.
-- Purpose: the run history an operator reads with `runner status`: when each run started and
--          ended, how it ended, and how long each step took.
-- Sources: written by the runner itself.
--
-- runner_runs
--   run_id          surrogate key, increasing with start time
--   command         migrate | stage
--   runner_version  version of the runner binary that made the run
--   started_at      UTC start time
--   finished_at     UTC end time; NULL while running or when the runner died
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
-- Idempotent: MySQL commits DDL implicitly, so a crash can apply this file without recording it;
-- `if not exists` lets the next run complete it.

create table if not exists runner_runs (
    run_id bigint not null auto_increment comment 'surrogate key, increasing with start time',
    command varchar(32) not null comment 'migrate | stage',
    runner_version varchar(32) not null comment 'version of the runner binary that made the run',
    started_at datetime(6) not null comment 'UTC start time',
    finished_at datetime(6) null comment 'UTC end time; NULL while running or when the runner died',
    outcome varchar(16) not null comment 'running | succeeded | failed | abandoned',
    error_message text null comment 'the error that failed the run',
    primary key (run_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per runner migrate or runner stage of the movies target';

create table if not exists runner_run_steps (
    run_id bigint not null comment 'the run (runner_runs.run_id)',
    step_number int not null comment '1, 2, ... in execution order',
    step_name varchar(128) not null comment 'what the step is, e.g. migrations',
    duration_ms bigint not null comment 'wall-clock duration in milliseconds',
    rows_affected bigint null comment 'rows the step wrote or counted, when it has such a number',
    detail text null comment 'one line on what it did, or why it failed',
    primary key (run_id, step_number)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per step of a run in runner_runs';
