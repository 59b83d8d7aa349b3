-- severity: fail
-- description: director_consistency has a unique, non-null primary key (person_id)
select
    person_id,
    count(*) as row_count
from director_consistency
group by person_id
having count(*) > 1 or person_id is null
