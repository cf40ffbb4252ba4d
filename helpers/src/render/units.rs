//! Numbers with units, the one place that turns seconds, bytes, rates and ratios into text.

/// Formats seconds with an SI unit and three significant digits for values between 1 and 999 of
/// the unit (`12.3 ns`, `4.56 ms`, `999 ns`); seconds of 1000 or more keep all their digits.
///
/// ```
/// assert_eq!(hpr::format_duration(1.234e-8), "12.3 ns");
/// assert_eq!(hpr::format_duration(2.0), "2.00 s");
/// ```
pub fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return format!("{seconds} s");
    }
    let (scale, unit) = time_unit(seconds.abs());
    format!("{} {unit}", three_digits(seconds * scale))
}

/// The unit to show a time of `largest_seconds` in: (factor to multiply seconds by, unit).
pub(crate) fn time_unit(largest_seconds: f64) -> (f64, &'static str) {
    if largest_seconds >= 1.0 || largest_seconds == 0.0 {
        (1.0, "s")
    } else if largest_seconds >= 1e-3 {
        (1e3, "ms")
    } else if largest_seconds >= 1e-6 {
        (1e6, "µs")
    } else if largest_seconds >= 1e-9 {
        (1e9, "ns")
    } else {
        (1e12, "ps")
    }
}

/// Formats a byte count with binary units: `1.50 KiB`, `-2.00 MiB`.
///
/// ```
/// assert_eq!(hpr::format_bytes(1536), "1.50 KiB");
/// assert_eq!(hpr::format_bytes(12), "12 B");
/// ```
pub fn format_bytes(bytes: i64) -> String {
    let magnitude = bytes.unsigned_abs() as f64;
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut index = 0;
    let mut value = magnitude;
    while value >= 1024.0 && index + 1 < units.len() {
        value /= 1024.0;
        index += 1;
    }
    let sign = if bytes < 0 { "-" } else { "" };
    if index == 0 {
        format!("{sign}{} B", magnitude as u64)
    } else {
        format!("{sign}{} {}", three_digits(value), units[index])
    }
}

/// Formats a rate with a decimal prefix: `12.3 GB/s`, `450 MFLOP/s`, `3.10 Mitems/s`.
///
/// ```
/// assert_eq!(hpr::format_rate(1.234e10, "B"), "12.3 GB/s");
/// assert_eq!(hpr::format_rate(4.5e8, "FLOP"), "450 MFLOP/s");
/// ```
pub fn format_rate(per_second: f64, unit: &str) -> String {
    if !per_second.is_finite() {
        return format!("{per_second} {unit}/s");
    }
    let prefixes = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    let magnitude = per_second.abs();
    let (scale, prefix) = prefixes
        .iter()
        .find(|(scale, _)| magnitude >= *scale)
        .map_or((1.0, ""), |&(scale, prefix)| (scale, prefix));
    format!("{} {prefix}{unit}/s", three_digits(per_second / scale))
}

/// `value` with `digits` significant digits (at least 1), in plain notation from 0.001 to a
/// million and in exponent notation outside: `1.23`, `0.0123`, `1234`, `2.50e-7`.
pub(crate) fn significant(value: f64, digits: usize) -> String {
    let digits = digits.max(1);
    let magnitude = value.abs();
    if value == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&magnitude) {
        format!("{value:.precision$e}", precision = digits - 1)
    } else {
        let decimals = (digits as i32 - 1 - magnitude.log10().floor() as i32).max(0) as usize;
        format!("{value:.decimals$}")
    }
}

/// A ratio with three decimals, or three significant digits in scientific notation when tiny (a
/// binary search against a linear scan is 4.20e-5, not 0.000).
pub(crate) fn format_ratio(ratio: f64) -> String {
    if ratio != 0.0 && ratio.abs() < 0.01 {
        format!("{ratio:.2e}")
    } else {
        format!("{ratio:.3}")
    }
}

/// A fraction as a percentage: `0.823` is `82.3%`.
pub(crate) fn format_percent(fraction: f64) -> String {
    format!("{}%", three_digits(fraction * 100.0))
}

/// A time in seconds since the Unix epoch as `2026-12-07 19:52 UTC` (the proleptic Gregorian
/// calendar, by Howard Hinnant's `civil_from_days`).
pub(crate) fn format_utc(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let minutes_today = (seconds % 86_400) / 60;
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year}-{month:02}-{day:02} {:02}:{:02} UTC",
        minutes_today / 60,
        minutes_today % 60
    )
}

/// Three significant digits for values in [0.001, 1000); more digits above.
fn three_digits(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_read_as_calendar_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_796_673_178), "2026-12-07 19:52 UTC");
        assert_eq!(format_utc(4_107_542_399), "2100-02-28 23:59 UTC");
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(format_duration(0.0), "0.00 s");
        assert_eq!(format_duration(1.5e-12), "1.50 ps");
        assert_eq!(format_duration(999e-9), "999 ns");
        assert_eq!(format_duration(0.0123), "12.3 ms");
        assert_eq!(format_duration(-2e-6), "-2.00 µs");
        assert_eq!(format_duration(1234.5), "1234 s");
        assert_eq!(format_duration(f64::NAN), "NaN s");
    }

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1024 * 1024 * 3), "3.00 MiB");
        assert_eq!(format_bytes(-1536), "-1.50 KiB");
    }

    #[test]
    fn rates_use_decimal_prefixes() {
        assert_eq!(format_rate(999.0, "items"), "999 items/s");
        assert_eq!(format_rate(1.5e3, "items"), "1.50 kitems/s");
        assert_eq!(format_rate(6.67e10, "FLOP"), "66.7 GFLOP/s");
        assert_eq!(format_rate(2e12, "B"), "2.00 TB/s");
    }

    #[test]
    fn ratios_and_percentages_keep_their_digits() {
        assert_eq!(format_ratio(0.5), "0.500");
        assert_eq!(format_ratio(4.2e-5), "4.20e-5");
        assert_eq!(format_ratio(0.0), "0.000");
        assert_eq!(format_percent(0.823), "82.3%");
        assert_eq!(format_percent(1.05), "105%");
    }
}
