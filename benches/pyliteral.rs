//! Throughput of `runner::pipelines::movies::pyliteral::parse` on real data: the `cast` and `crew` columns of the
//! first 20 records of Kaggle's credits.csv (tests/fixtures/pyliteral/credits.first20.csv), plus
//! the keywords and metadata samples for comparison. A plain `Instant` loop, no framework:
//! `cargo bench --bench pyliteral` prints MB/s (10^6 bytes of literal text per second, one core).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use runner::pipelines::movies::pyliteral::parse;

/// The non-empty values of `columns` in a fixture CSV.
fn column_texts(file: &str, columns: &[&str]) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pyliteral")
        .join(file);
    let mut reader =
        csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let headers = reader.headers().expect("fixture has a header").clone();
    let indexes: Vec<usize> = columns
        .iter()
        .map(|c| headers.iter().position(|h| h == *c).expect("column exists"))
        .collect();
    let mut texts = Vec::new();
    for record in reader.records() {
        let record = record.expect("fixture csv record");
        texts.extend(
            indexes
                .iter()
                .map(|&i| record[i].to_owned())
                .filter(|t| !t.is_empty()),
        );
    }
    texts
}

/// Parses every text repeatedly for about `budget` and returns MB/s.
fn throughput(texts: &[String], budget: Duration) -> f64 {
    let bytes: usize = texts.iter().map(String::len).sum();
    for text in texts {
        parse(text).unwrap_or_else(|e| panic!("fixture literal does not parse: {e}"));
    }
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed() < budget {
        for text in texts {
            black_box(parse(black_box(text)).ok());
        }
        rounds += 1;
    }
    (bytes as f64 * rounds as f64) / start.elapsed().as_secs_f64() / 1e6
}

fn main() {
    let cases: [(&str, &str, &[&str]); 3] = [
        (
            "credits cast+crew",
            "credits.first20.csv",
            &["cast", "crew"],
        ),
        ("keywords", "keywords.sample.csv", &["keywords"]),
        (
            "metadata lists",
            "movies_metadata.literals.csv",
            &[
                "genres",
                "production_companies",
                "production_countries",
                "spoken_languages",
                "belongs_to_collection",
            ],
        ),
    ];
    for (name, file, columns) in cases {
        let texts = column_texts(file, columns);
        let bytes: usize = texts.iter().map(String::len).sum();
        let best = (0..5)
            .map(|_| throughput(&texts, Duration::from_millis(400)))
            .fold(0.0, f64::max);
        println!(
            "pyliteral {name}: {} literals, {bytes} bytes: {best:.0} MB/s (best of 5)",
            texts.len()
        );
    }
}
