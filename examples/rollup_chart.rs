//! Draws the rollup's pictures as SVG files (the ones in docs/img are made with it, from the real
//! Pagila):
//!
//! - `weekly_rentals.svg`: rollup.weekly_rentals, new and returned rentals per week, rentals
//!   outstanding at the end of each week as recorded and when each rental ends at its effective
//!   return, rentals out at any moment of the week; gap weeks and the partial last week shaded.
//! - `copies_vs_peak.svg`: rollup.inventory_recommendation, each film-store pair placed by the
//!   copies it owns and the copies recommended; pairs above the diagonal are short, below it have
//!   a surplus.
//! - `forecast_backtest.svg`: the two baseline forecasts of next week's peak copies out, their
//!   absolute error per week summed over film-store pairs against the actual peaks, from
//!   rollup.film_store_weekly_features (the weeks rollup.forecast_backtest scores), with the
//!   overall MAE and WAPE of rollup.forecast_backtest.
//!
//! Reads the tables, writes the files; no dependency beyond the postgres client.
//!
//! `cargo run --example rollup_chart -- [--url postgres://.../rollup] [--out-dir DIR] [--source TEXT]`
//! (the URL defaults to ROLLUP_DATABASE_URL, then postgres://postgres@127.0.0.1:5432/rollup; the
//! directory to docs/img; the source name, shown in each title, to "Pagila").

use std::fmt::Write as _;

use postgres::{Client, NoTls};

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 56.0;
const BOTTOM: f64 = 70.0;

/// One line of a line chart: name, colour, dash pattern ("" for solid), one value per week.
struct Series {
    name: String,
    color: &'static str,
    dash: &'static str,
    values: Vec<Option<f64>>,
}

struct LineChart {
    title: String,
    subtitle: String,
    weeks: Vec<String>,
    series: Vec<Series>,
    /// Weeks shaded grey (gap weeks, the partial last week), by index.
    shaded: Vec<usize>,
    shaded_label: String,
}

fn main() {
    let mut url = std::env::var("ROLLUP_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/rollup".to_owned());
    let mut out_dir = "docs/img".to_owned();
    let mut source = "Pagila".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| panic!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--url" => url = value(),
            "--out-dir" => out_dir = value(),
            "--source" => source = value(),
            other => {
                panic!("unknown argument {other}: use --url URL, --out-dir DIR, --source TEXT")
            }
        }
    }
    let mut client = Client::connect(&url, NoTls).expect("connecting to the rollup database");
    let charts = [
        ("weekly_rentals.svg", weekly_rentals(&mut client, &source)),
        ("copies_vs_peak.svg", copies_vs_peak(&mut client, &source)),
        (
            "forecast_backtest.svg",
            forecast_backtest(&mut client, &source),
        ),
    ];
    for (name, svg) in charts {
        let path = format!("{out_dir}/{name}");
        std::fs::write(&path, svg).unwrap_or_else(|e| panic!("writing {path}: {e}"));
        println!("{path}");
    }
}

/// The weeks with no rental and no return anywhere, and the partial last week, by index.
fn shaded_weeks(client: &mut Client, weeks: &[String]) -> Vec<usize> {
    let flagged: Vec<String> = client
        .query(
            "select distinct to_char(week_beginning, 'YYYY-MM-DD') \
             from rollup.film_store_weekly_features where is_gap_week or is_partial_week",
            &[],
        )
        .expect("reading the gap weeks from rollup.film_store_weekly_features")
        .iter()
        .map(|r| r.get(0))
        .collect();
    weeks
        .iter()
        .enumerate()
        .filter(|(_, w)| flagged.contains(w))
        .map(|(i, _)| i)
        .collect()
}

fn weekly_rentals(client: &mut Client, source: &str) -> String {
    let rows = client
        .query(
            "select to_char(week_beginning, 'YYYY-MM-DD'), new_rentals::float8, \
                 returned_rentals::float8, outstanding_rentals::float8, \
                 effective_outstanding_rentals::float8, rentals_out_during_week::float8, \
                 inferred_returns::bigint \
             from rollup.weekly_rentals order by week_beginning",
            &[],
        )
        .expect("reading rollup.weekly_rentals");
    assert!(!rows.is_empty(), "rollup.weekly_rentals is empty");
    let weeks: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let column = |i: usize| -> Vec<Option<f64>> { rows.iter().map(|r| Some(r.get(i))).collect() };
    let inferred: i64 = rows.iter().map(|r| r.get::<_, i64>(6)).sum();
    let shaded = shaded_weeks(client, &weeks);
    let chart = LineChart {
        title: format!("{source}: rollup.weekly_rentals"),
        subtitle: format!(
            "weeks from {} to {} (Monday 00:00 UTC), {} weeks; {inferred} returns never recorded, \
             inferred from the copy's next rental",
            weeks[0],
            weeks[weeks.len() - 1],
            weeks.len()
        ),
        series: vec![
            Series {
                name: "new rentals".into(),
                color: "#1f77b4",
                dash: "",
                values: column(1),
            },
            Series {
                name: "returned rentals (recorded)".into(),
                color: "#2ca02c",
                dash: "",
                values: column(2),
            },
            Series {
                name: "outstanding at week end (recorded)".into(),
                color: "#d62728",
                dash: "",
                values: column(3),
            },
            Series {
                name: "outstanding at week end (effective returns)".into(),
                color: "#9467bd",
                dash: "3 3",
                values: column(4),
            },
            Series {
                name: "out during the week (recorded)".into(),
                color: "#ff7f0e",
                dash: "6 4",
                values: column(5),
            },
        ],
        weeks,
        shaded,
        shaded_label: "grey: weeks with no rental and no return, and the partial last week".into(),
    };
    render_lines(&chart)
}

fn forecast_backtest(client: &mut Client, source: &str) -> String {
    let rows = client
        .query(
            "select to_char(week_beginning + 7, 'YYYY-MM-DD'), \
                 sum(target_next_peak)::float8, \
                 sum(abs(target_next_peak - forecast_last_week))::float8, \
                 sum(abs(target_next_peak - forecast_mean_4))::float8 \
             from rollup.film_store_weekly_features \
             where is_target_usable \
             group by week_beginning order by week_beginning",
            &[],
        )
        .expect("reading rollup.film_store_weekly_features");
    assert!(!rows.is_empty(), "no week has a usable target");
    let overall = client
        .query(
            "select baseline, weeks_scored, mae::float8, wape::float8 \
             from rollup.forecast_backtest where scope = 'overall' order by baseline",
            &[],
        )
        .expect("reading rollup.forecast_backtest");
    let summary: Vec<String> = overall
        .iter()
        .map(|r| {
            format!(
                "{}: MAE {:.3} copies, WAPE {:.1}%",
                r.get::<_, String>(0),
                r.get::<_, f64>(2),
                100.0 * r.get::<_, Option<f64>>(3).unwrap_or(f64::NAN)
            )
        })
        .collect();
    let scored: i32 = overall.first().map(|r| r.get(1)).unwrap_or(0);
    let weeks: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let column = |i: usize| -> Vec<Option<f64>> { rows.iter().map(|r| Some(r.get(i))).collect() };
    let chart = LineChart {
        title: format!(
            "{source}: baseline forecasts of next week's peak copies out, error summed over film-store pairs"
        ),
        subtitle: format!(
            "target week on the axis; {scored} film-store-weeks scored; {}",
            summary.join("; ")
        ),
        series: vec![
            Series {
                name: "actual peak copies out, summed".into(),
                color: "#333333",
                dash: "",
                values: column(1),
            },
            Series {
                name: "absolute error, last week's peak".into(),
                color: "#d62728",
                dash: "",
                values: column(2),
            },
            Series {
                name: "absolute error, mean of the last 4 weeks".into(),
                color: "#1f77b4",
                dash: "6 4",
                values: column(3),
            },
        ],
        weeks,
        shaded: Vec::new(),
        shaded_label: String::new(),
    };
    render_lines(&chart)
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

fn header(svg: &mut String, title: &str, subtitle: &str) {
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
        r##"<text x="{LEFT}" y="40" fill="#555555">{}</text>"##,
        escape(subtitle)
    );
}

fn render_lines(chart: &LineChart) -> String {
    let weeks = &chart.weeks;
    let max = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(1.0f64, |a, b| a.max(*b));
    let step = tick_step(max, 6.0);
    let top_value = (max / step).ceil() * step;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / weeks.len().max(1) as f64;
    let x = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let y = |v: f64| TOP + plot_h * (1.0 - v / top_value);

    let mut svg = String::new();
    header(&mut svg, &chart.title, &chart.subtitle);
    for &i in &chart.shaded {
        let _ = writeln!(
            svg,
            r##"<rect x="{:.1}" y="{TOP}" width="{slot:.1}" height="{plot_h}" fill="#eeeeee"/>"##,
            x(i) - slot / 2.0
        );
    }
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
    // X labels: about fifteen, at week starts.
    let every = weeks.len().div_ceil(15).max(1);
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
            r##"<text x="{xx:.1}" y="{:.1}" text-anchor="end" transform="rotate(-40 {xx:.1} {:.1})" fill="#444444">{week}</text>"##,
            TOP + plot_h + 18.0,
            TOP + plot_h + 18.0,
        );
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999999"/>"##,
        TOP + plot_h,
        WIDTH - RIGHT,
        TOP + plot_h
    );
    for series in &chart.series {
        let points: Vec<String> = series
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{}" stroke-width="2"{} points="{}"/>"#,
            series.color,
            dash_attr(series.dash),
            points.join(" ")
        );
    }
    // Legend, top left: both charts start low (the weekly series in the gap weeks).
    let lx = LEFT + 40.0;
    for (s, series) in chart.series.iter().enumerate() {
        let ly = TOP + 12.0 + 18.0 * s as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2"{}/>"#,
            lx + 24.0,
            series.color,
            dash_attr(series.dash)
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 30.0,
            ly + 4.0,
            escape(&series.name)
        );
    }
    if !chart.shaded_label.is_empty() {
        let _ = writeln!(
            svg,
            r##"<text x="{lx:.1}" y="{:.1}" fill="#555555">{}</text>"##,
            TOP + 16.0 + 18.0 * chart.series.len() as f64,
            escape(&chart.shaded_label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Film-store pairs by copies owned (x) and copies recommended (y), one circle per pair of
/// values, its area the number of pairs; the diagonal is "owns what it needs".
fn copies_vs_peak(client: &mut Client, source: &str) -> String {
    let rows = client
        .query(
            "select copies_owned, copies_recommended, count(*)::bigint \
             from rollup.inventory_recommendation \
             group by copies_owned, copies_recommended order by 1, 2",
            &[],
        )
        .expect("reading rollup.inventory_recommendation");
    assert!(!rows.is_empty(), "rollup.inventory_recommendation is empty");
    let cells: Vec<(i32, i32, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let pairs: i64 = cells.iter().map(|c| c.2).sum();
    let short: i64 = cells.iter().filter(|c| c.1 > c.0).map(|c| c.2).sum();
    let over: i64 = cells.iter().filter(|c| c.1 < c.0).map(|c| c.2).sum();
    let short_copies: i64 = cells
        .iter()
        .filter(|c| c.1 > c.0)
        .map(|c| i64::from(c.1 - c.0) * c.2)
        .sum();
    let surplus_copies: i64 = cells
        .iter()
        .filter(|c| c.1 < c.0)
        .map(|c| i64::from(c.0 - c.1) * c.2)
        .sum();
    let max_axis = cells.iter().map(|c| c.0.max(c.1)).max().unwrap_or(1).max(1) as f64;
    let biggest = cells.iter().map(|c| c.2).max().unwrap_or(1) as f64;

    let plot_h = HEIGHT - TOP - BOTTOM;
    let plot_w = plot_h; // square, so the diagonal is at 45 degrees
    let x = |v: f64| LEFT + plot_w * (v + 0.5) / (max_axis + 1.0);
    let y = |v: f64| TOP + plot_h * (1.0 - (v + 0.5) / (max_axis + 1.0));
    let mut svg = String::new();
    header(
        &mut svg,
        &format!("{source}: copies owned against copies recommended, per film and store"),
        &format!(
            "{pairs} film-store pairs; {short} short by {short_copies} copies in all, {over} with \
             {surplus_copies} copies to spare, {} as needed (90% of complete weeks served)",
            pairs - short - over
        ),
    );
    for v in 0..=max_axis as i64 {
        let v = v as f64;
        let _ = writeln!(
            svg,
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#eeeeee"/>"##,
            x(v),
            TOP,
            x(v),
            TOP + plot_h
        );
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#eeeeee"/>"##,
            y(v),
            LEFT + plot_w,
            y(v)
        );
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#444444">{v}</text>"##,
            x(v),
            TOP + plot_h + 18.0
        );
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444444">{v}</text>"##,
            LEFT - 8.0,
            y(v) + 4.0
        );
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999999" stroke-dasharray="4 4"/>"##,
        x(-0.5),
        y(-0.5),
        x(max_axis + 0.5),
        y(max_axis + 0.5)
    );
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#444444">copies owned</text>"##,
        LEFT + plot_w / 2.0,
        TOP + plot_h + 40.0
    );
    let _ = writeln!(
        svg,
        r##"<text x="18" y="{:.1}" text-anchor="middle" transform="rotate(-90 18 {:.1})" fill="#444444">copies recommended</text>"##,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0
    );
    let cell = plot_w / (max_axis + 1.0);
    for &(owned, needed, count) in &cells {
        let color = match needed.cmp(&owned) {
            std::cmp::Ordering::Greater => "#d62728",
            std::cmp::Ordering::Less => "#2ca02c",
            std::cmp::Ordering::Equal => "#7f7f7f",
        };
        let r = 0.48 * cell * (count as f64 / biggest).sqrt();
        let (cx, cy) = (x(f64::from(owned)), y(f64::from(needed)));
        let _ = writeln!(
            svg,
            r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="{:.1}" fill="{color}" fill-opacity="0.55"/>"#,
            r.max(2.0)
        );
        let _ = writeln!(
            svg,
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="11">{count}</text>"#,
            cy + 4.0
        );
    }
    // Legend and reading guide, right of the square plot.
    let lx = LEFT + plot_w + 50.0;
    let notes = [
        ("#d62728", "above the diagonal: short (needs more copies)"),
        ("#2ca02c", "below the diagonal: surplus (copies to move)"),
        ("#7f7f7f", "on the diagonal: owns what it needs"),
    ];
    for (i, (color, text)) in notes.iter().enumerate() {
        let ly = TOP + 20.0 + 22.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<circle cx="{lx:.1}" cy="{ly:.1}" r="7" fill="{color}" fill-opacity="0.55"/>"#
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}">{text}</text>"#,
            lx + 14.0,
            ly + 4.0
        );
    }
    let guide = [
        "Each circle: the film-store pairs with those two counts;",
        "its number is how many, its area grows with it.",
        "Copies recommended: the 90th percentile of the weekly",
        "peak copies out over the complete weeks, plus one when",
        "more than 10% of them were stock-outs (every copy out).",
        "rollup.inventory_recommendation; docs/forecasting.md.",
    ];
    for (i, line) in guide.iter().enumerate() {
        let _ = writeln!(
            svg,
            r##"<text x="{lx:.1}" y="{:.1}" fill="#555555">{line}</text>"##,
            TOP + 110.0 + 16.0 * i as f64
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn dash_attr(dash: &str) -> String {
    if dash.is_empty() {
        String::new()
    } else {
        format!(r#" stroke-dasharray="{dash}""#)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
