-- movie_hidden_gems: films our raters love that few people know
--
-- materialized: table
-- grain: one row per rated movie whose TMDB id is in the metadata file
-- sources: int_movie_scores, stg_movies, stg_staging_run
--
-- Which films to recommend as discoveries: high quality by the MovieLens ratings (the Bayesian
-- weighted rating of int_movie_scores, which pulls a film with few ratings toward the mean), low
-- exposure by TMDB's vote count (how many people anywhere bothered to vote: a measure of fame
-- independent of our raters). Informs: "hidden gems" rows, editorial discovery lists, licensing
-- cheap titles that delight.
--
-- Both measures are ranked among the rows: quality_percentile and quality_decile by weighted
-- rating (its full precision, not the 4 places shown), exposure_percentile and exposure_decile by
-- vote count among the movies that have one. Quality ranks among every row, including films
-- with few ratings, whose weighted ratings crowd near the mean. A hidden gem is in the top two
-- quality deciles and the bottom three exposure deciles, with at least 10 ratings: the prior
-- alone does not keep out a film with two perfect ratings (weighted 3.79 on the real files,
-- quality decile 9), and 81 of the 102 candidates there have 2 to 9 ratings. Deciles come from
-- ntile(10), which must split tied values somewhere: ties go by movie_id (lower id in the lower
-- decile), so every run and both servers agree, but two tied films can fall either side of a
-- decile boundary. Percentiles are percent_rank: tied values share the lower one.
--
-- columns:
--   movie_id             TMDB movie id; primary key
--   title                movie title
--   release_year         release year; NULL when unknown
--   rating_count         MovieLens ratings of the movie
--   weighted_rating      Bayesian weighted rating, stars (int_movie_scores)
--   tmdb_vote_count      TMDB votes; NULL when the metadata has none
--   quality_percentile   percent_rank of weighted_rating among the rows, 0 = worst, 1 = best
--   exposure_percentile  percent_rank of tmdb_vote_count among the rows that have one, 0 = least
--                        known; NULL without a vote count
--   quality_decile       ntile(10) by weighted_rating then movie_id, 10 = best
--   exposure_decile      ntile(10) by tmdb_vote_count then movie_id among the rows that have
--                        one, 1 = least known; NULL without a vote count
--   gem_score            quality_percentile - exposure_percentile, -1..1, higher = better kept
--                        secret; NULL without a vote count
--   is_hidden_gem        quality_decile 9 or 10, exposure_decile 1 to 3, and not is_low_sample
--   is_low_sample        fewer than 10 ratings: the weighted rating is mostly prior
--   run_id               the run that built this table (runner_runs.run_id, stg_staging_run)

with
staging_run as (
    select
        stg_staging_run.run_id
    from stg_staging_run
),

scores as (
    select
        int_movie_scores.movie_id,
        int_movie_scores.rating_count,
        int_movie_scores.weighted_rating
    from int_movie_scores
),

movies as (
    select
        stg_movies.movie_id,
        stg_movies.title,
        stg_movies.release_year,
        stg_movies.vote_count
    from stg_movies
),

rated as (
    select
        scores.movie_id,
        movies.title,
        movies.release_year,
        scores.rating_count,
        scores.weighted_rating,
        movies.vote_count as tmdb_vote_count,
        movies.vote_count is null as lacks_votes
    from scores
    inner join movies on movies.movie_id = scores.movie_id
),

ranked as (
    select
        rated.movie_id,
        rated.title,
        rated.release_year,
        rated.rating_count,
        cast(rated.weighted_rating as decimal(7, 4)) as weighted_rating,
        rated.tmdb_vote_count,
        percent_rank() over (order by rated.weighted_rating) as quality_percentile,
        case
            when not rated.lacks_votes then percent_rank() over (
                partition by rated.lacks_votes order by rated.tmdb_vote_count
            )
        end as exposure_percentile,
        ntile(10) over (order by rated.weighted_rating, rated.movie_id) as quality_decile,
        case
            when not rated.lacks_votes then ntile(10) over (
                partition by rated.lacks_votes order by rated.tmdb_vote_count, rated.movie_id
            )
        end as exposure_decile
    from rated
),

final as (
    select
        ranked.movie_id,
        ranked.title,
        ranked.release_year,
        ranked.rating_count,
        ranked.weighted_rating,
        ranked.tmdb_vote_count,
        ranked.quality_percentile,
        ranked.exposure_percentile,
        ranked.quality_decile,
        ranked.exposure_decile,
        ranked.quality_percentile - ranked.exposure_percentile as gem_score,
        coalesce(
            ranked.quality_decile >= 9 and ranked.exposure_decile <= 3 and ranked.rating_count >= 10,
            false
        ) as is_hidden_gem,
        ranked.rating_count < 10 as is_low_sample,
        staging_run.run_id
    from ranked
    cross join staging_run
)

select * from final
