//! The extra movie tables (movie_hidden_gems, movie_financials, director_consistency,
//! collection_decay) on MariaDB and MySQL 9.7, against a reference computed here in Rust from the
//! files this test writes: a generated but complete data folder with every edge case the tables
//! state (a movie with one rating, unrated movies, a rated movie missing from the metadata, zero
//! and suspect budgets and revenues, a film without a year or a vote count, a director with one
//! film, co-directors, an assistant director who must not count, a repeated credits record, a
//! collection of one and a sequel nobody rated).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

use common::*;

struct Movie {
    id: u64,
    year: Option<u32>,
    budget: u64,
    revenue: u64,
    votes: Option<u64>,
    directors: Vec<u64>,
    collection: Option<u64>,
}

/// The data written: movies (TMDB ids), ratings (user, TMDB id, stars) already mapped through
/// links, and the directors' names.
struct Synthetic {
    dir: TempDir,
    movies: Vec<Movie>,
    ratings: Vec<(u64, u64, f64)>,
}

const MOVIES: u64 = 150;
/// Well rated, but its metadata record has no title.
const UNTITLED: u64 = 10_010;
/// Rated and directed, but not in the metadata file.
const NOT_IN_METADATA: u64 = 99_999;

/// The title written for a TMDB id; None when the metadata has none.
fn title_of(id: u64) -> Option<String> {
    (id != UNTITLED && id != NOT_IN_METADATA).then(|| format!("Film {id}"))
}

fn director_name(person: u64) -> String {
    format!("Director {person}")
}

fn synthetic() -> Synthetic {
    let mut rng = Rng::new(190);
    let mut movies = Vec::new();
    for n in 1..=MOVIES {
        let amount = |rng: &mut Rng| match rng.below(20) {
            0..=5 => 0,                           // unknown
            6 => 1 + rng.below(999),              // a unit slip
            _ => 100_000 + rng.below(90_000_000), // dollars
        };
        let directors = match rng.below(10) {
            0 => vec![],
            1 => vec![1 + rng.below(12), 13 + rng.below(12)],
            _ => vec![1 + rng.below(25)],
        };
        movies.push(Movie {
            id: 10_000 + n,
            year: (!rng.chance(5)).then(|| 1990 + rng.below(6) as u32),
            budget: amount(&mut rng),
            revenue: amount(&mut rng),
            votes: (!rng.chance(10)).then(|| rng.below(5000)),
            directors,
            collection: None,
        });
    }
    // collections: four films, two, one alone, and one whose second film nobody rated (the last
    // ten movies are unrated); release years repeat, so ties go by movie id
    for (collection, members) in [
        (1, &[1usize, 2, 3, 4][..]),
        (2, &[5, 6]),
        (3, &[7]),
        (4, &[8, 145]),
    ] {
        for n in members {
            movies[n - 1].collection = Some(collection);
        }
    }
    // person 26 directs a film in the metadata and NOT_IN_METADATA; person 27 one film only,
    // the movie with one rating
    movies[0].directors = vec![26];
    movies[2].directors = vec![27];
    // amounts at the $1,000 boundary: a budget of exactly 1,000 with a suspect revenue of 999,
    // and a suspect budget of 999 with a real revenue
    (movies[10].budget, movies[10].revenue) = (1000, 999);
    (movies[12].budget, movies[12].revenue) = (999, 5_000_000);
    // the only film of 1980 with a return: ranked first of one, no percentile
    (movies[20].year, movies[20].budget, movies[20].revenue) = (Some(1980), 1_000_000, 3_000_000);

    let mut ratings = Vec::new();
    for user in 1..=80u64 {
        let lean = user % 4;
        for n in 1..=MOVIES {
            // a third of the movies get few ratings, the last ten none at all
            let percent = if n > MOVIES - 10 {
                0
            } else if n % 3 == 0 {
                2
            } else {
                25
            };
            if rng.chance(percent) {
                let quality = n % 5;
                let stars = (1 + rng.below(5) + lean + quality).min(10);
                ratings.push((user, 10_000 + n, stars as f64 / 2.0));
            }
        }
        if user <= 3 {
            ratings.push((user, NOT_IN_METADATA, 4.0));
        }
    }
    // movie 3 (a multiple of 3: few ratings) gets exactly one
    ratings.retain(|r| r.1 != 10_003);
    ratings.push((1, 10_003, 5.0));

    let dir = TempDir::new("extras");
    write_files(dir.path(), &movies, &ratings);
    Synthetic {
        dir,
        movies,
        ratings,
    }
}

fn write_files(dir: &Path, movies: &[Movie], ratings: &[(u64, u64, f64)]) {
    let mut metadata = String::from(
        "adult,belongs_to_collection,budget,genres,homepage,id,imdb_id,original_language,\
         original_title,overview,popularity,poster_path,production_companies,\
         production_countries,release_date,revenue,runtime,spoken_languages,status,tagline,\
         title,video,vote_average,vote_count\n",
    );
    let mut credits = String::from("cast,crew,id\n");
    let mut keywords = String::from("id,keywords\n");
    let mut links = String::from("movieId,imdbId,tmdbId\n");
    for movie in movies {
        let date = movie.year.map_or(String::new(), |y| format!("{y}-06-01"));
        let collection = movie.collection.map_or(String::new(), |c| {
            format!(
                "\"{{'id': {c}, 'name': 'Series {c}', 'poster_path': None, 'backdrop_path': None}}\""
            )
        });
        let votes = movie.votes.map_or(String::new(), |v| v.to_string());
        let (id, budget, revenue) = (movie.id, movie.budget, movie.revenue);
        let title = title_of(id).unwrap_or_default();
        writeln!(
            metadata,
            "False,{collection},{budget},\"[{{'id': 18, 'name': 'Drama'}}]\",,{id},tt{id:07},en,{title},\
             An overview.,1.5,,[],[],{date},{revenue},90.0,[],Released,,{title},False,6.0,{votes}"
        )
        .unwrap();
        let mut crew: Vec<String> = movie
            .directors
            .iter()
            .map(|p| crew_member(*p, "Director"))
            .collect();
        // department Directing, not the job Director
        crew.push(crew_member(500 + movie.id % 7, "Assistant Director"));
        writeln!(credits, "[],\"[{}]\",{}", crew.join(", "), movie.id).unwrap();
        if movie.id == 10_002 {
            // a repeated credits record: its director still counts once
            writeln!(credits, "[],\"[{}]\",{}", crew.join(", "), movie.id).unwrap();
        }
        writeln!(keywords, "{},[]", movie.id).unwrap();
        writeln!(links, "{},{:07},{}", movie.id - 10_000, movie.id, movie.id).unwrap();
    }
    writeln!(
        credits,
        "[],\"[{}]\",{NOT_IN_METADATA}",
        crew_member(26, "Director")
    )
    .unwrap();
    writeln!(links, "9999,0009999,{NOT_IN_METADATA}").unwrap();
    let mut rating_lines = String::from("userId,movieId,rating,timestamp\n");
    for (i, (user, movie, stars)) in ratings.iter().enumerate() {
        let movielens = if *movie == NOT_IN_METADATA {
            9999
        } else {
            movie - 10_000
        };
        writeln!(
            rating_lines,
            "{user},{movielens},{stars:.1},{}",
            1_000_000_000 + i
        )
        .unwrap();
    }
    for (name, text) in [
        ("movies_metadata.csv", metadata),
        ("credits.csv", credits),
        ("keywords.csv", keywords),
        ("links_small.csv", links),
        ("ratings_small.csv", rating_lines),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn crew_member(person: u64, job: &str) -> String {
    format!(
        "{{'credit_id': 'c{person}', 'department': 'Directing', 'gender': 0, 'id': {person}, \
         'job': '{job}', 'name': '{}', 'profile_path': None}}",
        director_name(person)
    )
}

/// TMDB id -> (ratings, weighted rating), the Bayesian mean with a prior of 10 ratings at the
/// mean of all ratings.
fn weighted_ratings(ratings: &[(u64, u64, f64)]) -> BTreeMap<u64, (u64, f64)> {
    let mut per_movie: BTreeMap<u64, (u64, f64)> = BTreeMap::new();
    for (_, movie, stars) in ratings {
        let e = per_movie.entry(*movie).or_default();
        e.0 += 1;
        e.1 += stars;
    }
    let total: f64 = per_movie.values().map(|v| v.1).sum();
    let count: u64 = per_movie.values().map(|v| v.0).sum();
    // the global mean C, to the 5 decimal places MySQL's division gives (int_movie_scores)
    let prior = (total / count as f64 * 100_000.0).round() / 100_000.0;
    per_movie
        .into_iter()
        .map(|(id, (n, sum))| (id, (n, (sum + 10.0 * prior) / (n as f64 + 10.0))))
        .collect()
}

/// ntile(10) over `keys` in the order given: the first len % 10 tiles hold one row more.
/// Returns key -> tile.
fn ntile10<K: Ord + Clone>(keys: Vec<K>) -> BTreeMap<K, u64> {
    let n = keys.len() as u64;
    let (small, extra) = (n / 10, n % 10);
    let mut tiles = BTreeMap::new();
    let mut index = 0u64;
    for tile in 1..=10u64 {
        let size = small + u64::from(tile <= extra);
        for _ in 0..size {
            tiles.insert(keys[index as usize].clone(), tile);
            index += 1;
        }
    }
    tiles
}

/// movie_id, title, release_year, rating_count, weighted_rating, tmdb_vote_count,
/// quality_percentile, exposure_percentile, quality_decile, exposure_decile, gem_score,
/// is_hidden_gem (is_low_sample checked in SQL against rating_count)
type GemRow = (
    u64,
    Option<String>,
    Option<u32>,
    u64,
    String,
    Option<u64>,
    f64,
    Option<f64>,
    u64,
    Option<u64>,
    Option<f64>,
    bool,
);

fn check_hidden_gems(kind: MysqlKind, db: &MysqlDb, data: &Synthetic) {
    let scores = weighted_ratings(&data.ratings);
    let in_metadata: BTreeMap<u64, &Movie> = data.movies.iter().map(|m| (m.id, m)).collect();
    let got: Vec<GemRow> = db.query(
        "select movie_id, title, release_year, rating_count, cast(weighted_rating as char), \
         tmdb_vote_count, quality_percentile, exposure_percentile, quality_decile, \
         exposure_decile, gem_score, is_hidden_gem from movie_hidden_gems order by movie_id",
    );
    let want_ids: Vec<u64> = scores
        .keys()
        .filter(|id| in_metadata.contains_key(id))
        .copied()
        .collect();
    let got_ids: Vec<u64> = got.iter().map(|r| r.0).collect();
    assert_eq!(
        got_ids, want_ids,
        "{kind:?}: the rated movies in the metadata"
    );
    assert!(
        got.iter().any(|r| r.3 == 1),
        "{kind:?}: a movie with one rating"
    );

    // values first, then the ranks
    for row in &got {
        let movie = in_metadata[&row.0];
        let (count, score) = scores[&row.0];
        assert_eq!(
            (&row.1, row.2, row.3, row.5),
            (&title_of(row.0), movie.year, count, movie.votes),
            "{kind:?}"
        );
        assert!(close(&row.4, score, 0.0001), "{kind:?}: {row:?} vs {score}");
    }
    // quality ranks by the full-precision rating (values within 1e-9 are ties, by movie id)
    let exact: Vec<f64> = got.iter().map(|r| scores[&r.0].1).collect();
    let mut by_quality: Vec<(f64, u64)> =
        exact.iter().copied().zip(got.iter().map(|r| r.0)).collect();
    by_quality.sort_by(|a, b| {
        if (a.0 - b.0).abs() < 1e-9 {
            a.1.cmp(&b.1)
        } else {
            a.0.total_cmp(&b.0)
        }
    });
    let quality_tiles = ntile10(by_quality.iter().map(|q| q.1).collect());
    let votes: Vec<f64> = got.iter().filter_map(|r| r.5).map(|v| v as f64).collect();
    let mut by_votes: Vec<(u64, u64)> = got.iter().filter_map(|r| r.5.map(|v| (v, r.0))).collect();
    by_votes.sort();
    let exposure_tiles = ntile10(by_votes.iter().map(|v| v.1).collect());
    let mut gems = 0;
    for (row, w) in got.iter().zip(&exact) {
        let quality =
            exact.iter().filter(|v| **v < w - 1e-9).count() as f64 / (exact.len() - 1) as f64;
        let exposure = row.5.map(|v| percent_rank(&votes, v as f64));
        let quality_decile = quality_tiles[&row.0];
        let exposure_decile = row.5.map(|_| exposure_tiles[&row.0]);
        let gem = quality_decile >= 9 && exposure_decile.is_some_and(|d| d <= 3) && row.3 >= 10;
        gems += usize::from(gem);
        assert!((row.6 - quality).abs() < 1e-9, "{kind:?}: {row:?}");
        match (row.7, exposure) {
            (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{kind:?}: {row:?}"),
            (g, w) => assert_eq!(g, w, "{kind:?}: {row:?}"),
        }
        assert_eq!(
            (row.8, row.9, row.11),
            (quality_decile, exposure_decile, gem),
            "{kind:?}: {row:?}"
        );
        match (row.10, exposure) {
            (Some(s), Some(e)) => assert!((s - (quality - e)).abs() < 1e-9, "{kind:?}: {row:?}"),
            (s, _) => assert_eq!(s, None, "{kind:?}: {row:?}"),
        }
    }
    assert!(
        gems > 0,
        "{kind:?}: no hidden gem in the data: the rule is untested"
    );
}

/// movie_id, budget_usd, revenue_usd, is_amount_suspect, return_multiple, rank_in_year,
/// year_movies_with_return, return_percentile_in_year, rating_count, weighted_rating
type FinanceRow = (
    u64,
    u64,
    Option<u64>,
    bool,
    Option<String>,
    Option<u64>,
    Option<u64>,
    Option<f64>,
    u64,
    Option<String>,
);

fn check_financials(kind: MysqlKind, db: &MysqlDb, data: &Synthetic) {
    let scores = weighted_ratings(&data.ratings);
    let got: Vec<FinanceRow> = db.query(
        "select movie_id, budget_usd, revenue_usd, is_amount_suspect, cast(return_multiple as char), \
         rank_in_year, year_movies_with_return, return_percentile_in_year, rating_count, \
         cast(weighted_rating as char) from movie_financials order by movie_id",
    );
    let budgeted: Vec<&Movie> = data.movies.iter().filter(|m| m.budget > 0).collect();
    assert_eq!(
        got.iter().map(|r| r.0).collect::<Vec<_>>(),
        budgeted.iter().map(|m| m.id).collect::<Vec<_>>(),
        "{kind:?}: one row per film with a known budget (0 is unknown)"
    );
    // release year -> the stored returns of that year
    let mut by_year: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for (row, movie) in got.iter().zip(&budgeted) {
        let revenue = (movie.revenue > 0).then_some(movie.revenue);
        let suspect = movie.budget < 1000 || revenue.is_some_and(|r| r < 1000);
        assert_eq!(
            (row.1, row.2, row.3),
            (movie.budget, revenue, suspect),
            "{kind:?}"
        );
        match (&row.4, revenue) {
            (Some(multiple), Some(revenue)) if !suspect => {
                let want = revenue as f64 / movie.budget as f64;
                assert!(close(multiple, want, 0.000_051), "{kind:?}: {row:?}");
                if let Some(year) = movie.year {
                    by_year
                        .entry(year)
                        .or_default()
                        .push(multiple.parse().unwrap());
                }
            }
            (None, None) => {}
            (None, Some(_)) if suspect => {}
            _ => panic!("{kind:?}: {row:?}: return for {movie:?}", movie = movie.id),
        }
        match scores.get(&movie.id) {
            Some((count, score)) => {
                assert_eq!(row.8, *count, "{kind:?}");
                assert!(
                    close(row.9.as_ref().unwrap(), *score, 0.0001),
                    "{kind:?}: {row:?}"
                );
            }
            None => assert_eq!((row.8, &row.9), (0, &None), "{kind:?}: unrated"),
        }
    }
    let mut ranked = 0;
    for (row, movie) in got.iter().zip(&budgeted) {
        let Some(multiple) = row.4.as_ref().filter(|_| movie.year.is_some()) else {
            assert_eq!(
                (row.5, row.6, row.7),
                (None, None, None),
                "{kind:?}: {row:?}"
            );
            continue;
        };
        let multiple: f64 = multiple.parse().unwrap();
        let year = &by_year[&movie.year.unwrap()];
        let rank = 1 + year.iter().filter(|v| **v > multiple).count() as u64;
        assert_eq!(
            (row.5, row.6),
            (Some(rank), Some(year.len() as u64)),
            "{kind:?}: {row:?}"
        );
        if year.len() == 1 {
            assert_eq!(row.7, None, "{kind:?}: alone in its year: {row:?}");
        } else {
            assert!(
                (row.7.unwrap() - percent_rank(year, multiple)).abs() < 1e-9,
                "{kind:?}: {row:?}"
            );
        }
        ranked += 1;
    }
    assert!(ranked > 20, "{kind:?}: only {ranked} ranked films");
    assert!(
        got.iter().any(|r| r.3),
        "{kind:?}: no suspect amount in the data"
    );
}

/// person_id, director_name, films_rated, rating_count, mean_weighted_rating,
/// weighted_rating_spread, best_movie_id, best_title, worst_movie_id, worst_title, is_low_sample
type DirectorRow = (
    u64,
    String,
    u64,
    u64,
    String,
    Option<String>,
    u64,
    Option<String>,
    u64,
    Option<String>,
    bool,
);

fn check_directors(kind: MysqlKind, db: &MysqlDb, data: &Synthetic) {
    let scores = weighted_ratings(&data.ratings);
    // person -> rated films (each once)
    let mut films: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    for movie in &data.movies {
        for person in &movie.directors {
            if scores.contains_key(&movie.id) {
                films.entry(*person).or_default().insert(movie.id);
            }
        }
    }
    films.entry(26).or_default().insert(NOT_IN_METADATA);
    let got: Vec<DirectorRow> = db.query(
        "select person_id, director_name, films_rated, rating_count, \
         cast(mean_weighted_rating as char), cast(weighted_rating_spread as char), best_movie_id, \
         best_title, worst_movie_id, worst_title, is_low_sample from director_consistency \
         order by person_id",
    );
    assert_eq!(
        got.iter().map(|r| r.0).collect::<Vec<_>>(),
        films.keys().copied().collect::<Vec<_>>(),
        "{kind:?}: directors of rated films, no assistant director"
    );
    let title = title_of;
    let extremes: BTreeMap<u64, (String, String)> = db
        .query::<(u64, String, String)>(
            "select person_id, cast(best_weighted_rating as char), \
             cast(worst_weighted_rating as char) from director_consistency",
        )
        .into_iter()
        .map(|(person, best, worst)| (person, (best, worst)))
        .collect();
    for (row, (person, ids)) in got.iter().zip(&films) {
        let values: Vec<(f64, u64)> = ids.iter().map(|id| (scores[id].1, *id)).collect();
        let n = values.len() as f64;
        let mean = values.iter().map(|v| v.0).sum::<f64>() / n;
        // the best: highest rating, ties to the lower id; the worst: lowest, ties to the lower id
        let best = values
            .iter()
            .min_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)))
            .unwrap()
            .1;
        let worst = values
            .iter()
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            .unwrap()
            .1;
        let count: u64 = ids.iter().map(|id| scores[id].0).sum();
        assert_eq!(
            (&row.1, row.2, row.3, row.6, &row.7, row.8, &row.9, row.10),
            (
                &director_name(*person),
                ids.len() as u64,
                count,
                best,
                &title(best),
                worst,
                &title(worst),
                ids.len() < 3
            ),
            "{kind:?}"
        );
        assert!(close(&row.4, mean, 0.0001), "{kind:?}: {row:?}");
        let (best_rating, worst_rating) = &extremes[person];
        assert!(
            close(best_rating, scores[&best].1, 0.000_051)
                && close(worst_rating, scores[&worst].1, 0.000_051),
            "{kind:?}: {row:?}"
        );
        match &row.5 {
            None => assert_eq!(ids.len(), 1, "{kind:?}: {row:?}"),
            Some(spread) => {
                let variance = values.iter().map(|v| (v.0 - mean).powi(2)).sum::<f64>() / (n - 1.0);
                assert!(close(spread, variance.sqrt(), 0.0001), "{kind:?}: {row:?}");
            }
        }
    }
    let single = got.iter().find(|r| r.0 == 26).unwrap();
    assert_eq!(
        single.2, 2,
        "{kind:?}: person 26: one film in the metadata, one not"
    );
    let one_film = got.iter().find(|r| r.0 == 27).unwrap();
    assert_eq!(
        (one_film.2, &one_film.5),
        (1, &None),
        "{kind:?}: one film, no spread"
    );
}

/// collection_id, movie_id, collection_name, sequel_number, collection_films, rating_count,
/// weighted_rating, change_from_first, change_from_previous, is_only_film
type CollectionRow = (
    u64,
    u64,
    String,
    u64,
    u64,
    u64,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
);

fn check_collections(kind: MysqlKind, db: &MysqlDb, data: &Synthetic) {
    let scores = weighted_ratings(&data.ratings);
    let got: Vec<CollectionRow> = db.query(
        "select collection_id, movie_id, collection_name, sequel_number, collection_films, \
         rating_count, cast(weighted_rating as char), cast(change_from_first as char), \
         cast(change_from_previous as char), is_only_film from collection_decay \
         order by collection_id, sequel_number",
    );
    let mut by_collection: BTreeMap<u64, Vec<&Movie>> = BTreeMap::new();
    for movie in &data.movies {
        if let Some(c) = movie.collection {
            by_collection.entry(c).or_default().push(movie);
        }
    }
    let mut want = Vec::new();
    for (collection, films) in &mut by_collection {
        // release order: unknown years last, ties by movie id
        films.sort_by_key(|m| (m.year.is_none(), m.year, m.id));
        let rating = |m: &Movie| {
            scores
                .get(&m.id)
                .map(|s| (s.1 * 10_000.0).round() / 10_000.0)
        };
        let first = rating(films[0]);
        for (i, film) in films.iter().enumerate() {
            let this = rating(film);
            let previous = if i == 0 { None } else { rating(films[i - 1]) };
            want.push((
                *collection,
                film.id,
                i as u64 + 1,
                films.len() as u64,
                scores.get(&film.id).map_or(0, |s| s.0),
                this,
                this.zip(first).map(|(a, b)| a - b),
                this.zip(previous).map(|(a, b)| a - b),
            ));
        }
    }
    assert_eq!(got.len(), want.len(), "{kind:?}: {got:?}");
    let near = |text: &Option<String>, value: Option<f64>| match (text, value) {
        (Some(t), Some(v)) => close(t, v, 0.000_11),
        (None, None) => true,
        _ => false,
    };
    for (row, w) in got.iter().zip(&want) {
        assert_eq!(
            (row.0, row.1, &row.2, row.3, row.4, row.5, row.9),
            (
                w.0,
                w.1,
                &format!("Series {}", w.0),
                w.2,
                w.3,
                w.4,
                w.3 == 1
            ),
            "{kind:?}"
        );
        assert!(
            near(&row.6, w.5) && near(&row.7, w.6) && near(&row.8, w.7),
            "{kind:?}: {row:?} vs {w:?}"
        );
    }
    let unrated_second = got.iter().find(|r| r.1 == 10_145).unwrap();
    assert_eq!(
        (&unrated_second.6, &unrated_second.7),
        (&None, &None),
        "{kind:?}"
    );
}

#[test]
fn extra_tables_equal_a_reference_computed_from_the_files() {
    let data = synthetic();
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "extras");
        let r = run_ok(
            runner_for(Some(&db), None)
                .args(["migrate", "movies", "--movie-data-path"])
                .arg(data.dir.path()),
        );
        let rejected: Vec<(String, u64)> = db
            .query("select file_name, records_rejected from raw_files where records_rejected > 0");
        assert!(rejected.is_empty(), "{kind:?}: {rejected:?}\n{r}");
        check_hidden_gems(kind, &db, &data);
        check_financials(kind, &db, &data);
        check_directors(kind, &db, &data);
        check_collections(kind, &db, &data);
        let reason: Vec<Option<String>> = db.query(&format!(
            "select title_missing_reason from movie_rating_percentiles where movielens_movie_id = {}",
            UNTITLED - 10_000
        ));
        assert_eq!(
            reason,
            [Some("no title in the metadata".to_owned())],
            "{kind:?}"
        );
    }
}
