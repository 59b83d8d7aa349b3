//! Draws rollup.weekly_rentals as an SVG line chart (docs/img/weekly_rentals.svg is made with it):
//! new and returned rentals per week, rentals outstanding at the end of each week and rentals out
//! at any moment of it. Reads the table, writes the file; no dependency beyond the postgres client.
//!
//! `cargo run --example rollup_chart -- [--url postgres://.../rollup] [--out FILE] [--title TEXT]`
//! (the URL defaults to ROLLUP_DATABASE_URL, then postgres://postgres@127.0.0.1:5432/rollup).

use std::fmt::Write as _;

use postgres::{Client, NoTls};

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 56.0;
const BOTTOM: f64 = 70.0;

struct Week {
    week_beginning: String,
    series: [i64; 4],
}

const SERIES: [(&str, &str, &str); 4] = [
    ("new rentals", "#1f77b4", ""),
    ("returned rentals", "#2ca02c", ""),
    ("outstanding at week end", "#d62728", ""),
    ("out during the week", "#ff7f0e", "6 4"),
];

fn main() {
    let mut url = std::env::var("ROLLUP_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/rollup".to_owned());
    let mut out = "docs/img/weekly_rentals.svg".to_owned();
    let mut title = "rollup.weekly_rentals".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| panic!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--url" => url = value(),
            "--out" => out = value(),
            "--title" => title = value(),
            other => panic!("unknown argument {other}: use --url URL, --out FILE, --title TEXT"),
        }
    }
    let mut client = Client::connect(&url, NoTls).expect("connecting to the rollup database");
    let weeks: Vec<Week> = client
        .query(
            "select to_char(week_beginning, 'YYYY-MM-DD'), new_rentals::bigint, \
                 returned_rentals::bigint, outstanding_rentals::bigint, \
                 rentals_out_during_week::bigint \
             from rollup.weekly_rentals order by week_beginning",
            &[],
        )
        .expect("reading rollup.weekly_rentals")
        .iter()
        .map(|r| Week {
            week_beginning: r.get(0),
            series: [r.get(1), r.get(2), r.get(3), r.get(4)],
        })
        .collect();
    assert!(!weeks.is_empty(), "rollup.weekly_rentals is empty");
    let svg = render(&weeks, &title);
    std::fs::write(&out, svg).unwrap_or_else(|e| panic!("writing {out}: {e}"));
    println!("{out}: {} weeks", weeks.len());
}

/// A round step for about `n` ticks up to `max`.
fn tick_step(max: f64, n: f64) -> f64 {
    let raw = (max / n).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude)
}

fn render(weeks: &[Week], title: &str) -> String {
    let max = weeks
        .iter()
        .flat_map(|w| w.series)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let step = tick_step(max, 6.0);
    let top_value = (max / step).ceil() * step;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |i: usize| {
        if weeks.len() == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (weeks.len() - 1) as f64
        }
    };
    let y = |v: f64| TOP + plot_h * (1.0 - v / top_value);

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r##"<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{}</text>"#,
        escape(title)
    );
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="40" fill="#555555">weeks from {} to {} (Monday 00:00 UTC), {} weeks</text>"##,
        weeks[0].week_beginning,
        weeks[weeks.len() - 1].week_beginning,
        weeks.len()
    );
    // Horizontal grid and y labels.
    let mut value = 0.0;
    while value <= top_value + 0.5 {
        let yy = y(value);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#e5e5e5"/>"##,
            WIDTH - RIGHT
        );
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444444">{}</text>"##,
            LEFT - 8.0,
            yy + 4.0,
            value as i64
        );
        value += step;
    }
    // X labels: about twelve, at week starts.
    let every = weeks.len().div_ceil(12).max(1);
    for (i, week) in weeks.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let xx = x(i);
        let _ = writeln!(
            svg,
            r##"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{:.1}" stroke="#999999"/>"##,
            TOP + plot_h,
            TOP + plot_h + 5.0
        );
        let _ = writeln!(
            svg,
            r##"<text x="{xx:.1}" y="{:.1}" text-anchor="end" transform="rotate(-40 {xx:.1} {:.1})" fill="#444444">{}</text>"##,
            TOP + plot_h + 18.0,
            TOP + plot_h + 18.0,
            week.week_beginning
        );
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999999"/>"##,
        TOP + plot_h,
        WIDTH - RIGHT,
        TOP + plot_h
    );
    // The series.
    for (s, (_, color, dash)) in SERIES.iter().enumerate() {
        let points: Vec<String> = weeks
            .iter()
            .enumerate()
            .map(|(i, w)| format!("{:.1},{:.1}", x(i), y(w.series[s] as f64)))
            .collect();
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{}"/>"#,
            points.join(" ")
        );
    }
    // Legend, top left (series tend to start low).
    for (s, (name, color, dash)) in SERIES.iter().enumerate() {
        let lx = LEFT + 20.0;
        let ly = TOP + 12.0 + 18.0 * s as f64;
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="2"{dash}/>"#,
            lx + 24.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}">{name}</text>"#,
            lx + 30.0,
            ly + 4.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
