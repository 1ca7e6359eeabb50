//! Rust text with its `///` and `//!` comments made plain `//` comments before it is
//! tokenized.
//!
//! The tokenizer turns every doc comment into a `#[doc = "…"]` attribute that syn then parses:
//! on a `schema.rs` printed `with_docs`, or models documented field by field, that is a good
//! part of all the work of a check, for text no check reads. A plain comment is skipped at the
//! speed of a search for the line's end. One byte changes per comment (its third slash or its
//! `!` becomes a space), so every line, column and byte offset stays where it was.
//!
//! The scan knows strings, raw strings, character literals and block comments only as far as
//! to tell a doc comment from text inside them; when it cannot tell (a literal or comment left
//! open), the text is tokenized as it is and the tokenizer reports the error.

use std::borrow::Cow;

/// `text` with each `///` and `//!` comment turned into a plain `//` comment.
pub fn blank_doc_comments(text: &str) -> Cow<'_, str> {
    if !text.contains("///") && !text.contains("//!") {
        return Cow::Borrowed(text);
    }
    let Some(comments) = doc_comments(text.as_bytes()) else {
        return Cow::Borrowed(text);
    };
    if comments.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for start in comments {
        bytes[start + 2] = b' ';
    }
    // An ASCII byte replaced another: the bytes are UTF-8 still.
    match String::from_utf8(bytes) {
        Ok(blanked) => Cow::Owned(blanked),
        Err(_) => Cow::Borrowed(text),
    }
}

/// Where the doc comments begin, or `None` when a literal or a block comment is never closed.
/// Jumps from one `/`, `"` or `'` to the next: only they can open a comment or a literal (a
/// raw string's `r#` prefix is seen from its quote).
fn doc_comments(b: &[u8]) -> Option<Vec<usize>> {
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(n) = memchr::memchr3(b'/', b'"', b'\'', &b[i..]) {
        i += n;
        i = match b[i] {
            b'/' => match b.get(i + 1) {
                Some(b'/') => {
                    let doc = match b.get(i + 2) {
                        Some(b'!') => true,
                        // `////` is a plain comment already.
                        Some(b'/') => b.get(i + 3) != Some(&b'/'),
                        _ => false,
                    };
                    if doc {
                        found.push(i);
                    }
                    memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n)
                }
                Some(b'*') => block_comment_end(b, i)?,
                _ => i + 1,
            },
            b'"' => match raw_string_hashes(b, i) {
                Some(hashes) => raw_string_end(b, i + 1, hashes)?,
                None => string_end(b, i + 1)?,
            },
            _ => char_literal_end(b, i),
        };
    }
    Some(found)
}

/// A byte of an identifier, a keyword or a number (any byte of a non-ASCII character too).
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Past a (nested) block comment opened at `start`.
fn block_comment_end(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Past the closing quote of a string whose text begins at `i`.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    while let Some(n) = memchr::memchr2(b'\\', b'"', &b[i..]) {
        i += n;
        if b[i] == b'"' {
            return Some(i + 1);
        }
        i += 2;
        if i > b.len() {
            return None;
        }
    }
    None
}

/// For the opening quote at `quote` of `r"…"`, `r#"…"#`, `br"…"` or `cr"…"`: how many `#`
/// its prefix has; `None` for any other quote.
fn raw_string_hashes(b: &[u8], quote: usize) -> Option<usize> {
    let hashes = b[..quote].iter().rev().take_while(|&&c| c == b'#').count();
    let mut prefix = quote - hashes;
    if prefix == 0 || b[prefix - 1] != b'r' {
        return None;
    }
    prefix -= 1;
    if prefix > 0 && matches!(b[prefix - 1], b'b' | b'c') {
        prefix -= 1;
    }
    // The prefix is a word of its own: `for"` ends a keyword, it opens no raw string.
    (prefix == 0 || !is_word(b[prefix - 1])).then_some(hashes)
}

/// Past the end of a raw string whose text begins at `i`, closed by a quote and `hashes` `#`.
fn raw_string_end(b: &[u8], mut i: usize, hashes: usize) -> Option<usize> {
    while let Some(n) = memchr::memchr(b'"', &b[i..]) {
        i += n + 1;
        if b[i..]
            .iter()
            .take(hashes)
            .take_while(|&&c| c == b'#')
            .count()
            == hashes
        {
            return Some(i + hashes);
        }
    }
    None
}

/// Past a character literal opened at `start` (`'x'`, `'\n'`, `'"'`), or just past the quote
/// of a lifetime or a label (`'a`).
fn char_literal_end(b: &[u8], start: usize) -> usize {
    let i = start + 1;
    match b.get(i) {
        // `\'`, `\n`, `\x7f`, `\u{1F600}` (with any number of `_`): the closing quote comes
        // right after the escape.
        Some(b'\\') => {
            let end = match (b.get(i + 1), b.get(i + 2)) {
                (Some(b'u'), Some(b'{')) => {
                    memchr::memchr(b'}', &b[i + 3..]).map_or(b.len(), |n| i + 3 + n + 1)
                }
                (Some(b'x'), _) => i + 4,
                _ => i + 2,
            };
            if b.get(end) == Some(&b'\'') {
                end + 1
            } else {
                i
            }
        }
        Some(&lead) => {
            let width = match lead {
                0xf0.. => 4,
                0xe0.. => 3,
                0xc0.. => 2,
                _ => 1,
            };
            if b.get(i + width) == Some(&b'\'') {
                i + width + 1
            } else {
                i
            }
        }
        None => i,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The text with each byte made a space shown as `_`, for assertions that read as the input.
    fn blanked(text: &str) -> String {
        let out = blank_doc_comments(text);
        assert_eq!(out.len(), text.len(), "byte offsets move");
        assert_eq!(out.lines().count(), text.lines().count(), "lines move");
        let shown: Vec<u8> = out
            .bytes()
            .zip(text.bytes())
            .map(|(o, t)| if o == b' ' && t != b' ' { b'_' } else { o })
            .collect();
        String::from_utf8(shown).unwrap()
    }

    #[test]
    fn outer_and_inner_doc_comments_become_plain_comments() {
        assert_eq!(
            blanked("//! crate\n/// A table.\nstruct A; // kept\n//// plain\n"),
            "//_ crate\n//_ A table.\nstruct A; // kept\n//// plain\n"
        );
        assert_eq!(blanked("/// naïve\r\nx"), "//_ naïve\r\nx");
    }

    #[test]
    fn what_only_looks_like_a_doc_comment_inside_a_literal_or_comment_is_kept() {
        for text in [
            "let s = \"\n/// in a string\n\";",
            "let s = \"\\\"\n/// after an escaped quote\n\";",
            "let s = r#\"\"\n/// in a raw string\n\"#;",
            "let s = br\"\n/// in a raw byte string\n\";",
            "/* outer /* nested */\n/// in a block comment\n*/",
            "let c = '\"'; let s = \"\n/// the quote was a character\n\";",
            "let c = '\\''; let s = \"\n/// so was this one\n\";",
            "let c = ['\\u{1_____________}', '\"']; let s = \"\n/// after a long escape\n\";",
            "let c = ['\\x7f', '\"']; let s = \"\n/// after a byte escape\n\";",
        ] {
            assert_eq!(blank_doc_comments(text), text, "{text}");
        }
    }

    #[test]
    fn lifetimes_and_words_ending_in_r_do_not_open_anything() {
        assert_eq!(
            blanked("fn f<'a>(x: &'a str) { for\"\" }\n/// doc\n"),
            "fn f<'a>(x: &'a str) { for\"\" }\n//_ doc\n"
        );
        assert_eq!(
            blanked("let c = 'é';\n/// doc\n"),
            "let c = 'é';\n//_ doc\n"
        );
    }

    #[test]
    fn text_left_open_is_given_back_whole_for_the_tokenizer_to_report() {
        for text in ["/// doc\n\"never closed", "/// doc\n/* never closed"] {
            assert_eq!(blank_doc_comments(text), text);
        }
    }
}
