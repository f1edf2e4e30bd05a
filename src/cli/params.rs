//! `neardup params`: the LSH banding chosen for a threshold, the
//! probability that a pair becomes a candidate around it (the S-curve), and
//! a warning when a banding given by hand misses pairs at the threshold.

use std::io::{self, Write};

use neardup::Config;
use neardup::lsh::{LshParams, MIN_RECALL_AT_THRESHOLD};
use serde_json::json;

use super::args::{ParamsArgs, ParamsFormat};
use super::{Status, settings};

/// Below the threshold the curve is drawn down to the first point where
/// fewer than this share of pairs become candidates (its foot), 0.05
/// apart; above it, up to 1.
const FOOT: f64 = 0.01;

pub fn run(args: &ParamsArgs) -> anyhow::Result<Status> {
    let banding = (
        args.threshold.as_deref(),
        args.num_perm,
        args.bands,
        args.rows,
    );
    let start = if args.index {
        Config::builder().for_index()
    } else {
        Config::builder()
    };
    let config = settings::with_banding(start, banding)?.build()?;
    let lsh = config.lsh();
    let t = config.threshold().as_f64();
    let at_threshold = lsh.probability(t);
    // The threshold's own row, then every 0.05 around it that is a
    // similarity (in (0, 1]).
    let below = (1..20)
        .take_while(|&k| t - f64::from(k) * 0.05 > 1e-9)
        .position(|k| lsh.probability(t - f64::from(k) * 0.05) < FOOT)
        .map_or(19, |i| i as i32 + 1)
        .min(((t - 1e-9) / 0.05) as i32);
    let mut points: Vec<f64> = (-below..=20)
        .map(|k| t + f64::from(k) * 0.05)
        .filter(|&s| s > 1e-9 && s < 1.0 - 1e-9)
        .map(|s| (s * 1e6).round() / 1e6)
        .collect();
    points.push(1.0);
    // The similarity at which half the pairs become candidates.
    let midpoint = (1.0 / lsh.bands() as f64).powf(1.0 / lsh.rows() as f64);
    let warning = (at_threshold < MIN_RECALL_AT_THRESHOLD).then(|| {
        let default = if args.index {
            LshParams::for_index
        } else {
            LshParams::for_threshold
        };
        let suggestion = default(config.threshold(), config.num_perm())
            .map(|p| {
                format!(
                    "; the default for this threshold is --bands {} --rows {}",
                    p.bands(),
                    p.rows()
                )
            })
            .unwrap_or_default();
        format!(
            "only {at_threshold:.4} of pairs at the threshold become candidates (neardup's default \
             bandings reach {MIN_RECALL_AT_THRESHOLD}): about {:.1} in 1,000 duplicates at the \
             threshold would be missed{suggestion}",
            (1.0 - at_threshold) * 1000.0
        )
    });

    let k = config.shingle_size();
    let containment = match args.containment_words {
        Some(n) => match neardup::containment::window_for(k, n) {
            Some(window) => Some((n, window)),
            None => anyhow::bail!(
                "--containment-words {n}: {k} words (one shingle) to {}",
                neardup::containment::MAX_WORDS
            ),
        },
        None => None,
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.output_format {
        ParamsFormat::Text => {
            writeln!(
                out,
                "threshold {}  num_perm {}  ->  bands {} x rows {} ({} of {} signature values)",
                config.threshold(),
                config.num_perm(),
                lsh.bands(),
                lsh.rows(),
                lsh.bands() * lsh.rows(),
                config.num_perm()
            )?;
            writeln!(
                out,
                "probability that a pair becomes a candidate, by Jaccard similarity \
                 (half of the pairs at J = {midpoint:.2}):"
            )?;
            const WIDTH: f64 = 40.0;
            // As many decimals as the threshold has (at least two), so its
            // row reads as typed: 0.825, not 0.82.
            let decimals = config
                .threshold()
                .to_string()
                .split('.')
                .nth(1)
                .map_or(0, str::len)
                .max(2);
            for &s in &points {
                let p = lsh.probability(s);
                let bar = "#".repeat((p * WIDTH).round() as usize);
                let mark = if (s - t).abs() < 1e-9 {
                    "  <- threshold"
                } else {
                    ""
                };
                writeln!(out, "  J = {s:.decimals$}  P = {p:.4}  |{bar:<40}|{mark}")?;
            }
            if let Some((n, window)) = containment {
                writeln!(
                    out,
                    "containment ({n} words): winnowing window {window} over {k}-word shingles (about \
                     {:.1}% of them selected); any shared run of {} words with a kept paragraph \
                     or a variant (a near-duplicate with a text of its own) is always found \
                     (fingerprints of more than {} kept paragraphs, or variants, excepted)",
                    200.0 / (window as f64 + 1.0),
                    neardup::containment::guarantee(k, window),
                    args.containment_cap,
                )?;
            }
            out.flush()?;
            if let Some(w) = &warning {
                eprintln!("warning: {w}");
            }
        }
        ParamsFormat::Json => {
            let curve: Vec<_> = points
                .iter()
                .map(|&s| json!({"jaccard": s, "probability": lsh.probability(s)}))
                .collect();
            let doc = json!({
                "threshold": config.threshold().to_string(),
                "num_perm": config.num_perm(),
                "bands": lsh.bands(),
                "rows": lsh.rows(),
                "probability_at_threshold": at_threshold,
                "midpoint": midpoint,
                "curve": curve,
                "warning": warning,
            });
            let mut doc = doc;
            if let Some((n, window)) = containment {
                doc["containment"] = json!({
                    "words": n,
                    "window": window,
                    "guaranteed_words": neardup::containment::guarantee(k, window),
                    "cap": args.containment_cap,
                });
            }
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
            out.flush()?;
        }
    }
    Ok(Status::Clean)
}
