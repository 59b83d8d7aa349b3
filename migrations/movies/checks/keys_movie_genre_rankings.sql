-- severity: fail
-- description: movie_genre_rankings has a unique, non-null primary key (genre_id, movie_id)
select
    genre_id, movie_id,
    count(*) as row_count
from movie_genre_rankings
group by genre_id, movie_id
having count(*) > 1 or genre_id is null or movie_id is null
