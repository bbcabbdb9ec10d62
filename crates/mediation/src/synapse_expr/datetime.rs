//! `formatDateTime` with Java `DateTimeFormatter.ofPattern` patterns (English names, as MI prints
//! them on an English JVM): the pattern letters `G y u M L d D E a h K k H m s S`, quoted text
//! (`'...'`, `''`), optional sections `[...]` and literal punctuation. Letters Java rejects make
//! [`PatternError::Invalid`] (IllegalArgumentException in Java); letters Java knows but Conflux
//! does not implement (week-based fields, quarters, zones, ...) make
//! [`PatternError::Unsupported`]. Formatting follows `LocalDateTime/LocalDate/LocalTime.format`,
//! parsing follows `X.parse(text, formatter)` with the SMART resolver (field ranges checked,
//! a day past the month's end clamped, missing minutes and seconds defaulting to 0).

use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

/// Longest pattern accepted (characters).
pub const MAX_DATE_PATTERN_LEN: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PatternError {
    /// Java's `ofPattern` throws IllegalArgumentException.
    Invalid(String),
    /// A pattern letter Java accepts that Conflux does not implement.
    Unsupported(String),
}

/// Why formatting or parsing failed (Java's DateTimeException family).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DateTimeError(pub String);

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Literal(String),
    Field(Field, usize),
    Optional(Vec<Item>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Era,
    YearOfEra,
    Year,
    Month,
    DayOfMonth,
    DayOfYear,
    DayOfWeek,
    AmPm,
    ClockHourOfAmPm,
    HourOfAmPm,
    ClockHourOfDay,
    HourOfDay,
    Minute,
    Second,
    Fraction,
}

impl Field {
    fn is_date(self) -> bool {
        matches!(
            self,
            Field::Era
                | Field::YearOfEra
                | Field::Year
                | Field::Month
                | Field::DayOfMonth
                | Field::DayOfYear
                | Field::DayOfWeek
        )
    }
}

/// A compiled `DateTimeFormatter.ofPattern` pattern.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pattern {
    items: Vec<Item>,
}

impl Pattern {
    pub(super) fn compile(pattern: &str) -> Result<Pattern, PatternError> {
        if pattern.chars().count() > MAX_DATE_PATTERN_LEN {
            return Err(PatternError::Unsupported(format!(
                "the date pattern is longer than {MAX_DATE_PATTERN_LEN} characters (MAX_DATE_PATTERN_LEN)"
            )));
        }
        let chars: Vec<char> = pattern.chars().collect();
        let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_ascii_alphabetic() {
                let mut count = 1;
                while chars.get(i + count) == Some(&c) {
                    count += 1;
                }
                let item = field_item(c, count)?;
                current(&mut stack).push(item);
                i += count;
            } else if c == '\'' {
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(PatternError::Invalid(format!(
                                "Pattern ends with an incomplete string literal: {pattern}"
                            )));
                        }
                        Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                            text.push('\'');
                            j += 2;
                        }
                        Some('\'') => {
                            j += 1;
                            break;
                        }
                        Some(&other) => {
                            text.push(other);
                            j += 1;
                        }
                    }
                }
                // `''` alone is a quote.
                if text.is_empty() {
                    text.push('\'');
                }
                current(&mut stack).push(Item::Literal(text));
                i = j;
            } else if c == '[' {
                stack.push(Vec::new());
                i += 1;
            } else if c == ']' {
                if stack.len() == 1 {
                    return Err(PatternError::Invalid(
                        "Pattern invalid as it contains ] without previous [".into(),
                    ));
                }
                let section = stack.pop().unwrap_or_default();
                current(&mut stack).push(Item::Optional(section));
                i += 1;
            } else if matches!(c, '{' | '}' | '#') {
                return Err(PatternError::Invalid(format!(
                    "Pattern includes reserved character: '{c}'"
                )));
            } else {
                current(&mut stack).push(Item::Literal(c.to_string()));
                i += 1;
            }
        }
        // Unclosed optional sections end with the pattern (DateTimeFormatterBuilder.toFormatter).
        while stack.len() > 1 {
            let section = stack.pop().unwrap_or_default();
            current(&mut stack).push(Item::Optional(section));
        }
        Ok(Pattern {
            items: stack.pop().unwrap_or_default(),
        })
    }

    /// `LocalDateTime.ofInstant(epochMillis, zone).format(this)`.
    pub(super) fn format_epoch_millis(
        &self,
        millis: i64,
        offset_seconds: i32,
    ) -> Result<String, DateTimeError> {
        let out_of_range =
            || DateTimeError(format!("Instant exceeds the supported range: {millis}"));
        let utc = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .map_err(|_| out_of_range())?;
        let offset = UtcOffset::from_whole_seconds(offset_seconds).unwrap_or(UtcOffset::UTC);
        let local = utc.checked_to_offset(offset).ok_or_else(out_of_range)?;
        self.format(Some(local.date()), Some(local.time()))
    }

    fn format(&self, date: Option<Date>, time: Option<Time>) -> Result<String, DateTimeError> {
        let mut out = String::new();
        format_items(&self.items, date, time, &mut out)?;
        Ok(out)
    }
}

fn current(stack: &mut [Vec<Item>]) -> &mut Vec<Item> {
    let last = stack.len() - 1;
    &mut stack[last]
}

/// DateTimeFormatterBuilder.parseField: the letter and its count.
fn field_item(letter: char, count: usize) -> Result<Item, PatternError> {
    let too_many = || PatternError::Invalid(format!("Too many pattern letters: {letter}"));
    let field = match letter {
        'G' => Field::Era,
        'y' => Field::YearOfEra,
        'u' => Field::Year,
        'M' | 'L' => Field::Month,
        'd' => Field::DayOfMonth,
        'D' => Field::DayOfYear,
        'E' => Field::DayOfWeek,
        'a' => Field::AmPm,
        'h' => Field::ClockHourOfAmPm,
        'K' => Field::HourOfAmPm,
        'k' => Field::ClockHourOfDay,
        'H' => Field::HourOfDay,
        'm' => Field::Minute,
        's' => Field::Second,
        'S' => Field::Fraction,
        'Q' | 'q' | 'Y' | 'w' | 'W' | 'e' | 'c' | 'F' | 'A' | 'n' | 'N' | 'V' | 'v' | 'z' | 'O'
        | 'X' | 'x' | 'Z' | 'p' | 'B' | 'g' => {
            return Err(PatternError::Unsupported(format!(
                "the date pattern letter '{letter}' is not supported in Conflux (supported: G y u M L d D E a h K k H m s S)"
            )));
        }
        _ => {
            return Err(PatternError::Invalid(format!(
                "Unknown pattern letter: {letter}"
            )));
        }
    };
    let max = match field {
        Field::Era | Field::Month | Field::DayOfWeek => 5,
        Field::YearOfEra | Field::Year => 19,
        Field::DayOfYear => 3,
        Field::AmPm => 1,
        Field::Fraction => 9,
        _ => 2,
    };
    if count > max {
        return Err(too_many());
    }
    Ok(Item::Field(field, count))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// TextStyle by count: 1-3 short, 4 full, 5 narrow.
fn text_form(full: &str, count: usize) -> String {
    match count {
        4 => full.to_string(),
        5 => full.chars().take(1).collect(),
        _ => full.chars().take(3).collect(),
    }
}

fn format_items(
    items: &[Item],
    date: Option<Date>,
    time: Option<Time>,
    out: &mut String,
) -> Result<(), DateTimeError> {
    for item in items {
        match item {
            Item::Literal(text) => out.push_str(text),
            Item::Optional(section) => {
                let mut inner = String::new();
                if format_items(section, date, time, &mut inner).is_ok() {
                    out.push_str(&inner);
                }
            }
            Item::Field(field, count) => {
                let unsupported = || {
                    DateTimeError(format!(
                        "Unsupported field: {field:?} (a {} has no such field)",
                        if date.is_none() { "time" } else { "date" }
                    ))
                };
                if field.is_date() {
                    let date = date.ok_or_else(unsupported)?;
                    format_date_field(*field, *count, date, out);
                } else {
                    let time = time.ok_or_else(unsupported)?;
                    format_time_field(*field, *count, time, out);
                }
            }
        }
    }
    Ok(())
}

fn pad(value: i64, width: usize) -> String {
    if value < 0 {
        format!("-{:0width$}", -value)
    } else {
        format!("{value:0width$}")
    }
}

fn format_date_field(field: Field, count: usize, date: Date, out: &mut String) {
    let year = i64::from(date.year());
    match field {
        Field::Era => out.push_str(&match (count, year > 0) {
            (4, true) => "Anno Domini".to_string(),
            (4, false) => "Before Christ".to_string(),
            (5, true) => "A".to_string(),
            (5, false) => "B".to_string(),
            (_, true) => "AD".to_string(),
            (_, false) => "BC".to_string(),
        }),
        Field::YearOfEra | Field::Year => {
            let value = if field == Field::YearOfEra && year <= 0 {
                1 - year
            } else {
                year
            };
            if count == 2 {
                out.push_str(&pad(value.rem_euclid(100), 2));
            } else if count >= 4
                && 10i64
                    .checked_pow(count as u32)
                    .is_some_and(|limit| value.abs() >= limit)
            {
                // SignStyle.EXCEEDS_PAD: a value wider than the pad gets its sign.
                out.push_str(&format!(
                    "{}{}",
                    if value < 0 { "-" } else { "+" },
                    value.abs()
                ));
            } else {
                out.push_str(&pad(value, count.min(19)));
            }
        }
        Field::Month => {
            let month = u8::from(date.month());
            match count {
                1 | 2 => out.push_str(&pad(i64::from(month), count)),
                _ => out.push_str(&text_form(MONTHS[usize::from(month) - 1], count)),
            }
        }
        Field::DayOfMonth => out.push_str(&pad(i64::from(date.day()), count)),
        Field::DayOfYear => out.push_str(&pad(i64::from(date.ordinal()), count)),
        Field::DayOfWeek => out.push_str(&text_form(
            DAYS[usize::from(date.weekday().number_days_from_monday())],
            count,
        )),
        _ => {}
    }
}

fn format_time_field(field: Field, count: usize, time: Time, out: &mut String) {
    let hour = i64::from(time.hour());
    let value = match field {
        Field::AmPm => {
            out.push_str(if hour < 12 { "AM" } else { "PM" });
            return;
        }
        Field::Fraction => {
            let nanos = format!("{:09}", time.nanosecond());
            out.push_str(&nanos[..count.min(9)]);
            return;
        }
        Field::ClockHourOfAmPm => match hour % 12 {
            0 => 12,
            h => h,
        },
        Field::HourOfAmPm => hour % 12,
        Field::ClockHourOfDay => {
            if hour == 0 {
                24
            } else {
                hour
            }
        }
        Field::HourOfDay => hour,
        Field::Minute => i64::from(time.minute()),
        Field::Second => i64::from(time.second()),
        _ => return,
    };
    out.push_str(&pad(value, count));
}

// ---------------------------------------------------------------------------------------------
// Parsing.

#[derive(Debug, Default, Clone)]
struct Parsed {
    era: Option<i64>,
    year_of_era: Option<i64>,
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    day_of_week: Option<i64>,
    am_pm: Option<i64>,
    clock_hour_am_pm: Option<i64>,
    hour_am_pm: Option<i64>,
    clock_hour_day: Option<i64>,
    hour: Option<i64>,
    minute: Option<i64>,
    second: Option<i64>,
    nanos: Option<i64>,
}

/// What `X.parse(text, pattern)` is asked to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    DateTime,
    Date,
    Time,
}

impl Pattern {
    /// `LocalDateTime/LocalDate/LocalTime.parse(text, this)` followed by `.format(output)`.
    pub(super) fn reformat(
        &self,
        text: &str,
        target: Target,
        output: &Pattern,
    ) -> Result<String, DateTimeError> {
        let chars: Vec<char> = text.chars().collect();
        let mut parsed = Parsed::default();
        let end = parse_items(&self.items, &chars, 0, &mut parsed)?;
        if end != chars.len() {
            return Err(DateTimeError(format!(
                "Text '{text}' could not be parsed, unparsed text found at index {end}"
            )));
        }
        let date = resolve_date(&parsed, text)?;
        let time = resolve_time(&parsed, text)?;
        let (date, time) = match target {
            Target::DateTime => (
                Some(date.ok_or_else(|| unable(text, "LocalDateTime"))?),
                Some(time.ok_or_else(|| unable(text, "LocalDateTime"))?),
            ),
            Target::Date => (Some(date.ok_or_else(|| unable(text, "LocalDate"))?), None),
            Target::Time => (None, Some(time.ok_or_else(|| unable(text, "LocalTime"))?)),
        };
        output.format(date, time)
    }
}

fn unable(text: &str, what: &str) -> DateTimeError {
    DateTimeError(format!(
        "Text '{text}' could not be parsed: Unable to obtain {what}"
    ))
}

fn parse_items(
    items: &[Item],
    chars: &[char],
    mut pos: usize,
    parsed: &mut Parsed,
) -> Result<usize, DateTimeError> {
    let failed = |pos: usize| {
        DateTimeError(format!(
            "Text '{}' could not be parsed at index {pos}",
            chars.iter().collect::<String>()
        ))
    };
    for (index, item) in items.iter().enumerate() {
        match item {
            Item::Literal(text) => {
                for c in text.chars() {
                    if chars.get(pos) != Some(&c) {
                        return Err(failed(pos));
                    }
                    pos += 1;
                }
            }
            Item::Optional(section) => {
                let mut attempt = parsed.clone();
                if let Ok(end) = parse_items(section, chars, pos, &mut attempt) {
                    *parsed = attempt;
                    pos = end;
                }
            }
            Item::Field(field, count) => {
                let (value, end) = match field {
                    Field::Era => parse_text(chars, pos, &["AD", "BC"], *count)
                        .map(|(i, e)| (1 - i as i64, e)),
                    Field::Month if *count >= 3 => {
                        parse_text(chars, pos, &MONTHS, *count).map(|(i, e)| (i as i64 + 1, e))
                    }
                    Field::DayOfWeek => {
                        parse_text(chars, pos, &DAYS, *count).map(|(i, e)| (i as i64 + 1, e))
                    }
                    Field::AmPm => {
                        parse_text(chars, pos, &["AM", "PM"], 4).map(|(i, e)| (i as i64, e))
                    }
                    Field::Fraction => parse_digits(chars, pos, *count, *count)
                        .map(|(v, e)| (v * 10i64.pow((9 - *count) as u32), e)),
                    Field::YearOfEra | Field::Year if *count == 2 => {
                        parse_digits(chars, pos, 2, 2).map(|(v, e)| (2000 + v, e))
                    }
                    _ => {
                        let (min, max) = match (field, count) {
                            (Field::YearOfEra | Field::Year, c) => (*c, 19),
                            (_, 1) => (1, 19),
                            (Field::DayOfYear, 2) => (2, 3),
                            (_, c) => (*c, *c),
                        };
                        let reserved = reserved_width(&items[index + 1..]);
                        let available = chars[pos.min(chars.len())..]
                            .iter()
                            .take_while(|c| c.is_ascii_digit())
                            .count();
                        let max = max.min(available.saturating_sub(reserved).max(min));
                        parse_digits(chars, pos, min, max)
                    }
                }
                .ok_or_else(|| failed(pos))?;
                store(parsed, *field, value).map_err(|m| {
                    DateTimeError(format!(
                        "Text '{}' could not be parsed: {m}",
                        chars.iter().collect::<String>()
                    ))
                })?;
                pos = end;
            }
        }
    }
    Ok(pos)
}

/// Widths of the fixed-width numbers that follow a variable-width one without a separator
/// (DateTimeFormatterBuilder's adjacent value parsing).
fn reserved_width(rest: &[Item]) -> usize {
    let mut width = 0;
    for item in rest {
        match item {
            Item::Field(Field::Fraction, c) => width += c,
            Item::Field(Field::Month | Field::DayOfWeek | Field::Era | Field::AmPm, c)
                if *c >= 3 =>
            {
                break;
            }
            Item::Field(Field::AmPm | Field::Era | Field::DayOfWeek, _) => break,
            Item::Field(_, c) if *c >= 2 => width += c,
            _ => break,
        }
    }
    width
}

fn parse_digits(chars: &[char], pos: usize, min: usize, max: usize) -> Option<(i64, usize)> {
    let mut end = pos;
    while end < chars.len() && end - pos < max && chars[end].is_ascii_digit() {
        end += 1;
    }
    if end - pos < min {
        return None;
    }
    let text: String = chars[pos..end].iter().collect();
    text.parse().ok().map(|v| (v, end))
}

fn parse_text(chars: &[char], pos: usize, names: &[&str], count: usize) -> Option<(usize, usize)> {
    names.iter().enumerate().find_map(|(i, name)| {
        let form = if names.len() == 2 {
            name.to_string()
        } else {
            text_form(name, count)
        };
        let form: Vec<char> = form.chars().collect();
        (chars.get(pos..pos + form.len()) == Some(&form[..])).then_some((i, pos + form.len()))
    })
}

fn store(parsed: &mut Parsed, field: Field, value: i64) -> Result<(), String> {
    let (slot, range) = match field {
        Field::Era => (&mut parsed.era, 0..=1),
        Field::YearOfEra => (&mut parsed.year_of_era, 1..=999_999_999),
        Field::Year => (&mut parsed.year, -999_999_999..=999_999_999),
        Field::Month => (&mut parsed.month, 1..=12),
        Field::DayOfMonth => (&mut parsed.day, 1..=31),
        Field::DayOfYear => (&mut parsed.day_of_year, 1..=366),
        Field::DayOfWeek => (&mut parsed.day_of_week, 1..=7),
        Field::AmPm => (&mut parsed.am_pm, 0..=1),
        Field::ClockHourOfAmPm => (&mut parsed.clock_hour_am_pm, 1..=12),
        Field::HourOfAmPm => (&mut parsed.hour_am_pm, 0..=11),
        Field::ClockHourOfDay => (&mut parsed.clock_hour_day, 1..=24),
        Field::HourOfDay => (&mut parsed.hour, 0..=23),
        Field::Minute => (&mut parsed.minute, 0..=59),
        Field::Second => (&mut parsed.second, 0..=59),
        Field::Fraction => (&mut parsed.nanos, 0..=999_999_999),
    };
    if !range.contains(&value) {
        return Err(format!(
            "Invalid value for {field:?} (valid values {} - {}): {value}",
            range.start(),
            range.end()
        ));
    }
    if slot.is_some_and(|old| old != value) {
        return Err(format!(
            "Conflict found: {field:?} {value} differs from {}",
            slot.unwrap_or(0)
        ));
    }
    *slot = Some(value);
    Ok(())
}

fn resolve_date(p: &Parsed, text: &str) -> Result<Option<Date>, DateTimeError> {
    let year = match (p.year, p.year_of_era) {
        (Some(y), _) => Some(y),
        (None, Some(yoe)) => Some(if p.era == Some(0) { 1 - yoe } else { yoe }),
        (None, None) => None,
    };
    let Some(year) = year else {
        return Ok(None);
    };
    let year = i32::try_from(year)
        .map_err(|_| DateTimeError(format!("Text '{text}': year {year} is out of range")))?;
    let date = match (p.month, p.day, p.day_of_year) {
        (Some(month), Some(day), _) => {
            let month = Month::try_from(month as u8)
                .map_err(|_| DateTimeError(format!("Text '{text}': invalid month")))?;
            // SMART: a day past the end of the month is the month's last day.
            let last = time::util::days_in_month(month, year);
            Date::from_calendar_date(year, month, (day as u8).min(last))
                .map_err(|e| DateTimeError(format!("Text '{text}' could not be parsed: {e}")))?
        }
        (None, None, Some(doy)) => Date::from_ordinal_date(year, doy as u16)
            .map_err(|e| DateTimeError(format!("Text '{text}' could not be parsed: {e}")))?,
        _ => return Ok(None),
    };
    if let Some(dow) = p.day_of_week
        && i64::from(date.weekday().number_days_from_monday()) + 1 != dow
    {
        return Err(DateTimeError(format!(
            "Text '{text}' could not be parsed: Conflict found: the day of the week differs from the date"
        )));
    }
    Ok(Some(date))
}

fn resolve_time(p: &Parsed, text: &str) -> Result<Option<Time>, DateTimeError> {
    let hour = match (p.hour, p.clock_hour_day, p.am_pm) {
        (Some(h), _, _) => Some(h),
        (None, Some(k), _) => Some(if k == 24 { 0 } else { k }),
        (None, None, Some(am_pm)) => p
            .hour_am_pm
            .or(p.clock_hour_am_pm.map(|h| h % 12))
            .map(|h| h + 12 * am_pm),
        _ => None,
    };
    let Some(hour) = hour else {
        return Ok(None);
    };
    if (p.minute.is_none() && (p.second.is_some() || p.nanos.is_some()))
        || (p.minute.is_some() && p.second.is_none() && p.nanos.is_some())
    {
        return Ok(None);
    }
    Time::from_hms_nano(
        hour as u8,
        p.minute.unwrap_or(0) as u8,
        p.second.unwrap_or(0) as u8,
        p.nanos.unwrap_or(0) as u32,
    )
    .map(Some)
    .map_err(|e| DateTimeError(format!("Text '{text}' could not be parsed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_at(pattern: &str, millis: i64) -> String {
        Pattern::compile(pattern)
            .expect(pattern)
            .format_epoch_millis(millis, 0)
            .expect(pattern)
    }

    fn reformat(text: &str, from: &str, to: &str) -> Result<String, DateTimeError> {
        let from = Pattern::compile(from).expect(from);
        let to = Pattern::compile(to).expect(to);
        from.reformat(text, Target::DateTime, &to)
            .or_else(|_| from.reformat(text, Target::Date, &to))
            .or_else(|_| from.reformat(text, Target::Time, &to))
    }

    // 2024-02-29T13:05:09.123Z is a Thursday.
    const LEAP: i64 = 1_709_211_909_123;

    #[test]
    fn formats_the_common_letters() {
        assert_eq!(
            format_at("yyyy-MM-dd HH:mm:ss.SSS", LEAP),
            "2024-02-29 13:05:09.123"
        );
        assert_eq!(format_at("dd-MM-yyyy HH:mm", LEAP), "29-02-2024 13:05");
        assert_eq!(format_at("yy M d H m s S", LEAP), "24 2 29 13 5 9 1");
        assert_eq!(format_at("MMM MMMM MMMMM", LEAP), "Feb February F");
        assert_eq!(format_at("EEE EEEE EEEEE", LEAP), "Thu Thursday T");
        assert_eq!(format_at("hh:mm a K k", LEAP), "01:05 PM 1 13");
        assert_eq!(format_at("h a", 0), "12 AM");
        assert_eq!(format_at("k", 0), "24");
        assert_eq!(format_at("D DDD G GGGG", LEAP), "60 060 AD Anno Domini");
        assert_eq!(format_at("'at' HH 'o''clock' ''", LEAP), "at 13 o'clock '");
        assert_eq!(format_at("yyyy[ HH]", LEAP), "2024 13");
        assert_eq!(format_at("uuuu/MM", 0), "1970/01");
        assert_eq!(format_at("y", LEAP), "2024");
        assert_eq!(format_at("yyyyy", LEAP), "02024");
        assert_eq!(format_at(&"y".repeat(19), 0), format!("{:019}", 1970));
    }

    #[test]
    fn the_zone_offset_shifts_the_local_time() {
        let pattern = Pattern::compile("yyyy-MM-dd HH:mm").expect("valid");
        assert_eq!(
            pattern.format_epoch_millis(0, 5 * 3600 + 1800),
            Ok("1970-01-01 05:30".to_string())
        );
        assert_eq!(
            pattern.format_epoch_millis(0, -3600),
            Ok("1969-12-31 23:00".to_string())
        );
        assert!(pattern.format_epoch_millis(i64::MAX, 0).is_err());
    }

    #[test]
    fn pattern_errors_distinguish_invalid_from_unsupported() {
        for p in [
            "ll",
            "yyyy-{MM}",
            "'open",
            "MMMMMM",
            "ddd",
            "aa",
            "HHH",
            "]",
            "SSSSSSSSSS",
            "#",
        ] {
            assert!(
                matches!(Pattern::compile(p), Err(PatternError::Invalid(_))),
                "{p}"
            );
        }
        for p in ["YYYY", "ww", "Q", "z", "XXX", "Z", "e", "n"] {
            assert!(
                matches!(Pattern::compile(p), Err(PatternError::Unsupported(_))),
                "{p}"
            );
        }
        assert!(Pattern::compile(&"y".repeat(MAX_DATE_PATTERN_LEN + 1)).is_err());
    }

    // PreDefinedFunctionsTest.testFormatDateTime.
    #[test]
    fn reformats_dates_and_times() {
        assert_eq!(
            reformat("29/09/1988", "dd/MM/yyyy", "yyyy-MM-dd").as_deref(),
            Ok("1988-09-29")
        );
        assert_eq!(
            reformat("29-09-1988", "dd-MM-yyyy", "yyyy MMM dd").as_deref(),
            Ok("1988 Sep 29")
        );
        assert_eq!(
            reformat("11-22-33", "HH-mm-ss", "HH mm ss").as_deref(),
            Ok("11 22 33")
        );
        assert!(reformat("50-22-33", "HH-mm-ss", "HH mm ss").is_err());
        assert_eq!(
            reformat("2024-02-29T13:05", "yyyy-MM-dd'T'HH:mm", "dd.MM.yy hh:mm a").as_deref(),
            Ok("29.02.24 01:05 PM")
        );
        assert_eq!(
            reformat("19880929", "yyyyMMdd", "d MMMM yyyy").as_deref(),
            Ok("29 September 1988")
        );
        // SMART resolution clamps the day, the range of each field is checked.
        assert_eq!(
            reformat("2023-02-30", "yyyy-MM-dd", "yyyy-MM-dd").as_deref(),
            Ok("2023-02-28")
        );
        assert!(reformat("2023-13-01", "yyyy-MM-dd", "yyyy").is_err());
        assert!(reformat("2023-01-32", "yyyy-MM-dd", "yyyy").is_err());
        assert!(reformat("2023-01-01x", "yyyy-MM-dd", "yyyy").is_err());
        assert!(reformat("2023-01", "yyyy-MM", "yyyy").is_err());
        // A date has no hours to print; a time has no year.
        assert!(reformat("2023-01-01", "yyyy-MM-dd", "HH").is_err());
        assert!(reformat("10:15", "HH:mm", "yyyy").is_err());
        assert_eq!(reformat("10", "HH", "HH:mm").as_deref(), Ok("10:00"));
        assert!(reformat("10:15", "hh:mm", "HH").is_err());
        assert_eq!(
            reformat("10:15 PM", "hh:mm a", "HH:mm").as_deref(),
            Ok("22:15")
        );
        assert!(reformat("Mon 2024-02-29", "EEE yyyy-MM-dd", "yyyy").is_err());
        assert_eq!(
            reformat("Thu 2024-02-29", "EEE yyyy-MM-dd", "yyyy").as_deref(),
            Ok("2024")
        );
        assert_eq!(
            reformat("2024-02-29 13:05:09.5", "yyyy-MM-dd HH:mm:ss.S", "SSS").as_deref(),
            Ok("500")
        );
        assert_eq!(
            reformat("2024-02-29", "yyyy-MM-dd[ HH:mm]", "yyyy/MM/dd").as_deref(),
            Ok("2024/02/29")
        );
    }
}
