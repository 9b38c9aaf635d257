//! HTML: a small lenient tokenizer plus a stack-based block builder.
//!
//! Real pages (and the PostgreSQL manual's DocBook XHTML) are often
//! malformed, so nothing here trusts the markup: elements close implicitly,
//! unknown entities stay verbatim, an unterminated construct runs to the end
//! of input. Every emitted byte maps back to its source through
//! [`MappedText`]. Both passes are iterative and linear in the input, so deep
//! nesting cannot overflow the call stack and huge pages cannot go quadratic.
//!
//! [`MappedText`]: crate::mapped::MappedText

mod builder;
mod elements;
mod entities;
mod lexer;
mod lists;
mod tables;
#[cfg(test)]
mod tests;

use super::Parsed;
use builder::Builder;
use lexer::{Token, Tokenizer};

/// Parses an HTML document into blocks in reading order; never panics.
pub fn parse(src: &str) -> Parsed {
    let mut builder = Builder::new(src);
    let mut tokens = Tokenizer::new(src);
    while let Some(token) = tokens.next_token() {
        match token {
            Token::Text(range) => builder.text(range),
            Token::Start(tag) => builder.start(&tag),
            Token::End { name, range } => builder.end(&name, range),
        }
    }
    builder.finish()
}
