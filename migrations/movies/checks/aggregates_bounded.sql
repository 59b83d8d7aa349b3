-- severity: fail
-- description: keyword and cast movie counts are between 1 and the number of rated movies
with
rated_movies as (
    select
        count(*) as movie_count
    from int_rated_movies
),

out_of_range as (
    select
        'keyword_aggregates' as table_name,
        keyword_aggregates.keyword_id as row_id,
        keyword_aggregates.movie_count
    from keyword_aggregates
    cross join rated_movies
    where keyword_aggregates.movie_count < 1 or keyword_aggregates.movie_count > rated_movies.movie_count
    union all
    select
        'cast_member_aggregates',
        cast_member_aggregates.cast_member_id,
        cast_member_aggregates.movie_count
    from cast_member_aggregates
    cross join rated_movies
    where cast_member_aggregates.movie_count < 1 or cast_member_aggregates.movie_count > rated_movies.movie_count
)

select * from out_of_range
