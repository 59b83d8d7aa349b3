-- severity: fail
-- description: user_rating_bias has a unique, non-null primary key (user_id)
select
    user_id,
    count(*) as row_count
from user_rating_bias
group by user_id
having count(*) > 1 or user_id is null
