-- severity: fail
-- description: movie_rating_percentiles: a title_missing_reason exactly when the title is missing; is_low_sample below 10 ratings (and in movie_genre_rankings)
select
    movie_rating_percentiles.movielens_movie_id,
    'title_missing_reason set with a title, or missing without one' as problem
from movie_rating_percentiles
where (movie_rating_percentiles.title is null) <> (movie_rating_percentiles.title_missing_reason is not null)
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
