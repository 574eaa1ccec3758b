//! Which top-level layers of a model a config means, by index or by name
//! ([`layer_names`](crate::layer_names)): `8` (the first 8 layers), `"..8"`, `"2..5"`,
//! `"..=conv2d_2"`, `"dense_1"`, or a list such as `["conv2d_1", 3, "5..7"]`; for transfer
//! learning's `[model] keep` and `[model] freeze`.
//!
//! Ranges follow Rust: `a..b` runs from `a` up to but not including `b`, `a..=b` includes `b`;
//! a left-out start is the first layer, a left-out end is past the last. Each end is an index
//! or a layer name. A lone integer `n` is a count (`"..n"`); inside a list an integer is one
//! index.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A selection of a model's top-level layers (see the module's documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayerSelection {
    /// The first `n` layers.
    Count(usize),
    /// A range (`"..8"`, `"conv2d_1..=relu_2"`), a layer name or an index as text.
    Text(String),
    /// The union of indices, names and ranges.
    List(Vec<LayerItem>),
}

/// One entry of a [`LayerSelection::List`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayerItem {
    /// One layer by index.
    Index(usize),
    /// A range, a layer name or an index as text.
    Text(String),
}

const EXPECTED: &str =
    "a layer count, a range such as \"..8\" or \"2..=conv2d_2\", a layer name, or a list of them";

impl LayerSelection {
    /// The selected indices, ascending and each once, among layers named `names`
    /// (`names[i]` is layer `i`'s). An error names the entry that fits no layer, and lists
    /// the layers for a name that is not there.
    pub fn resolve(&self, names: &[String]) -> Result<Vec<usize>, String> {
        let n = names.len();
        let mut picked = match self {
            LayerSelection::Count(k) if *k > n => {
                return Err(format!(
                    "{k} layers asked for, but the model has {n}{}",
                    listing(names)
                ))
            }
            LayerSelection::Count(k) => (0..*k).collect(),
            LayerSelection::Text(t) => text(t, names)?,
            LayerSelection::List(items) => {
                let mut all = Vec::new();
                for item in items {
                    match item {
                        LayerItem::Index(i) => all.push(index(*i, names)?),
                        LayerItem::Text(t) => all.extend(text(t, names)?),
                    }
                }
                all
            }
        };
        picked.sort_unstable();
        picked.dedup();
        Ok(picked)
    }
}

/// `"(the layers are 0 dense_1, 1 relu_1, ...)"`, or nothing for a model without layers.
fn listing(names: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let all: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{i} {n}"))
        .collect();
    format!(" (the layers are {})", all.join(", "))
}

fn index(i: usize, names: &[String]) -> Result<usize, String> {
    if i < names.len() {
        return Ok(i);
    }
    Err(format!(
        "index {i} is out of range: the model has {} layers{}",
        names.len(),
        listing(names)
    ))
}

/// A layer named `end` (an index or a name) of a range or alone.
fn layer(end: &str, names: &[String]) -> Result<usize, String> {
    if !end.is_empty() && end.bytes().all(|b| b.is_ascii_digit()) {
        let i = end
            .parse()
            .map_err(|_| format!("index {end} is out of range"))?;
        return index(i, names);
    }
    names
        .iter()
        .position(|n| n == end)
        .ok_or_else(|| format!("no layer named `{end}`{}", listing(names)))
}

fn text(t: &str, names: &[String]) -> Result<Vec<usize>, String> {
    let t = t.trim();
    let Some((start, rest)) = t.split_once("..") else {
        return Ok(vec![layer(t, names)?]);
    };
    let start = match start.trim() {
        "" => 0,
        // A range may start just past the last layer (and select nothing).
        s if s.parse() == Ok(names.len()) => names.len(),
        s => layer(s, names)?,
    };
    let end = match rest.strip_prefix('=') {
        Some(e) if e.trim().is_empty() => {
            return Err(format!("`{t}`: an inclusive range needs its last layer"))
        }
        Some(e) => layer(e.trim(), names)? + 1,
        None => match rest.trim() {
            "" => names.len(),
            e if e.bytes().all(|b| b.is_ascii_digit()) => {
                let i: usize = e.parse().unwrap_or(usize::MAX);
                if i > names.len() {
                    return Err(format!(
                        "`{t}` ends at {i}, past the model's {} layers{}",
                        names.len(),
                        listing(names)
                    ));
                }
                i
            }
            e => layer(e, names)?,
        },
    };
    if start > end {
        return Err(format!("`{t}` starts after it ends"));
    }
    Ok((start..end).collect())
}

impl Serialize for LayerSelection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LayerSelection::Count(n) => s.serialize_u64(*n as u64),
            LayerSelection::Text(t) => s.serialize_str(t),
            LayerSelection::List(items) => items.serialize(s),
        }
    }
}

impl Serialize for LayerItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LayerItem::Index(i) => s.serialize_u64(*i as u64),
            LayerItem::Text(t) => s.serialize_str(t),
        }
    }
}

/// Reads an integer as a count or index; a negative one is an error.
fn non_negative<E: de::Error>(v: i64) -> Result<usize, E> {
    usize::try_from(v).map_err(|_| E::custom(format!("{v} is negative; expected {EXPECTED}")))
}

struct SelectionVisitor;

impl<'de> Visitor<'de> for SelectionVisitor {
    type Value = LayerSelection;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(LayerSelection::Count(v as usize))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        non_negative(v).map(LayerSelection::Count)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(LayerSelection::Text(v.to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(LayerSelection::List(items))
    }
}

impl<'de> Deserialize<'de> for LayerSelection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SelectionVisitor)
    }
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = LayerItem;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a layer index, a layer name or a range")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(LayerItem::Index(v as usize))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        non_negative(v).map(LayerItem::Index)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(LayerItem::Text(v.to_string()))
    }
}

impl<'de> Deserialize<'de> for LayerItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ItemVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        [
            "conv2d_1",
            "relu_1",
            "conv2d_2",
            "relu_2",
            "flatten_1",
            "dense_1",
        ]
        .map(String::from)
        .to_vec()
    }

    #[derive(Deserialize, Serialize)]
    struct Holder {
        s: LayerSelection,
    }

    fn parse(text: &str) -> LayerSelection {
        toml::from_str::<Holder>(&format!("s = {text}")).unwrap().s
    }

    fn pick(text: &str) -> Result<Vec<usize>, String> {
        parse(text).resolve(&names())
    }

    #[test]
    fn counts_ranges_names_and_lists_resolve() {
        assert_eq!(pick("4"), Ok(vec![0, 1, 2, 3]));
        assert_eq!(pick("0"), Ok(vec![]));
        assert_eq!(pick("\"..4\""), Ok(vec![0, 1, 2, 3]));
        assert_eq!(pick("\"4..\""), Ok(vec![4, 5]));
        assert_eq!(pick("\"..\""), Ok(vec![0, 1, 2, 3, 4, 5]));
        assert_eq!(pick("\"1..3\""), Ok(vec![1, 2]));
        assert_eq!(pick("\"1..=3\""), Ok(vec![1, 2, 3]));
        assert_eq!(pick("\"..conv2d_2\""), Ok(vec![0, 1]));
        assert_eq!(pick("\"..=conv2d_2\""), Ok(vec![0, 1, 2]));
        assert_eq!(pick("\"relu_1..flatten_1\""), Ok(vec![1, 2, 3]));
        assert_eq!(pick("\"dense_1\""), Ok(vec![5]));
        assert_eq!(pick("\"2\""), Ok(vec![2]));
        assert_eq!(pick("[]"), Ok(vec![]));
        assert_eq!(
            pick("[5, \"conv2d_1\", \"1..=2\", 2]"),
            Ok(vec![0, 1, 2, 5])
        );
        assert_eq!(pick("\"6..\""), Ok(vec![]));
    }

    #[test]
    fn selections_that_fit_no_layer_say_why() {
        let all = " (the layers are 0 conv2d_1, 1 relu_1, 2 conv2d_2, 3 relu_2, 4 flatten_1, \
                   5 dense_1)";
        assert_eq!(
            pick("\"conv2d_3\""),
            Err(format!("no layer named `conv2d_3`{all}"))
        );
        assert_eq!(
            pick("[6]"),
            Err(format!(
                "index 6 is out of range: the model has 6 layers{all}"
            ))
        );
        assert_eq!(
            pick("\"..=6\""),
            Err(format!(
                "index 6 is out of range: the model has 6 layers{all}"
            ))
        );
        assert_eq!(
            pick("\"..7\""),
            Err(format!("`..7` ends at 7, past the model's 6 layers{all}"))
        );
        assert_eq!(
            pick("7"),
            Err(format!("7 layers asked for, but the model has 6{all}"))
        );
        assert_eq!(pick("\"4..2\""), Err("`4..2` starts after it ends".into()));
        assert_eq!(
            pick("\"2..=\""),
            Err("`2..=`: an inclusive range needs its last layer".into())
        );
    }

    #[test]
    fn selections_round_trip_and_reject_other_values() {
        for text in ["8", "\"..conv2d_2\"", "[1, \"dense_1\"]"] {
            let s = parse(text);
            let again: Holder =
                toml::from_str(&toml::to_string(&Holder { s: s.clone() }).unwrap()).unwrap();
            assert_eq!(again.s, s);
        }
        let e = toml::from_str::<Holder>("s = -1")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("-1 is negative; expected a layer count"), "{e}");
        let e = toml::from_str::<Holder>("s = 1.5")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("expected a layer count, a range"), "{e}");
    }
}
