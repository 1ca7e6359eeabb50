//! For the tests that prove no output shows a password: `DATABASE_URL` in each form a user may
//! write, the password in it, and what counts as showing it.

/// The password every form carries.
pub const PASSWORD: &str = "s3cr3t-Pw";

/// Each form, with the password in it: URLs libpq cannot parse (it would quote them whole),
/// and URLs it can, to a server that is not there.
pub fn forms() -> Vec<String> {
    vec![
        format!("mysql://app:{PASSWORD}@db.internal/accounts"),
        format!("postgres://app:{PASSWORD}@[::1/accounts"),
        format!("postgres:/app:{PASSWORD}@localhost/accounts"),
        // A `/` inside the password, not encoded: a URL parser reads `app:s3cr3t-Pw/x` as a
        // host and a port.
        format!("postgres://app:{PASSWORD}/x@localhost/accounts"),
        format!("postgres://app:{PASSWORD}@127.0.0.1:1/accounts"),
        format!("postgresql://app:{PASSWORD}%2Fx@127.0.0.1:1/accounts"),
    ]
}

/// Whether `output` shows the password or a piece of it a parser may cut out (at `/`, `:`,
/// `@`).
pub fn leaked(output: &str) -> bool {
    output.contains(PASSWORD) || output.contains("s3cr3t") || output.contains("-Pw")
}
