-- severity: fail
-- description: one movie_financials row per film with a budget, the suspect flag, returns and ranks by their rules
select
    stg_movies.movie_id,
    'film with a budget without a row' as problem
from stg_movies
left join movie_financials on movie_financials.movie_id = stg_movies.movie_id
where stg_movies.budget_usd is not null and movie_financials.movie_id is null
union all
select
    movie_financials.movie_id,
    'is_amount_suspect is not "budget or revenue below $1,000"'
from movie_financials
where movie_financials.is_amount_suspect
    <> (movie_financials.budget_usd < 1000 or coalesce(movie_financials.revenue_usd < 1000, false))
union all
select
    movie_financials.movie_id,
    'return_multiple is not revenue / budget, or set without a revenue or for a suspect amount'
from movie_financials
where (movie_financials.return_multiple is null)
    <> (movie_financials.revenue_usd is null or movie_financials.is_amount_suspect)
    or abs(movie_financials.return_multiple - movie_financials.revenue_usd / movie_financials.budget_usd)
        > 0.0001
union all
select
    movie_financials.movie_id,
    'rank_in_year outside 1..year_movies_with_return, or set without a return and a year'
from movie_financials
where (movie_financials.rank_in_year is null)
    <> (movie_financials.return_multiple is null or movie_financials.release_year is null)
    or (movie_financials.year_movies_with_return is null) <> (movie_financials.rank_in_year is null)
    or movie_financials.rank_in_year not between 1 and movie_financials.year_movies_with_return
union all
select
    movie_financials.movie_id,
    'return_percentile_in_year outside 0..1, or set without a rank or for a film alone in its year'
from movie_financials
where (movie_financials.return_percentile_in_year is null)
    <> (movie_financials.rank_in_year is null or movie_financials.year_movies_with_return = 1)
    or movie_financials.return_percentile_in_year not between 0 and 1
