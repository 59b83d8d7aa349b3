-- raw_ tables: what the loader wrote, verbatim
--
-- Grain: one row per CSV record in each parent table (raw_movies_metadata, raw_credits,
--        raw_keyword_sets, raw_ratings, raw_links); one row per list element in each child table
--        (raw_movie_genres, raw_movie_production_companies, raw_movie_production_countries,
--        raw_movie_spoken_languages, raw_credits_cast, raw_credits_crew, raw_keywords);
--        one row per rejected record in raw_rejects; one row per staged file in raw_files.
-- Purpose: the landing zone of `runner stage movies`. The loader checks each record against the
--          contract in src/contract.rs, explodes the Python-literal list columns into child
--          tables, and sets aside (raw_rejects) what it cannot load. Each load fills copies of these
--          tables and swaps all of them in with one RENAME TABLE, so readers see one whole load.
--          Only the stg_ layer reads these tables.
-- Sources: movies_metadata.csv, credits.csv, keywords.csv, ratings_small.csv (or --ratings-file),
--          links_small.csv (or links.csv), all from Kaggle's "The Movies Dataset" (CC0).
--
-- Common columns
--   line_number     the record's first line in its file (line 1 is the header); primary key
--   movie_id        (child tables) the parent record's `id`: a TMDB movie id
--   position        (child tables) 0-based index of the element in its list
--   <list>_count    (parent tables) number of elements in the list column, = its child rows
-- Values are the file's text, byte for byte; ids are checked to be whole numbers, `rating` a
-- decimal, `belongs_to_collection` a Python dict (stored as JSON). Text columns are not cast:
-- the stg_ layer does that.
--
-- Idempotent (MySQL commits DDL implicitly): `if not exists` throughout.

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
