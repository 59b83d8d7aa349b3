//! Where the movie files come from: the data folder set with `--movie-data-path` /
//! `MOVIE_DATA_PATH`, which must exist and hold them all; with none set, `./moviearchive` when it
//! holds them, else the seed sample built into the binary (`seeds/movies/`), and the run says so.
//! A folder that is set but wrong (a typo, an unmounted volume, a file, a folder the runner cannot
//! read) is an error, never a reason to publish the sample. Finds each file the contract declares,
//! and opens it.

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

/// Where the files are: the data folder as set (`None`: not set), and the ratings file to take
/// instead of ratings_small.csv.
#[derive(Debug, Clone)]
pub struct DataSource {
    pub path: Option<PathBuf>,
    pub ratings_file: Option<String>,
}

/// The folder looked in when no data folder is set.
pub const DEFAULT_FOLDER: &str = "./moviearchive";

/// How the inputs were found, for the step's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Folder(PathBuf),
    /// No data folder set and none in ./moviearchive: the built-in sample.
    Seeds,
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

/// Finds the movie files: in the folder set, which must exist and hold every file; with none
/// set, in ./moviearchive when it holds any of them (then all), else the seed sample.
pub fn resolve_inputs(data: &DataSource) -> Result<(Vec<Input>, Origin)> {
    let ratings_file = data.ratings_file.as_deref();
    let Some(dir) = &data.path else {
        let default = Path::new(DEFAULT_FOLDER);
        let found = default.is_dir() && any_file_in(default, ratings_file);
        if found {
            return Ok((
                files_in(default, ratings_file)?,
                Origin::Folder(default.to_owned()),
            ));
        }
        if ratings_file.is_some() {
            bail!(
                "--ratings-file names a file of the data folder, and none is set: set \
                 MOVIE_DATA_PATH (--movie-data-path) to the folder that holds it"
            );
        }
        tracing::warn!(
            "movies: no data folder set (MOVIE_DATA_PATH, --movie-data-path) and {DEFAULT_FOLDER} \
             holds none of the movie files: staging the bundled seed sample (seeds/movies) instead"
        );
        return Ok((seed_inputs(), Origin::Seeds));
    };
    let what = format!("{} (MOVIE_DATA_PATH, --movie-data-path)", dir.display());
    // metadata follows links: a dangling link or a loop fails here
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            bail!("{what}: is a file, not a folder: set the folder that holds the movie files")
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => bail!(
            "{what}: no such folder: check the path, or whether the volume is mounted \
             (the seed sample is staged only when no data folder is set)"
        ),
        Err(err) => bail!("{what}: cannot be read: {err}"),
    }
    std::fs::read_dir(dir).with_context(|| format!("{what}: cannot be listed"))?;
    if !any_file_in(dir, ratings_file) {
        bail!(
            "{what}: holds none of the movie files ({}): is it the right folder, and is the volume \
             mounted? (the seed sample is staged only when no data folder is set)",
            expected(ratings_file).join(", ")
        );
    }
    Ok((files_in(dir, ratings_file)?, Origin::Folder(dir.clone())))
}

/// The names that can provide each file, `or`-joined.
fn expected(ratings_file: Option<&str>) -> Vec<String> {
    MOVIE_FILES
        .iter()
        .map(|spec| candidates(spec, ratings_file).join(" or "))
        .collect()
}

fn candidates(spec: &'static FileSpec, ratings_file: Option<&str>) -> Vec<String> {
    match (ratings_file, spec.table) {
        (Some(name), "raw_ratings") => vec![name.to_owned()],
        _ => spec.candidates.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn any_file_in(dir: &Path, ratings_file: Option<&str>) -> bool {
    MOVIE_FILES.iter().any(|spec| {
        candidates(spec, ratings_file)
            .iter()
            .any(|name| dir.join(name).is_file())
    })
}

/// Every file in `dir`; an error naming those missing.
fn files_in(dir: &Path, ratings_file: Option<&str>) -> Result<Vec<Input>> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for spec in MOVIE_FILES {
        let names = candidates(spec, ratings_file);
        match names.iter().find(|name| dir.join(name).is_file()) {
            Some(name) => found.push(Input {
                spec,
                file_name: name.clone(),
                source: Source::Path(dir.join(name)),
            }),
            None => missing.push(names.join(" or ")),
        }
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

fn seed_inputs() -> Vec<Input> {
    MOVIE_FILES
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
        .collect()
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
        let inputs = seed_inputs();
        assert_eq!(inputs.len(), MOVIE_FILES.len());
        assert!(
            inputs
                .iter()
                .all(|i| matches!(i.source, Source::Seed(b) if !b.is_empty()))
        );
    }
}
