//! Splits `.fbp` text into tokens. Comments are dropped here, annotations
//! (`# @key value` at the start of a line) become tokens, and the parts with
//! their own little syntax (quoted data, JSON literals, `(component:meta)`,
//! `[index]`) are read whole, so the parser only sees a flat token stream.

use serde_json::{Map, Value as Json};

use super::FbpError;

/// `(component:key=value,...)` as written after a node name (or alone, for an
/// anonymous node).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ComponentSpec {
    /// Empty for `name()` or `name(:meta)`: a reference, not a declaration.
    pub name: String,
    pub metadata: Map<String, Json>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    /// A name: node, port, statement keyword or public port (`[A-Za-z_][A-Za-z0-9_.-]*`).
    Word(String),
    /// `[n]` written right after a word.
    Index(u32),
    Component(ComponentSpec),
    Arrow,
    Eq,
    Colon,
    /// A single-quoted string or a JSON literal.
    Data(Json),
    Annotation {
        key: String,
        value: String,
    },
    Comma,
    Newline,
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Token {
    pub tok: Tok,
    pub line: usize,
    pub column: usize,
    /// White space separates this token from the previous one.
    pub spaced: bool,
}

impl Token {
    pub fn error(&self, message: impl Into<String>) -> FbpError {
        FbpError::new(self.line, self.column, message)
    }

    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match &self.tok {
            Tok::Word(w) => format!("'{w}'"),
            Tok::Index(i) => format!("'[{i}]'"),
            Tok::Component(c) => format!("'({})'", c.name),
            Tok::Arrow => "'->'".into(),
            Tok::Eq => "'='".into(),
            Tok::Colon => "':'".into(),
            Tok::Data(_) => "a data value".into(),
            Tok::Annotation { key, .. } => format!("annotation '@{key}'"),
            Tok::Comma => "','".into(),
            Tok::Newline => "the end of the line".into(),
            Tok::Eof => "the end of the file".into(),
        }
    }
}

pub(super) fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn is_component_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_')
}

fn is_annotation_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_')
}

fn is_annotation_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.')
}

struct Lexer {
    chars: Vec<char>,
    i: usize,
    line: usize,
    column: usize,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn at_arrow(&self) -> bool {
        self.peek() == Some('-') && self.peek_at(1) == Some('>')
    }

    fn at_line_end(&self) -> bool {
        matches!(self.peek(), None | Some('\n' | '\r'))
    }

    /// Moves past one character, keeping line and column up to date (`\r\n`,
    /// `\n` and a lone `\r` each end a line).
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        match c {
            '\n' => {
                self.line += 1;
                self.column = 1;
            }
            '\r' if self.peek() != Some('\n') => {
                self.line += 1;
                self.column = 1;
            }
            '\r' => {}
            _ => self.column += 1,
        }
        Some(c)
    }

    fn error(&self, message: impl Into<String>) -> FbpError {
        FbpError::new(self.line, self.column, message)
    }

    fn skip_spaces(&mut self) -> bool {
        let start = self.i;
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
        self.i > start
    }

    fn skip_to_line_end(&mut self) {
        while !self.at_line_end() {
            self.bump();
        }
    }

    /// `# @key value` filling the rest of the line; None leaves the cursor alone.
    fn annotation(&self) -> Option<Tok> {
        let rest: String = self.chars[self.i..].iter().take_while(|c| !matches!(c, '\n' | '\r')).collect();
        let rest = rest.strip_prefix('#')?.trim_start_matches([' ', '\t']);
        let rest = rest.strip_prefix('@')?;
        let key_len = rest.chars().take_while(|&c| is_annotation_key_char(c)).count();
        let (key, rest) = rest.split_at(key_len);
        if key.is_empty() || !rest.starts_with([' ', '\t']) {
            return None;
        }
        let value = rest.trim_start_matches([' ', '\t']).trim_end_matches([' ', '\t']);
        if value.is_empty() || !value.chars().all(is_annotation_value_char) {
            return None;
        }
        Some(Tok::Annotation { key: key.to_string(), value: value.trim().to_string() })
    }

    fn word(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek() {
            if !is_word_char(c) || self.at_arrow() {
                break;
            }
            w.push(c);
            self.bump();
        }
        w
    }

    /// `[digits]` right after a port name.
    fn index(&mut self) -> Result<u32, FbpError> {
        let open = self.error("expected an array port index like [0]");
        self.bump();
        let mut digits = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            digits.push(c);
            self.bump();
        }
        if digits.is_empty() || self.peek() != Some(']') {
            return Err(open);
        }
        self.bump();
        digits
            .parse()
            .map_err(|_| FbpError::new(open.line, open.column, format!("array port index {digits} is too large")))
    }

    /// `'text'`: `\'` is a quote and `\\` a backslash; other characters,
    /// newlines included, are taken as they are.
    fn quoted(&mut self) -> Result<Json, FbpError> {
        let open = self.error("unterminated string: missing closing '");
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return Err(open),
                Some('\'') => return Ok(Json::String(s)),
                Some('\\') if matches!(self.peek(), Some('\'' | '\\')) => {
                    s.push(self.bump().expect("peeked"));
                }
                Some(c) => s.push(c),
            }
        }
    }

    /// A double-quoted JSON string (its text, escapes left for serde).
    fn json_string(&mut self, text: &mut String) -> Result<(), FbpError> {
        let open = self.error("unterminated string: missing closing \"");
        text.push(self.bump().expect("at a quote"));
        loop {
            if self.at_line_end() {
                return Err(open);
            }
            let c = self.bump().expect("not at the end");
            text.push(c);
            match c {
                '"' => return Ok(()),
                '\\' if !self.at_line_end() => text.push(self.bump().expect("not at the end")),
                _ => {}
            }
        }
    }

    /// A JSON literal: object, array, double-quoted string or number. The extent
    /// is found here, serde_json checks the text.
    fn json(&mut self) -> Result<Json, FbpError> {
        let (line, column) = (self.line, self.column);
        let mut text = String::new();
        match self.peek() {
            Some('"') => self.json_string(&mut text)?,
            Some('{' | '[') => {
                // Closing brackets still expected; a wrong one ends the scan
                // and serde_json reports it.
                let mut open: Vec<char> = Vec::new();
                loop {
                    match self.peek() {
                        None => {
                            return Err(FbpError::new(
                                line,
                                column,
                                "unterminated JSON value: a closing bracket is missing",
                            ))
                        }
                        Some('"') => self.json_string(&mut text)?,
                        Some(c) => {
                            text.push(c);
                            self.bump();
                            match c {
                                '{' => open.push('}'),
                                '[' => open.push(']'),
                                _ => {}
                            }
                            let closing = matches!(c, '}' | ']');
                            if closing && (open.pop() != Some(c) || open.is_empty()) {
                                break;
                            }
                        }
                    }
                }
            }
            _ => {
                // A number: take everything that could belong to it and let
                // serde_json judge (`1.2.3` and `12abc` are errors, not two tokens).
                while let Some(c) = self.peek() {
                    if !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-')) || self.at_arrow() {
                        break;
                    }
                    text.push(c);
                    self.bump();
                }
            }
        }
        serde_json::from_str(&text).map_err(|e| {
            let (l, c) = if e.line() <= 1 {
                (line, column + e.column().saturating_sub(1))
            } else {
                (line + e.line() - 1, e.column())
            };
            let message = e.to_string();
            let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m);
            FbpError::new(l, c, format!("invalid JSON value: {message}"))
        })
    }

    /// `(component:key=value,...)`.
    fn component(&mut self) -> Result<ComponentSpec, FbpError> {
        let open = self.error("unterminated component: missing ')'");
        self.bump();
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|&c| is_component_char(c)) {
            name.push(c);
            self.bump();
        }
        let mut metadata = Map::new();
        match self.peek() {
            Some(')') => {}
            Some(':') => {
                self.bump();
                let mut items = Vec::new();
                let mut item = (self.line, self.column, String::new());
                loop {
                    match self.peek() {
                        _ if self.at_line_end() => return Err(open),
                        Some(c @ (',' | ')')) => {
                            items.push(std::mem::replace(&mut item, (self.line, self.column + 1, String::new())));
                            if c == ')' {
                                break;
                            }
                        }
                        Some(c) => item.2.push(c),
                        None => unreachable!("at_line_end covers the end"),
                    }
                    self.bump();
                }
                for (line, column, text) in items {
                    add_metadata(&mut metadata, line, column, &text)?;
                }
            }
            _ if self.at_line_end() => return Err(open),
            Some(c) => {
                return Err(
                    self.error(format!("unexpected '{c}' in component name (allowed: letters, digits, '/', '-', '_')"))
                )
            }
            None => unreachable!("at_line_end covers the end"),
        }
        self.bump();
        Ok(ComponentSpec { name, metadata })
    }
}

/// One `key=value` (or bare route name) of node metadata.
fn add_metadata(meta: &mut Map<String, Json>, line: usize, column: usize, text: &str) -> Result<(), FbpError> {
    let lead = text.len() - text.trim_start().len();
    let column = column + text[..lead].chars().count();
    let text = text.trim();
    if text.is_empty() {
        return Ok(());
    }
    let (key, value) = match text.split_once('=') {
        None => ("routes", text),
        Some((k, v)) => (k.trim(), v.trim()),
    };
    if key.is_empty() {
        return Err(FbpError::new(line, column, format!("metadata entry '{text}' has no key")));
    }
    let value = match key {
        "routes" => {
            let routes = meta.entry("routes").or_insert_with(|| Json::Array(Vec::new()));
            if let Json::Array(a) = routes {
                a.push(Json::String(value.into()));
            }
            return Ok(());
        }
        "x" | "y" => match serde_json::from_str::<Json>(value) {
            Ok(n @ Json::Number(_)) => n,
            _ => return Err(FbpError::new(line, column, format!("metadata '{key}' must be a number, not '{value}'"))),
        },
        _ => Json::String(value.into()),
    };
    meta.insert(key.into(), value);
    Ok(())
}

/// Tokenises a whole file; the last token is always [`Tok::Eof`].
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, FbpError> {
    let mut lx = Lexer { chars: text.chars().collect(), i: 0, line: 1, column: 1 };
    let mut out: Vec<Token> = Vec::new();
    let mut line_start = true;
    loop {
        let spaced = lx.skip_spaces();
        let (line, column) = (lx.line, lx.column);
        let Some(c) = lx.peek() else {
            out.push(Token { tok: Tok::Eof, line, column, spaced });
            return Ok(out);
        };
        let after_word = !spaced && matches!(out.last(), Some(Token { tok: Tok::Word(_), .. }));
        let tok = match c {
            '\n' | '\r' => {
                lx.bump();
                line_start = true;
                out.push(Token { tok: Tok::Newline, line, column, spaced });
                continue;
            }
            '#' => {
                let annotation = if line_start { lx.annotation() } else { None };
                lx.skip_to_line_end();
                match annotation {
                    Some(tok) => tok,
                    None => continue,
                }
            }
            ',' | '=' | ':' => {
                lx.bump();
                match c {
                    ',' => Tok::Comma,
                    '=' => Tok::Eq,
                    _ => Tok::Colon,
                }
            }
            '-' if lx.peek_at(1) == Some('>') => {
                lx.bump();
                lx.bump();
                Tok::Arrow
            }
            '[' if after_word => Tok::Index(lx.index()?),
            '\'' => Tok::Data(lx.quoted()?),
            '"' | '{' | '[' => Tok::Data(lx.json()?),
            '-' if lx.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => Tok::Data(lx.json()?),
            '0'..='9' => Tok::Data(lx.json()?),
            '(' => Tok::Component(lx.component()?),
            c if is_word_start(c) => Tok::Word(lx.word()),
            c => {
                return Err(lx.error(format!("unexpected character '{}'", c.escape_debug())));
            }
        };
        line_start = false;
        out.push(Token { tok, line, column, spaced });
    }
}
