//! How much SQL the checker analyses in one file. The parser builds a syntax tree whose cost
//! grows with the square of its depth (rowan re-hashes every subtree when its node cache grows),
//! and its memory is about a hundred times the file's size. So before parsing, one pass of the
//! lexer (linear, and it knows strings, comments and dollar quotes) measures the file; a file
//! beyond a limit gets one `not-analysed` finding instead of analysis. No migration of the
//! diesel repositories plumb was tried on comes near them.

use squawk_lexer::TokenKind;

use super::parse::Range;

/// Larger files are not parsed: 4 MiB.
pub const MAX_FILE_BYTES: usize = 4 << 20;
/// Parentheses and brackets nested deeper than this.
pub const MAX_DEPTH: usize = 1_000;
/// Tokens in a row with no comma, semicolon or parenthesis between them: a chain of operators,
/// casts or `NOT`s, each one a level deeper in the tree.
pub const MAX_RUN: usize = 10_000;

/// Where and why `text` is beyond what the checker analyses, if it is.
pub fn beyond_limits(text: &str) -> Option<(Range, String)> {
    if text.len() > MAX_FILE_BYTES {
        return Some((
            (0, 0),
            format!(
                "the file is {:.1} MiB; plumb analyses files up to {} MiB",
                text.len() as f64 / f64::from(1u32 << 20),
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    // A file can be beyond the depth only with more opening brackets than the depth, and
    // beyond the run only with more bytes than the run's tokens: most files need no lexing.
    let opening = text.bytes().filter(|b| matches!(b, b'(' | b'[')).count();
    if opening <= MAX_DEPTH && text.len() <= MAX_RUN {
        return None;
    }
    let (mut depth, mut run, mut offset) = (0usize, 0usize, 0usize);
    for token in squawk_lexer::tokenize(text) {
        let at = offset;
        offset += token.len as usize;
        match token.kind {
            TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment { .. } => {}
            TokenKind::OpenParen | TokenKind::OpenBracket => {
                depth += 1;
                run = 0;
                if depth > MAX_DEPTH {
                    return Some((
                        (at, at + 1),
                        format!("parentheses nested more than {MAX_DEPTH} deep"),
                    ));
                }
            }
            TokenKind::CloseParen | TokenKind::CloseBracket => {
                depth = depth.saturating_sub(1);
                run = 0;
            }
            TokenKind::Comma | TokenKind::Semi => run = 0,
            _ => {
                run += 1;
                if run > MAX_RUN {
                    return Some((
                        (at, offset),
                        format!(
                            "more than {MAX_RUN} tokens in a row with no comma, semicolon or parenthesis between them"
                        ),
                    ));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_sql_is_within_the_limits_whatever_its_strings_and_comments_hold() {
        let body = format!("$$ BEGIN {} END $$", "(".repeat(5_000));
        let sql = format!(
            "-- {}\nCREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS {body};\nSELECT '{}';\nINSERT INTO t VALUES {};\n",
            "(".repeat(5_000),
            "+1".repeat(20_000),
            vec!["(1, 'a')"; 50_000].join(", ")
        );
        assert_eq!(beyond_limits(&sql), None);
    }

    #[test]
    fn deep_nesting_long_chains_and_large_files_are_beyond_them_saying_where() {
        let sql = format!(
            "SELECT 1;\nSELECT {}1{};\n",
            "(".repeat(2_000),
            ")".repeat(2_000)
        );
        let ((start, _), why) = beyond_limits(&sql).unwrap();
        assert_eq!(start, "SELECT 1;\nSELECT ".len() + MAX_DEPTH);
        assert!(why.contains("nested more than 1000 deep"), "{why}");
        let chain = format!("SELECT 1{};", "::text".repeat(MAX_RUN));
        assert!(beyond_limits(&chain).unwrap().1.contains("tokens in a row"));
        let nots = format!("SELECT {}true;", "NOT ".repeat(MAX_RUN + 1));
        assert!(beyond_limits(&nots).is_some());
        let large = format!("SELECT '{}';", "x".repeat(MAX_FILE_BYTES));
        assert_eq!(beyond_limits(&large).unwrap().0, (0, 0));
    }
}
