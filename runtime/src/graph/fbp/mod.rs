//! The `.fbp` text DSL (the language of the npm `fbp` parser, version 1.8):
//!
//! ```text
//! # @runtime imgflo
//! INPORT=crop.INPUT:INPUT
//! OUTPORT=nop.OUTPUT:OUTPUT
//! '100' -> WIDTH crop(gegl/crop) OUTPUT -> INPUT nop(gegl/nop)
//! ```
//!
//! Statements end at a newline or a `,`; `#` starts a comment. A node is declared
//! as `name(component)` where first used (or `(component)` for an anonymous
//! one); ports sit between the node and the arrow. Data in single quotes, or a
//! JSON literal, sends an initial packet. Unless the parse is case-sensitive,
//! port and public names are lower-cased; node and component names never are.

mod lexer;
mod parser;
#[cfg(test)]
mod tests;

use super::Graph;

/// A parse error at a 1-based line and column of the source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct FbpError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl FbpError {
    pub(crate) fn new(line: usize, column: usize, message: impl Into<String>) -> FbpError {
        FbpError { line, column, message: message.into() }
    }
}

/// Parses `.fbp` text with port names lower-cased (the `fbp` parser's default).
pub fn parse(text: &str) -> Result<Graph, FbpError> {
    parse_with(text, false)
}

/// Parses `.fbp` text; with `case_sensitive` false, port and public names are
/// lower-cased.
pub fn parse_with(text: &str, case_sensitive: bool) -> Result<Graph, FbpError> {
    let tokens = lexer::tokenize(text)?;
    parser::Parser::new(tokens, case_sensitive).parse()
}
