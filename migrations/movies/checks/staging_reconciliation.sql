-- severity: fail
-- description: every staged file: records read = loaded + rejected, and the tables hold exactly those rows
with
loaded as (
    select 'raw_movies_metadata' as table_name, count(*) as row_count from raw_movies_metadata
    union all
    select 'raw_credits', count(*) from raw_credits
    union all
    select 'raw_keyword_sets', count(*) from raw_keyword_sets
    union all
    select 'raw_ratings', count(*) from raw_ratings
    union all
    select 'raw_links', count(*) from raw_links
),

rejected as (
    select
        raw_rejects.file_name,
        count(*) as row_count
    from raw_rejects
    group by raw_rejects.file_name
),

final as (
    select
        raw_files.file_name,
        raw_files.records_read,
        raw_files.records_loaded,
        raw_files.records_rejected,
        coalesce(loaded.row_count, 0) as rows_in_table,
        coalesce(rejected.row_count, 0) as rows_in_rejects
    from raw_files
    left join loaded on loaded.table_name = raw_files.table_name
    left join rejected on rejected.file_name = raw_files.file_name
    where raw_files.records_read <> raw_files.records_loaded + raw_files.records_rejected
        or coalesce(loaded.row_count, 0) <> raw_files.records_loaded
        or coalesce(rejected.row_count, 0) <> raw_files.records_rejected
)

select * from final
