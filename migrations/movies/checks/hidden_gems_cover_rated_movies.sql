-- severity: fail
-- description: one movie_hidden_gems row per rated movie in the metadata, ranks and flags in range
select
    int_movie_scores.movie_id,
    'rated movie in the metadata without a row' as problem
from int_movie_scores
inner join stg_movies on stg_movies.movie_id = int_movie_scores.movie_id
left join movie_hidden_gems on movie_hidden_gems.movie_id = int_movie_scores.movie_id
where movie_hidden_gems.movie_id is null
union all
select
    movie_hidden_gems.movie_id,
    'percentile outside 0..1, decile outside 1..10, or exposure without a vote count'
from movie_hidden_gems
where movie_hidden_gems.quality_percentile not between 0 and 1
    or movie_hidden_gems.exposure_percentile not between 0 and 1
    or movie_hidden_gems.quality_decile not between 1 and 10
    or movie_hidden_gems.exposure_decile not between 1 and 10
    or (movie_hidden_gems.exposure_decile is null) <> (movie_hidden_gems.tmdb_vote_count is null)
    or (movie_hidden_gems.exposure_percentile is null) <> (movie_hidden_gems.tmdb_vote_count is null)
union all
select
    movie_hidden_gems.movie_id,
    'gem_score is not quality_percentile - exposure_percentile'
from movie_hidden_gems
where (movie_hidden_gems.gem_score is null) <> (movie_hidden_gems.exposure_percentile is null)
    or abs(movie_hidden_gems.gem_score
        - (movie_hidden_gems.quality_percentile - movie_hidden_gems.exposure_percentile)) > 0.000001
union all
select
    movie_hidden_gems.movie_id,
    'is_hidden_gem or is_low_sample disagrees with its rule'
from movie_hidden_gems
where movie_hidden_gems.is_hidden_gem
    <> coalesce(
        movie_hidden_gems.quality_decile >= 9 and movie_hidden_gems.exposure_decile <= 3
            and movie_hidden_gems.rating_count >= 10,
        false
    )
    or movie_hidden_gems.is_low_sample <> (movie_hidden_gems.rating_count < 10)
