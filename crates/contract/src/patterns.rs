//! What the service refuses in a string besides its length, as JSON Schema patterns
//! (ECMA-262, as JSON Schema asks): the published schemas say what the service accepts, so a
//! request valid against them is never refused for its text.
//!
//! Control characters are Unicode's `Cc` (U+0000–U+001F, U+007F–U+009F), the ones Rust's
//! `char::is_control` names.

/// Text people read (a key's label, a display name): not blank, no control characters.
pub const TEXT: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// An email address as the service takes one: one `@` with text before it, a `.` after it,
/// no white space and no control characters.
pub const EMAIL: &str = r"^[^@\s\u0000-\u001F\u007F-\u009F]+@[^@\s\u0000-\u001F\u007F-\u009F]*\.[^@\s\u0000-\u001F\u007F-\u009F]*$";
