//! What the service refuses in a string besides its length, as JSON Schema patterns
//! (ECMA-262, as JSON Schema asks): the published schemas say what the service accepts, so a
//! request valid against them is never refused for its text.
//!
//! Control characters are Unicode's `Cc` (U+0000–U+001F, U+007F–U+009F), the ones Rust's
//! `char::is_control` names; white space is Unicode's `White_Space`, the characters
//! `char::is_whitespace` names, spelled out: `\s` differs between regex dialects (ECMA-262's
//! includes U+FEFF).

/// Text people read (a key's label, a display name): not blank, no control characters.
pub const TEXT: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$";

/// An email address as the service takes one: one `@` with text before it, a `.` after it,
/// no white space and no control characters.
pub const EMAIL: &str = r"^[^@\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+@[^@\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\.[^@\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";
