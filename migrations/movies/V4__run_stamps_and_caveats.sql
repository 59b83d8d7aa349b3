-- Every published table carries the run that built it, and movie_rating_percentiles says when
-- its numbers rest on few ratings and why a movie has no title.
--
-- raw_files.run_id: the run (runner_runs.run_id) that staged the file; the model stg_staging_run
-- reads it, and every published model copies it into its run_id column. NULL in rows staged
-- before this migration (they are replaced by the next run).
--
-- Idempotent, like V1 (MySQL commits DDL implicitly, so a crash can apply this file without
-- recording it): runner_add_column adds a column only when the table lacks it (MySQL has no
-- `add column if not exists`), and each ALTER is one atomic statement.

drop procedure if exists runner_add_column;

create procedure runner_add_column(
    in table_name_in varchar(64),
    in column_name_in varchar(64),
    in definition text
)
begin
    if not exists (
        select 1
        from information_schema.columns
        where columns.table_schema = database()
            and columns.table_name = table_name_in
            and columns.column_name = column_name_in
    ) then
        set @runner_ddl = concat(
            'alter table `', table_name_in, '` add column `', column_name_in, '` ', definition
        );
        prepare runner_ddl from @runner_ddl;
        execute runner_ddl;
        deallocate prepare runner_ddl;
    end if;
end;

call runner_add_column(
    'raw_files', 'run_id', 'bigint null comment ''the run that staged the file (runner_runs.run_id)'''
);
call runner_add_column('movie_rating_percentiles', 'is_low_sample', 'boolean not null');
call runner_add_column('movie_rating_percentiles', 'title_missing_reason', 'varchar(64) null');
call runner_add_column('movie_rating_percentiles', 'run_id', 'bigint null');
call runner_add_column('keyword_aggregates', 'run_id', 'bigint null');
call runner_add_column('cast_member_aggregates', 'run_id', 'bigint null');
call runner_add_column('movie_genre_rankings', 'run_id', 'bigint null');
call runner_add_column('user_rating_bias', 'run_id', 'bigint null');
call runner_add_column('movie_hidden_gems', 'run_id', 'bigint null');
call runner_add_column('movie_financials', 'run_id', 'bigint null');
call runner_add_column('director_consistency', 'run_id', 'bigint null');

drop procedure runner_add_column;
