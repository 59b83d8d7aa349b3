//! Where the movie files come from: the data folder (`--movie-data-path`), or, when it holds none of
//! them, the seed sample built into the binary (`seeds/movies/`). Finds each file the contract
//! declares, and opens it.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::contract::{FileSpec, MOVIE_FILES};

/// The seed sample, built into the binary (see seeds/movies/README.md).
const SEEDS: &[(&str, &[u8])] = &[
    (
        "movies_metadata.csv",
        include_bytes!("../../../seeds/movies/movies_metadata.csv"),
    ),
    (
        "credits.csv",
        include_bytes!("../../../seeds/movies/credits.csv"),
    ),
    (
        "keywords.csv",
        include_bytes!("../../../seeds/movies/keywords.csv"),
    ),
    (
        "ratings_small.csv",
        include_bytes!("../../../seeds/movies/ratings_small.csv"),
    ),
    (
        "links_small.csv",
        include_bytes!("../../../seeds/movies/links_small.csv"),
    ),
];

/// Where the files are: the data folder, and the ratings file to take instead of ratings_small.csv.
#[derive(Debug, Clone)]
pub struct DataSource {
    pub path: PathBuf,
    pub ratings_file: Option<String>,
}

/// Where a file's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    Path(PathBuf),
    Seed(&'static [u8]),
}

/// One file to stage.
#[derive(Debug, Clone)]
pub struct Input {
    pub spec: &'static FileSpec,
    pub file_name: String,
    pub source: Source,
}

impl Input {
    pub fn describe(&self) -> String {
        match &self.source {
            Source::Path(p) => p.display().to_string(),
            Source::Seed(_) => format!("seeds/movies/{} (built in)", self.file_name),
        }
    }
}

/// Finds the movie files in `dir`. None there: the seed sample. Some but not all: an error.
pub fn resolve_inputs(dir: &Path, ratings_file: Option<&str>) -> Result<Vec<Input>> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for spec in MOVIE_FILES {
        let candidates: Vec<&str> = match (ratings_file, spec.table) {
            (Some(name), "raw_ratings") => vec![name],
            _ => spec.candidates.to_vec(),
        };
        match candidates.iter().find(|name| dir.join(name).is_file()) {
            Some(name) => found.push(Input {
                spec,
                file_name: (*name).to_owned(),
                source: Source::Path(dir.join(name)),
            }),
            None => missing.push(candidates.join(" or ")),
        }
    }
    if found.is_empty() && ratings_file.is_none() {
        tracing::warn!(
            "movies: {} holds none of the movie files: staging the bundled seed sample (seeds/movies) instead; \
             put the Kaggle files there to stage the real data",
            dir.display()
        );
        return Ok(MOVIE_FILES
            .iter()
            .map(|spec| {
                let (name, bytes) = SEEDS
                    .iter()
                    .find(|(name, _)| spec.candidates.contains(name))
                    .expect("every file has a seed");
                Input {
                    spec,
                    file_name: (*name).to_owned(),
                    source: Source::Seed(bytes),
                }
            })
            .collect());
    }
    if !missing.is_empty() {
        bail!(
            "{}: missing {}: put them in this folder (MOVIE_DATA_PATH / --movie-data-path)",
            dir.display(),
            missing.join(", ")
        );
    }
    Ok(found)
}

pub fn input_size(input: &Input) -> u64 {
    match &input.source {
        Source::Path(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
        Source::Seed(bytes) => bytes.len() as u64,
    }
}

pub fn open(input: &Input) -> Result<Box<dyn Read + Send>> {
    Ok(match &input.source {
        Source::Path(path) => {
            Box::new(File::open(path).with_context(|| format!("opening {}", path.display()))?)
        }
        Source::Seed(bytes) => Box::new(*bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_complete_and_every_file_has_one() {
        let inputs = resolve_inputs(Path::new("/nonexistent/runner-no-data"), None).unwrap();
        assert_eq!(inputs.len(), MOVIE_FILES.len());
        assert!(
            inputs
                .iter()
                .all(|i| matches!(i.source, Source::Seed(b) if !b.is_empty()))
        );
    }
}
