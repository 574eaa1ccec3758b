//! Config paths: `optimizer.lr`, `train.batch_size`, `model.layers[0].units`: TOML keys
//! separated by dots, each optionally followed by `[i]` array indices.

use std::fmt;

/// One step of a config path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSegment {
    /// A key of a table.
    Key(String),
    /// An index into an array, from 0.
    Index(usize),
}

/// A parsed config path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigPath(pub Vec<PathSegment>);

impl ConfigPath {
    /// Parses `key(.key | [i])*`, keys being TOML bare keys (`A-Z a-z 0-9 _ -`).
    pub fn parse(path: &str) -> Result<ConfigPath, String> {
        let bad = || {
            format!(
                "not a config path: expected keys separated by dots, with [i] indices \
                 (like model.layers[0].units), got {path:?}"
            )
        };
        let mut segments = Vec::new();
        let mut rest = path;
        let mut expect_key = true;
        while !rest.is_empty() {
            if expect_key {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(rest.len());
                if end == 0 {
                    return Err(bad());
                }
                segments.push(PathSegment::Key(rest[..end].to_string()));
                rest = &rest[end..];
                expect_key = false;
            } else if let Some(after) = rest.strip_prefix('.') {
                if after.is_empty() {
                    return Err(bad());
                }
                rest = after;
                expect_key = true;
            } else if let Some(after) = rest.strip_prefix('[') {
                let close = after.find(']').ok_or_else(bad)?;
                let digits = &after[..close];
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                segments.push(PathSegment::Index(digits.parse().map_err(|_| bad())?));
                rest = &after[close + 1..];
            } else {
                return Err(bad());
            }
        }
        if segments.is_empty() {
            return Err(bad());
        }
        Ok(ConfigPath(segments))
    }

    /// Whether `self` lies strictly inside `other` (`model.layers[0].units` inside
    /// `model.layers`).
    pub fn is_inside(&self, other: &ConfigPath) -> bool {
        self.0.len() > other.0.len() && self.0.starts_with(&other.0)
    }
}

impl fmt::Display for ConfigPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                PathSegment::Key(k) if i == 0 => write!(f, "{k}")?,
                PathSegment::Key(k) => write!(f, ".{k}")?,
                PathSegment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_print_back() {
        for p in [
            "optimizer.lr",
            "model.layers[0].units",
            "model.layers",
            "a[1][2].b-c",
        ] {
            assert_eq!(ConfigPath::parse(p).unwrap().to_string(), p);
        }
        let p = ConfigPath::parse("model.layers[10].units").unwrap();
        assert_eq!(
            p.0,
            vec![
                PathSegment::Key("model".into()),
                PathSegment::Key("layers".into()),
                PathSegment::Index(10),
                PathSegment::Key("units".into()),
            ]
        );
    }

    #[test]
    fn malformed_paths_are_refused() {
        for p in [
            "",
            ".lr",
            "optimizer.",
            "optimizer..lr",
            "a[x]",
            "a[]",
            "a[1",
            "[0]",
            "a b",
        ] {
            let e = ConfigPath::parse(p).unwrap_err();
            assert!(e.starts_with("not a config path"), "{p}: {e}");
        }
    }

    #[test]
    fn inside_is_a_strict_prefix() {
        let layers = ConfigPath::parse("model.layers").unwrap();
        let units = ConfigPath::parse("model.layers[0].units").unwrap();
        assert!(units.is_inside(&layers));
        assert!(!layers.is_inside(&units));
        assert!(!layers.is_inside(&layers));
        assert!(!ConfigPath::parse("model.layers2")
            .unwrap()
            .is_inside(&layers));
    }
}
