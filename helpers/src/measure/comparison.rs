//! The result of [`compare`](crate::compare): a table of candidates with ratios, and a chart.

use super::stats::Summary;
use super::throughput::{throughput_cells, Throughput, THROUGHPUT_COLUMNS};
use super::timing::footnote;
use crate::error::{HprError, Result};
use crate::machine::build_profile::BuildProfile;
use crate::machine::clock::Clock;
use crate::render::html::{csv_field, result_block, Table};
use crate::render::plot::{bar_chart, Bar, Figure};
use crate::render::units::{format_duration, format_ratio, time_unit};
use crate::render::Render;
use std::fmt;

/// One candidate's line in a [`Comparison`].
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    /// The candidate's name.
    pub name: String,
    /// Statistics of its seconds per loop.
    pub summary: Summary,
    /// Seconds per loop in each round.
    pub per_run: Vec<f64>,
    /// Loops per run.
    pub loops_per_run: u64,
    /// Median over rounds of (this time / baseline time) in the same round; below 1 is faster.
    pub ratio: f64,
    /// Smallest per-round ratio.
    pub ratio_low: f64,
    /// Largest per-round ratio.
    pub ratio_high: f64,
    /// The rate of the candidate's work per call, where it was given.
    pub throughput: Option<Throughput>,
}

impl ComparisonRow {
    /// True when the per-round ratios straddle 1: the difference is within the noise.
    pub fn within_noise(&self) -> bool {
        self.ratio_low <= 1.0 && self.ratio_high >= 1.0
    }

    /// Half the range of the per-round ratios, relative to the ratio: 0.05 means the rounds put
    /// this row within ±5 % of its ratio, the noise to quote beside it.
    ///
    /// ```
    /// # use hpr::prelude::*;
    /// let v: Vec<u64> = (0..1000).collect();
    /// let table = Timeit::new().runs(3).budget(Duration::from_millis(60)).compare(vec![
    ///     candidate("sum", || v.iter().sum::<u64>()),
    ///     candidate("max", || v.iter().max().copied()),
    /// ])?;
    /// let row = table.row("max")?;
    /// assert_eq!(row.ratio_spread(), (row.ratio_high - row.ratio_low) / 2.0 / row.ratio);
    /// assert!(row.ratio_spread() >= 0.0);
    /// # Ok::<(), hpr::HprError>(())
    /// ```
    pub fn ratio_spread(&self) -> f64 {
        (self.ratio_high - self.ratio_low) / 2.0 / self.ratio
    }

    pub(crate) fn verdict(&self, is_baseline: bool) -> String {
        if is_baseline {
            "baseline".into()
        } else if self.ratio.is_nan() {
            "undefined".into()
        } else if self.within_noise() {
            "within noise".into()
        } else if self.ratio < 1.0 {
            format!("{:.2}× faster", 1.0 / self.ratio)
        } else {
            format!("{:.2}× slower", self.ratio)
        }
    }
}

/// The result of [`compare`](crate::compare): a table of candidates with ratios, and a bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Index of the baseline in `rows`.
    pub baseline: usize,
    /// One row per candidate, in the order given.
    pub rows: Vec<ComparisonRow>,
    /// Interleaved rounds measured.
    pub rounds: usize,
    /// The timer's resolution and overhead.
    pub clock: Clock,
    /// The build profile of the measured code.
    pub profile: BuildProfile,
    /// Notes about the measurement.
    pub notes: Vec<String>,
    /// Wall time of the whole comparison, in seconds.
    pub total_seconds: f64,
}

impl Comparison {
    /// The row named `name`; fails naming the candidates there are, so that a result is read
    /// by name and a renamed candidate is an error, not another row's number.
    pub fn row(&self, name: &str) -> Result<&ComparisonRow> {
        self.rows.iter().find(|r| r.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.rows.iter().map(|r| r.name.as_str()).collect();
            HprError::invalid(
                "name",
                format!("no candidate is named `{name}`; the candidates are {names:?}"),
            )
        })
    }

    /// Median time of `name` divided by the baseline's (per round, then the median).
    pub fn ratio(&self, name: &str) -> Result<f64> {
        self.row(name).map(|r| r.ratio)
    }

    /// How many times faster `faster` is than `slower`: the ratio of their median times, so
    /// above 1 when `faster` is indeed faster. Fails naming a row that does not exist.
    ///
    /// ```
    /// use hpr::prelude::*;
    /// let v: Vec<u64> = (0..1000).collect();
    /// let table = Timeit::new().runs(3).budget(Duration::from_millis(60)).compare(vec![
    ///     candidate("sum", || v.iter().sum::<u64>()),
    ///     candidate("max", || v.iter().max().copied()),
    /// ])?;
    /// let speedup = table.speedup("max", "sum")?;
    /// assert!(speedup > 0.0 && speedup.is_finite());
    /// assert!(table.speedup("sum", "product").is_err());
    /// # Ok::<(), hpr::HprError>(())
    /// ```
    pub fn speedup(&self, faster: &str, slower: &str) -> Result<f64> {
        let (fast, slow) = (
            self.row(faster)?.summary.median,
            self.row(slower)?.summary.median,
        );
        if fast <= 0.0 {
            return Err(HprError::invalid(
                "faster",
                format!("`{faster}` took no measurable time, so no speedup can be computed"),
            ));
        }
        Ok(slow / fast)
    }

    /// The bar chart of median times with min–max error bars.
    pub fn chart(&self) -> Result<Figure> {
        let scale = time_unit(
            self.rows
                .iter()
                .map(|r| r.summary.median)
                .fold(0.0, f64::max),
        );
        let bars: Vec<Bar> = self
            .rows
            .iter()
            .map(|r| Bar {
                label: r.name.clone(),
                value: r.summary.median * scale.0,
                low: r.summary.min * scale.0,
                high: r.summary.max * scale.0,
            })
            .collect();
        bar_chart(
            "median time per call (bars: min to max over runs)",
            &format!("time per call ({})", scale.1),
            &bars,
        )
    }
}

impl Render for Comparison {
    /// The table and the chart in one HTML block (evcxr keeps one block per cell).
    fn to_html(&self) -> String {
        let baseline = &self.rows[self.baseline].name;
        let caption = format!(
            "compared against {baseline}, {} interleaved rounds",
            self.rounds
        );
        let mut header = vec![
            "candidate",
            "median",
            "mean ± std. dev.",
            "min",
            "ratio",
            "range over rounds",
            "verdict",
        ];
        let with_work = self.rows.iter().any(|r| r.throughput.is_some());
        if with_work {
            header.extend(THROUGHPUT_COLUMNS);
        }
        let mut table = Table::new(&caption, &header);
        for (index, row) in self.rows.iter().enumerate() {
            let s = &row.summary;
            let mut cells = vec![
                row.name.clone(),
                format_duration(s.median),
                format!(
                    "{} ± {}",
                    format_duration(s.mean),
                    format_duration(s.std_dev)
                ),
                format_duration(s.min),
                format_ratio(row.ratio),
                format!(
                    "{} – {}",
                    format_ratio(row.ratio_low),
                    format_ratio(row.ratio_high)
                ),
                row.verdict(index == self.baseline),
            ];
            if with_work {
                cells.extend(throughput_cells(row.throughput.as_ref()));
            }
            table.row(cells);
        }
        let mut notes = self.notes.clone();
        notes.push(footnote(&self.profile, self.clock));
        result_block(&table, self.chart(), &notes)
    }

    /// One CSV row per candidate and round; the rate column is empty where no work was given.
    fn to_csv(&self) -> String {
        let build = csv_field(&self.profile.to_string());
        let mut csv =
            String::from("candidate,round,seconds_per_loop,loops,ratio,work_per_second,build\n");
        for row in &self.rows {
            let rate = row.throughput.as_ref().map(|t| t.per_second.to_string());
            for (round, seconds) in row.per_run.iter().enumerate() {
                csv.push_str(&format!(
                    "{},{round},{seconds:e},{},{},{},{build}\n",
                    csv_field(&row.name),
                    row.loops_per_run,
                    row.ratio,
                    rate.as_deref().unwrap_or("")
                ));
            }
        }
        csv
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, row) in self.rows.iter().enumerate() {
            writeln!(
                f,
                "{:<24} {:>10}  ratio {:.3}  {}",
                row.name,
                format_duration(row.summary.median),
                row.ratio,
                row.verdict(index == self.baseline)
            )?;
        }
        Ok(())
    }
}
