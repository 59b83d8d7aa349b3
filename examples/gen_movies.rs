//! Generates full-size stand-ins for the two big files of Kaggle's "The Movies Dataset", for the
//! staging benchmark (`bench/movies/run`): `ratings.csv` (26,024,289 ratings, CRLF, about the
//! original's 709,550,327 bytes) and `credits.csv` (45,476 films whose `cast` and `crew` columns are
//! Python literals in the real element shapes, LF, about the original's 189,917,659 bytes). The
//! output depends only on `--seed` and the `links.csv` it reads ids from, so two runs give the same
//! bytes. It copies the three small files a full stage also needs (movies_metadata.csv, keywords.csv,
//! links.csv) from `--from`, and writes what it generated to `generated.txt` (`key=value` lines,
//! among them the exact cast and crew element counts, which staging must reproduce as child rows).
//!
//! ```sh
//! cargo run --release --example gen_movies -- --from /work/shared/data/movies --out /work/bench-data/movies
//! ```
//!
//! How the sizes come out right: the byte size of `ratings.csv` depends on how many digits the ids
//! and timestamps have. The generator first tunes how strongly ratings concentrate on popular
//! movies (the popular ones have low MovieLens ids), on a sample of users, then shifts all
//! timestamps by the number of seconds that leaves exactly the right number of them before
//! 2001-09-09 (9 digits instead of 10): the full-size file has the original's size to the byte.
//! `credits.csv` is tuned through the share of people without a profile image (`None` instead of
//! a 32-byte path), to within a few bytes.
//! Every record of credits.csv is parsed back with `runner::pipelines::movies::pyliteral` before it is written.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use runner::pipelines::movies::pyliteral::{self, Value};

/// Generates full-size ratings.csv and credits.csv for the staging benchmark
#[derive(Debug, Parser)]
struct Args {
    /// Folder to write into (created when missing)
    #[arg(long)]
    out: PathBuf,

    /// Folder with the real Kaggle files: links.csv, keywords.csv, and movies_metadata.csv (or the
    /// sample movies_metadata.first4627.csv)
    #[arg(long, default_value = "/work/shared/data/movies")]
    from: PathBuf,

    /// Seed of every random choice
    #[arg(long, default_value_t = 20171110)]
    seed: u64,

    /// Size relative to the real files (0.01 for a quick try); 1 is full size
    #[arg(long, default_value_t = 1.0)]
    scale: f64,

    /// Skip credits.csv
    #[arg(long)]
    no_credits: bool,

    /// Skip ratings.csv
    #[arg(long)]
    no_ratings: bool,
}

// Facts about the real full files.
const RATINGS_ROWS: f64 = 26_024_289.0;
const RATINGS_BYTES: f64 = 709_550_327.0;
const RATINGS_USERS: f64 = 270_896.0;
const RATINGS_MOVIES: usize = 45_115;
const RATINGS_MAX_MOVIE_ID: u32 = 176_275;
const CREDITS_RECORDS: f64 = 45_476.0;
const CREDITS_BYTES: f64 = 189_917_659.0;
/// Element totals of the full credits.csv as commonly reported (not verified against the file here;
/// they set the cast/crew split, the byte size is matched exactly).
const CREDITS_CAST: f64 = 562_474.0;
const CREDITS_CREW: f64 = 464_314.0;
/// Films with an empty cast / crew list (`[]`), as commonly reported.
const CREDITS_EMPTY_CAST: f64 = 2_418.0;
const CREDITS_EMPTY_CREW: f64 = 771.0;
const MAX_CAST: u32 = 313;
const MAX_CREW: u32 = 435;

/// 1995-01-09 (the real file's first rating) to the last second of 2016.
const FIRST_TS: u64 = 789_652_009;
const LAST_TS: u64 = 1_483_228_799;
/// MovieLens allowed half stars from 2003-02-18 on.
const HALF_STARS_FROM: u64 = 1_045_526_400;

fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(
        args.scale > 0.0 && args.scale <= 1.0,
        "--scale must be in (0, 1]"
    );
    fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let links = read_links(&args.from.join("links.csv"))?;
    let mut report = vec![
        ("seed".to_owned(), args.seed.to_string()),
        ("scale".to_owned(), args.scale.to_string()),
    ];
    copy_real_files(&args.from, &args.out)?;
    if !args.no_ratings {
        let started = Instant::now();
        report.extend(ratings(&args, &links)?);
        eprintln!(
            "gen_movies: ratings.csv in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    if !args.no_credits {
        let started = Instant::now();
        report.extend(credits(&args, &links)?);
        eprintln!(
            "gen_movies: credits.csv in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let text: String = report.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    print!("{text}");
    let path = args.out.join("generated.txt");
    fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// movieId and tmdbId (when present) of every links.csv row, in file order.
struct Links {
    rows: Vec<(u32, Option<u32>)>,
}

fn read_links(path: &Path) -> Result<Links> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let mut fields = line.trim_end_matches('\r').split(',');
        let (Some(movie), Some(_imdb), Some(tmdb)) = (fields.next(), fields.next(), fields.next())
        else {
            bail!(
                "{}:{}: expected movieId,imdbId,tmdbId",
                path.display(),
                i + 1
            );
        };
        let movie = movie
            .parse()
            .with_context(|| format!("{}:{}: movieId", path.display(), i + 1))?;
        rows.push((movie, tmdb.parse().ok()));
    }
    ensure!(
        rows.len() > RATINGS_MOVIES,
        "{}: only {} rows",
        path.display(),
        rows.len()
    );
    Ok(Links { rows })
}

fn copy_real_files(from: &Path, out: &Path) -> Result<()> {
    let metadata = ["movies_metadata.csv", "movies_metadata.first4627.csv"]
        .iter()
        .map(|n| from.join(n))
        .find(|p| p.is_file())
        .with_context(|| format!("{}: no movies_metadata.csv", from.display()))?;
    for (source, name) in [
        (metadata, "movies_metadata.csv"),
        (from.join("keywords.csv"), "keywords.csv"),
        (from.join("links.csv"), "links.csv"),
    ] {
        let dest = out.join(name);
        let _ = fs::remove_file(&dest);
        fs::write(&dest, fs::read(&source)?)
            .with_context(|| format!("copying {} to {}", source.display(), out.display()))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Randomness: SplitMix64, one independent stream per (purpose, index) so that tuning one choice
// never shifts the others.

#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn stream(seed: u64, purpose: u64, index: u64) -> Self {
        let mut r = Rng(seed ^ purpose.wrapping_mul(0xA076_1D64_78BD_642F));
        r.0 ^= r
            .next()
            .wrapping_add(index.wrapping_mul(0xE703_7ED1_A0B4_28DB));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn f64(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.f64();
        let v = self.f64();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An index drawn with the given weights.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(u64::from(total)) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

// Stream purposes.
const S_MOVIES: u64 = 1;
const S_USERS: u64 = 2;
const S_PICKS: u64 = 3;
const S_TIMES: u64 = 4;
const S_FILMS: u64 = 5;
const S_PERSON: u64 = 6;
const S_ELEMENT: u64 = 7;

/// Splits `total` into integer parts proportional to `weights`, each within [min, max].
fn allocate(weights: &[f64], total: u64, min: u32, max: u32) -> Vec<u32> {
    assert!(weights.len() as u64 * u64::from(min) <= total);
    assert!(weights.len() as u64 * u64::from(max) >= total);
    let sum: f64 = weights.iter().sum();
    let mut counts = Vec::with_capacity(weights.len());
    let mut fractions = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let x = w / sum * total as f64;
        counts.push((x.floor() as u64).clamp(u64::from(min), u64::from(max)) as u32);
        fractions.push((x - x.floor(), i));
    }
    fractions.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut diff = total as i64 - counts.iter().map(|&c| i64::from(c)).sum::<i64>();
    while diff != 0 {
        let before = diff;
        for &(_, i) in &fractions {
            if diff > 0 && counts[i] < max {
                counts[i] += 1;
                diff -= 1;
            } else if diff < 0 && counts[i] > min {
                counts[i] -= 1;
                diff += 1;
            }
            if diff == 0 {
                break;
            }
        }
        assert_ne!(before, diff, "allocate cannot make progress");
    }
    counts
}

fn digits(mut n: u64) -> u64 {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

fn push_int(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// A file written under a temporary name and renamed when complete.
struct Output {
    path: PathBuf,
    partial: PathBuf,
    writer: BufWriter<File>,
}

impl Output {
    fn create(dir: &Path, name: &str) -> Result<Self> {
        let path = dir.join(name);
        let partial = dir.join(format!("{name}.partial"));
        let file =
            File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
        Ok(Self {
            path,
            partial,
            writer: BufWriter::with_capacity(1 << 20, file),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer
            .write_all(bytes)
            .with_context(|| format!("writing {}", self.partial.display()))
    }

    fn finish(self) -> Result<u64> {
        let file = self
            .writer
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {}", self.partial.display()))?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.partial, &self.path)
            .with_context(|| format!("renaming {}", self.partial.display()))?;
        Ok(fs::metadata(&self.path)?.len())
    }
}

// ---------------------------------------------------------------------------------------------
// ratings.csv

const RATINGS_HEADER: &[u8] = b"userId,movieId,rating,timestamp\r\n";

/// Star values and their weights (per mille), close to MovieLens' overall mix.
const STARS: [&[u8]; 10] = [
    b"0.5", b"1.0", b"1.5", b"2.0", b"2.5", b"3.0", b"3.5", b"4.0", b"4.5", b"5.0",
];
const STAR_WEIGHTS: [u32; 10] = [16, 32, 16, 69, 49, 200, 120, 266, 86, 146];

/// Relative weight of a user's first rating falling in each year 1995..=2016.
const YEAR_WEIGHTS: [u32; 22] = [
    1, 60, 30, 12, 30, 70, 30, 20, 20, 30, 40, 30, 30, 30, 20, 20, 20, 20, 20, 20, 60, 60,
];

struct RatingsPlan {
    /// MovieLens ids of the rated movies, ascending.
    movie_ids: Vec<u32>,
    /// Movie index by popularity rank (0 = most popular).
    by_rank: Vec<u32>,
    /// Ratings per user; user `i + 1` has `counts[i]`.
    counts: Vec<u32>,
}

impl RatingsPlan {
    fn new(args: &Args, links: &Links) -> Self {
        let mut rng = Rng::stream(args.seed, S_MOVIES, 0);
        // The rated movies: links.csv movieIds up to the real maximum, thinned at random.
        let mut candidates: Vec<u32> = links
            .rows
            .iter()
            .map(|r| r.0)
            .filter(|&id| id <= RATINGS_MAX_MOVIE_ID)
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let wanted = ((RATINGS_MOVIES as f64 * args.scale.sqrt()).round() as usize).max(100);
        while candidates.len() > wanted {
            // Keep the largest id, so the id range matches the real file.
            let i = rng.below(candidates.len() as u64 - 1) as usize;
            candidates.remove(i);
        }
        // Popularity follows the id (MovieLens numbered the classics first) with a lot of noise.
        let mut keyed: Vec<(f64, u32)> = candidates
            .iter()
            .enumerate()
            .map(|(i, &id)| (f64::from(id).ln() + 1.0 * rng.normal(), i as u32))
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        let by_rank = keyed.into_iter().map(|(_, i)| i).collect();

        let users = (RATINGS_USERS * args.scale).round() as usize;
        let rows = (RATINGS_ROWS * args.scale).round() as u64;
        let mut rng = Rng::stream(args.seed, S_USERS, 0);
        let weights: Vec<f64> = (0..users).map(|_| (1.25 * rng.normal()).exp()).collect();
        let max = (candidates.len() as u32 * 2 / 5).max(1);
        let counts = allocate(&weights, rows, 1, max);
        Self {
            movie_ids: candidates,
            by_rank,
            counts,
        }
    }

    /// Cumulative popularity weights by rank for concentration `s`.
    fn cdf(&self, s: f64) -> Vec<f64> {
        let mut total = 0.0;
        (0..self.by_rank.len())
            .map(|rank| {
                total += (rank as f64 + 10.0).powf(-s);
                total
            })
            .collect()
    }

    /// The movie indexes user `user` (0-based) rated, ascending and distinct: a weighted sample
    /// without replacement. Draws with replacement and drops repeats; a user who rates so many
    /// movies that repeats keep coming gets an exact weighted sample instead (exponential keys).
    fn picks(&self, seed: u64, cdf: &[f64], user: usize, out: &mut Vec<u32>) {
        let n = self.counts[user] as usize;
        let mut rng = Rng::stream(seed, S_PICKS, user as u64);
        let total = *cdf.last().expect("movies");
        out.clear();
        for _ in 0..4 {
            let missing = n - out.len();
            for _ in 0..missing {
                let x = rng.f64() * total;
                let rank = cdf.partition_point(|&c| c <= x).min(cdf.len() - 1);
                out.push(self.by_rank[rank]);
            }
            out.sort_unstable();
            out.dedup();
            if out.len() == n {
                return;
            }
        }
        let mut keys: Vec<(f64, u32)> = self
            .by_rank
            .iter()
            .enumerate()
            .map(|(rank, &movie)| {
                let weight = cdf[rank] - if rank == 0 { 0.0 } else { cdf[rank - 1] };
                ((1.0 - rng.f64()).ln() / weight, movie)
            })
            .collect();
        keys.select_nth_unstable_by(n - 1, |a, b| b.0.total_cmp(&a.0));
        out.clear();
        out.extend(keys[..n].iter().map(|k| k.1));
        out.sort_unstable();
    }

    /// Bytes of all movieId fields for concentration `s`, from every `stride`-th user, scaled up.
    fn movie_digits(&self, seed: u64, s: f64, stride: usize) -> f64 {
        let cdf = self.cdf(s);
        let mut picks = Vec::new();
        let (mut sum, mut rows) = (0u64, 0u64);
        for user in (0..self.counts.len()).step_by(stride) {
            self.picks(seed, &cdf, user, &mut picks);
            sum += picks
                .iter()
                .map(|&m| digits(u64::from(self.movie_ids[m as usize])))
                .sum::<u64>();
            rows += picks.len() as u64;
        }
        let all: u64 = self.counts.iter().map(|&c| u64::from(c)).sum();
        sum as f64 * all as f64 / rows as f64
    }
}

/// Timestamp and star value of one rating, from the user's time stream. `shift` moves every
/// timestamp earlier by that many seconds: the last knob of the byte size (a timestamp before
/// 2001-09-09 has 9 digits, after it 10), since it changes no other random choice.
struct UserClock {
    rng: Rng,
    start: u64,
    span: f64,
    shift: i64,
}

impl UserClock {
    fn new(seed: u64, user: usize, shift: i64) -> Self {
        let mut rng = Rng::stream(seed, S_TIMES, user as u64);
        let year = rng.weighted(&YEAR_WEIGHTS) as u64;
        let start = FIRST_TS + year * 31_556_952 + rng.below(31_556_952);
        // Most users rate within days; some come back for years.
        let span = (2_592_000.0 * (2.0 * rng.normal()).exp()).min(4e8);
        Self {
            rng,
            start,
            span,
            shift,
        }
    }

    /// The timestamp before the shift and the fold into 1995-2016.
    fn raw(&mut self) -> u64 {
        self.start + (self.rng.f64().powi(3) * self.span) as u64
    }

    fn next(&mut self) -> (u64, &'static [u8]) {
        // Folded back into 1995-2016 at the ends (no pile-up on the first or last second); the
        // fold never crosses 2001-09-09, so the digit count is that of `raw - shift`.
        let (first, last) = (FIRST_TS as i64, LAST_TS as i64);
        let ts = match self.raw() as i64 - self.shift {
            t if t > last => 2 * last - t,
            t if t < first => 2 * first - t,
            t => t,
        }
        .clamp(first, last) as u64;
        let mut star = self.rng.weighted(&STAR_WEIGHTS);
        let up = self.rng.chance(0.5);
        if ts < HALF_STARS_FROM && star.is_multiple_of(2) {
            // Before half stars: round to a whole star, up or down.
            star = if star == 0 || up { star + 1 } else { star - 1 };
        }
        (ts, STARS[star])
    }

    /// Draws what `next` draws, returning only the raw timestamp.
    fn skip(&mut self) -> u64 {
        let raw = self.raw();
        self.rng.next();
        self.rng.next();
        raw
    }
}

fn ratings(args: &Args, links: &Links) -> Result<Vec<(String, String)>> {
    let plan = RatingsPlan::new(args, links);
    let rows: u64 = plan.counts.iter().map(|&c| u64::from(c)).sum();
    let target = (RATINGS_BYTES * args.scale).round() as u64;
    // Bytes of everything but the movieIds and timestamps: 3 commas, a 3-byte rating and CRLF per
    // row, and the userIds.
    let mut fixed = RATINGS_HEADER.len() as u64 + rows * 8;
    for (user, &n) in plan.counts.iter().enumerate() {
        fixed += u64::from(n) * digits(user as u64 + 1);
    }
    let timestamps = 9 * rows + rows * 65 / 100; // about 35% before 2001-09-09, as in ratings_small
    let wanted = target as f64 - fixed as f64 - timestamps as f64;

    // 1. Roughly, on a sample of users: how strongly ratings concentrate on popular movies (low
    // ids). Scan first (a very high concentration stops helping once users run out of popular
    // movies), then bisect where the scan crosses the target.
    let stride = if args.scale < 0.2 { 1 } else { 16 };
    let scan: Vec<(f64, f64)> = (0..=15)
        .map(|i| {
            let s = f64::from(i) / 5.0;
            (s, plan.movie_digits(args.seed, s, stride))
        })
        .collect();
    let (mut lo, mut hi) = match scan
        .windows(2)
        .find(|w| w[0].1 >= wanted && w[1].1 <= wanted)
    {
        Some(w) => (w[0].0, w[1].0),
        None => {
            let best = scan
                .iter()
                .min_by(|a, b| (a.1 - wanted).abs().total_cmp(&(b.1 - wanted).abs()))
                .expect("scanned");
            (best.0, best.0)
        }
    };
    for _ in 0..12 {
        let mid = (lo + hi) / 2.0;
        if plan.movie_digits(args.seed, mid, stride) > wanted {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let s = (lo + hi) / 2.0;
    let movie_bytes = plan.movie_digits(args.seed, s, 1) as u64;

    // 2. Exactly: shift every timestamp so that just enough of them have 9 digits.
    let ten_digit_wanted =
        (target as i64 - (fixed + movie_bytes + 9 * rows) as i64).clamp(0, rows as i64) as usize;
    let mut raws = Vec::with_capacity(rows as usize);
    for (user, &n) in plan.counts.iter().enumerate() {
        let mut clock = UserClock::new(args.seed, user, 0);
        raws.extend((0..n).map(|_| clock.skip()));
    }
    // Timestamps with 10 digits are those with raw - shift >= 10^9 (see UserClock::next).
    raws.sort_unstable();
    let shift: i64 = if ten_digit_wanted == 0 {
        i64::MAX / 4
    } else {
        raws[raws.len() - ten_digit_wanted] as i64 - 1_000_000_000
    };
    // Beyond a year the dates would no longer look like MovieLens (only at a small --scale).
    let shift = if shift.abs() > 31_556_952 { 0 } else { shift };
    let ten_digit = raws.len() - raws.partition_point(|&r| (r as i64) - shift < 1_000_000_000);
    drop(raws);
    let predicted = fixed + movie_bytes + 9 * rows + ten_digit as u64;
    if predicted != target {
        eprintln!(
            "gen_movies: ratings: {target} bytes are out of reach at this --scale; writing {predicted}"
        );
    }

    let cdf = plan.cdf(s);
    let mut out = Output::create(&args.out, "ratings.csv")?;
    out.write(RATINGS_HEADER)?;
    let mut buf = Vec::with_capacity(1 << 20);
    let mut picks = Vec::new();
    let mut rated = vec![false; plan.movie_ids.len()];
    let (mut first_ts, mut last_ts) = (u64::MAX, 0);
    for (user, _) in plan.counts.iter().enumerate() {
        plan.picks(args.seed, &cdf, user, &mut picks);
        let mut clock = UserClock::new(args.seed, user, shift);
        for &m in &picks {
            rated[m as usize] = true;
            let (ts, star) = clock.next();
            (first_ts, last_ts) = (first_ts.min(ts), last_ts.max(ts));
            push_int(&mut buf, user as u64 + 1);
            buf.push(b',');
            push_int(&mut buf, u64::from(plan.movie_ids[m as usize]));
            buf.push(b',');
            buf.extend_from_slice(star);
            buf.push(b',');
            push_int(&mut buf, ts);
            buf.extend_from_slice(b"\r\n");
        }
        if buf.len() >= 1 << 20 {
            out.write(&buf)?;
            buf.clear();
        }
    }
    out.write(&buf)?;
    let bytes = out.finish()?;
    ensure!(
        bytes == predicted,
        "ratings.csv: wrote {bytes} bytes, expected {predicted}"
    );
    Ok(vec![
        ("ratings_rows".into(), rows.to_string()),
        ("ratings_bytes".into(), bytes.to_string()),
        ("ratings_target_bytes".into(), target.to_string()),
        ("ratings_users".into(), plan.counts.len().to_string()),
        (
            "ratings_movies".into(),
            rated.iter().filter(|&&r| r).count().to_string(),
        ),
        (
            "ratings_max_movie_id".into(),
            plan.movie_ids.last().copied().unwrap_or(0).to_string(),
        ),
        ("ratings_first_timestamp".into(), first_ts.to_string()),
        ("ratings_last_timestamp".into(), last_ts.to_string()),
        (
            "ratings_before_2001_09_09".into(),
            format!("{:.3}", 1.0 - ten_digit as f64 / rows as f64),
        ),
        ("ratings_popularity_exponent".into(), format!("{s:.6}")),
        ("ratings_time_shift_seconds".into(), shift.to_string()),
    ])
}

// ---------------------------------------------------------------------------------------------
// credits.csv

const FIRST_NAMES: &[&str] = &[
    "James",
    "John",
    "Robert",
    "Michael",
    "William",
    "David",
    "Richard",
    "Joseph",
    "Thomas",
    "Charles",
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Elizabeth",
    "Barbara",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Anna",
    "Maria",
    "Laura",
    "Emma",
    "Olivia",
    "Sophie",
    "Claire",
    "Julia",
    "Marie",
    "Pierre",
    "Jean",
    "Paul",
    "Peter",
    "George",
    "Frank",
    "Jack",
    "Harry",
    "Walter",
    "Henry",
    "Arthur",
    "Alice",
    "Grace",
    "Helen",
    "Ruth",
    "Nancy",
    "Betty",
    "Dorothy",
    "Kevin",
    "Brian",
    "Steven",
    "Mark",
    "Daniel",
    "Matthew",
    "Anthony",
    "Donald",
    "Christopher",
    "Andrew",
    "François",
    "Hélène",
    "Zoë",
    "José",
    "María",
    "Jesús",
    "Ángel",
    "Björn",
    "Søren",
    "Jürgen",
    "Günter",
    "Łukasz",
    "Małgorzata",
    "Çağan",
    "Dmitri",
    "Ivan",
    "Giorgos",
    "Kenji",
    "Hiroshi",
    "Yuki",
    "Min-ho",
    "Ji-woo",
    "Amitabh",
    "Priya",
    "Ahmed",
    "Fatima",
    "Chen",
    "Wei",
    "João",
    "Renée",
    "Chloé",
    "André",
    "Noël",
    "Åsa",
    "Ingrid",
    "Sven",
    "Lars",
    "Timothée",
    "Agnès",
    "Françoise",
    "Mónica",
    "Raúl",
    "Iñaki",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Garcia",
    "Rodriguez",
    "Wilson",
    "Martinez",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Campbell",
    "Mitchell",
    "Roberts",
    "Carter",
    "Phillips",
    "Evans",
    "Turner",
    "Torres",
    "Parker",
    "Collins",
    "Edwards",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Dupont",
    "Lefèvre",
    "Müller",
    "Schröder",
    "Østergaard",
    "Nowak",
    "Wiśniewski",
    "Yılmaz",
    "Öztürk",
    "Nguyễn",
    "Tanaka",
    "Suzuki",
    "Watanabe",
    "Kim",
    "Park",
    "Choi",
    "Ivanov",
    "Petrov",
    "Papadopoulos",
    "Rossi",
    "Bianchi",
    "García",
    "Fernández",
    "López",
    "Pérez",
    "Núñez",
    "von Detten",
    "van der Berg",
    "O'Connell",
    "O'Brien",
    "D'Angelo",
    "O'Shea",
    "D'Astier",
    "O'Hara",
];

/// Whole names in other scripts (about one person in a hundred).
const OTHER_SCRIPT_NAMES: &[&str] = &[
    "北野武",
    "김민수",
    "Иван Петров",
    "Γιώργος Λάνθιμος",
    "अमिताभ बच्चन",
    "周潤發",
    "山田洋次",
    "Сергей Бондарчук",
    "עמוס גיתאי",
    "محمد خان",
];

const ROLES: &[&str] = &[
    "Narrator",
    "Policeman",
    "Nurse",
    "Doctor",
    "Reporter",
    "Waitress",
    "Bartender",
    "Soldier",
    "Guard",
    "Detective",
    "Young Boy",
    "Little Girl",
    "Mother",
    "Father",
    "Priest",
    "Judge",
    "Lawyer",
    "Taxi Driver",
    "Student",
    "Teacher",
    "Secretary",
    "Sheriff",
    "Thug",
    "Henchman",
    "Party Guest",
    "Bar Patron",
    "Man in Car",
    "Woman at Party",
    "Villager",
    "Prisoner",
    "Pilot",
    "Captain",
    "Agent",
    "Nun",
    "Cowboy",
    "Dancer",
    "Singer",
    "Pirate",
    "Townsperson",
    "Zombie",
    "Vampire",
    "Old Man",
    "Receptionist",
    "Paramedic",
];

const RELATIVES: &[&str] = &[
    "Mother",
    "Father",
    "Wife",
    "Husband",
    "Date",
    "Friend",
    "Sister",
    "Brother",
    "Daughter",
    "Son",
    "Boss",
    "Assistant",
];

/// (department, job, weight): the crew jobs and roughly how often they appear.
const JOBS: &[(&str, &str, u32)] = &[
    ("Directing", "Director", 0),
    ("Writing", "Screenplay", 0),
    ("Production", "Producer", 0),
    ("Sound", "Original Music Composer", 0),
    ("Camera", "Director of Photography", 0),
    ("Editing", "Editor", 0),
    ("Production", "Executive Producer", 60),
    ("Production", "Casting", 40),
    ("Writing", "Writer", 30),
    ("Writing", "Novel", 15),
    ("Writing", "Story", 10),
    ("Production", "Co-Producer", 15),
    ("Production", "Associate Producer", 12),
    ("Production", "Location Manager", 12),
    ("Production", "Line Producer", 8),
    ("Sound", "Sound Re-Recording Mixer", 30),
    ("Sound", "Music", 18),
    ("Sound", "Supervising Sound Editor", 15),
    ("Sound", "Sound Editor", 12),
    ("Sound", "Foley", 12),
    ("Sound", "Dialogue Editor", 16),
    ("Sound", "Boom Operator", 10),
    ("Sound", "Music Editor", 10),
    ("Sound", "Sound Effects Editor", 12),
    ("Art", "Production Design", 28),
    ("Art", "Art Direction", 24),
    ("Art", "Set Decoration", 22),
    ("Art", "Set Designer", 10),
    ("Art", "Art Department Coordinator", 10),
    ("Camera", "Camera Operator", 20),
    ("Camera", "Still Photographer", 20),
    ("Camera", "Steadicam Operator", 9),
    ("Editing", "First Assistant Editor", 12),
    ("Costume & Make-Up", "Costume Design", 26),
    ("Costume & Make-Up", "Makeup Artist", 18),
    ("Costume & Make-Up", "Hairstylist", 14),
    ("Costume & Make-Up", "Costume Supervisor", 11),
    ("Crew", "Stunts", 15),
    ("Crew", "Thanks", 19),
    ("Crew", "Stunt Coordinator", 9),
    ("Directing", "Script Supervisor", 15),
    ("Directing", "Assistant Director", 10),
    ("Visual Effects", "Animation", 25),
    ("Visual Effects", "Visual Effects Supervisor", 10),
    ("Lighting", "Gaffer", 12),
    ("Lighting", "Best Boy Electric", 8),
];

/// Jobs every crew list starts with, in this order, as far as it reaches.
const CORE_JOBS: usize = 6;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdef";

/// A person, derived from their TMDB id alone, so the same id always has the same name, gender
/// and picture. `no_picture` is the person's uniform draw against the `None` share.
struct Person {
    name: String,
    gender: u64,
    picture: [u8; 32],
    no_picture: f64,
}

fn person(seed: u64, id: u64) -> Person {
    let mut rng = Rng::stream(seed, S_PERSON, id);
    let gender = rng.weighted(&[30, 25, 45]) as u64;
    let name = if rng.chance(0.01) {
        (*rng.pick(OTHER_SCRIPT_NAMES)).to_owned()
    } else {
        let first = *rng.pick(FIRST_NAMES);
        let last = *rng.pick(LAST_NAMES);
        // A no-break space or a soft hyphen now and then: Python writes them as \xa0, \xad.
        let space = match rng.below(1000) {
            0..=3 => "\u{a0}",
            4 => "\u{200b} ",
            _ => " ",
        };
        match rng.below(100) {
            0..=2 => first.to_owned(),
            3..=11 => format!(
                "{first}{space}{}. {last}",
                char::from(b'A' + rng.below(26) as u8)
            ),
            12 => format!("{first}{space}\"{}\" {last}", rng.pick(FIRST_NAMES)),
            13 => format!("{first}-{}{space}{last}", rng.pick(LAST_NAMES)),
            14 if rng.chance(0.1) => format!("{first}\u{ad}{space}{last}"),
            _ => format!("{first}{space}{last}"),
        }
    };
    let mut picture = [0u8; 32];
    picture[0] = b'/';
    for b in &mut picture[1..28] {
        *b = BASE62[rng.below(62) as usize];
    }
    picture[28..].copy_from_slice(b".jpg");
    Person {
        name,
        gender,
        picture,
        no_picture: rng.f64(),
    }
}

/// Appends `s` as Python's `repr` writes it: single quotes unless the text holds `'` and no `"`;
/// backslash escapes for the non-printable characters the generator uses.
fn py_str(out: &mut Vec<u8>, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut utf8 = [0u8; 4];
    out.push(quote as u8);
    for c in s.chars() {
        match c {
            '\\' => out.extend_from_slice(b"\\\\"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if c == quote => {
                out.push(b'\\');
                out.push(c as u8);
            }
            '\u{a0}' | '\u{ad}' => out.extend_from_slice(format!("\\x{:02x}", c as u32).as_bytes()),
            '\u{200b}' | '\u{200e}' | '\u{3000}' => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                debug_assert!(c >= ' ' && c != '\u{7f}', "unhandled character {c:?}");
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
    out.push(quote as u8);
}

fn credit_id(rng: &mut Rng) -> [u8; 24] {
    // Like a MongoDB ObjectId: 8 hex digits of a 2013-2017 time, then 16 more.
    let mut id = [0u8; 24];
    let time = 0x52fe_0000u64 + rng.below(0x0700_0000);
    for (i, b) in id[..8].iter_mut().enumerate() {
        *b = HEX[((time >> (28 - 4 * i)) & 0xf) as usize];
    }
    for b in &mut id[8..] {
        *b = HEX[rng.below(16) as usize];
    }
    id
}

/// A TMDB person id: small ids are old, well-known people who act in many films.
fn person_id(rng: &mut Rng, recent: &[u64]) -> u64 {
    if !recent.is_empty() && rng.chance(0.02) {
        // The same person twice in one film (two roles, or two jobs).
        return *rng.pick(recent);
    }
    if rng.chance(0.5) {
        let u = rng.f64();
        1 + (1.92e6 * u * u) as u64
    } else {
        1 + rng.below(1_920_000)
    }
}

fn character(rng: &mut Rng, gender: u64) -> String {
    let first = *rng.pick(FIRST_NAMES);
    let last = *rng.pick(LAST_NAMES);
    let base = match rng.below(100) {
        0..=9 => String::new(),
        10..=17 => if gender == 1 { "Herself" } else { "Himself" }.to_owned(),
        18..=37 => first.to_owned(),
        38..=57 => format!("{first} {last}"),
        58..=62 => format!("Dr. {last}"),
        63..=65 => format!("Mrs. {last}"),
        66..=67 => format!("{first}'s {}", rng.pick(RELATIVES)),
        68 => format!("{first} '{}' {last}", rng.pick(FIRST_NAMES)),
        69 => format!("\"{first} {last}\""),
        70 if rng.chance(0.2) => format!("{first} \"{}\" O'{last}", rng.pick(FIRST_NAMES)),
        71..=79 => format!("{} #{}", rng.pick(ROLES), 1 + rng.below(4)),
        80 if rng.chance(0.2) => format!("{first}\u{a0}{last}"),
        81 if rng.chance(0.05) => format!("{first}\t{last}"),
        82 if rng.chance(0.05) => format!("{first} \\ {last}"),
        _ => (*rng.pick(ROLES)).to_owned(),
    };
    match rng.below(100) {
        0..=6 if !base.is_empty() => format!("{base} (voice)"),
        7..=9 if !base.is_empty() => format!("{base} (uncredited)"),
        _ => base,
    }
}

/// What one element looks like, kept to check the parsed literal against.
struct Expected {
    name: String,
    other: String,
}

/// Appends one film's cast list; returns what each element should parse to.
fn cast_list(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    seed: u64,
    n: u32,
    no_picture: f64,
    expected: &mut Vec<Expected>,
) {
    let mut recent = Vec::with_capacity(n as usize);
    let mut cast_id = rng.below(20);
    out.push(b'[');
    for order in 0..n {
        let id = person_id(rng, &recent);
        recent.push(id);
        let p = person(seed, id);
        let role = character(rng, p.gender);
        if order > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(b"{'cast_id': ");
        push_int(out, cast_id);
        out.extend_from_slice(b", 'character': ");
        py_str(out, &role);
        out.extend_from_slice(b", 'credit_id': '");
        out.extend_from_slice(&credit_id(rng));
        out.extend_from_slice(b"', 'gender': ");
        push_int(out, p.gender);
        out.extend_from_slice(b", 'id': ");
        push_int(out, id);
        out.extend_from_slice(b", 'name': ");
        py_str(out, &p.name);
        out.extend_from_slice(b", 'order': ");
        push_int(out, u64::from(order));
        out.extend_from_slice(b", 'profile_path': ");
        picture(out, &p, no_picture);
        out.push(b'}');
        cast_id += 1 + if rng.chance(0.15) { rng.below(8) } else { 0 };
        expected.push(Expected {
            name: p.name,
            other: role,
        });
    }
    out.push(b']');
}

fn crew_list(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    seed: u64,
    n: u32,
    no_picture: f64,
    expected: &mut Vec<Expected>,
) {
    let weights: Vec<u32> = JOBS.iter().map(|j| j.2).collect();
    let mut recent = Vec::with_capacity(n as usize);
    out.push(b'[');
    for i in 0..n {
        let (department, job, _) = if (i as usize) < CORE_JOBS && rng.chance(0.8) {
            JOBS[i as usize]
        } else {
            JOBS[rng.weighted(&weights)]
        };
        let id = person_id(rng, &recent);
        recent.push(id);
        let p = person(seed, id);
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(b"{'credit_id': '");
        out.extend_from_slice(&credit_id(rng));
        out.extend_from_slice(b"', 'department': ");
        py_str(out, department);
        out.extend_from_slice(b", 'gender': ");
        push_int(out, p.gender);
        out.extend_from_slice(b", 'id': ");
        push_int(out, id);
        out.extend_from_slice(b", 'job': ");
        py_str(out, job);
        out.extend_from_slice(b", 'name': ");
        py_str(out, &p.name);
        out.extend_from_slice(b", 'profile_path': ");
        // Crew members have a picture far less often than actors.
        picture(out, &p, (no_picture + 0.45).min(1.0));
        out.push(b'}');
        expected.push(Expected {
            name: p.name,
            other: job.to_owned(),
        });
    }
    out.push(b']');
}

fn picture(out: &mut Vec<u8>, p: &Person, no_picture: f64) {
    if p.no_picture < no_picture {
        out.extend_from_slice(b"None");
    } else {
        out.push(b'\'');
        out.extend_from_slice(&p.picture);
        out.push(b'\'');
    }
}

/// Appends a CSV field as pandas writes it: quoted (inner quotes doubled) when it holds a comma
/// or a quote, as every non-empty list does; `[]` stays bare.
fn csv_field(out: &mut Vec<u8>, field: &[u8]) {
    if !field.iter().any(|&b| b == b',' || b == b'"') {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    let mut start = 0;
    for i in memchr::memchr_iter(b'"', field) {
        out.extend_from_slice(&field[start..=i]);
        out.push(b'"');
        start = i + 1;
    }
    out.extend_from_slice(&field[start..]);
    out.push(b'"');
}

/// Checks that `literal` parses to a list of `expected.len()` dicts with the expected strings.
fn check_literal(literal: &[u8], expected: &[Expected], other_key: &str) -> Result<()> {
    let text = std::str::from_utf8(literal)?;
    let value = pyliteral::parse(text).with_context(|| format!("parsing {text}"))?;
    let Value::List(items) = value else {
        bail!("not a list: {text}");
    };
    ensure!(items.len() == expected.len(), "wrong length: {text}");
    for (item, want) in items.iter().zip(expected) {
        ensure!(
            item.get("name").and_then(Value::as_str) == Some(want.name.as_str())
                && item.get(other_key).and_then(Value::as_str) == Some(want.other.as_str()),
            "element does not round-trip: {:?} / {:?} in {text}",
            want.name,
            want.other
        );
    }
    Ok(())
}

struct CreditsPlan {
    ids: Vec<u32>,
    cast: Vec<u32>,
    crew: Vec<u32>,
}

impl CreditsPlan {
    fn new(args: &Args, links: &Links) -> Self {
        let records = (CREDITS_RECORDS * args.scale).round() as usize;
        // TMDB ids in links.csv order, as the real file has them (duplicates included).
        let ids: Vec<u32> = links
            .rows
            .iter()
            .filter_map(|r| r.1)
            .cycle()
            .take(records)
            .collect();
        let mut rng = Rng::stream(args.seed, S_FILMS, 0);
        let mut counts = |total: f64, empty: f64, max: u32, sigma: f64| {
            let total = (total * args.scale).round() as u64;
            let empty = (empty * args.scale).round() as usize;
            let mut weights: Vec<f64> =
                (0..records).map(|_| (sigma * rng.normal()).exp()).collect();
            let mut empties = 0;
            while empties < empty {
                let i = rng.below(records as u64) as usize;
                if weights[i] > 0.0 {
                    weights[i] = 0.0;
                    empties += 1;
                }
            }
            let nonempty: Vec<f64> = weights.iter().copied().filter(|&w| w > 0.0).collect();
            let mut parts = allocate(&nonempty, total, 1, max).into_iter();
            weights
                .iter()
                .map(|&w| {
                    if w > 0.0 {
                        parts.next().unwrap_or(0)
                    } else {
                        0
                    }
                })
                .collect::<Vec<u32>>()
        };
        let cast = counts(CREDITS_CAST, CREDITS_EMPTY_CAST, MAX_CAST, 0.8);
        let crew = counts(CREDITS_CREW, CREDITS_EMPTY_CREW, MAX_CREW, 1.1);
        Self { ids, cast, crew }
    }

    /// Writes (or, without `out`, only measures) the whole file; returns its byte count.
    fn write(
        &self,
        seed: u64,
        no_picture: f64,
        mut out: Option<&mut Output>,
        check: bool,
    ) -> Result<u64> {
        const HEADER: &[u8] = b"cast,crew,id\n";
        let mut bytes = HEADER.len() as u64;
        if let Some(out) = out.as_deref_mut() {
            out.write(HEADER)?;
        }
        let (mut cast, mut crew, mut line) = (Vec::new(), Vec::new(), Vec::new());
        let (mut want_cast, mut want_crew) = (Vec::new(), Vec::new());
        for (i, &id) in self.ids.iter().enumerate() {
            let mut rng = Rng::stream(seed, S_ELEMENT, i as u64);
            cast.clear();
            crew.clear();
            line.clear();
            want_cast.clear();
            want_crew.clear();
            cast_list(
                &mut cast,
                &mut rng,
                seed,
                self.cast[i],
                no_picture,
                &mut want_cast,
            );
            crew_list(
                &mut crew,
                &mut rng,
                seed,
                self.crew[i],
                no_picture,
                &mut want_crew,
            );
            if check {
                check_literal(&cast, &want_cast, "character")
                    .with_context(|| format!("credits.csv record {} cast", i + 1))?;
                check_literal(&crew, &want_crew, "job")
                    .with_context(|| format!("credits.csv record {} crew", i + 1))?;
            }
            csv_field(&mut line, &cast);
            line.push(b',');
            csv_field(&mut line, &crew);
            line.push(b',');
            push_int(&mut line, u64::from(id));
            line.push(b'\n');
            bytes += line.len() as u64;
            if let Some(out) = out.as_deref_mut() {
                out.write(&line)?;
            }
        }
        Ok(bytes)
    }
}

fn credits(args: &Args, links: &Links) -> Result<Vec<(String, String)>> {
    let plan = CreditsPlan::new(args, links);
    let target = (CREDITS_BYTES * args.scale).round() as u64;
    // More people without a picture means fewer bytes: bisect on the share.
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    ensure!(
        plan.write(args.seed, lo, None, false)? >= target
            && plan.write(args.seed, hi, None, false)? <= target,
        "credits: cannot reach {target} bytes by tuning the share of missing pictures"
    );
    for _ in 0..30 {
        let mid = (lo + hi) / 2.0;
        if plan.write(args.seed, mid, None, false)? > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let share = hi;
    let mut out = Output::create(&args.out, "credits.csv")?;
    let predicted = plan.write(args.seed, share, Some(&mut out), true)?;
    let bytes = out.finish()?;
    ensure!(
        bytes == predicted,
        "credits.csv: wrote {bytes} bytes, expected {predicted}"
    );
    let distinct: HashSet<u32> = plan.ids.iter().copied().collect();
    let sum = |v: &[u32]| v.iter().map(|&c| u64::from(c)).sum::<u64>();
    let empty = |v: &[u32]| v.iter().filter(|&&c| c == 0).count();
    Ok(vec![
        ("credits_records".into(), plan.ids.len().to_string()),
        ("credits_distinct_ids".into(), distinct.len().to_string()),
        ("credits_bytes".into(), bytes.to_string()),
        ("credits_target_bytes".into(), target.to_string()),
        ("credits_cast_elements".into(), sum(&plan.cast).to_string()),
        ("credits_crew_elements".into(), sum(&plan.crew).to_string()),
        ("credits_empty_cast".into(), empty(&plan.cast).to_string()),
        ("credits_empty_crew".into(), empty(&plan.crew).to_string()),
        (
            "credits_max_cast".into(),
            plan.cast.iter().max().copied().unwrap_or(0).to_string(),
        ),
        (
            "credits_max_crew".into(),
            plan.crew.iter().max().copied().unwrap_or(0).to_string(),
        ),
        ("credits_no_picture_share".into(), format!("{share:.6}")),
    ])
}
