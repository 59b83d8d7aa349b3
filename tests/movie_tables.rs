//! The movie tables on MariaDB and MySQL 9.7, against values computed independently: by hand for
//! the crafted fixture (tests/fixtures/movies/README.md shows the arithmetic) and by a Rust
//! reference implementation for generated ratings. Plus: re-runs and changed inputs.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

fn migrate_movies(db: &MysqlDb, data: &Path) -> Ran {
    run_ok(
        runner_for(Some(db), None)
            .args(["migrate", "movies", "--movie-data-path"])
            .arg(data),
    )
}

/// A copy of the awkward fixture whose ratings file is replaced by `ratings` (userId, movieId, rating).
fn with_ratings(ratings: &[(u32, u32, f64)]) -> TempDir {
    let dir = copy_of(&movie_fixture("awkward"));
    let mut text = String::from("userId,movieId,rating,timestamp\r\n");
    for (i, (user, movie, rating)) in ratings.iter().enumerate() {
        text.push_str(&format!(
            "{user},{movie},{rating:.1},{}\r\n",
            1_000_000_000 + i
        ));
    }
    std::fs::write(dir.path().join("ratings_small.csv"), text).unwrap();
    dir
}

/// genre_id, movie_id, rating_count, mean, weighted, rank_in_genre, rank_in_genre_decade, decade
type RankingRow = (u64, u64, u64, String, String, u64, u64, Option<i64>);

type PercentileRow = (
    u64,
    Option<u64>,
    Option<String>,
    u64,
    String,
    String,
    String,
    String,
    String,
    u64,
);

fn percentiles(db: &MysqlDb) -> Vec<PercentileRow> {
    db.query(
        "select movielens_movie_id, movie_id, title, rating_count, cast(min_rating as char), \
         cast(p25_rating as char), cast(median_rating as char), cast(p75_rating as char), \
         cast(max_rating as char), rating_count_rank from movie_rating_percentiles order by movielens_movie_id",
    )
}

fn row(
    id: u64,
    tmdb: Option<u64>,
    title: Option<&str>,
    n: u64,
    v: [&str; 5],
    rank: u64,
) -> PercentileRow {
    (
        id,
        tmdb,
        title.map(str::to_owned),
        n,
        v[0].into(),
        v[1].into(),
        v[2].into(),
        v[3].into(),
        v[4].into(),
        rank,
    )
}

#[test]
fn fixture_tables_equal_hand_computed_values() {
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "tables");
        migrate_movies(&db, &movie_fixture("awkward"));

        // Ratings of four, two, one values; a movie without a tmdbId; one missing from metadata;
        // one missing from links. Sorted values and positions p*(n-1) are in the fixture README.
        let expected = vec![
            row(
                1,
                Some(862),
                Some("Toy Story"),
                4,
                ["0.500", "2.750", "3.750", "4.250", "5.000"],
                1,
            ),
            row(
                2,
                Some(100),
                Some("Back\\slash\tTab \u{1F3AC}"),
                2,
                ["2.000", "2.250", "2.500", "2.750", "3.000"],
                2,
            ),
            row(3, Some(200), Some("Second Film"), 1, ["4.500"; 5], 4),
            row(
                4,
                None,
                None,
                2,
                ["1.000", "1.250", "1.500", "1.750", "2.000"],
                2,
            ),
            row(5, Some(999), None, 1, ["3.000"; 5], 4),
            row(6, None, None, 1, ["5.000"; 5], 4),
        ];
        assert_eq!(percentiles(&db), expected, "{kind:?}");
        // Caveats: every movie here has fewer than 10 ratings; why a title is missing.
        let caveats: Vec<(u64, bool, Option<String>)> = db.query(
            "select movielens_movie_id, is_low_sample, title_missing_reason \
             from movie_rating_percentiles order by movielens_movie_id",
        );
        let reason = |r: &str| Some(r.to_owned());
        let want: Vec<(u64, bool, Option<String>)> = vec![
            (1, true, None),
            (2, true, None),
            (3, true, None),
            (4, true, reason("no TMDB id in the links file")),
            (5, true, reason("TMDB id not in the metadata file")),
            (6, true, reason("movieId not in the links file")),
        ];
        assert_eq!(caveats, want, "{kind:?}");

        // Duplicate keyword records count once; only rated movies (862, 100, 200, 999) count.
        let keywords: Vec<(u64, String, u64, u64)> =
            db.query("select keyword_id, keyword, movie_count, movie_count_rank from keyword_aggregates order by keyword_id");
        let escapes = "q's \"dq\" \\ \t \n \r A \u{e9} \u{1F3AC} \u{7}\u{8}\u{c}\u{b} \0 A";
        let want: Vec<(u64, String, u64, u64)> = vec![
            (1, "\u{a0}nightgown".into(), 1, 2),
            (2, "für elise".into(), 1, 2),
            (3, escapes.into(), 1, 2),
            (4, "toy".into(), 1, 2),
            (931, "jealousy".into(), 2, 1),
            (15101, "based on children's book".into(), 1, 2),
        ];
        assert_eq!(keywords, want, "{kind:?}");

        // The person's id (not cast_id or credit_id); two roles in one film count once.
        let cast: Vec<(u64, String, u64, u64)> = db.query(
            "select cast_member_id, cast_member_name, movie_count, movie_count_rank from cast_member_aggregates \
             order by cast_member_id",
        );
        let want: Vec<(u64, String, u64, u64)> = vec![
            (31, "Tom Hanks".into(), 2, 1),
            (500, "Ana \u{a0}Non-breaking".into(), 1, 2),
            (12898, "Tim Allen".into(), 1, 2),
        ];
        assert_eq!(cast, want, "{kind:?}");

        // Global mean C = 25.5 / 8 = 3.1875; weighted = (sum + 10 C) / (n + 10).
        let rankings: Vec<RankingRow> = db.query(
            "select genre_id, movie_id, rating_count, cast(mean_rating as char), cast(weighted_rating as char), \
             rank_in_genre, rank_in_genre_decade, release_decade from movie_genre_rankings order by genre_id, movie_id",
        );
        let want: Vec<RankingRow> = vec![
            (
                16,
                862,
                4,
                "3.2500".into(),
                "3.2054".into(),
                1,
                1,
                Some(1990),
            ),
            (
                18,
                100,
                2,
                "2.5000".into(),
                "3.0729".into(),
                2,
                1,
                Some(2000),
            ),
            (
                18,
                200,
                1,
                "4.5000".into(),
                "3.3068".into(),
                1,
                1,
                Some(2010),
            ),
            (
                35,
                200,
                1,
                "4.5000".into(),
                "3.3068".into(),
                1,
                1,
                Some(2010),
            ),
            (
                35,
                862,
                4,
                "3.2500".into(),
                "3.2054".into(),
                2,
                1,
                Some(1990),
            ),
        ];
        assert_eq!(rankings, want, "{kind:?}");

        // Leave-one-out offsets (tests/fixtures/movies/README.md): each rating against the other
        // users' mean of the movie; m3, m5 and m6 have one rating each and are not compared.
        let bias: Vec<BiasRow> = db.query(&format!("{BIAS_COLUMNS} order by user_id"));
        let t = 1_260_759_144u64;
        let want: Vec<BiasRow> = vec![
            bias_row(
                1,
                4,
                "2.8750",
                3,
                "-0.3333",
                "-0.0769",
                1.0 / 3.0,
                (t, t + 7),
            ),
            bias_row(
                2,
                3,
                "3.1667",
                2,
                "0.6667",
                "0.1111",
                2.0 / 3.0,
                (t + 1, t + 9),
            ),
            bias_row(3, 2, "3.5000", 2, "1.6667", "0.2778", 1.0, (t + 2, t + 8)),
            bias_row(
                4,
                2,
                "2.7500",
                1,
                "-3.6667",
                "-0.3333",
                0.0,
                (t + 3, t + 10),
            ),
        ];
        assert_bias_rows(kind, &bias, &want);
    }
}

/// user_id, rating_count, mean_rating, compared_count, mean_offset, shrunk_offset,
/// leniency_percentile, is_low_sample, first_rated_at_unix, last_rated_at_unix
type BiasRow = (
    u64,
    u64,
    String,
    u64,
    Option<String>,
    String,
    f64,
    bool,
    u64,
    u64,
);

const BIAS_COLUMNS: &str = "select user_id, rating_count, cast(mean_rating as char), compared_count, \
     cast(mean_offset as char), cast(shrunk_offset as char), leniency_percentile, is_low_sample, \
     first_rated_at_unix, last_rated_at_unix from user_rating_bias";

#[allow(clippy::too_many_arguments)]
fn bias_row(
    user: u64,
    ratings: u64,
    mean: &str,
    compared: u64,
    offset: &str,
    shrunk: &str,
    leniency: f64,
    (first, last): (u64, u64),
) -> BiasRow {
    (
        user,
        ratings,
        mean.into(),
        compared,
        Some(offset.into()),
        shrunk.into(),
        leniency,
        compared < 10,
        first,
        last,
    )
}

/// Equal rows, the percentile within float noise.
fn assert_bias_rows(kind: MysqlKind, got: &[BiasRow], want: &[BiasRow]) {
    assert_eq!(got.len(), want.len(), "{kind:?}");
    for (got, want) in got.iter().zip(want) {
        let mut exact = got.clone();
        exact.6 = want.6;
        assert_eq!(&exact, want, "{kind:?}");
        assert!(
            (got.6 - want.6).abs() < 1e-9,
            "{kind:?}: {got:?} vs {want:?}"
        );
    }
}

/// user_rating_bias against a reference computed here: leave-one-out offsets, the shrinkage by
/// (compared + 10), ties in the percentile. Users who rate one to forty of 150 movies, some
/// movies with one rating, and a user whose only movie nobody else rated (nothing compared:
/// mean_offset NULL, shrunk_offset 0), tied with two users who agree.
#[test]
fn user_rating_bias_equals_a_reference_implementation_on_generated_ratings() {
    let mut rng = Rng::new(19);
    let mut ratings: Vec<(u32, u32, f64)> = Vec::new();
    for user in 1..=60u32 {
        let wanted = 1 + rng.below(40);
        let mut movies: Vec<u32> = (0..wanted).map(|_| 1 + rng.below(150) as u32).collect();
        movies.sort_unstable();
        movies.dedup();
        for movie in movies {
            // generous and harsh users: a user-specific lean on top of noise
            let lean = (user % 5) as u64;
            let stars = (1 + rng.below(7) + lean).min(10);
            ratings.push((user, movie, stars as f64 / 2.0));
        }
    }
    // three users at 0: nothing compared, and two who agree on a movie only they rated (a tie)
    ratings.extend([(61, 999, 4.5), (62, 1000, 4.0), (63, 1000, 4.0)]);
    let data = with_ratings(&ratings);

    let mut per_movie: BTreeMap<u32, (f64, f64)> = BTreeMap::new();
    for (_, movie, rating) in &ratings {
        let e = per_movie.entry(*movie).or_default();
        e.0 += rating;
        e.1 += 1.0;
    }
    // user -> (ratings, sum of ratings, offsets)
    let mut per_user: BTreeMap<u32, (u64, f64, Vec<f64>)> = BTreeMap::new();
    for (user, movie, rating) in &ratings {
        let (sum, n) = per_movie[movie];
        let e = per_user.entry(*user).or_default();
        e.0 += 1;
        e.1 += rating;
        if n > 1.0 {
            e.2.push(rating - (sum - rating) / (n - 1.0));
        }
    }

    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "bias");
        migrate_movies(&db, data.path());
        let got: Vec<BiasRow> = db.query(&format!("{BIAS_COLUMNS} order by user_id"));
        assert_eq!(got.len(), per_user.len(), "{kind:?}");
        let close = |text: &str, want: f64| close(text, want, 0.000_051);
        for (row, (user, (count, sum, offsets))) in got.iter().zip(&per_user) {
            let compared = offsets.len() as u64;
            let total: f64 = offsets.iter().sum();
            assert_eq!(
                (row.0, row.1, row.3),
                (u64::from(*user), *count, compared),
                "{kind:?}"
            );
            assert!(close(&row.2, sum / *count as f64), "{kind:?}: {row:?}");
            match &row.4 {
                None => assert_eq!(compared, 0, "{kind:?}: {row:?}"),
                Some(mean) => assert!(close(mean, total / compared as f64), "{kind:?}: {row:?}"),
            }
            assert!(
                close(&row.5, total / (compared as f64 + 10.0)),
                "{kind:?}: {row:?}"
            );
            assert_eq!(row.7, compared < 10, "{kind:?}: {row:?}");
        }
        let nobody_else = got.iter().find(|r| r.0 == 61).unwrap();
        assert_eq!(
            (nobody_else.3, &nobody_else.4, nobody_else.5.as_str()),
            (0, &None, "0.0000")
        );
        // percent_rank of the stored offsets
        let shrunk: Vec<f64> = got.iter().map(|r| r.5.parse().unwrap()).collect();
        for (row, value) in got.iter().zip(&shrunk) {
            let want = percent_rank(&shrunk, *value);
            assert!(
                (row.6 - want).abs() < 1e-9,
                "{kind:?}: {row:?}, want {want}"
            );
        }
        let tied: Vec<f64> = got.iter().filter(|r| r.0 > 60).map(|r| r.6).collect();
        assert_eq!(tied.len(), 3, "{kind:?}");
        assert!(tied.iter().all(|v| *v == tied[0]), "{kind:?}: {tied:?}");
    }
}

/// Continuous percentile with linear interpolation at position p*(n-1), as pandas computes it.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let position = p * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let fraction = position - low as f64;
    if fraction == 0.0 {
        sorted[low]
    } else {
        sorted[low] * (1.0 - fraction) + sorted[low + 1] * fraction
    }
}

#[test]
fn percentiles_equal_a_reference_implementation_on_generated_ratings() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut ratings = Vec::new();
    for movie in 1..=400u32 {
        // Counts 1..=9 often, sometimes up to 60: every fraction 0, .25, .5, .75 occurs.
        let n = if rng.below(5) == 0 {
            1 + rng.below(60)
        } else {
            1 + rng.below(9)
        };
        for user in 0..n {
            ratings.push((user as u32 + 1, movie, (1 + rng.below(10)) as f64 / 2.0));
        }
    }
    let data = with_ratings(&ratings);
    let mut per_movie: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for (_, movie, rating) in &ratings {
        per_movie
            .entry(u64::from(*movie))
            .or_default()
            .push(*rating);
    }
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "pctl");
        migrate_movies(&db, data.path());
        assert_equal_to_reference(kind, &percentiles(&db), &mut per_movie);
    }
}

/// Each row of `got` (ordered by MovieLens id) against the percentiles computed here from
/// `per_movie` (every movie's ratings): the same movies, counts and five values.
fn assert_equal_to_reference(
    kind: MysqlKind,
    got: &[PercentileRow],
    per_movie: &mut BTreeMap<u64, Vec<f64>>,
) {
    assert_eq!(got.len(), per_movie.len(), "{kind:?}");
    for (row, (movie, values)) in got.iter().zip(per_movie.iter_mut()) {
        values.sort_by(f64::total_cmp);
        let want: Vec<String> = [
            values[0],
            percentile(values, 0.25),
            percentile(values, 0.5),
            percentile(values, 0.75),
            values[values.len() - 1],
        ]
        .iter()
        .map(|v| format!("{v:.3}"))
        .collect();
        assert_eq!(row.0, *movie, "{kind:?}");
        assert_eq!(row.3, values.len() as u64, "{kind:?} movie {movie}");
        assert_eq!(
            [&row.4, &row.5, &row.6, &row.7, &row.8],
            [&want[0], &want[1], &want[2], &want[3], &want[4]],
            "{kind:?} movie {movie}: {values:?}"
        );
    }
}

/// The numbers on the real `ratings_small.csv` and `links_small.csv` (byte-exact copies,
/// tests/fixtures/movies/README.md): 9,066 movies, The Shawshank Redemption (movieId 318, TMDB 278)
/// with 311 ratings, min 1.0, p25 4.0, median 5.0, p75 5.0, max 5.0; the 13 movieIds whose links
/// row has no tmdbId keep a NULL `movie_id`; and every movie's values equal the reference
/// computed here from the file.
#[test]
fn real_ratings_give_9066_movies_and_the_shawshank_percentiles() {
    let data = movie_fixture("real_ratings");
    let text = std::fs::read_to_string(data.join("ratings_small.csv")).unwrap();
    let mut per_movie: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        per_movie
            .entry(fields[1].parse().unwrap())
            .or_default()
            .push(fields[2].parse().unwrap());
    }
    assert_eq!(per_movie.len(), 9_066);
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "real");
        let r = migrate_movies(&db, &data);
        assert!(
            r.stderr
                .contains("ratings_small.csv: read 100004, loaded 100004, rejected 0"),
            "{kind:?}: {r}"
        );
        let got = percentiles(&db);
        let shawshank = got.iter().find(|row| row.0 == 318).expect("movieId 318");
        assert_eq!(
            (
                shawshank.1,
                shawshank.2.as_deref(),
                shawshank.3,
                [
                    &shawshank.4,
                    &shawshank.5,
                    &shawshank.6,
                    &shawshank.7,
                    &shawshank.8
                ]
            ),
            (
                Some(278),
                Some("The Shawshank Redemption"),
                311,
                [
                    &"1.000".to_owned(),
                    &"4.000".to_owned(),
                    &"5.000".to_owned(),
                    &"5.000".to_owned(),
                    &"5.000".to_owned()
                ]
            ),
            "{kind:?}"
        );
        assert_eq!(
            got.iter().filter(|row| row.1.is_none()).count(),
            13,
            "{kind:?}"
        );
        assert_equal_to_reference(kind, &got, &mut per_movie);
    }
}

#[test]
fn changed_ratings_update_the_tables_and_unchanged_input_leaves_them_equal() {
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "changed");
        let data = with_ratings(&[(1, 1, 4.0), (2, 1, 2.0)]);
        migrate_movies(&db, data.path());
        let first = percentiles(&db);
        assert_eq!(first[0].6, "3.000");
        migrate_movies(&db, data.path());
        assert_eq!(
            percentiles(&db),
            first,
            "{kind:?}: an unchanged re-run changed the table"
        );

        let changed = with_ratings(&[(1, 1, 4.0), (2, 1, 2.0), (3, 1, 5.0), (1, 3, 1.5)]);
        let r = migrate_movies(&db, changed.path());
        assert!(
            r.stderr.contains("built movie_rating_percentiles: 2 rows"),
            "{r}"
        );
        let now = percentiles(&db);
        assert_eq!(now.len(), 2);
        assert_eq!((now[0].3, now[0].6.as_str()), (3, "4.000"));
        let leftovers: Vec<String> = db.query(&format!(
            "select table_name from information_schema.tables where table_schema = '{}' \
             and (table_name like '%\\_\\_new' or table_name like '%\\_\\_old')",
            db.name
        ));
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

const PUBLISHED: [&str; 9] = [
    "movie_rating_percentiles",
    "keyword_aggregates",
    "cast_member_aggregates",
    "movie_genre_rankings",
    "user_rating_bias",
    "movie_hidden_gems",
    "movie_financials",
    "director_consistency",
    "collection_decay",
];

/// Each published table carries the run that built it: the run recorded in runner_runs, the same
/// in every table, and the next run's after a re-run; a movie with 10 ratings is not low-sample.
#[test]
fn published_tables_carry_the_run_that_built_them() {
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "runid");
        let ten: Vec<(u32, u32, f64)> =
            (1..=10).map(|u| (u, 1, 3.0)).chain([(1, 2, 4.0)]).collect();
        let data = with_ratings(&ten);
        let mut seen = Vec::new();
        for _ in 0..2 {
            migrate_movies(&db, data.path());
            let run: Vec<i64> = db.query(
                "select run_id from runner_runs where command = 'migrate' and outcome = 'succeeded' \
                 order by run_id desc limit 1",
            );
            for table in PUBLISHED {
                let stamped: Vec<Option<i64>> =
                    db.query(&format!("select distinct run_id from {table}"));
                assert_eq!(stamped, [Some(run[0])], "{kind:?} {table}");
            }
            seen.push(run[0]);
        }
        assert!(seen[1] > seen[0], "{kind:?}: {seen:?}");
        let low: Vec<(u64, bool)> = db.query(
            "select movielens_movie_id, is_low_sample from movie_rating_percentiles order by 1",
        );
        assert_eq!(low, [(1, false), (2, true)], "{kind:?}");
        // movieId 1 is TMDB 862 (two genres), 2 is TMDB 100
        let low: Vec<(u64, bool)> = db
            .query("select distinct movie_id, is_low_sample from movie_genre_rankings order by 1");
        assert_eq!(low, [(100, true), (862, false)], "{kind:?}");
    }
}

/// A table model for the tests: `table` built from `select`, its columns described.
fn table_model(table: &str, sources: &str, columns: &[&str], select: &str) -> String {
    let columns: Vec<String> = columns
        .iter()
        .map(|c| format!("--   {c}  a column"))
        .collect();
    format!(
        "-- {table}: a test table\n--\n-- materialized: table\n-- grain: one row per test\n\
         -- sources: {sources}\n--\n-- columns:\n{}\n\n{select}\n",
        columns.join("\n")
    )
}

/// The build order comes from the staged views' definitions (`int_rated_movies` reads
/// `int_rating_histogram`, built in the same run: the fixture tests above depend on that order);
/// a model may read a published table (it is built after it, and both are published together).
/// Models that read each other are refused before anything runs; a build that fails publishes
/// nothing. Either way no copy or staged view is left behind.
#[test]
fn builds_follow_what_models_read_and_a_failure_publishes_nothing() {
    let top_keywords = table_model(
        "top_keywords",
        "keyword_aggregates",
        &["keyword_id"],
        "select keyword_aggregates.keyword_id from keyword_aggregates \
         where keyword_aggregates.movie_count_rank <= 2",
    );
    let int_a = table_model("int_a", "int_b", &["id"], "select int_b.id from int_b");
    let int_b = table_model("int_b", "int_a", &["id"], "select int_a.id from int_a");
    let int_bad = table_model(
        "int_bad",
        "stg_links",
        &["id"],
        "select null as id from stg_links",
    );
    for kind in MysqlKind::ALL {
        let migrate = |db: &MysqlDb, extra: &[(&str, &str)]| {
            let dir = migrations_with("movies", extra);
            run(runner_for(Some(db), None)
                .args(["migrate", "movies", "--migrations-dir"])
                .arg(dir.path())
                .arg("--movie-data-path")
                .arg(movie_fixture("awkward")))
        };
        let db = MysqlDb::new(kind, "order");
        let ok = migrate(
            &db,
            &[
                (
                    "V900__top_keywords.sql",
                    "create table if not exists top_keywords (keyword_id bigint not null primary key);\n",
                ),
                ("models/top_keywords.sql", &top_keywords),
            ],
        );
        assert_eq!(ok.code, 0, "{kind:?}: {ok}");
        let (top, ranked): (Vec<u64>, Vec<u64>) = (
            db.query("select count(*) from top_keywords"),
            db.query("select count(*) from keyword_aggregates where movie_count_rank <= 2"),
        );
        assert!(
            ranked[0] > 0 && top == ranked,
            "{kind:?}: {top:?} {ranked:?}"
        );

        for (extra, message) in [
            (
                vec![
                    (
                        "V900__ab.sql",
                        "create table if not exists int_a (id bigint not null primary key);\n\
                         create table if not exists int_b (id bigint not null primary key);\n",
                    ),
                    ("models/int_a.sql", int_a.as_str()),
                    ("models/int_b.sql", int_b.as_str()),
                ],
                "models int_a, int_b read each other",
            ),
            (
                vec![
                    (
                        "V900__bad.sql",
                        "create table if not exists int_bad (id bigint not null primary key);\n",
                    ),
                    ("models/int_bad.sql", int_bad.as_str()),
                ],
                "building int_bad from its model",
            ),
        ] {
            let db = MysqlDb::new(kind, "order");
            let r = migrate(&db, &extra);
            assert_eq!(r.code, 1, "{kind:?}: {r}");
            assert!(r.stderr.contains(message), "{kind:?}: {r}");
            // (models that read each other are refused before the database is even migrated)
            let migrated: Vec<u64> = db.query(
                "select count(*) from information_schema.tables where table_schema = database() \
                 and table_name = 'keyword_aggregates'",
            );
            if migrated[0] > 0 {
                let published: Vec<u64> = db.query(
                    "select (select count(*) from keyword_aggregates) + (select count(*) from stg_links) \
                     + (select count(*) from int_rating_histogram) + (select count(*) from raw_ratings)",
                );
                assert_eq!(published, [0], "{kind:?}: something was published: {r}");
            }
            let left: Vec<String> = db.query(
                "select table_name from information_schema.tables where table_schema = database() \
                 and (table_name like '%\\_\\_new' or table_name like '%\\_\\_old' \
                 or table_name like '%\\_\\_staged')",
            );
            assert!(left.is_empty(), "{kind:?}: copies left behind: {left:?}");
        }
    }
}

/// A rebuilt table without a primary key is filled too (the copy's insert has no `order by` then),
/// and a re-run replaces its rows instead of adding to them.
#[test]
fn a_table_without_a_primary_key_is_rebuilt_whole() {
    let keyless = "create table if not exists keyword_names (keyword_id bigint not null, \
        keyword mediumtext not null);\n";
    let model = table_model(
        "keyword_names",
        "stg_keywords",
        &["keyword_id", "keyword"],
        "select stg_keywords.keyword_id, stg_keywords.keyword from stg_keywords",
    );
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "keyless");
        let dir = migrations_with(
            "movies",
            &[
                ("V900__keyless.sql", keyless),
                ("models/keyword_names.sql", &model),
            ],
        );
        for _ in 0..2 {
            let r = run_ok(
                runner_for(Some(&db), None)
                    .args(["migrate", "movies", "--migrations-dir"])
                    .arg(dir.path())
                    .arg("--movie-data-path")
                    .arg(movie_fixture("awkward")),
            );
            assert!(r.stderr.contains("built keyword_names: "), "{kind:?}: {r}");
            // Same rows as the build view: as many, none doubled (keyword_id is stg_keywords' key),
            // each matching one of stg_keywords.
            let counts: Vec<(u64, u64, u64, u64)> = db.query(
                "select (select count(*) from keyword_names), \
                 (select count(distinct keyword_id) from keyword_names), \
                 (select count(*) from stg_keywords), \
                 (select count(*) from keyword_names inner join stg_keywords \
                  on stg_keywords.keyword_id = keyword_names.keyword_id \
                  and stg_keywords.keyword = keyword_names.keyword)",
            );
            let (names, distinct_names, keywords, matching) = counts[0];
            assert!(keywords > 0, "{kind:?}: the fixture has keywords");
            assert_eq!(
                (names, distinct_names, matching),
                (keywords, keywords, keywords),
                "{kind:?}: {r}"
            );
        }
    }
}

/// The build order is read from the definitions of the staged views, which the runner's own user
/// creates in each run: a user without SHOW VIEW reads them all the same (on both servers, a
/// view's definer sees its definition), so the runner needs no SHOW VIEW.
#[test]
fn a_user_without_show_view_builds_in_order() {
    use mysql::prelude::Queryable;
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "showview");
        migrate_movies(&db, &movie_fixture("awkward"));
        let before: Vec<u64> = db.query("select count(*) from keyword_aggregates");
        let user = unique_name("nosv");
        let url = mysql_user(kind, &db, &user, "No-Show-View-1");
        mysql_admin(kind)
            .query_drop(format!(
                "revoke show view on `{}`.* from '{user}'@'%'",
                db.name
            ))
            .unwrap();
        let r = run(runner()
            .env("MOVIES_DATABASE_URL", &url)
            .args(["migrate", "movies", "--movie-data-path"])
            .arg(movie_fixture("awkward")));
        assert_eq!(r.code, 0, "{kind:?}: {r}");
        // the nine published tables: percentiles, keywords, cast, genre rankings, user bias,
        // hidden gems, financials, directors, collections
        assert!(r.stderr.contains("9 tables built"), "{kind:?}: {r}");
        let after: Vec<u64> = db.query("select count(*) from keyword_aggregates");
        assert_eq!(after, before, "{kind:?}");
        mysql_admin(kind)
            .query_drop(format!("drop user if exists '{user}'@'%'"))
            .unwrap();
    }
}
