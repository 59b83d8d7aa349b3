-- severity: fail
-- description: keyword_aggregates has a unique, non-null primary key (keyword_id)
select
    keyword_id,
    count(*) as row_count
from keyword_aggregates
group by keyword_id
having count(*) > 1 or keyword_id is null
