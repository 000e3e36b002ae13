//! A tiny SVG bar chart for bench/RESULTS.md: one group of bars per metric, every bar
//! drawn as its ratio to the Go server of the same run (Go = 1.0, the dashed line).
//!
//! Input: a TSV with one row per (metric, server):
//! `metric<TAB>server<TAB>value<TAB>unit<TAB>higher|lower<TAB>role`, role being
//! gonet, go, may or tokio (it picks the colour, so a peer keeps its colour across groups).
//! Rows whose value is not a positive number are skipped (a server that did not run).

use std::fmt::Write as _;
use std::io;

struct Row {
    role: String,
    server: String,
    value: f64,
    unit: String,
}

struct Group {
    metric: String,
    higher_better: bool,
    rows: Vec<Row>,
}

const ROLES: [&str; 4] = ["gonet", "go", "may", "tokio"];
const COLORS: [&str; 5] = ["#d9480f", "#1c7ed6", "#2f9e44", "#7048e8", "#868e96"];

pub fn run(input: &str, output: &str) -> io::Result<()> {
    let text = std::fs::read_to_string(input)?;
    let mut groups: Vec<Group> = Vec::new();
    let mut servers: Vec<String> = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 {
            continue;
        }
        let Ok(value) = f[2].trim().parse::<f64>() else {
            continue;
        };
        // Zero, negative or NaN: nothing to draw on a ratio chart.
        if value.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            continue;
        }
        let server = f[1].trim().to_string();
        if !servers.contains(&server) {
            servers.push(server.clone());
        }
        let role = f.get(5).map_or(String::new(), |r| r.trim().to_string());
        let row = Row {
            role,
            server,
            value,
            unit: f[3].trim().to_string(),
        };
        match groups.iter_mut().find(|g| g.metric == f[0]) {
            Some(g) => g.rows.push(row),
            None => groups.push(Group {
                metric: f[0].to_string(),
                higher_better: f[4].trim() != "lower",
                rows: vec![row],
            }),
        }
    }
    std::fs::write(output, render(&groups, &servers))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn human(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn render(groups: &[Group], _servers: &[String]) -> String {
    let (left, bar_w, width) = (150.0, 430.0, 780.0);
    let bar_h = 16.0;
    let mut y = 48.0;
    let mut body = String::new();
    let mut max_ratio: f64 = 1.0;
    let ratios: Vec<Vec<f64>> = groups
        .iter()
        .map(|g| {
            let reference = g
                .rows
                .iter()
                .find(|r| r.server.starts_with("Go"))
                .map_or_else(
                    || g.rows.iter().map(|r| r.value).fold(0.0, f64::max),
                    |r| r.value,
                );
            g.rows.iter().map(|r| r.value / reference).collect()
        })
        .collect();
    for r in ratios.iter().flatten() {
        max_ratio = max_ratio.max(*r);
    }
    let scale = bar_w / max_ratio.min(4.0);
    for (g, rs) in groups.iter().zip(&ratios) {
        let hint = if g.higher_better {
            "higher is better"
        } else {
            "lower is better"
        };
        let _ = writeln!(
            body,
            r##"<text x="10" y="{:.0}" font-weight="bold">{} <tspan font-weight="normal" fill="#666">({hint}; bar = ratio to Go)</tspan></text>"##,
            y + 12.0,
            esc(&g.metric)
        );
        y += 20.0;
        let top = y;
        for (row, ratio) in g.rows.iter().zip(rs) {
            let ci = ROLES
                .iter()
                .position(|r| *r == row.role)
                .unwrap_or(COLORS.len() - 1);
            let w = (ratio * scale).min(bar_w + 20.0).max(1.0);
            let _ = writeln!(
                body,
                r#"<text x="{:.0}" y="{:.0}" text-anchor="end">{}</text><rect x="{left}" y="{y:.0}" width="{w:.1}" height="{bar_h}" fill="{}"/><text x="{:.0}" y="{:.0}">{ratio:.2}x  ({} {})</text>"#,
                left - 8.0,
                y + 12.0,
                esc(&row.server),
                COLORS[ci],
                // past the bar, and past the dashed Go line when the bar ends near it
                if (left + w - (left + scale)).abs() < 40.0 {
                    left + w.max(scale) + 6.0
                } else {
                    left + w + 6.0
                },
                y + 12.0,
                human(row.value),
                esc(&row.unit)
            );
            y += bar_h + 4.0;
        }
        let x1 = left + scale;
        let _ = writeln!(
            body,
            r##"<line x1="{x1:.1}" y1="{:.0}" x2="{x1:.1}" y2="{:.0}" stroke="#000" stroke-dasharray="3,3"/>"##,
            top - 2.0,
            y
        );
        y += 14.0;
    }
    let height = y + 10.0;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0}" viewBox="0 0 {width} {height:.0}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="24" font-size="16" font-weight="bold">gonet vs Go, plain may, tokio: one run on loopback (bench/RESULTS.md)</text>
{body}</svg>
"##
    )
}
