//! The dates net/http writes and reads, as Go's `time` package formats and parses them:
//! `TimeFormat` for Last-Modified and cookie Expires, Go's `ParseTime` for
//! If-Modified-Since and friends, and the two layouts Go accepts for a Set-Cookie
//! Expires. Every year from 0000 to 9999 works (a cookie's "expired" date is often
//! 1970 or earlier, so times before the Unix epoch must format).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SHORT_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const SHORT_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Seconds since the Unix epoch (negative before it), whole seconds (Go's `Unix()`:
/// rounds toward negative infinity).
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => {
            let d = e.duration();
            let s = d.as_secs() as i64;
            if d.subsec_nanos() > 0 { -s - 1 } else { -s }
        }
    }
}

/// The time at `secs` seconds from the Unix epoch.
pub(crate) fn from_unix(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The year of `t` in UTC (Go's `t.UTC().Year()`).
pub(crate) fn year(t: SystemTime) -> i64 {
    civil_from_days(unix_seconds(t).div_euclid(86400)).0
}

/// Go's `t.UTC().Format(http.TimeFormat)`: `Mon, 02 Jan 2006 15:04:05 GMT`.
pub(crate) fn format_http_time(t: SystemTime) -> String {
    let secs = unix_seconds(t);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    let wd = (days + 4).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        SHORT_DAYS[wd],
        d,
        SHORT_MONTHS[m as usize - 1],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// One element of a Go layout.
#[derive(Clone, Copy)]
enum Tok {
    Lit(&'static str),
    /// "Mon"
    ShortDay,
    /// "Monday"
    LongDay,
    /// "02": two digits
    Day2,
    /// "_2": an optional space, then one or two digits
    DayUnder,
    /// "Jan"
    Month,
    /// "2006"
    Year4,
    /// "06": 69..99 is 19xx, 00..68 is 20xx
    Year2,
    /// "15": one or two digits
    Hour,
    /// "04"
    Min2,
    /// "05", and a fraction Go accepts even when the layout has none
    Sec2,
    /// "MST": a zone abbreviation (Go's parseTimeZone)
    Zone,
}

use Tok::*;

/// `Mon, 02 Jan 2006 15:04:05 GMT` (http.TimeFormat: "GMT" is literal).
const TIME_FORMAT: &[Tok] = &[
    ShortDay,
    Lit(", "),
    Day2,
    Lit(" "),
    Month,
    Lit(" "),
    Year4,
    Lit(" "),
    Hour,
    Lit(":"),
    Min2,
    Lit(":"),
    Sec2,
    Lit(" GMT"),
];
/// time.RFC850: `Monday, 02-Jan-06 15:04:05 MST`.
const RFC850: &[Tok] = &[
    LongDay,
    Lit(", "),
    Day2,
    Lit("-"),
    Month,
    Lit("-"),
    Year2,
    Lit(" "),
    Hour,
    Lit(":"),
    Min2,
    Lit(":"),
    Sec2,
    Lit(" "),
    Zone,
];
/// time.ANSIC: `Mon Jan _2 15:04:05 2006`.
const ANSIC: &[Tok] = &[
    ShortDay,
    Lit(" "),
    Month,
    Lit(" "),
    DayUnder,
    Lit(" "),
    Hour,
    Lit(":"),
    Min2,
    Lit(":"),
    Sec2,
    Lit(" "),
    Year4,
];
/// time.RFC1123: `Mon, 02 Jan 2006 15:04:05 MST`.
const RFC1123: &[Tok] = &[
    ShortDay,
    Lit(", "),
    Day2,
    Lit(" "),
    Month,
    Lit(" "),
    Year4,
    Lit(" "),
    Hour,
    Lit(":"),
    Min2,
    Lit(":"),
    Sec2,
    Lit(" "),
    Zone,
];
/// The other layout Go's cookie parser accepts: `Mon, 02-Jan-2006 15:04:05 MST`.
const COOKIE_DASHED: &[Tok] = &[
    ShortDay,
    Lit(", "),
    Day2,
    Lit("-"),
    Month,
    Lit("-"),
    Year4,
    Lit(" "),
    Hour,
    Lit(":"),
    Min2,
    Lit(":"),
    Sec2,
    Lit(" "),
    Zone,
];

/// Go's `http.ParseTime`: TimeFormat, then RFC 850, then ANSI C's asctime.
pub(crate) fn parse_http_time(s: &str) -> Option<SystemTime> {
    [TIME_FORMAT, RFC850, ANSIC]
        .iter()
        .find_map(|layout| parse(layout, s))
}

/// The Expires attribute as Go's cookie parser reads it: RFC 1123, or the same with
/// dashes in the date.
pub(crate) fn parse_cookie_expires(s: &str) -> Option<SystemTime> {
    parse(RFC1123, s).or_else(|| parse(COOKIE_DASHED, s))
}

/// Go's `strings.EqualFold` on ASCII, the way its `time.Parse` looks names up.
fn lookup<'a>(names: &[&str], v: &'a str) -> Option<(usize, &'a str)> {
    names
        .iter()
        .position(|n| {
            v.len() >= n.len() && v.as_bytes()[..n.len()].eq_ignore_ascii_case(n.as_bytes())
        })
        .map(|i| (i, &v[names[i].len()..]))
}

/// Go's `getnum`: one digit, or two; `fixed` wants exactly two.
fn getnum(v: &str, fixed: bool) -> Option<(u32, &str)> {
    let b = v.as_bytes();
    let d0 = *b.first().filter(|c| c.is_ascii_digit())?;
    match b.get(1) {
        Some(d1) if d1.is_ascii_digit() => {
            Some(((d0 - b'0') as u32 * 10 + (d1 - b'0') as u32, &v[2..]))
        }
        _ if fixed => None,
        _ => Some(((d0 - b'0') as u32, &v[1..])),
    }
}

/// [`getnum`] within `range`: Go's `time.Parse` checks each field's range as it reads it
/// (its "hour out of range" and friends, which these parsers answer with no time at all).
fn getnum_in(v: &str, fixed: bool, range: std::ops::RangeInclusive<u32>) -> Option<(u32, &str)> {
    getnum(v, fixed).filter(|(n, _)| range.contains(n))
}

/// Go's `parseTimeZone`, returning the zone's offset east of UTC in seconds: named
/// zones other than GMT±h count as UTC (Go fabricates a zero-offset location for an
/// abbreviation it does not know, and the machines gonet serves from run in UTC).
fn parse_zone(v: &str) -> Option<(i64, &str)> {
    let b = v.as_bytes();
    if b.len() < 3 {
        return None;
    }
    if v.starts_with("ChST") || v.starts_with("MeST") {
        return Some((0, &v[4..]));
    }
    if let Some(rest) = v.strip_prefix("GMT") {
        // GMT, or GMT+h / GMT-h with h in -23..23 (Go's parseGMT).
        let rb = rest.as_bytes();
        if let Some(&sign @ (b'+' | b'-')) = rb.first() {
            let n = rb[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n > 0 {
                if let Ok(h) = rest[1..1 + n].parse::<i64>() {
                    if h <= 23 {
                        let off = if sign == b'-' { -h * 3600 } else { h * 3600 };
                        return Some((off, &rest[1 + n..]));
                    }
                }
            }
        }
        return Some((0, rest));
    }
    if b[0] == b'+' || b[0] == b'-' {
        // +hh, +hhmm or +hh:mm (Go's parseSignedOffset keeps only hours here).
        let n = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let h: i64 = v[1..1 + n].parse().ok()?;
        if h > 24 {
            return None;
        }
        let off = if b[0] == b'-' { -h * 3600 } else { h * 3600 };
        return Some((off, &v[1 + n..]));
    }
    let upper = b
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        3 => Some((0, &v[3..])),
        4 if b[3] == b'T' || v.starts_with("WITA") => Some((0, &v[4..])),
        5 if b[4] == b'T' => Some((0, &v[5..])),
        _ => None,
    }
}

fn days_in(month: u32, year: i64) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Go's `time.Parse(layout, s)` for the layouts above, as a UTC instant.
fn parse(layout: &[Tok], s: &str) -> Option<SystemTime> {
    let mut v = s;
    let (mut year, mut month, mut day) = (0i64, 0u32, 0u32);
    let (mut hour, mut min, mut sec, mut nanos) = (0u32, 0u32, 0u32, 0u32);
    let mut offset = 0i64;
    for tok in layout {
        match *tok {
            Lit(l) => v = v.strip_prefix(l)?,
            ShortDay => v = lookup(&SHORT_DAYS, v)?.1,
            LongDay => v = lookup(&LONG_DAYS, v)?.1,
            Month => {
                let (i, rest) = lookup(&SHORT_MONTHS, v)?;
                month = i as u32 + 1;
                v = rest;
            }
            Day2 | DayUnder => {
                if matches!(tok, DayUnder) {
                    v = v.strip_prefix(' ').unwrap_or(v);
                }
                (day, v) = getnum_in(v, matches!(tok, Day2), 1..=31)?;
            }
            Year4 => {
                let y = v
                    .get(..4)
                    .filter(|y| y.bytes().all(|c| c.is_ascii_digit()))?;
                year = y.parse().ok()?;
                v = &v[4..];
            }
            Year2 => {
                let y = v
                    .get(..2)
                    .filter(|y| y.bytes().all(|c| c.is_ascii_digit()))?;
                let y: i64 = y.parse().ok()?;
                year = if y >= 69 { 1900 + y } else { 2000 + y };
                v = &v[2..];
            }
            Hour => {
                (hour, v) = getnum_in(v, false, 0..=23)?;
            }
            Min2 => {
                (min, v) = getnum_in(v, true, 0..=59)?;
            }
            Sec2 => {
                (sec, v) = getnum_in(v, true, 0..=59)?;
                // A fraction Go accepts even though the layout has none.
                let b = v.as_bytes();
                if b.len() >= 2 && (b[0] == b'.' || b[0] == b',') && b[1].is_ascii_digit() {
                    let n = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    let frac = &v[1..1 + n];
                    let mut ns: u64 = 0;
                    for (i, c) in frac.bytes().take(9).enumerate() {
                        ns += (c - b'0') as u64 * 10u64.pow(8 - i as u32);
                    }
                    nanos = ns as u32;
                    v = &v[1 + n..];
                }
            }
            Zone => {
                let (off, rest) = parse_zone(v)?;
                offset = off;
                v = rest;
            }
        }
    }
    if !v.is_empty() || day > days_in(month, year) {
        return None;
    }
    let secs =
        days_from_civil(year, month, day) * 86400 + (hour * 3600 + min * 60 + sec) as i64 - offset;
    Some(from_unix(secs) + Duration::from_nanos(nanos as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_every_year_go_formats() {
        assert_eq!(
            format_http_time(UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            format_http_time(from_unix(1_234_567_890)),
            "Fri, 13 Feb 2009 23:31:30 GMT"
        );
        assert_eq!(
            format_http_time(from_unix(-1)),
            "Wed, 31 Dec 1969 23:59:59 GMT"
        );
        // 1601-01-01, the earliest date a cookie may expire.
        assert_eq!(
            format_http_time(from_unix(-11_644_473_600)),
            "Mon, 01 Jan 1601 00:00:00 GMT"
        );
        assert_eq!(
            format_http_time(from_unix(253_402_300_799)),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(year(from_unix(-11_644_473_601)), 1600);
    }

    #[test]
    fn parses_what_go_parses() {
        let t = from_unix(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_http_time("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_time("Sunday, 06-Nov-94 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_time("Sun Nov  6 08:49:37 1994"), Some(t));
        // Go's time.Parse: names in any case, the weekday unchecked.
        assert_eq!(parse_http_time("mon, 06 NOV 1994 08:49:37 GMT"), Some(t));
        for bad in [
            "",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_time(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_cookie_expires("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(t)
        );
        assert_eq!(
            parse_cookie_expires("Sun, 06-Nov-1994 08:49:37 UTC"),
            Some(t)
        );
        assert_eq!(
            parse_cookie_expires("Sun, 06 Nov 1994 09:49:37 GMT+1"),
            Some(t)
        );
        assert_eq!(parse_cookie_expires("Sun, 06 Nov 1994 08:49:37 Z"), None);
        assert_eq!(parse_http_time("Sun, 06 Nov 1994 8:49:37 GMT"), Some(t));
    }
}
