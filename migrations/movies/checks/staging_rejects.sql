-- severity: warn
-- description: records set aside while staging (see raw_rejects for the reason of each)
select
    raw_rejects.file_name,
    raw_rejects.line_number,
    raw_rejects.column_name,
    raw_rejects.reason
from raw_rejects
order by raw_rejects.file_name, raw_rejects.line_number
