-- severity: fail
-- description: every rated movieId has a percentile row, and rating_count sums to the staged ratings
with
rated as (
    select distinct
        raw_ratings.movieId as movielens_movie_id
    from raw_ratings
),

missing as (
    select
        rated.movielens_movie_id,
        'rated movie without a row' as problem
    from rated
    left join movie_rating_percentiles
        on movie_rating_percentiles.movielens_movie_id = rated.movielens_movie_id
    where movie_rating_percentiles.movielens_movie_id is null
),

totals as (
    select
        null as movielens_movie_id,
        concat(
            'rating_count sums to ', (select coalesce(sum(rating_count), 0) from movie_rating_percentiles),
            ', staged ratings: ', (select count(*) from raw_ratings)
        ) as problem
    from (select 1 as one) as single_row
    where (select coalesce(sum(rating_count), 0) from movie_rating_percentiles) <> (select count(*) from raw_ratings)
)

select * from missing
union all
select * from totals
