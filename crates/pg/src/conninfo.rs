//! PostgreSQL connection URLs: pointing one at another database, and naming it in messages
//! without ever showing its password.

use std::fmt;

use diesel::{Connection, PgConnection};
use url::Url;

use crate::{OnlineError, Result};

/// What every connection plumb opens sets unless the URL does (libpq's parameters): 10 s to
/// connect; keepalives that find a silent peer within about 25 s of idle waiting; and unsent
/// data that is not acknowledged within 60 s ends the connection.
pub const CONNECTION_DEFAULTS: [(&str, &str); 6] = [
    ("connect_timeout", "10"),
    ("keepalives", "1"),
    ("keepalives_idle", "10"),
    ("keepalives_interval", "5"),
    ("keepalives_count", "3"),
    ("tcp_user_timeout", "60000"),
];

/// A `postgres://` or `postgresql://` URL. `Display` and `Debug` hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: Url,
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<Self> {
        let url = Url::parse(text.trim()).map_err(|e| OnlineError::InvalidUrl {
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(OnlineError::InvalidUrl {
                reason: format!("the scheme is {:?}", url.scheme()),
            });
        }
        // `postgres:/user:password@host/db` is no URL libpq reads as one: it would take the
        // whole text for a connection string and quote it, password and all, in its error.
        if !url.has_authority() {
            return Err(OnlineError::InvalidUrl {
                reason: "no // after the scheme".to_owned(),
            });
        }
        Ok(Self { url })
    }

    /// A URL for a server reached through a Unix socket directory.
    pub fn for_socket(socket_dir: &std::path::Path, port: u16, user: &str, database: &str) -> Self {
        let mut url = Url::parse("postgresql:///").expect("a constant URL parses");
        url.set_path(database);
        url.query_pairs_mut()
            .append_pair("host", &socket_dir.to_string_lossy())
            .append_pair("port", &port.to_string())
            .append_pair("user", user);
        Self { url }
    }

    /// The same server and credentials, another database. A `dbname` parameter goes: libpq
    /// would take it over the path, and connect to the first database again.
    pub fn with_database(&self, database: &str) -> Self {
        let mut url = self.url.clone();
        if url.query_pairs().any(|(key, _)| key == "dbname") {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(key, _)| key != "dbname")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            if kept.is_empty() {
                url.set_query(None);
            } else {
                url.query_pairs_mut().clear().extend_pairs(&kept);
            }
        }
        // Every byte but the unreserved ones escaped: libpq decodes the path, so a `%` or a
        // `/` in the name must reach it encoded.
        let encoded: String = database
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        url.set_path(&encoded);
        Self { url }
    }

    /// The database named in the URL, as libpq reads it (a `dbname` parameter over the path);
    /// libpq defaults it to the user name.
    pub fn database(&self) -> Option<String> {
        let path = self.url.path().trim_start_matches('/');
        let decoded = percent_decode(path);
        self.query("dbname")
            .or_else(|| (!decoded.is_empty()).then_some(decoded))
    }

    /// "host H port P, database D": what messages say about the server.
    pub fn describe(&self) -> String {
        let host = self
            .query("host")
            .or_else(|| {
                self.url
                    .host_str()
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "localhost".to_owned());
        let port = self
            .query("port")
            .or_else(|| self.url.port().map(|p| p.to_string()))
            .unwrap_or_else(|| "5432".to_owned());
        let database = self
            .database()
            .unwrap_or_else(|| "(the user's default)".to_owned());
        format!("host {host} port {port}, database {database}")
    }

    /// The full URL, password included: for libpq, never for people.
    pub fn expose(&self) -> &str {
        self.url.as_str()
    }

    /// The URL libpq is given: the user's, with a bound on connecting and TCP keepalives
    /// wherever it sets none, so that a server that accepts and never answers, or a network
    /// that drops mid-backfill, ends in an error instead of a wait without end.
    pub fn with_timeouts(&self) -> Url {
        let mut url = self.url.clone();
        let set: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        {
            let mut query = url.query_pairs_mut();
            for (key, value) in CONNECTION_DEFAULTS {
                if !set.iter().any(|k| k == key) {
                    query.append_pair(key, value);
                }
            }
        }
        url
    }

    pub fn connect(&self) -> Result<PgConnection> {
        PgConnection::establish(self.with_timeouts().as_str()).map_err(|e| OnlineError::Connect {
            target: self.describe(),
            reason: self.redacted(&one_line(&e.to_string())),
        })
    }

    /// `text` without the password, as written in the URL or decoded: libpq may quote what it
    /// was given.
    fn redacted(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if let Some(password) = self.url.password().filter(|p| !p.is_empty()) {
            out = out.replace(password, "********");
            let decoded = percent_decode(password);
            if !decoded.is_empty() {
                out = out.replace(&decoded, "********");
            }
        }
        out
    }

    fn query(&self, key: &str) -> Option<String> {
        self.url
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
}

/// A URL path decoded as libpq decodes it: `%2B` is `+`, and `+` stays `+` (it means a space
/// only in form data).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// libpq's messages span lines ("...failed\n\tIs the server running..."); a log line should not.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.url.clone();
        if shown.password().is_some() {
            // Only fails for URLs that cannot have credentials, which a postgres URL can.
            let _ = shown.set_password(Some("*****"));
        }
        f.write_str(shown.as_str())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_name_is_percent_decoded_and_a_plus_stays_a_plus() {
        let url = DatabaseUrl::parse("postgres://u@h/app%2Dtest+1").unwrap();
        assert_eq!(url.database().as_deref(), Some("app-test+1"));
    }

    #[test]
    fn describe_names_host_and_database_but_never_the_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.internal:6543/accounts").unwrap();
        assert_eq!(
            url.describe(),
            "host db.internal port 6543, database accounts"
        );
        assert!(!url.to_string().contains("s3cret"));
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(url.expose().contains("s3cret"));
    }

    #[test]
    fn with_database_keeps_server_and_query() {
        let url = DatabaseUrl::parse("postgresql://u@h/one?sslmode=disable").unwrap();
        let other = url.with_database("two");
        assert_eq!(other.expose(), "postgresql://u@h/two?sslmode=disable");
        assert_eq!(other.database().as_deref(), Some("two"));
    }

    #[test]
    fn with_database_overrides_a_dbname_parameter_and_encodes_the_name() {
        let url =
            DatabaseUrl::parse("postgresql://u@h/?host=/run/postgresql&dbname=control").unwrap();
        assert_eq!(url.database().as_deref(), Some("control"));
        let other = url.with_database("tenant 50%/a");
        assert_eq!(other.database().as_deref(), Some("tenant 50%/a"));
        assert!(!other.expose().contains("control"), "{}", other.expose());
        assert!(
            other
                .describe()
                .starts_with("host /run/postgresql port 5432"),
            "{}",
            other.describe()
        );
    }

    #[test]
    fn socket_urls_name_the_socket_directory() {
        let url = DatabaseUrl::for_socket(
            std::path::Path::new("/tmp/plumb-pg-x"),
            5499,
            "postgres",
            "postgres",
        );
        assert_eq!(
            url.describe(),
            "host /tmp/plumb-pg-x port 5499, database postgres"
        );
        assert_eq!(url.with_database("t1").database().as_deref(), Some("t1"));
    }

    #[test]
    fn other_schemes_and_garbage_are_refused() {
        assert!(matches!(
            DatabaseUrl::parse("mysql://x/y"),
            Err(OnlineError::InvalidUrl { .. })
        ));
        assert!(matches!(
            DatabaseUrl::parse("host=x dbname=y"),
            Err(OnlineError::InvalidUrl { .. })
        ));
    }
}
