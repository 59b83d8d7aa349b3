-- severity: warn
-- description: records whose key an earlier record of the same file had; the stg_ models keep the first (metadata, links) or count the movie once (credits, keywords)
select
    duplicates.file_name,
    duplicates.key_column,
    duplicates.records_set_aside
from (
    select
        'movies_metadata.csv' as file_name,
        'id' as key_column,
        count(*) - count(distinct raw_movies_metadata.id) as records_set_aside
    from raw_movies_metadata
    union all
    select
        'credits.csv',
        'id',
        count(*) - count(distinct raw_credits.id)
    from raw_credits
    union all
    select
        'keywords.csv',
        'id',
        count(*) - count(distinct raw_keyword_sets.id)
    from raw_keyword_sets
    union all
    select
        'links',
        'movieId',
        count(*) - count(distinct raw_links.movieId)
    from raw_links
) as duplicates
where duplicates.records_set_aside > 0
