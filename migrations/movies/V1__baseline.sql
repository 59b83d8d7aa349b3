-- The movies database: its schema, applied once. Tables only; the logic that fills the stg_,
-- int_ and derived tables is in models/ (one file per object, applied again whenever it
-- changes), what they mean in each model's header (carried into the catalog as comments).
--
-- This baseline replaced the history V1..V14 before the first release (CHANGELOG.md); a
-- database migrated by that history is refused with what to do.
--
-- Idempotent (MySQL commits DDL implicitly, so a crash can apply this file without recording
-- it): `if not exists` throughout.
--
-- runner_runs, runner_run_steps: the run history `runner status` reads, one row per
-- `runner migrate` or `runner stage` and one per step of it.
--   run_id          surrogate key, increasing with start time
--   command         migrate | stage
--   runner_version  version of the runner binary that made the run
--   started_at      UTC start time
--   finished_at     UTC end time; NULL while running or when the runner died
--   outcome         running | succeeded | failed | abandoned (died without recording an outcome)
--   error_message   the error that failed the run, NULL otherwise
--   step_number     1, 2, ... in execution order
--   step_name       what the step is, e.g. migrations
--   duration_ms     wall-clock duration in milliseconds
--   rows_affected   rows the step wrote or counted, when it has such a number
--   detail          one line on what it did, or why it failed

create table if not exists runner_runs (
    run_id bigint not null auto_increment comment 'surrogate key, increasing with start time',
    command varchar(32) not null comment 'migrate | stage',
    runner_version varchar(32) not null comment 'version of the runner binary that made the run',
    started_at datetime(6) not null comment 'UTC start time',
    finished_at datetime(6) null comment 'UTC end time; NULL while running or when the runner died',
    outcome varchar(16) not null comment 'running | succeeded | failed | abandoned',
    error_message text null comment 'the error that failed the run',
    primary key (run_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per runner migrate or runner stage of the movies target';

create table if not exists runner_run_steps (
    run_id bigint not null comment 'the run (runner_runs.run_id)',
    step_number int not null comment '1, 2, ... in execution order',
    step_name varchar(128) not null comment 'what the step is, e.g. migrations',
    duration_ms bigint not null comment 'wall-clock duration in milliseconds',
    rows_affected bigint null comment 'rows the step wrote or counted, when it has such a number',
    detail text null comment 'one line on what it did, or why it failed',
    primary key (run_id, step_number)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per step of a run in runner_runs';

-- runner_models: one row per model applied (models/*.sql), with the checksum of the text applied;
-- the runner applies a model again when its file's checksum differs.

create table if not exists runner_models (
    model_name varchar(64) not null comment 'the model: its file name without .sql',
    materialized varchar(16) not null comment 'view | table | incremental',
    checksum char(64) not null comment 'sha256 of the model file applied, hex',
    applied_at datetime(6) not null comment 'UTC time it was applied',
    primary key (model_name)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per model applied, with the checksum of its text';


-- raw_ tables: what the loader wrote, verbatim.
--
-- One row per CSV record in each parent table (raw_movies_metadata, raw_credits,
-- raw_keyword_sets, raw_ratings, raw_links); one row per list element in each child table
-- (raw_movie_genres, raw_movie_production_companies, raw_movie_production_countries,
-- raw_movie_spoken_languages, raw_credits_cast, raw_credits_crew, raw_keywords); one row per
-- rejected record in raw_rejects; one row per staged file in raw_files. The loader checks each
-- record against the contract in src/pipelines/movies/contract.rs, explodes the Python-literal
-- list columns into child tables, and sets aside (raw_rejects) what it cannot load. Each load
-- fills copies of these tables and swaps all of them in with one RENAME TABLE. Only the stg_
-- models read them. Sources: movies_metadata.csv, credits.csv, keywords.csv, ratings_small.csv
-- (or --ratings-file), links_small.csv (or links.csv), from Kaggle's "The Movies Dataset" (CC0).
--
--   line_number     the record's first line in its file (line 1 is the header); primary key
--   movie_id        (child tables) the parent record's `id`: a TMDB movie id
--   position        (child tables) 0-based index of the element in its list
--   <list>_count    (parent tables) number of elements in the list column, = its child rows
-- Values are the file's text, byte for byte; ids are checked to be whole numbers, `rating` a
-- decimal, `belongs_to_collection` a Python dict (stored as JSON).

create table if not exists raw_movies_metadata (
    line_number bigint not null comment 'first line of the record in movies_metadata.csv',
    adult mediumtext not null comment 'verbatim: True/False',
    belongs_to_collection json null comment 'the collection dict as JSON; NULL when empty',
    budget mediumtext not null comment 'verbatim: US dollars',
    homepage mediumtext not null comment 'verbatim',
    id bigint not null comment 'TMDB movie id (not unique in the file)',
    imdb_id mediumtext not null comment 'verbatim: tt + 7 digits',
    original_language mediumtext not null comment 'verbatim: ISO 639-1',
    original_title mediumtext not null comment 'verbatim',
    overview mediumtext not null comment 'verbatim',
    popularity mediumtext not null comment 'verbatim: TMDB popularity score',
    poster_path mediumtext not null comment 'verbatim',
    release_date mediumtext not null comment 'verbatim: YYYY-MM-DD',
    revenue mediumtext not null comment 'verbatim: US dollars',
    runtime mediumtext not null comment 'verbatim: minutes',
    status mediumtext not null comment 'verbatim',
    tagline mediumtext not null comment 'verbatim',
    title mediumtext not null comment 'verbatim',
    video mediumtext not null comment 'verbatim: True/False',
    vote_average mediumtext not null comment 'verbatim: TMDB vote average 0-10',
    vote_count mediumtext not null comment 'verbatim: number of TMDB votes',
    genres_count int not null comment 'elements in genres (rows in raw_movie_genres)',
    production_companies_count int not null comment 'elements in production_companies',
    production_countries_count int not null comment 'elements in production_countries',
    spoken_languages_count int not null comment 'elements in spoken_languages',
    primary key (line_number)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per record of movies_metadata.csv';

create table if not exists raw_movie_genres (
    line_number bigint not null comment 'the parent record in raw_movies_metadata',
    movie_id bigint not null comment 'TMDB movie id',
    position int not null comment '0-based index in the genres list',
    id bigint not null comment 'TMDB genre id',
    name mediumtext not null comment 'genre name',
    primary key (line_number, position)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per element of movies_metadata.genres';

create table if not exists raw_movie_production_companies (
    line_number bigint not null comment 'the parent record in raw_movies_metadata',
    movie_id bigint not null comment 'TMDB movie id',
    position int not null comment '0-based index in the production_companies list',
    id bigint not null comment 'TMDB company id',
    name mediumtext not null comment 'company name',
    primary key (line_number, position)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per element of movies_metadata.production_companies';

create table if not exists raw_movie_production_countries (
    line_number bigint not null comment 'the parent record in raw_movies_metadata',
    movie_id bigint not null comment 'TMDB movie id',
    position int not null comment '0-based index in the production_countries list',
    iso_3166_1 mediumtext not null comment 'ISO 3166-1 alpha-2 country code',
    name mediumtext not null comment 'country name',
    primary key (line_number, position)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per element of movies_metadata.production_countries';

create table if not exists raw_movie_spoken_languages (
    line_number bigint not null comment 'the parent record in raw_movies_metadata',
    movie_id bigint not null comment 'TMDB movie id',
    position int not null comment '0-based index in the spoken_languages list',
    iso_639_1 mediumtext not null comment 'ISO 639-1 language code',
    name mediumtext not null comment 'language name in that language',
    primary key (line_number, position)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per element of movies_metadata.spoken_languages';

create table if not exists raw_credits (
    line_number bigint not null comment 'first line of the record in credits.csv',
    id bigint not null comment 'TMDB movie id',
    cast_count int not null comment 'elements in cast (rows in raw_credits_cast)',
    crew_count int not null comment 'elements in crew (rows in raw_credits_crew)',
    primary key (line_number)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per record of credits.csv';

create table if not exists raw_credits_cast (
    line_number bigint not null comment 'the parent record in raw_credits',
    movie_id bigint not null comment 'TMDB movie id',
    position int not null comment '0-based index in the cast list',
    cast_id bigint not null comment 'per-credit id (not the person)',
    character_name mediumtext not null comment 'the role (key `character`)',
    credit_id mediumtext not null comment 'per-credit id string',
    gender bigint not null comment '0 unknown, 1 female, 2 male',
    id bigint not null comment 'TMDB person id',
    name mediumtext not null comment 'person name',
    cast_order bigint not null comment 'billing order (key `order`)',
    profile_path mediumtext null comment 'profile image path; NULL for None',
    primary key (line_number, position)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per element of credits.cast';

create table if not exists raw_credits_crew (
    line_number bigint not null comment 'the parent record in raw_credits',
    movie_id bigint not null comment 'TMDB movie id',
    position int not null comment '0-based index in the crew list',
    credit_id mediumtext not null comment 'per-credit id string',
    department mediumtext not null comment 'department, e.g. Directing',
    gender bigint not null comment '0 unknown, 1 female, 2 male',
    id bigint not null comment 'TMDB person id',
    job mediumtext not null comment 'job, e.g. Director',
    name mediumtext not null comment 'person name',
    profile_path mediumtext null comment 'profile image path; NULL for None',
    primary key (line_number, position)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per element of credits.crew';

create table if not exists raw_keyword_sets (
    line_number bigint not null comment 'first line of the record in keywords.csv',
    id bigint not null comment 'TMDB movie id (985 ids appear 2-3 times in the full file)',
    keywords_count int not null comment 'elements in keywords (rows in raw_keywords)',
    primary key (line_number)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per record of keywords.csv';

create table if not exists raw_keywords (
    line_number bigint not null comment 'the parent record in raw_keyword_sets',
    movie_id bigint not null comment 'TMDB movie id',
    position int not null comment '0-based index in the keywords list',
    id bigint not null comment 'TMDB keyword id',
    name mediumtext not null comment 'keyword',
    primary key (line_number, position)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per element of keywords.keywords';

create table if not exists raw_ratings (
    line_number bigint not null comment 'line in the ratings file',
    userId bigint not null comment 'MovieLens user id',
    movieId bigint not null comment 'MovieLens movie id (not TMDB: map through raw_links)',
    rating decimal(3, 1) not null comment 'stars, 0.5 to 5.0 in 0.5 steps',
    timestamp bigint not null comment 'Unix seconds',
    primary key (line_number)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per record of ratings_small.csv (or the --ratings-file)';

create table if not exists raw_links (
    line_number bigint not null comment 'line in links_small.csv (or links.csv)',
    movieId bigint not null comment 'MovieLens movie id',
    imdbId mediumtext not null comment 'verbatim: IMDb id digits, zero-padded to 7',
    tmdbId bigint null comment 'TMDB movie id; NULL when the file has none',
    primary key (line_number)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per record of links_small.csv (or links.csv)';

create table if not exists raw_rejects (
    file_name varchar(255) not null comment 'the file the record came from',
    line_number bigint not null comment 'first line of the record',
    column_name varchar(255) null comment 'the offending column; NULL when the record as a whole is wrong',
    reason mediumtext not null comment 'why it was set aside',
    raw_text longtext not null comment 'the record, re-encoded as CSV (fields byte for byte; invalid UTF-8 as U+FFFD)',
    primary key (file_name, line_number)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per record the loader could not stage';

create table if not exists raw_files (
    file_name varchar(255) not null comment 'the file, e.g. credits.csv',
    table_name varchar(64) not null comment 'its parent raw table',
    source varchar(1024) not null comment 'where it was read from (a path, or the bundled seed sample)',
    size_bytes bigint not null comment 'file size in bytes',
    records_read bigint not null comment 'CSV records after the header',
    records_loaded bigint not null comment 'records in the parent raw table',
    records_rejected bigint not null comment 'records in raw_rejects; read = loaded + rejected',
    staged_at datetime(6) not null comment 'UTC time the load finished',
    primary key (file_name)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per staged file, with its counts';

-- The tables the models fill (models/<table>.sql, materialized: table): types and keys here,
-- their meaning in the model's header. Each is rebuilt on every run from the view build_<table>.

create table if not exists stg_movies (
    movie_id bigint not null,
    source_line_number bigint not null,
    imdb_id mediumtext null,
    title mediumtext null,
    original_language mediumtext null,
    release_date date null,
    release_year int null,
    popularity_score double null,
    vote_average decimal(4, 2) null,
    vote_count bigint unsigned null,
    budget_usd bigint unsigned null,
    revenue_usd bigint unsigned null,
    runtime_minutes decimal(8, 2) null,
    is_adult boolean not null,
    primary key (movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists stg_movie_genres (
    movie_id bigint not null,
    genre_id bigint not null,
    genre_name mediumtext not null,
    primary key (movie_id, genre_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists stg_links (
    movielens_movie_id bigint not null,
    movie_id bigint null,
    imdb_id mediumtext null,
    primary key (movielens_movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists stg_keywords (
    keyword_id bigint not null,
    keyword mediumtext not null,
    primary key (keyword_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists int_rating_histogram (
    movielens_movie_id bigint not null,
    rating decimal(3, 1) not null,
    rating_count bigint not null,
    primary key (movielens_movie_id, rating)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists int_rated_movies (
    movie_id bigint not null,
    rating_count bigint not null,
    rating_sum decimal(20, 1) not null,
    primary key (movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists movie_rating_percentiles (
    movielens_movie_id bigint not null,
    movie_id bigint null,
    title mediumtext null,
    rating_count bigint not null,
    min_rating decimal(6, 3) not null,
    p25_rating decimal(6, 3) not null,
    median_rating decimal(6, 3) not null,
    p75_rating decimal(6, 3) not null,
    max_rating decimal(6, 3) not null,
    rating_count_rank bigint not null,
    primary key (movielens_movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists keyword_aggregates (
    keyword_id bigint not null,
    keyword mediumtext not null,
    movie_count bigint not null,
    movie_count_rank bigint not null,
    primary key (keyword_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists cast_member_aggregates (
    cast_member_id bigint not null,
    cast_member_name mediumtext not null,
    movie_count bigint not null,
    movie_count_rank bigint not null,
    primary key (cast_member_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists movie_genre_rankings (
    genre_id bigint not null,
    movie_id bigint not null,
    genre_name mediumtext not null,
    title mediumtext null,
    release_decade int null,
    rating_count bigint not null,
    mean_rating decimal(7, 4) not null,
    weighted_rating decimal(7, 4) not null,
    rank_in_genre bigint not null,
    rank_in_genre_decade bigint not null,
    primary key (genre_id, movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;

create table if not exists user_rating_bias (
    user_id bigint not null,
    rating_count bigint not null,
    mean_rating decimal(7, 4) not null,
    mean_offset decimal(7, 4) not null,
    leniency_percentile double not null,
    first_rated_at_unix bigint not null,
    last_rated_at_unix bigint not null,
    primary key (user_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin;
