-- severity: fail
-- description: cast_member_aggregates has a unique, non-null primary key (cast_member_id)
select
    cast_member_id,
    count(*) as row_count
from cast_member_aggregates
group by cast_member_id
having count(*) > 1 or cast_member_id is null
