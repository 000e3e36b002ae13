//! Reading durations as Go writes them: `300ms`, `1.5h`, `2h45m`.
//!
//! Go: `time.ParseDuration` (src/time/format.go), with its error texts. Like Go, the
//! arithmetic is in whole nanoseconds (a fraction is scaled, never rounded through a
//! float), and a value past what 64 bits of nanoseconds hold is an error.

use std::fmt;
use std::time::Duration;

/// Why [`parse_duration`] refused its input, in Go's words:
/// `time: invalid duration "x"`, `time: missing unit in duration "10"`,
/// `time: unknown unit "d" in duration "1d"`.
///
/// Go: the `error` `time.ParseDuration` returns.
///
/// ```
/// let err = gonet::time::parse_duration("1d").unwrap_err();
/// assert_eq!(err.to_string(), r#"time: unknown unit "d" in duration "1d""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDurationError(String);

impl fmt::Display for ParseDurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseDurationError {}

/// Nanoseconds per unit, Go's table (both spellings of "µs" included).
fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Parses a duration string: a sequence of decimal numbers, each with an optional
/// fraction and a unit ("ns", "us" or "µs", "ms", "s", "m", "h"), like "300ms", "1.5h"
/// or "2h45m"; "0" alone is zero, and a leading "+" is allowed.
///
/// Go: `time.ParseDuration(s)`. A `Duration` cannot be negative, so where Go returns a
/// negative value ("-1s") this fails with `time: invalid duration "-1s"`.
///
/// ```
/// use std::time::Duration;
/// use gonet::time::parse_duration;
/// assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
/// assert_eq!(parse_duration("1.5ms").unwrap(), Duration::from_micros(1500));
/// assert_eq!(
///     parse_duration("10").unwrap_err().to_string(),
///     r#"time: missing unit in duration "10""#
/// );
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, ParseDurationError> {
    let invalid = || ParseDurationError(format!("time: invalid duration \"{s}\""));
    let (negative, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Ok(Duration::ZERO); // "-0" too, as in Go
    }
    if rest.is_empty() || negative {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        // The whole part, then an optional fraction: at least one digit in all.
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int, after) = rest.split_at(int_len);
        let (frac, after) = match after.strip_prefix('.') {
            Some(a) => a.split_at(a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len())),
            None => ("", after),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(invalid());
        }
        let unit_len = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(ParseDurationError(format!(
                "time: missing unit in duration \"{s}\""
            )));
        }
        let Some(per) = unit_nanos(unit) else {
            return Err(ParseDurationError(format!(
                "time: unknown unit \"{unit}\" in duration \"{s}\""
            )));
        };
        // v * per + frac * per / 10^len(frac), in integers, refusing overflow.
        let whole: u64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| invalid())?
        };
        let mut nanos = whole.checked_mul(per).ok_or_else(invalid)?;
        // Digits past the 18th cannot change a nanosecond count: dropped, as Go does.
        let (mut f, mut scale) = (0u64, 1u64);
        for d in frac.bytes().take(18) {
            (f, scale) = (f * 10 + u64::from(d - b'0'), scale * 10);
        }
        nanos = nanos
            .checked_add((u128::from(f) * u128::from(per) / u128::from(scale)) as u64)
            .ok_or_else(invalid)?;
        total = total.checked_add(nanos).ok_or_else(invalid)?;
        rest = next;
    }
    // Go's limit: what an int64 of nanoseconds holds.
    if total > i64::MAX as u64 {
        return Err(invalid());
    }
    Ok(Duration::from_nanos(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_examples_and_errors() {
        let ok = |s: &str| parse_duration(s).unwrap();
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("+5s"), Duration::from_secs(5));
        assert_eq!(ok("2h45m"), Duration::from_secs(9900));
        assert_eq!(ok(".5s"), Duration::from_millis(500));
        assert_eq!(ok("1.s"), Duration::from_secs(1));
        assert_eq!(ok("1.0000000001s"), Duration::from_nanos(1_000_000_000));
        assert_eq!(ok("0.1ns"), Duration::ZERO);
        assert_eq!(ok("3µs"), Duration::from_micros(3));
        assert_eq!(ok("3μs"), Duration::from_micros(3));
        assert_eq!(ok("1h1m1s1ms1us1ns"), Duration::new(3661, 1_001_001));
        assert_eq!(ok("2562047h"), Duration::from_secs(2562047 * 3600));
        let err = |s: &str| parse_duration(s).unwrap_err().to_string();
        assert_eq!(ok("-0"), Duration::ZERO);
        assert_eq!(
            ok("9223372036854775807ns"),
            Duration::from_nanos(i64::MAX as u64)
        );
        assert_eq!(
            ok("1.00000000000000000000000000001s"),
            Duration::from_secs(1)
        );
        // What Go 1.19 prints for each (a negative value is Go's answer for "-1s").
        for bad in [
            "",
            "+",
            "-1s",
            ".",
            ".s",
            "s",
            "2562048h",
            "99999999999999999999ns",
            "9223372036854775808ns",
        ] {
            assert_eq!(
                err(bad),
                format!("time: invalid duration \"{bad}\""),
                "{bad:?}"
            );
        }
        assert_eq!(err("10"), "time: missing unit in duration \"10\"");
        assert_eq!(err("1h2"), "time: missing unit in duration \"1h2\"");
        assert_eq!(err("1.2.3s"), "time: missing unit in duration \"1.2.3s\"");
        assert_eq!(err("3x"), "time: unknown unit \"x\" in duration \"3x\"");
    }
}
