-- severity: fail
-- description: collection_decay has a unique, non-null primary key (collection_id, movie_id)
select
    collection_id, movie_id,
    count(*) as row_count
from collection_decay
group by collection_id, movie_id
having count(*) > 1 or collection_id is null or movie_id is null
