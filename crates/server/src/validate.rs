//! The values a well-formed request may still get wrong: each problem names its field.

use plumb_contract::v1::ErrorDetail;

use crate::error::ApiError;

/// Collects problems; `finish` turns any into a 422.
#[derive(Debug, Default)]
pub struct Problems(Vec<ErrorDetail>);

impl Problems {
    fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(ErrorDetail {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    pub fn email(&mut self, field: &str, email: &str) {
        let length = email.chars().count();
        let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && domain.contains('.')
        });
        if !(3..=254).contains(&length) {
            self.push(field, "must be 3 to 254 characters");
        } else if !well_formed || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            self.push(field, "must be an email address such as name@example.com");
        }
    }

    /// A name people read: 1 to `max` characters, not blank, no control characters.
    pub fn text(&mut self, field: &str, text: &str, max: usize) {
        if text.trim().is_empty() {
            self.push(field, "must not be blank");
        } else if text.chars().count() > max {
            self.push(field, format!("must be at most {max} characters"));
        } else if text.chars().any(char::is_control) {
            self.push(field, "must not contain control characters");
        }
    }

    pub fn limit(&mut self, field: &str, limit: Option<u32>) {
        if limit.is_some_and(|l| !(1..=500).contains(&l)) {
            self.push(field, "must be from 1 to 500");
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(check: impl FnOnce(&mut Problems)) -> Vec<String> {
        let mut problems = Problems::default();
        check(&mut problems);
        problems
            .0
            .into_iter()
            .map(|d| format!("{}: {}", d.field, d.message))
            .collect()
    }

    #[test]
    fn emails() {
        assert!(fields(|p| p.email("/email", "ada@example.com")).is_empty());
        assert_eq!(
            fields(|p| p.email("/email", "ada")),
            ["/email: must be an email address such as name@example.com"]
        );
        assert_eq!(fields(|p| p.email("/email", "a b@example.com")).len(), 1);
        assert_eq!(fields(|p| p.email("/email", "@x.y")).len(), 1);
        assert_eq!(
            fields(|p| p.email("/email", "ab")),
            ["/email: must be 3 to 254 characters"]
        );
    }

    #[test]
    fn texts_and_limits() {
        assert_eq!(
            fields(|p| p.text("/label", "  ", 100)),
            ["/label: must not be blank"]
        );
        assert_eq!(
            fields(|p| p.text("/label", &"x".repeat(101), 100)),
            ["/label: must be at most 100 characters"]
        );
        assert!(
            fields(|p| p.text("/label", &"é".repeat(100), 100)).is_empty(),
            "characters, not bytes"
        );
        assert_eq!(
            fields(|p| p.limit("limit", Some(0))),
            ["limit: must be from 1 to 500"]
        );
        assert!(fields(|p| p.limit("limit", None)).is_empty());
    }

    /// The published schemas say what the service accepts: for every sample, the handler's
    /// check and the schema's length and pattern agree.
    #[test]
    fn the_published_patterns_accept_what_the_service_accepts() {
        use plumb_contract::patterns;
        let samples = [
            "",
            " ",
            "a",
            "ab",
            "a b",
            " a ",
            "\t",
            "a\u{7}b",
            "a\nb",
            "\u{85}x",
            "\u{a0}",
            "\u{a0}x",
            "\u{2003}",
            "é",
            "日本",
            "x\u{9f}",
            "ada@example.com",
            "ada@example",
            "a@.",
            "@x.y",
            "a@b@c.d",
            "a b@example.com",
            "ada@exa mple.com",
            "a\u{0}@x.y",
            "ada@ex\u{7f}ample.com",
            "a@b",
        ];
        let long = "x".repeat(101);
        let long_email = format!("{}@example.com", "x".repeat(250));
        // Every character of the Basic Multilingual Plane alone, inside a name and inside an
        // email address: the patterns spell out what `char` calls white space and control.
        let every_character: Vec<String> = (0..=0xFFFF_u32)
            .filter_map(char::from_u32)
            .flat_map(|c| [format!("{c}"), format!("a{c}b"), format!("a{c}b@x.y")])
            .collect();
        let text = regex::Regex::new(patterns::TEXT).unwrap();
        let email = regex::Regex::new(patterns::EMAIL).unwrap();
        for sample in samples
            .iter()
            .copied()
            .chain([long.as_str(), long_email.as_str()])
            .chain(every_character.iter().map(String::as_str))
        {
            let length = sample.chars().count();
            let text_ok = fields(|p| p.text("/label", sample, 100)).is_empty();
            let text_schema = (1..=100).contains(&length) && text.is_match(sample);
            assert_eq!(text_ok, text_schema, "label {sample:?}");
            let email_ok = fields(|p| p.email("/email", sample)).is_empty();
            let email_schema = (3..=254).contains(&length) && email.is_match(sample);
            assert_eq!(email_ok, email_schema, "email {sample:?}");
        }
    }
}
