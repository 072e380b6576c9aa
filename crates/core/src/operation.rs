//! Operation data (spec §4.8): the `*`-separated line of an offline payload that says what is
//! approved, such as `A1*A100CZK*ICZ2730300000001165254011*D20180425*NNote`.
//!
//! Parsing scans left to right, so an escaped backslash before a separator (`\\*`) ends the
//! field, unlike Wultra's parsers, which join it with the next one.

use alloc::{borrow::ToOwned, format, string::String, string::ToString, vec::Vec};
use core::fmt;

/// Most fields a payload may carry; PowerAuth's parsers accept six, its docs allow five.
pub const MAX_FIELDS: usize = 6;

/// Why an operation-data line was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationDataError {
    /// The line is empty.
    Empty,
    /// The header is not one capital letter and a template number 0..99.
    InvalidHeader(String),
    /// More than [`MAX_FIELDS`] fields.
    TooManyFields(usize),
    /// Field `position` (from 1) is an amount that is not `{decimal}{currency}`.
    InvalidAmount(usize),
    /// Field `position` is an account that is not `IBAN[,BIC]` in `0-9A-Z`.
    InvalidAccount(usize),
    /// Field `position` is a date that is not a real `YYYYMMDD` day.
    InvalidDate(usize),
    /// Field `position` starts with a character that is not a type letter or digit.
    InvalidFieldType(usize),
    /// The builder was given an amount that is not positive with at most two decimals.
    AmountNotPayable,
}

impl fmt::Display for OperationDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the operation data is empty"),
            Self::InvalidHeader(h) => write!(
                f,
                "operation data header {h:?} is not a capital letter followed by a template number 0-99"
            ),
            Self::TooManyFields(n) => {
                write!(
                    f,
                    "operation data has {n} fields; at most {MAX_FIELDS} are allowed"
                )
            }
            Self::InvalidAmount(p) => write!(
                f,
                "field {p} is not an amount such as A100.50EUR (a decimal and a 3-letter currency)"
            ),
            Self::InvalidAccount(p) => write!(
                f,
                "field {p} is not an account such as ICZ2730300000001165254011[,BIC] (digits and capital letters)"
            ),
            Self::InvalidDate(p) => write!(f, "field {p} is not a date written YYYYMMDD"),
            Self::InvalidFieldType(p) => {
                write!(
                    f,
                    "field {p} does not start with a type letter such as A, I or N"
                )
            }
            Self::AmountNotPayable => {
                f.write_str("an amount to approve must be above zero with at most two decimals")
            }
        }
    }
}

impl core::error::Error for OperationDataError {}

/// A decimal number exactly as written: `units × 10^-scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal {
    /// The digits as an integer, with the sign.
    pub units: i128,
    /// How many of the digits are decimals.
    pub scale: u32,
}

impl Decimal {
    /// Reads `[-]digits[.digits]` or `[-].digits`; at most 30 digits as the amount is shown
    /// (`.5` is shown `0.5`), so that what is shown reads back.
    pub fn parse(text: &str) -> Option<Self> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = rest.split_once('.').unwrap_or((rest, ""));
        if whole.len() + fraction.len() == 0
            || whole.len().max(1) + fraction.len() > 30
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let units: i128 = format!("{whole}{fraction}").parse().ok()?;
        Some(Decimal {
            units: if negative { -units } else { units },
            scale: u32::try_from(fraction.len()).ok()?,
        })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.units < 0 { "-" } else { "" };
        let digits = self.units.unsigned_abs().to_string();
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{whole}.{fraction}")
    }
}

/// A calendar day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    /// Year, such as 2018.
    pub year: u16,
    /// Month 1..=12.
    pub month: u8,
    /// Day of the month, checked against the month and leap years.
    pub day: u8,
}

impl Date {
    /// A real day, or `None`.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days)
            .contains(&day)
            .then_some(Date { year, month, day })
    }

    /// Reads exactly `YYYYMMDD`.
    pub fn parse_compact(text: &str) -> Option<Self> {
        if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Date::new(
            text[..4].parse().ok()?,
            text[4..6].parse().ok()?,
            text[6..].parse().ok()?,
        )
    }

    fn compact(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for Date {
    /// ISO 8601, `2018-04-25`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// One field of operation data, with its text unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// An empty slot, kept so later fields keep their position.
    Empty,
    /// `A`: an amount and its ISO 4217 currency.
    Amount {
        /// The amount as written.
        amount: Decimal,
        /// Three letters, upper case.
        currency: String,
    },
    /// `I`: an IBAN with an optional BIC.
    Iban {
        /// The IBAN, such as `CZ2730300000001165254011`.
        iban: String,
        /// The BIC, such as `AIRACZPP`.
        bic: Option<String>,
    },
    /// `Q`: an account in any format.
    Account(String),
    /// `D`: a date.
    Date(Date),
    /// `R`: a payment reference.
    Reference(String),
    /// `N`: a note.
    Note(String),
    /// `T`: text shown as it is.
    Text(String),
    /// A type this version does not know, read as text.
    Other {
        /// The type letter.
        kind: char,
        /// The text.
        text: String,
    },
}

impl Field {
    /// The IBAN in groups of four for display, `CZ27 3030 0000 0011 6525 4011`.
    pub fn grouped_iban(iban: &str) -> String {
        iban.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Parsed operation data, with the line exactly as it stood (which is what gets signed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationData {
    /// The escaped line as it stands in the payload.
    pub source: String,
    /// The version letter: `A` is the first version; later letters are newer formats.
    pub version: char,
    /// Template: 0 generic, 1 payment, 2 login; others are read as generic.
    pub template: u8,
    /// Fields in order, empty slots included.
    pub fields: Vec<Field>,
}

impl OperationData {
    /// Parses an operation-data line.
    pub fn parse(line: &str) -> Result<Self, OperationDataError> {
        if line.is_empty() {
            return Err(OperationDataError::Empty);
        }
        let segments = split_fields(line);
        let header = segments[0];
        let mut chars = header.chars();
        let version = chars.next().filter(char::is_ascii_uppercase);
        let number = chars.as_str();
        let template =
            (!number.is_empty() && number.len() <= 2 && number.bytes().all(|b| b.is_ascii_digit()))
                .then(|| number.parse::<u8>().ok())
                .flatten();
        let (Some(version), Some(template)) = (version, template) else {
            return Err(OperationDataError::InvalidHeader(header.to_owned()));
        };
        let fields = &segments[1..];
        if fields.len() > MAX_FIELDS {
            return Err(OperationDataError::TooManyFields(fields.len()));
        }
        let fields = fields
            .iter()
            .enumerate()
            .map(|(i, raw)| parse_field(raw, i + 1))
            .collect::<Result<_, _>>()?;
        Ok(OperationData {
            source: line.to_owned(),
            version,
            template,
            fields,
        })
    }

    /// Writes the canonical line: the header, then each field, `*` only before a later
    /// non-empty field; text is normalized and escaped as PowerAuth's builder does.
    pub fn build(
        version: char,
        template: u8,
        fields: &[Field],
    ) -> Result<String, OperationDataError> {
        if !version.is_ascii_uppercase() || template > 99 {
            return Err(OperationDataError::InvalidHeader(format!(
                "{version}{template}"
            )));
        }
        if fields.len() > MAX_FIELDS {
            return Err(OperationDataError::TooManyFields(fields.len()));
        }
        let encoded = fields
            .iter()
            .enumerate()
            .map(|(index, field)| encode_field(field, index + 1))
            .collect::<Result<Vec<_>, _>>()?;
        // A `*` only before a field that writes something: trailing empty slots are left out.
        let last = encoded
            .iter()
            .rposition(|e| !e.is_empty())
            .map_or(0, |i| i + 1);
        let mut out = format!("{version}{template}");
        for field in &encoded[..last] {
            out.push('*');
            out.push_str(field);
        }
        Ok(out)
    }
}

/// One field as written, or an empty string for an empty slot or text that normalizes to
/// nothing.
fn encode_field(field: &Field, position: usize) -> Result<String, OperationDataError> {
    let text = |kind: char, text: &str| {
        let escaped = escape_text(text, true);
        if escaped.is_empty() {
            String::new()
        } else {
            format!("{kind}{escaped}")
        }
    };
    Ok(match field {
        Field::Empty => String::new(),
        Field::Amount { amount, currency } => {
            if amount.units <= 0 || amount.scale > 2 {
                return Err(OperationDataError::AmountNotPayable);
            }
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(OperationDataError::InvalidAmount(position));
            }
            format!("A{amount}{currency}")
        }
        Field::Iban { iban, bic } => {
            if !is_account_part(iban) || !bic.as_deref().is_none_or(is_account_part) {
                return Err(OperationDataError::InvalidAccount(position));
            }
            match bic {
                Some(bic) => format!("I{iban},{bic}"),
                None => format!("I{iban}"),
            }
        }
        Field::Date(date) => format!("D{}", date.compact()),
        Field::Account(t) => text('Q', t),
        Field::Reference(t) => text('R', t),
        Field::Note(t) => text('N', t),
        Field::Text(t) => text('T', t),
        Field::Other { kind, text: t } => {
            if !kind.is_ascii_alphanumeric() {
                return Err(OperationDataError::InvalidFieldType(position));
            }
            text(*kind, t)
        }
    })
}

/// An IBAN or a BIC: digits and capital letters, at least one.
fn is_account_part(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// Splits on `*` outside escapes, keeping each segment's escapes.
fn split_fields(line: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '*') => {
                segments.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    segments.push(&line[start..]);
    segments
}

fn parse_field(raw: &str, position: usize) -> Result<Field, OperationDataError> {
    let mut chars = raw.chars();
    let Some(kind) = chars.next() else {
        return Ok(Field::Empty);
    };
    let value = chars.as_str();
    Ok(match kind {
        'A' => {
            let invalid = OperationDataError::InvalidAmount(position);
            if value.len() < 4 || !value.is_char_boundary(value.len() - 3) {
                return Err(invalid);
            }
            let (number, currency) = value.split_at(value.len() - 3);
            if !currency.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(invalid);
            }
            Field::Amount {
                amount: Decimal::parse(number).ok_or(invalid)?,
                currency: currency.to_ascii_uppercase(),
            }
        }
        'I' => {
            let parts: Vec<&str> = value.split(',').filter(|p| !p.is_empty()).collect();
            if parts.is_empty() || parts.len() > 2 || !parts.iter().all(|p| is_account_part(p)) {
                return Err(OperationDataError::InvalidAccount(position));
            }
            Field::Iban {
                iban: parts[0].to_owned(),
                bic: parts.get(1).map(|b| (*b).to_owned()),
            }
        }
        'D' => Field::Date(
            Date::parse_compact(value).ok_or(OperationDataError::InvalidDate(position))?,
        ),
        'Q' => Field::Account(unescape(value, true)),
        'R' => Field::Reference(unescape(value, true)),
        'N' => Field::Note(unescape(value, true)),
        'T' => Field::Text(unescape(value, true)),
        kind if kind.is_ascii_alphanumeric() => Field::Other {
            kind,
            text: unescape(value, true),
        },
        _ => return Err(OperationDataError::InvalidFieldType(position)),
    })
}

/// Reads escapes left to right: `\n` newline, `\\` backslash and, in operation data, `\*`
/// asterisk. Any other backslash stays as written.
pub fn unescape(text: &str, asterisk: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.clone().next() {
            Some('n') => {
                out.push('\n');
                chars.next();
            }
            Some('\\') => {
                out.push('\\');
                chars.next();
            }
            Some('*') if asterisk => {
                out.push('*');
                chars.next();
            }
            _ => out.push('\\'),
        }
    }
    out
}

/// PowerAuth's text normalization for payloads: backslashes doubled, line breaks written `\n`,
/// every other run of white space one space, other control characters dropped and, in operation
/// data, `*` written `\*`.
pub fn escape_text(text: &str, asterisk: bool) -> String {
    // Control characters go first, so that white space on both sides of one folds into a
    // single space and escaping what was unescaped gives the same text again.
    let cleaned: String = text
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect();
    let mut out = String::with_capacity(cleaned.len() + 8);
    let mut chars = cleaned.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '*' if asterisk => out.push_str("\\*"),
            '\n' => out.push_str("\\n"),
            c if c.is_whitespace() => {
                while chars.next_if(|&n| n.is_whitespace() && n != '\n').is_some() {}
                out.push(' ');
            }
            c => out.push(c),
        }
    }
    out
}
