//! Draws two pictures of the movie tables as SVG (docs/img/genre_medians.svg and
//! docs/img/hidden_gems.svg are made with it, from the real files, docs/examples.md):
//!
//! * per genre, box plots of the movies' median ratings (movie_rating_percentiles joined to
//!   stg_movie_genres through stg_links; movies with at least 10 ratings): the box is the middle
//!   half of the genre's movies, the whiskers the lowest and highest, the line the median;
//! * movie_hidden_gems as a scatter: exposure percentile (TMDB votes) across, quality percentile
//!   (weighted rating) up, the hidden gems in their corner.
//!
//! `cargo run --example movie_charts -- [--url mysql://.../movies] [--out-dir DIR]` (the URL
//! defaults to MOVIES_DATABASE_URL, then mysql://root@127.0.0.1:3306/movies).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use mysql::prelude::Queryable;

const WIDTH: f64 = 960.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 60.0;

fn main() {
    let mut url = std::env::var("MOVIES_DATABASE_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/movies".to_owned());
    let mut out_dir = "docs/img".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| panic!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--url" => url = value(),
            "--out-dir" => out_dir = value(),
            other => panic!("unknown argument {other}: use --url URL, --out-dir DIR"),
        }
    }
    let mut conn = mysql::Conn::new(mysql::Opts::from_url(&url).expect("a mysql:// URL"))
        .expect("connecting to the movies database");

    let medians: Vec<(String, f64)> = conn
        .query(
            "select stg_movie_genres.genre_name, cast(movie_rating_percentiles.median_rating as double) \
             from movie_rating_percentiles \
             inner join stg_movie_genres on stg_movie_genres.movie_id = movie_rating_percentiles.movie_id \
             where not movie_rating_percentiles.is_low_sample",
        )
        .expect("reading movie_rating_percentiles");
    let mut per_genre: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (genre, median) in medians {
        per_genre.entry(genre).or_default().push(median);
    }
    let path = format!("{out_dir}/genre_medians.svg");
    std::fs::write(&path, box_plots(per_genre)).unwrap_or_else(|e| panic!("writing {path}: {e}"));
    println!("{path}");

    let gems: Vec<(f64, f64, bool, String)> = conn
        .query(
            "select exposure_percentile, quality_percentile, is_hidden_gem, title \
             from movie_hidden_gems where exposure_percentile is not null and not is_low_sample \
             order by movie_id",
        )
        .expect("reading movie_hidden_gems");
    let path = format!("{out_dir}/hidden_gems.svg");
    std::fs::write(&path, scatter(&gems)).unwrap_or_else(|e| panic!("writing {path}: {e}"));
    println!("{path}: {} movies", gems.len());
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn header(svg: &mut String, height: f64, title: &str, subtitle: &[&str]) {
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">
<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>
<text x="20" y="22" font-size="15" font-weight="bold">{}</text>"##,
        escape(title)
    );
    for (i, line) in subtitle.iter().enumerate() {
        let _ = writeln!(
            svg,
            r##"<text x="20" y="{}" fill="#555555">{}</text>"##,
            40 + 16 * i,
            escape(line)
        );
    }
}

/// Continuous percentile with linear interpolation (as the table computes its own).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let position = p * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = (low + 1).min(sorted.len() - 1);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

/// One horizontal box plot per genre (genres with at least 5 movies), by median, stars 0.5..5.
fn box_plots(per_genre: BTreeMap<String, Vec<f64>>) -> String {
    let mut rows: Vec<(String, [f64; 5], usize)> = per_genre
        .into_iter()
        .filter(|(_, v)| v.len() >= 5)
        .map(|(genre, mut v)| {
            v.sort_by(f64::total_cmp);
            let five = [0.0, 0.25, 0.5, 0.75, 1.0].map(|p| percentile(&v, p));
            (genre, five, v.len())
        })
        .collect();
    rows.sort_by(|a, b| b.1[2].total_cmp(&a.1[2]).then(a.0.cmp(&b.0)));
    let row_h = 24.0;
    let height = TOP + 40.0 + row_h * rows.len() as f64 + 40.0;
    let plot_w = WIDTH - LEFT - RIGHT - 60.0;
    let x = |stars: f64| LEFT + plot_w * (stars - 0.5) / 4.5;
    let mut svg = String::new();
    header(
        &mut svg,
        height,
        "Median rating of each movie, per genre",
        &[
            "movie_rating_percentiles, movies with at least 10 ratings (a movie counts in each of \
             its genres; genres with 5 movies or more)",
            "box = the middle half of the genre's movies, whiskers = the lowest and highest, \
             line = the genre's median",
        ],
    );
    let bottom = TOP + 30.0 + row_h * rows.len() as f64;
    for half_stars in 1..=10 {
        let stars = f64::from(half_stars) / 2.0;
        let xx = x(stars);
        let _ = writeln!(
            svg,
            r##"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{bottom:.1}" stroke="#e5e5e5"/>
<text x="{xx:.1}" y="{:.1}" text-anchor="middle" fill="#444444">{stars}</text>"##,
            TOP + 10.0,
            bottom + 16.0
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#444444">stars</text>"##,
        x(2.75),
        bottom + 34.0
    );
    for (i, (genre, [min, p25, median, p75, max], n)) in rows.iter().enumerate() {
        let cy = TOP + 30.0 + row_h * (i as f64 + 0.5);
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>
<line x1="{:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke="#555555"/>
<rect x="{:.1}" y="{:.1}" width="{:.1}" height="14" fill="#9ecae1" stroke="#3182bd"/>
<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#08306b" stroke-width="2"/>
<text x="{:.1}" y="{:.1}" fill="#777777">{n} movies</text>"##,
            LEFT - 10.0,
            cy + 4.0,
            escape(genre),
            x(*min),
            x(*max),
            x(*p25),
            cy - 7.0,
            (x(*p75) - x(*p25)).max(1.0),
            x(*median),
            cy - 7.0,
            x(*median),
            cy + 7.0,
            x(5.0) + 8.0,
            cy + 4.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Exposure percentile across, quality percentile up; hidden gems in orange.
fn scatter(movies: &[(f64, f64, bool, String)]) -> String {
    let size = 560.0;
    let height = TOP + size + 70.0;
    let (x0, y0) = (90.0, TOP + 20.0);
    let x = |p: f64| x0 + size * p;
    let y = |p: f64| y0 + size * (1.0 - p);
    let mut svg = String::new();
    let gems = movies.iter().filter(|m| m.2).count();
    header(
        &mut svg,
        height,
        "Hidden gems: loved by the raters, unknown at TMDB",
        &[
            &format!(
                "movie_hidden_gems: {} movies with at least 10 ratings and a TMDB vote count",
                movies.len()
            ),
            &format!(
                "orange: the {gems} hidden gems (top two quality deciles, bottom three exposure \
                 deciles)"
            ),
        ],
    );
    // the gems' corner: quality decile 9-10 (percentile about 0.8+), exposure decile 1-3 (0.3-)
    let _ = writeln!(
        svg,
        r##"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#fff3e0"/>"##,
        y(1.0),
        size * 0.3,
        size * 0.2
    );
    for tick in 0..=10 {
        let p = f64::from(tick) / 10.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#eeeeee"/>
<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#eeeeee"/>
<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#444444">{p:.1}</text>
<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444444">{p:.1}</text>"##,
            x(p),
            y(0.0),
            x(p),
            y(1.0),
            x(0.0),
            y(p),
            x(1.0),
            y(p),
            x(p),
            y(0.0) + 16.0,
            x0 - 6.0,
            y(p) + 4.0
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">exposure percentile (TMDB vote count), 0 = least known</text>
<text x="{:.1}" y="{:.1}" text-anchor="middle" transform="rotate(-90 {:.1} {:.1})">quality percentile (weighted rating)</text>"##,
        x(0.5),
        y(0.0) + 36.0,
        x0 - 40.0,
        y(0.5),
        x0 - 40.0,
        y(0.5)
    );
    for (exposure, quality, _, _) in movies.iter().filter(|m| !m.2) {
        let _ = writeln!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="2" fill="#6baed6" fill-opacity="0.6"/>"##,
            x(*exposure),
            y(*quality)
        );
    }
    for (exposure, quality, _, _) in movies.iter().filter(|m| m.2) {
        let _ = writeln!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#e6550d"/>"##,
            x(*exposure),
            y(*quality)
        );
    }
    // name the five best-kept secrets beside the plot
    let mut best: Vec<&(f64, f64, bool, String)> = movies.iter().filter(|m| m.2).collect();
    best.sort_by(|a, b| (b.1 - b.0).total_cmp(&(a.1 - a.0)));
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" font-weight="bold">Best-kept secrets</text>"##,
        x(1.0) + 30.0,
        y0 + 20.0
    );
    for (i, movie) in best.iter().take(5).enumerate() {
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" fill="#e6550d">{}</text>"##,
            x(1.0) + 30.0,
            y0 + 40.0 + 18.0 * i as f64,
            escape(&movie.3)
        );
    }
    svg.push_str("</svg>\n");
    svg
}
