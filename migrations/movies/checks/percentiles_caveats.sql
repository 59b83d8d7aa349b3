-- severity: fail
-- description: movie_rating_percentiles: the title_missing_reason its links and metadata give; is_low_sample below 10 ratings (and in movie_genre_rankings)
with
reasons as (
    select
        movie_rating_percentiles.movielens_movie_id,
        movie_rating_percentiles.title,
        movie_rating_percentiles.title_missing_reason,
        case
            when stg_links.movielens_movie_id is null then 'movieId not in the links file'
            when stg_links.movie_id is null then 'no TMDB id in the links file'
            when stg_movies.movie_id is null then 'TMDB id not in the metadata file'
            when stg_movies.title is null then 'no title in the metadata'
        end as expected_reason
    from movie_rating_percentiles
    left join stg_links on stg_links.movielens_movie_id = movie_rating_percentiles.movielens_movie_id
    left join stg_movies on stg_movies.movie_id = stg_links.movie_id
)

select
    reasons.movielens_movie_id,
    'title_missing_reason is not what links and metadata give, or disagrees with title' as problem
from reasons
where not (reasons.title_missing_reason <=> reasons.expected_reason)
    or (reasons.title is null) <> (reasons.title_missing_reason is not null)
union all
select
    movie_rating_percentiles.movielens_movie_id,
    'is_low_sample is not rating_count < 10'
from movie_rating_percentiles
where movie_rating_percentiles.is_low_sample <> (movie_rating_percentiles.rating_count < 10)
union all
select
    movie_genre_rankings.movie_id,
    'movie_genre_rankings.is_low_sample is not rating_count < 10'
from movie_genre_rankings
where movie_genre_rankings.is_low_sample <> (movie_genre_rankings.rating_count < 10)
