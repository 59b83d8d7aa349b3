-- severity: fail
-- description: movie_financials has a unique, non-null primary key (movie_id)
select
    movie_id,
    count(*) as row_count
from movie_financials
group by movie_id
having count(*) > 1 or movie_id is null
