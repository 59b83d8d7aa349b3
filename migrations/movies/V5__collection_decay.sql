-- The table of the model collection_decay (models/collection_decay.sql: what each column means
-- and how it is computed), with run_id from the start (V4 added it to the tables before it).
--
-- Idempotent, like V1: `if not exists`.

create table if not exists collection_decay (
    collection_id bigint not null,
    movie_id bigint not null,
    collection_name mediumtext null,
    title mediumtext null,
    release_date date null,
    sequel_number bigint not null,
    collection_films bigint not null,
    rating_count bigint not null,
    weighted_rating decimal(7, 4) null,
    change_from_first decimal(8, 4) null,
    change_from_previous decimal(8, 4) null,
    is_only_film boolean not null,
    is_low_sample boolean not null,
    run_id bigint null,
    primary key (collection_id, movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;
