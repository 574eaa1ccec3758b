//! `--storage` values: which back end, and the URL as messages may show it.

use std::path::PathBuf;

use crate::error::{Result, TuneError};

/// A parsed `--storage` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageUrl {
    /// `sqlite:PATH`, `sqlite://PATH` or a plain path.
    Sqlite(PathBuf),
    /// `postgresql://...` or `postgres://...`, as given (libpq's URL form).
    Postgres(String),
}

impl StorageUrl {
    pub fn parse(url: &str) -> Result<StorageUrl> {
        let unsupported = || TuneError::UnsupportedStorage {
            url: redact_url(url),
        };
        if url.starts_with("postgresql://") || url.starts_with("postgres://") {
            return Ok(StorageUrl::Postgres(url.to_string()));
        }
        let path = match url.strip_prefix("sqlite:") {
            Some(rest) => rest.strip_prefix("//").unwrap_or(rest),
            // Any other scheme (`mysql://`, `redis://`) is a mistake, not a file name.
            None if url.contains("://") => return Err(unsupported()),
            None => url,
        };
        if path.is_empty() {
            return Err(unsupported());
        }
        Ok(StorageUrl::Sqlite(PathBuf::from(path)))
    }
}

/// `url` without its password: `postgresql://user:secret@host/db?password=x` becomes
/// `postgresql://user@host/db`. Anything that is not a URL is returned as it is.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let (scheme, rest) = url.split_at(scheme_end + 3);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}{host}")
        }
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|kv| !kv.starts_with("password="))
                .collect();
            if kept.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => tail.to_string(),
    };
    format!("{scheme}{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_left_out() {
        assert_eq!(
            redact_url("postgresql://dlkit:secret@db.example:5432/tune"),
            "postgresql://dlkit@db.example:5432/tune"
        );
        assert_eq!(
            redact_url("postgres://h/tune?sslmode=disable&password=x&user=u"),
            "postgres://h/tune?sslmode=disable&user=u"
        );
        assert_eq!(
            redact_url("postgres://h/tune?password=x"),
            "postgres://h/tune"
        );
        assert_eq!(redact_url("runs/study.db"), "runs/study.db");
    }

    #[test]
    fn back_ends() {
        let sqlite = |p: &str| Ok(StorageUrl::Sqlite(PathBuf::from(p)));
        assert_eq!(
            StorageUrl::parse("study.db").map_err(|_| ()),
            sqlite("study.db")
        );
        assert_eq!(
            StorageUrl::parse("sqlite:a/b.db").map_err(|_| ()),
            sqlite("a/b.db")
        );
        assert_eq!(
            StorageUrl::parse("sqlite:///tmp/b.db").map_err(|_| ()),
            sqlite("/tmp/b.db")
        );
        assert!(matches!(
            StorageUrl::parse("postgres://u@h/d"),
            Ok(StorageUrl::Postgres(_))
        ));
        assert_eq!(
            StorageUrl::parse("mysql://u:pw@h/d").unwrap_err().to_string(),
            "storage \"mysql://u@h/d\" is not supported: expected a file path, `sqlite:PATH` or `postgresql://USER@HOST:PORT/DATABASE`"
        );
        assert!(StorageUrl::parse("sqlite:").is_err());
    }
}
