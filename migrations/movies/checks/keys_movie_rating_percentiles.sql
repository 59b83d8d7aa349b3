-- severity: fail
-- description: movie_rating_percentiles has a unique, non-null primary key (movielens_movie_id)
select
    movielens_movie_id,
    count(*) as row_count
from movie_rating_percentiles
group by movielens_movie_id
having count(*) > 1 or movielens_movie_id is null
