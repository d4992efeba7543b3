//! A small, fully bounded JSON reader: just enough to pick a few fields out
//! of signalling messages, without a dependency and without allocating.
//!
//! Why not `serde_json`: the adapters read half a dozen known fields from
//! short messages. A validating scanner over the message text does that in
//! ~400 lines with no code-size cost for the generic machinery, and every
//! limit (message length, nesting depth) is explicit.
//!
//! [`parse`] validates the whole document once (RFC 8259 grammar, depth
//! bound) and returns the root [`Value`]. Objects and arrays are kept as
//! their raw text; [`Value::get`] and [`Value::members`] re-scan them on
//! demand (the text is known valid, and each scan is linear). Strings stay
//! escaped ([`JStr`]) until read with [`JStr::chars`], [`JStr::to_owned_string`]
//! or compared with [`JStr::eq_str`].

use super::WireError;

/// Deepest nesting of arrays/objects accepted.
pub const MAX_DEPTH: usize = 16;

/// A validated JSON value borrowing the message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as written.
    Number(&'a str),
    /// A string, still escaped.
    String(JStr<'a>),
    /// An array, raw text including the brackets.
    Array(&'a str),
    /// An object, raw text including the braces.
    Object(&'a str),
}

/// The escaped content of a JSON string (between the quotes), known valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JStr<'a>(pub(crate) &'a str);

/// Validates `text` as one JSON document and returns its root value.
pub fn parse(text: &str) -> Result<Value<'_>, WireError> {
    let mut p = Parser {
        s: text.as_bytes(),
        t: text,
        i: 0,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing characters after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    t: &'a str,
    i: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, why: &'static str) -> WireError {
        WireError::Json {
            offset: self.i,
            why,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &'static [u8]) -> Result<(), WireError> {
        if self.s.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, WireError> {
        match self.peek() {
            None => Err(self.err("unexpected end of JSON")),
            Some(b'n') => self.lit(b"null").map(|_| Value::Null),
            Some(b't') => self.lit(b"true").map(|_| Value::Bool(true)),
            Some(b'f') => self.lit(b"false").map(|_| Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            Some(b'[') => {
                let start = self.i;
                self.container(depth, b']', false)?;
                Ok(Value::Array(&self.t[start..self.i]))
            }
            Some(b'{') => {
                let start = self.i;
                self.container(depth, b'}', true)?;
                Ok(Value::Object(&self.t[start..self.i]))
            }
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn container(&mut self, depth: usize, close: u8, object: bool) -> Result<(), WireError> {
        if depth >= MAX_DEPTH {
            return Err(self.err("JSON nested too deeply"));
        }
        self.i += 1; // opening bracket
        self.ws();
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(());
        }
        loop {
            if object {
                if self.peek() != Some(b'"') {
                    return Err(self.err("expected an object key"));
                }
                self.string()?;
                self.ws();
                if self.peek() != Some(b':') {
                    return Err(self.err("expected ':'"));
                }
                self.i += 1;
                self.ws();
            }
            self.value(depth + 1)?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(c) if c == close => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.err("expected ',' or a closing bracket")),
            }
        }
    }

    fn string(&mut self) -> Result<JStr<'a>, WireError> {
        self.i += 1; // opening quote
        let start = self.i;
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    let s = &self.t[start..self.i];
                    self.i += 1;
                    return Ok(JStr(s));
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            self.i += 1;
                            let hi = self.hex4()?;
                            if (0xDC00..0xE000).contains(&hi) {
                                return Err(self.err("lone low surrogate"));
                            }
                            if (0xD800..0xDC00).contains(&hi) {
                                if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return Err(self.err("lone high surrogate"));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("lone high surrogate"));
                                }
                            }
                        }
                        _ => return Err(self.err("invalid escape")),
                    }
                }
                Some(c) if c < 0x20 => return Err(self.err("control character in string")),
                Some(_) => self.i += 1,
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, WireError> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("truncated \\u escape"))?;
        let mut v = 0u32;
        for &c in h {
            let d = (c as char)
                .to_digit(16)
                .ok_or_else(|| self.err("invalid \\u escape"))?;
            v = v * 16 + d;
        }
        self.i += 4;
        Ok(v)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<&'a str, WireError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        Ok(&self.t[start..self.i])
    }
}

impl<'a> Value<'a> {
    /// The member `key` of an object (the first one if repeated); `None`
    /// for a missing key or a non-object.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.members().find(|(k, _)| k.eq_str(key)).map(|(_, v)| v)
    }

    /// Follows a path of object keys: `v.path(&["media", "payload"])`.
    pub fn path(&self, keys: &[&str]) -> Option<Value<'a>> {
        let mut v = *self;
        for k in keys {
            v = v.get(k)?;
        }
        Some(v)
    }

    /// The members of an object in document order (nothing for a non-object).
    pub fn members(&self) -> Members<'a> {
        match self {
            Value::Object(t) => Members {
                p: Parser {
                    s: t.as_bytes(),
                    t,
                    i: 1,
                },
                done: false,
            },
            _ => Members {
                p: Parser {
                    s: b"",
                    t: "",
                    i: 0,
                },
                done: true,
            },
        }
    }

    /// The elements of an array in order (nothing for a non-array).
    pub fn elements(&self) -> Elements<'a> {
        match self {
            Value::Array(t) => Elements {
                p: Parser {
                    s: t.as_bytes(),
                    t,
                    i: 1,
                },
                done: false,
            },
            _ => Elements {
                p: Parser {
                    s: b"",
                    t: "",
                    i: 0,
                },
                done: true,
            },
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<JStr<'a>> {
        match self {
            Value::String(s) => Some(*s),
            _ => None,
        }
    }

    /// A non-negative integer written as a JSON number or as a string of
    /// decimal digits (Twilio sends `"timestamp":"5"`). At most 19 digits.
    pub fn as_u64_lenient(&self) -> Option<u64> {
        let digits = match self {
            Value::Number(n) => *n,
            Value::String(s) => s.0,
            _ => return None,
        };
        if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// A boolean written as `true`/`false` or as the strings `"true"`/`"false"`.
    pub fn as_bool_lenient(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_str("true") => Some(true),
            Value::String(s) if s.eq_str("false") => Some(false),
            _ => None,
        }
    }
}

/// Iterator over an object's `(key, value)` pairs.
pub struct Members<'a> {
    p: Parser<'a>,
    done: bool,
}

impl<'a> Iterator for Members<'a> {
    type Item = (JStr<'a>, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // The text was validated by `parse`; any surprise just ends the scan.
        let r = (|| {
            self.p.ws();
            if self.p.peek() != Some(b'"') {
                return None;
            }
            let k = self.p.string().ok()?;
            self.p.ws();
            if self.p.peek() != Some(b':') {
                return None;
            }
            self.p.i += 1;
            self.p.ws();
            let v = self.p.value(1).ok()?;
            self.p.ws();
            if self.p.peek() == Some(b',') {
                self.p.i += 1;
            }
            Some((k, v))
        })();
        if r.is_none() {
            self.done = true;
        }
        r
    }
}

/// Iterator over an array's elements.
pub struct Elements<'a> {
    p: Parser<'a>,
    done: bool,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = (|| {
            self.p.ws();
            if matches!(self.p.peek(), Some(b']') | None) {
                return None;
            }
            let v = self.p.value(1).ok()?;
            self.p.ws();
            if self.p.peek() == Some(b',') {
                self.p.i += 1;
            }
            Some(v)
        })();
        if r.is_none() {
            self.done = true;
        }
        r
    }
}

impl<'a> JStr<'a> {
    /// The escaped text between the quotes, as written.
    pub fn raw(&self) -> &'a str {
        self.0
    }

    /// The unescaped characters.
    pub fn chars(&self) -> JChars<'a> {
        JChars {
            s: self.0.as_bytes(),
            t: self.0,
            i: 0,
        }
    }

    /// Whether the unescaped string equals `s`, without allocating.
    pub fn eq_str(&self, s: &str) -> bool {
        if !self.0.contains('\\') {
            return self.0 == s;
        }
        self.chars().eq(s.chars())
    }

    /// The unescaped string, refusing more than `max_bytes` bytes.
    pub fn to_owned_string(&self, max_bytes: usize) -> Option<String> {
        if self.0.len() > max_bytes.saturating_mul(6) {
            return None;
        }
        let mut out = String::with_capacity(self.0.len().min(max_bytes));
        for c in self.chars() {
            if out.len() + c.len_utf8() > max_bytes {
                return None;
            }
            out.push(c);
        }
        Some(out)
    }
}

/// Iterator over the unescaped characters of a [`JStr`].
pub struct JChars<'a> {
    s: &'a [u8],
    t: &'a str,
    i: usize,
}

impl JChars<'_> {
    fn hex4(&mut self) -> u32 {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self
                .s
                .get(self.i)
                .and_then(|&c| (c as char).to_digit(16))
                .unwrap_or(0);
            v = v * 16 + d;
            self.i += 1;
        }
        v
    }
}

impl Iterator for JChars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let &c = self.s.get(self.i)?;
        if c != b'\\' {
            let ch = self.t.get(self.i..)?.chars().next()?;
            self.i += ch.len_utf8();
            return Some(ch);
        }
        self.i += 1;
        let e = *self.s.get(self.i)?;
        self.i += 1;
        Some(match e {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4();
                if (0xD800..0xDC00).contains(&hi) {
                    self.i += 2; // "\u", validated by the parser
                    let lo = self.hex4();
                    char::from_u32(
                        0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF),
                    )
                    .unwrap_or('\u{FFFD}')
                } else {
                    char::from_u32(hi).unwrap_or('\u{FFFD}')
                }
            }
            other => other as char, // '"', '\\', '/'
        })
    }
}

/// Appends `s` to `out` as a JSON string literal (quotes included), escaping
/// `"`, `\` and control characters.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
