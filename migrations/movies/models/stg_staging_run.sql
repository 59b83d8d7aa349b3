-- stg_staging_run: the run that staged the raw tables, and so built every table from them
--
-- materialized: view
-- grain: one row
-- sources: raw_files
--
-- Every published table copies run_id from here, so a reader can tell which run built the rows
-- in front of them and how fresh they are (join runner_runs for its times and outcome). The
-- raw tables and every table built from them are swapped in together, so all of them carry the
-- same run.
--
-- columns:
--   run_id     the run (runner_runs.run_id) that staged the files; NULL only for files staged
--              before runs were recorded in raw_files
--   staged_at  UTC time the last file's load finished

with
files as (
    select
        raw_files.run_id,
        raw_files.staged_at
    from raw_files
),

final as (
    select
        max(files.run_id) as run_id,
        max(files.staged_at) as staged_at
    from files
)

select * from final
