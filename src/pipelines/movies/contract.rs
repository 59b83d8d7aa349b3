//! The declared contract between the Kaggle movie files and the `raw_` tables: which file goes to
//! which table, what each CSV column holds, and which Python-literal list columns become child
//! tables. The loader in `stage` is generic; this file is the only place that knows the files.
//!
//! Every parent table has `line_number` (the record's first line in its file, the primary key)
//! followed by its columns in the order declared here, then one `<list>_count` column per list.
//! Every child table has `line_number`, `movie_id` (the parent's TMDB id), `position` (0-based
//! index in the list) and the element fields declared here.

/// What a CSV column holds, and how the loader checks it. A value that fails its check rejects
/// the record (to `raw_rejects`, with the line, the column and the reason); the server never sees
/// a value its column would truncate or refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// An id: a whole number from 1 to 9,223,372,036,854,775,807 (`bigint`), required.
    Id,
    /// An id or empty (stored as NULL).
    OptionalId,
    /// A rating in stars: 0.5 to 5.0 in steps of 0.5, one decimal at most (`decimal(3, 1)`).
    Stars,
    /// A time in Unix seconds, from 1970 to the end of 2099, required.
    UnixSeconds,
    /// Text, stored verbatim (empty stays empty); at most 16 MiB (`mediumtext`).
    Text,
    /// A Python literal (a dict), stored as JSON; empty is NULL.
    LiteralJson,
}

/// The largest text a `mediumtext` column holds, in bytes: a longer field is rejected.
pub const MAX_TEXT_BYTES: usize = 16_777_215;

/// The latest Unix time accepted: 2100-01-01 00:00:00 UTC (a time centuries ahead is an error in
/// the export, not a rating).
pub const MAX_UNIX_SECONDS: i64 = 4_102_444_800;

/// One CSV column and the raw column it lands in.
#[derive(Debug)]
pub struct Column {
    pub header: &'static str,
    pub column: &'static str,
    pub kind: ColumnKind,
}

/// The type of one field of a list element (a Python dict).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Int,
    Str,
    /// A string or `None`.
    OptionalStr,
}

#[derive(Debug)]
pub struct Field {
    pub key: &'static str,
    pub column: &'static str,
    pub kind: FieldKind,
}

/// A column holding a Python list of dicts, exploded into a child table. Every element must have
/// exactly the declared keys; anything else rejects the whole record. An empty field is an
/// empty list.
#[derive(Debug)]
pub struct List {
    pub header: &'static str,
    pub table: &'static str,
    pub fields: &'static [Field],
}

/// One input file.
#[derive(Debug)]
pub struct FileSpec {
    /// The files that can provide it, in order of preference.
    pub candidates: &'static [&'static str],
    pub table: &'static str,
    /// The header whose value child rows carry as `movie_id`.
    pub parent_key: &'static str,
    pub columns: &'static [Column],
    pub lists: &'static [List],
    /// The columns no two records may share (the file's natural key), when there is one the loader
    /// enforces: a later record with the same values is rejected, naming the first one's line.
    pub unique: &'static [&'static str],
}

impl FileSpec {
    /// Every raw table this file writes: the parent, then its children.
    pub fn tables(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.table).chain(self.lists.iter().map(|l| l.table))
    }

    /// The declared headers, in declaration order (columns, then lists).
    pub fn headers(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.columns
            .iter()
            .map(|c| c.header)
            .chain(self.lists.iter().map(|l| l.header))
    }
}

/// Where rejected records go: one row per record set aside, with the reason.
pub const REJECTS_TABLE: &str = "raw_rejects";
/// One row per staged file: where it came from and how many records were read, loaded, rejected.
pub const FILES_TABLE: &str = "raw_files";

const fn col(header: &'static str, column: &'static str, kind: ColumnKind) -> Column {
    Column {
        header,
        column,
        kind,
    }
}

const fn field(key: &'static str, column: &'static str, kind: FieldKind) -> Field {
    Field { key, column, kind }
}

use ColumnKind::*;
use FieldKind::*;

const ID_NAME: &[Field] = &[field("id", "id", Int), field("name", "name", Str)];

pub const MOVIES_METADATA: FileSpec = FileSpec {
    candidates: &["movies_metadata.csv"],
    table: "raw_movies_metadata",
    parent_key: "id",
    columns: &[
        col("adult", "adult", Text),
        col(
            "belongs_to_collection",
            "belongs_to_collection",
            LiteralJson,
        ),
        col("budget", "budget", Text),
        col("homepage", "homepage", Text),
        col("id", "id", Id),
        col("imdb_id", "imdb_id", Text),
        col("original_language", "original_language", Text),
        col("original_title", "original_title", Text),
        col("overview", "overview", Text),
        col("popularity", "popularity", Text),
        col("poster_path", "poster_path", Text),
        col("release_date", "release_date", Text),
        col("revenue", "revenue", Text),
        col("runtime", "runtime", Text),
        col("status", "status", Text),
        col("tagline", "tagline", Text),
        col("title", "title", Text),
        col("video", "video", Text),
        col("vote_average", "vote_average", Text),
        col("vote_count", "vote_count", Text),
    ],
    lists: &[
        List {
            header: "genres",
            table: "raw_movie_genres",
            fields: ID_NAME,
        },
        List {
            header: "production_companies",
            table: "raw_movie_production_companies",
            fields: ID_NAME,
        },
        List {
            header: "production_countries",
            table: "raw_movie_production_countries",
            fields: &[
                field("iso_3166_1", "iso_3166_1", Str),
                field("name", "name", Str),
            ],
        },
        List {
            header: "spoken_languages",
            table: "raw_movie_spoken_languages",
            fields: &[
                field("iso_639_1", "iso_639_1", Str),
                field("name", "name", Str),
            ],
        },
    ],
    // id repeats are kept and resolved by the stg_ models (first record wins), counted by the
    // check staging_duplicates
    unique: &[],
};

pub const CREDITS: FileSpec = FileSpec {
    candidates: &["credits.csv"],
    table: "raw_credits",
    parent_key: "id",
    columns: &[col("id", "id", Id)],
    lists: &[
        List {
            header: "cast",
            table: "raw_credits_cast",
            fields: &[
                field("cast_id", "cast_id", Int),
                field("character", "character_name", Str),
                field("credit_id", "credit_id", Str),
                field("gender", "gender", Int),
                field("id", "id", Int),
                field("name", "name", Str),
                field("order", "cast_order", Int),
                field("profile_path", "profile_path", OptionalStr),
            ],
        },
        List {
            header: "crew",
            table: "raw_credits_crew",
            fields: &[
                field("credit_id", "credit_id", Str),
                field("department", "department", Str),
                field("gender", "gender", Int),
                field("id", "id", Int),
                field("job", "job", Str),
                field("name", "name", Str),
                field("profile_path", "profile_path", OptionalStr),
            ],
        },
    ],
    // id repeats are kept and resolved by the stg_ models (first record wins), counted by the
    // check staging_duplicates
    unique: &[],
};

pub const KEYWORDS: FileSpec = FileSpec {
    candidates: &["keywords.csv"],
    table: "raw_keyword_sets",
    parent_key: "id",
    columns: &[col("id", "id", Id)],
    lists: &[List {
        header: "keywords",
        table: "raw_keywords",
        fields: ID_NAME,
    }],
    // id repeats are kept and resolved by the stg_ models (first record wins), counted by the
    // check staging_duplicates
    unique: &[],
};

pub const RATINGS: FileSpec = FileSpec {
    candidates: &["ratings_small.csv"],
    table: "raw_ratings",
    parent_key: "movieId",
    columns: &[
        col("userId", "userId", Id),
        col("movieId", "movieId", Id),
        col("rating", "rating", Stars),
        col("timestamp", "timestamp", UnixSeconds),
    ],
    lists: &[],
    // One rating per user and movie: a second one is rejected (the first is kept).
    unique: &["userId", "movieId"],
};

pub const LINKS: FileSpec = FileSpec {
    candidates: &["links_small.csv", "links.csv"],
    table: "raw_links",
    parent_key: "movieId",
    columns: &[
        col("movieId", "movieId", Id),
        col("imdbId", "imdbId", Text),
        col("tmdbId", "tmdbId", OptionalId),
    ],
    lists: &[],
    // movieId repeats are kept and resolved by stg_links (the first record wins), counted by the
    // check staging_duplicates
    unique: &[],
};

/// Every movie file, in staging order.
pub const MOVIE_FILES: [&FileSpec; 5] = [&MOVIES_METADATA, &CREDITS, &KEYWORDS, &RATINGS, &LINKS];

/// Every raw table the loader writes: each file's tables, then raw_rejects and raw_files.
pub fn raw_tables() -> Vec<String> {
    let mut tables: Vec<String> = MOVIE_FILES
        .iter()
        .flat_map(|spec| spec.tables())
        .map(str::to_owned)
        .collect();
    tables.extend([REJECTS_TABLE.to_owned(), FILES_TABLE.to_owned()]);
    tables
}
