-- severity: fail
-- description: movie_hidden_gems has a unique, non-null primary key (movie_id)
select
    movie_id,
    count(*) as row_count
from movie_hidden_gems
group by movie_id
having count(*) > 1 or movie_id is null
