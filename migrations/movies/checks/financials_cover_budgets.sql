-- severity: fail
-- description: one movie_financials row per film with a budget, returns and ranks consistent
select
    stg_movies.movie_id,
    'film with a budget without a row' as problem
from stg_movies
left join movie_financials on movie_financials.movie_id = stg_movies.movie_id
where stg_movies.budget_usd is not null and movie_financials.movie_id is null
union all
select
    movie_financials.movie_id,
    'return_multiple is not revenue / budget, or set for a suspect amount'
from movie_financials
where abs(movie_financials.return_multiple - movie_financials.revenue_usd / movie_financials.budget_usd) > 0.0001
    or (movie_financials.return_multiple is not null and movie_financials.is_amount_suspect)
    or (movie_financials.return_multiple is null
        and movie_financials.revenue_usd is not null and not movie_financials.is_amount_suspect)
union all
select
    movie_financials.movie_id,
    'rank_in_year outside 1..year_movies_with_return, or set without a return and a year'
from movie_financials
where movie_financials.rank_in_year not between 1 and movie_financials.year_movies_with_return
    or (movie_financials.rank_in_year is null)
    <> (movie_financials.return_multiple is null or movie_financials.release_year is null)
