-- stg_keywords: the keywords, one name per id
--
-- materialized: table
-- grain: one row per keyword id, with the name it first appears with
-- sources: raw_keywords
--
-- The first element of each keyword id (lowest line, then lowest position in the list). The
-- window ranks the integer columns only and the name is joined back by the key, so the sort
-- holds no text.
--
-- columns:
--   keyword_id  TMDB keyword id; primary key
--   keyword     the keyword, as first seen in keywords.csv

with
-- the first element of each keyword id; ranked on the integer columns only, then joined back
-- for the name, so the window sorts no text
ranked as (
    select
        raw_keywords.line_number,
        raw_keywords.position,
        row_number() over (
            partition by raw_keywords.id order by raw_keywords.line_number, raw_keywords.position
        ) as occurrence
    from raw_keywords
),

final as (
    select
        raw_keywords.id as keyword_id,
        raw_keywords.name as keyword
    from ranked
    inner join raw_keywords
        on raw_keywords.line_number = ranked.line_number
        and raw_keywords.position = ranked.position
    where ranked.occurrence = 1
)

select * from final
