-- severity: fail
-- description: min <= p25 <= median <= p75 <= max, all within 0.5..5.0 stars
select
    movie_rating_percentiles.movielens_movie_id,
    movie_rating_percentiles.min_rating,
    movie_rating_percentiles.p25_rating,
    movie_rating_percentiles.median_rating,
    movie_rating_percentiles.p75_rating,
    movie_rating_percentiles.max_rating
from movie_rating_percentiles
where not (
    movie_rating_percentiles.min_rating >= 0.5
    and movie_rating_percentiles.min_rating <= movie_rating_percentiles.p25_rating
    and movie_rating_percentiles.p25_rating <= movie_rating_percentiles.median_rating
    and movie_rating_percentiles.median_rating <= movie_rating_percentiles.p75_rating
    and movie_rating_percentiles.p75_rating <= movie_rating_percentiles.max_rating
    and movie_rating_percentiles.max_rating <= 5.0
)
