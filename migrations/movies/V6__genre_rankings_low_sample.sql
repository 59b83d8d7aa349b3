-- movie_genre_rankings says when a movie's mean rests on fewer than 10 ratings (is_low_sample),
-- as the other rating tables do (models/movie_genre_rankings.sql).
--
-- Idempotent, like V2: the ALTER runs only while the table lacks the column, and is one atomic
-- statement.

set @runner_ddl = (
    select if(
        count(*) = 0,
        'alter table movie_genre_rankings add column is_low_sample boolean not null after rank_in_genre_decade',
        'do 0'
    )
    from information_schema.columns
    where table_schema = database()
        and table_name = 'movie_genre_rankings'
        and column_name = 'is_low_sample'
);
prepare runner_ddl from @runner_ddl;
execute runner_ddl;
deallocate prepare runner_ddl;
