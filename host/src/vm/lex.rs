//! The assembler's tokens: a line of `.hsasm` split into words, strings
//! (with their escapes), punctuation and arrows, each with its position;
//! and the number literals' forms.

use super::error::{AsmError, AsmErrorKind};

/// A position in the source: line and column, from 1.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pos {
    pub(super) line: u32,
    pub(super) col: u32,
}

impl AsmError {
    /// The error `kind` at `at`.
    pub(super) fn new(at: Pos, kind: AsmErrorKind) -> AsmError {
        AsmError {
            line: at.line,
            column: at.col,
            kind,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Word(String),
    Str(String),
    Punct(char),
    Arrow,
}

impl std::fmt::Display for Tok {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tok::Word(w) => f.write_str(w),
            Tok::Str(s) => write!(f, "{s:?}"),
            Tok::Punct(c) => write!(f, "{c}"),
            Tok::Arrow => f.write_str("->"),
        }
    }
}

pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) pos: Pos,
    /// Byte offset of the token's end in the line.
    pub(super) end: usize,
}

/// Decimal or `0x` hex, with an optional sign.
pub(super) fn parse_int(w: &str) -> Option<i128> {
    let (neg, digits) = match w.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, w.strip_prefix('+').unwrap_or(w)),
    };
    let v = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        i128::from_str_radix(hex, 16).ok()?
    } else {
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        digits.parse::<i128>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// A float, or `inf`, `-inf`, `nan`.
pub(crate) fn parse_float(w: &str) -> Option<f64> {
    match w {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ if w.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) => w.parse().ok(),
        _ => None,
    }
}

pub(super) fn tokenize(line_no: u32, line: &str) -> Result<Vec<Token>, AsmError> {
    let mut toks = Vec::new();
    let mut chars = line.char_indices().peekable();
    let col_of = |byte: usize| line[..byte].chars().count() as u32 + 1;
    while let Some(&(i, c)) = chars.peek() {
        let pos = Pos {
            line: line_no,
            col: col_of(i),
        };
        if c == ';' {
            break;
        }
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                let Some((j, c)) = chars.next() else {
                    return Err(AsmError::new(pos, AsmErrorKind::UnterminatedString));
                };
                match c {
                    '"' => {
                        toks.push(Token {
                            tok: Tok::Str(s),
                            pos,
                            end: j + 1,
                        });
                        break;
                    }
                    '\\' => {
                        let Some((k, e)) = chars.next() else {
                            return Err(AsmError::new(pos, AsmErrorKind::UnterminatedString));
                        };
                        let esc_at = Pos {
                            line: line_no,
                            col: col_of(k) - 1,
                        };
                        s.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            '0' => '\0',
                            '\\' => '\\',
                            '"' => '"',
                            'u' => unicode_escape(&mut chars, line).ok_or_else(|| {
                                AsmError::new(
                                    esc_at,
                                    AsmErrorKind::BadEscape { text: "\\u".into() },
                                )
                            })?,
                            other => {
                                return Err(AsmError::new(
                                    esc_at,
                                    AsmErrorKind::BadEscape {
                                        text: format!("\\{other}"),
                                    },
                                ));
                            }
                        });
                    }
                    c => s.push(c),
                }
            }
            continue;
        }
        if c == '-' && line[i..].starts_with("->") {
            chars.next();
            chars.next();
            toks.push(Token {
                tok: Tok::Arrow,
                pos,
                end: i + 2,
            });
            continue;
        }
        if is_word_char(c) {
            let mut end = i;
            while let Some(&(j, c)) = chars.peek() {
                if !is_word_char(c) {
                    break;
                }
                end = j + c.len_utf8();
                chars.next();
            }
            toks.push(Token {
                tok: Tok::Word(line[i..end].to_owned()),
                pos,
                end,
            });
            continue;
        }
        chars.next();
        toks.push(Token {
            tok: Tok::Punct(c),
            pos,
            end: i + c.len_utf8(),
        });
    }
    Ok(toks)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || "_.+-".contains(c)
}

/// The rest of a `\u{XXXX}` escape.
fn unicode_escape(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    line: &str,
) -> Option<char> {
    let (open, '{') = chars.next()? else {
        return None;
    };
    let close = line[open..].find('}')? + open;
    let hex = &line[open + 1..close];
    while chars.peek().is_some_and(|&(j, _)| j <= close) {
        chars.next();
    }
    if hex.is_empty() || hex.len() > 6 {
        return None;
    }
    char::from_u32(u32::from_str_radix(hex, 16).ok()?)
}
