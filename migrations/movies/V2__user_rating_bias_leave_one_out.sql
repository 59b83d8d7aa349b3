-- user_rating_bias compares each rating with the other users' mean of the movie (leave-one-out)
-- and shrinks the offsets of users with few compared ratings (models/user_rating_bias.sql): it
-- gains compared_count, shrunk_offset and is_low_sample, and mean_offset is NULL for a user
-- with nothing to compare.
--
-- Idempotent, like V1 (MySQL commits DDL implicitly, so a crash can apply this file without
-- recording it): the ALTER runs only while the table lacks compared_count, and is one atomic
-- statement on MySQL 8+ and MariaDB 10.6+. MySQL has no `add column if not exists`, hence the
-- statement chosen from information_schema.

set @runner_ddl = (
    select if(
        count(*) = 0,
        'alter table user_rating_bias
            add column compared_count bigint not null after mean_rating,
            modify column mean_offset decimal(7, 4) null,
            add column shrunk_offset decimal(7, 4) not null after mean_offset,
            add column is_low_sample boolean not null after leniency_percentile',
        'do 0'
    )
    from information_schema.columns
    where table_schema = database()
        and table_name = 'user_rating_bias'
        and column_name = 'compared_count'
);
prepare runner_ddl from @runner_ddl;
execute runner_ddl;
deallocate prepare runner_ddl;
