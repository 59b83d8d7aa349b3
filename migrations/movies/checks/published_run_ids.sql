-- severity: fail
-- description: every row of every published table carries the run that staged its input (stg_staging_run)
with
staging_run as (
    select
        stg_staging_run.run_id
    from stg_staging_run
),

stamped as (
    select 'movie_rating_percentiles' as table_name, movie_rating_percentiles.run_id
    from movie_rating_percentiles
    union all
    select 'keyword_aggregates', keyword_aggregates.run_id from keyword_aggregates
    union all
    select 'cast_member_aggregates', cast_member_aggregates.run_id from cast_member_aggregates
    union all
    select 'movie_genre_rankings', movie_genre_rankings.run_id from movie_genre_rankings
    union all
    select 'user_rating_bias', user_rating_bias.run_id from user_rating_bias
    union all
    select 'movie_hidden_gems', movie_hidden_gems.run_id from movie_hidden_gems
    union all
    select 'movie_financials', movie_financials.run_id from movie_financials
    union all
    select 'director_consistency', director_consistency.run_id from director_consistency
    union all
    select 'collection_decay', collection_decay.run_id from collection_decay
)

select
    stamped.table_name,
    stamped.run_id,
    count(*) as row_count
from stamped
cross join staging_run
where stamped.run_id is null or stamped.run_id <> staging_run.run_id
group by stamped.table_name, stamped.run_id
