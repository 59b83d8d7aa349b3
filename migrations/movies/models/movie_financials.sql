-- movie_financials: how many times its budget each film earned back, within its release year
--
-- materialized: table
-- grain: one row per movie of the metadata file with a known budget (rated or not)
-- sources: int_movie_scores, stg_movies, stg_staging_run
--
-- Which films paid off best against the others of their year, and whether our raters liked the
-- ones that did. Informs: acquisition (what kind of film returns its cost), comparing a film's
-- box office with its reception.
--
-- The file's budgets and revenues are US dollars, and 0 means unknown, not free: stg_movies
-- turns 0 into NULL, so a film with no budget has no row and a film with no revenue has no
-- return. Amounts below $1,000 are almost always a unit slip in the file (a budget of 1 for a
-- $1M film, a revenue of 12 for $12M): such rows stay, flagged is_amount_suspect, without a
-- return. Not adjusted for inflation: compare within a year, which rank_in_year does.
--
-- columns:
--   movie_id                   TMDB movie id; primary key
--   title                      movie title
--   release_year               release year; NULL when unknown
--   budget_usd                 budget, US dollars
--   revenue_usd                worldwide revenue, US dollars; NULL when unknown
--   is_amount_suspect          budget or revenue below $1,000: probably in another unit
--   return_multiple            revenue_usd / budget_usd (2 = earned twice its budget); NULL
--                              when the revenue is unknown or an amount is suspect
--   rank_in_year               rank by return_multiple among the films of the release year
--                              with one, 1 = best; ties share a rank; NULL without a return or
--                              a year
--   year_movies_with_return    films of the release year with a return_multiple: what
--                              rank_in_year is out of
--   return_percentile_in_year  percent_rank of return_multiple within the year, 0 = worst,
--                              1 = best, ties share the lower value; NULL without a rank or
--                              when the film is the year's only one with a return
--   rating_count               MovieLens ratings of the film; 0 when unrated
--   weighted_rating            Bayesian weighted rating, stars (int_movie_scores); NULL when
--                              unrated
--   run_id                     the run that built this table (runner_runs.run_id, stg_staging_run)

with
staging_run as (
    select
        stg_staging_run.run_id
    from stg_staging_run
),

movies as (
    select
        stg_movies.movie_id,
        stg_movies.title,
        stg_movies.release_year,
        stg_movies.budget_usd,
        stg_movies.revenue_usd
    from stg_movies
    where stg_movies.budget_usd is not null
),

scores as (
    select
        int_movie_scores.movie_id,
        int_movie_scores.rating_count,
        int_movie_scores.weighted_rating
    from int_movie_scores
),

returns as (
    select
        movies.movie_id,
        movies.title,
        movies.release_year,
        movies.budget_usd,
        movies.revenue_usd,
        movies.budget_usd < 1000 or movies.revenue_usd < 1000 as is_amount_suspect,
        case
            when movies.budget_usd >= 1000 and movies.revenue_usd >= 1000
                then cast(movies.revenue_usd / movies.budget_usd as decimal(20, 4))
        end as return_multiple
    from movies
),

-- the films that can be ranked: a return and a year
ranked as (
    select
        returns.movie_id,
        rank() over by_year as rank_in_year,
        count(*) over (partition by returns.release_year) as year_movies_with_return,
        percent_rank() over (partition by returns.release_year order by returns.return_multiple)
            as return_percentile_in_year
    from returns
    where returns.return_multiple is not null and returns.release_year is not null
    window by_year as (partition by returns.release_year order by returns.return_multiple desc)
),

final as (
    select
        returns.movie_id,
        returns.title,
        returns.release_year,
        returns.budget_usd,
        returns.revenue_usd,
        coalesce(returns.is_amount_suspect, false) as is_amount_suspect,
        returns.return_multiple,
        ranked.rank_in_year,
        ranked.year_movies_with_return,
        -- a film alone in its year has no one to be compared with (percent_rank would say 0)
        case when ranked.year_movies_with_return > 1 then ranked.return_percentile_in_year end
            as return_percentile_in_year,
        coalesce(scores.rating_count, 0) as rating_count,
        cast(scores.weighted_rating as decimal(7, 4)) as weighted_rating,
        staging_run.run_id
    from returns
    left join ranked on ranked.movie_id = returns.movie_id
    left join scores on scores.movie_id = returns.movie_id
    cross join staging_run
)

select * from final
