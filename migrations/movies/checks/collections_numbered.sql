-- severity: fail
-- description: collection_decay: one row per collection film, numbered 1..collection_films, the first unchanged
select
    stg_movie_collections.movie_id,
    'collection film without a row' as problem
from stg_movie_collections
left join collection_decay on collection_decay.movie_id = stg_movie_collections.movie_id
where collection_decay.movie_id is null
union all
select
    collection_decay.movie_id,
    'sequel_number outside 1..collection_films, or is_only_film disagrees'
from collection_decay
where collection_decay.sequel_number not between 1 and collection_decay.collection_films
    or collection_decay.is_only_film <> (collection_decay.collection_films = 1)
union all
select
    collection_decay.movie_id,
    'the first film changes from itself, or has a previous film'
from collection_decay
where collection_decay.sequel_number = 1
    and (collection_decay.change_from_first <> 0 or collection_decay.change_from_previous is not null)
