//! Times as an index writes and reads them: a batch's time added is Unix
//! seconds (UTC), shown as `2026-12-03T06:30:00Z`; `index drop` takes a
//! date, a time, or an age (`90d`). Written here rather than with a date
//! crate: the calendar arithmetic is a dozen lines, and the forms are
//! few and fixed.

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (UTC), without a date crate.
///
/// # Example
///
/// ```
/// assert_eq!(neardup::index::utc_time(1_796_256_000), "2026-12-03T00:00:00Z");
/// ```
pub fn utc_time(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The Unix time of `2026-12-03` (midnight UTC) or
/// `2026-12-03T06:30:00Z`, the forms [`utc_time`] writes; `None` for
/// anything else, or a date that does not exist.
///
/// # Example
///
/// ```
/// use neardup::index::{parse_utc_time, utc_time};
///
/// assert_eq!(parse_utc_time("2026-12-03"), Some(1_796_256_000));
/// assert_eq!(parse_utc_time("2026-12-03T00:00:10Z"), Some(1_796_256_010));
/// assert_eq!(parse_utc_time("2026-02-30"), None);
/// assert_eq!(utc_time(parse_utc_time("1999-12-31T23:59:59Z").unwrap()), "1999-12-31T23:59:59Z");
/// ```
pub fn parse_utc_time(text: &str) -> Option<i64> {
    let full = match text.len() {
        10 => format!("{text}T00:00:00Z"),
        20 => text.to_owned(),
        _ => return None,
    };
    let b = full.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = full.get(range)?;
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    if (b[4], b[7], b[10], b[13], b[16], b[19]) != (b'-', b'-', b'T', b':', b':', b'Z') {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    // Howard Hinnant's days_from_civil; a date that does not exist (or an
    // hour past 23) comes back written differently.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second;
    (utc_time(secs) == full).then_some(secs)
}

/// The seconds in an age such as `90d`, `36h` or `1w3d`: one or more
/// counts, each with its unit (`s`, `m`, `h`, `d` or `w`; a day is 86,400
/// seconds, UTC has no daylight saving). `None` for anything else, or an
/// age past the year 292 billion.
///
/// For rolling windows written without `date` arithmetic: `index drop
/// --older-than 90d` is `--before` the time 90 days ago.
///
/// # Example
///
/// ```
/// use neardup::index::parse_age;
///
/// assert_eq!(parse_age("90d"), Some(90 * 86_400));
/// assert_eq!(parse_age("1w12h"), Some(7 * 86_400 + 12 * 3_600));
/// assert_eq!(parse_age("90"), None); // a unit is needed
/// assert_eq!(parse_age("3 days"), None);
/// ```
pub fn parse_age(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let count: i64 = rest[..digits].parse().ok()?;
        let unit = match rest.as_bytes().get(digits)? {
            b's' => 1,
            b'm' => 60,
            b'h' => 3_600,
            b'd' => 86_400,
            b'w' => 7 * 86_400,
            _ => return None,
        };
        total = total.checked_add(count.checked_mul(unit)?)?;
        rest = &rest[digits + 1..];
    }
    Some(total)
}
