-- Tables of the models int_movie_scores, movie_hidden_gems, movie_financials, stg_movie_directors
-- and director_consistency (models/<table>.sql: what each column means and how it is computed).
--
-- Idempotent, like V1: `if not exists` throughout.

create table if not exists int_movie_scores (
    movie_id bigint not null,
    rating_count bigint not null,
    mean_rating decimal(20, 9) not null,
    weighted_rating decimal(20, 9) not null,
    primary key (movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists stg_movie_directors (
    movie_id bigint not null,
    person_id bigint not null,
    director_name mediumtext not null,
    primary key (movie_id, person_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists movie_hidden_gems (
    movie_id bigint not null,
    title mediumtext null,
    release_year int null,
    rating_count bigint not null,
    weighted_rating decimal(7, 4) not null,
    tmdb_vote_count bigint unsigned null,
    quality_percentile double not null,
    exposure_percentile double null,
    quality_decile bigint not null,
    exposure_decile bigint null,
    gem_score double null,
    is_hidden_gem boolean not null,
    is_low_sample boolean not null,
    primary key (movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists movie_financials (
    movie_id bigint not null,
    title mediumtext null,
    release_year int null,
    budget_usd bigint unsigned not null,
    revenue_usd bigint unsigned null,
    is_amount_suspect boolean not null,
    return_multiple decimal(20, 4) null,
    rank_in_year bigint null,
    year_movies_with_return bigint null,
    return_percentile_in_year double null,
    rating_count bigint not null,
    weighted_rating decimal(7, 4) null,
    primary key (movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists director_consistency (
    person_id bigint not null,
    director_name mediumtext not null,
    films_rated bigint not null,
    rating_count bigint not null,
    mean_weighted_rating decimal(7, 4) not null,
    weighted_rating_spread decimal(7, 4) null,
    best_movie_id bigint not null,
    best_title mediumtext null,
    best_weighted_rating decimal(7, 4) not null,
    worst_movie_id bigint not null,
    worst_title mediumtext null,
    worst_weighted_rating decimal(7, 4) not null,
    is_low_sample boolean not null,
    primary key (person_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;
