//! Parsing the layers of a description, each error naming the innermost layer at fault
//! (`layers[2].layers[1] (relu): ...`).

use crate::spec::LayerSpec;
use serde::Deserialize;
use serde_json::Value;

/// Parses one layer at `at` (`"layers[2]"`), naming the innermost layer at fault.
pub(crate) fn parse_layer(v: &Value, at: &str) -> std::result::Result<LayerSpec, String> {
    LayerSpec::deserialize(v).map_err(|e| locate_error(v, at, e))
}

/// The `type` an object names, if any.
fn layer_type(v: &Value) -> Option<&str> {
    v.get("type").and_then(Value::as_str)
}

/// Serde's own message for a layer of type `ty` with no fields: "unknown variant `ty`,
/// expected one of `dense`, ..." when `ty` is no layer type.
fn bare_layer_error(ty: &str) -> String {
    LayerSpec::deserialize(serde_json::json!({ "type": ty }))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

fn is_layer_type(ty: &str) -> bool {
    !bare_layer_error(ty).starts_with(&format!("unknown variant `{ty}`"))
}

/// The objects with a `type` nested in `v` (through lists and plain objects, not through
/// other typed objects), with their paths: the candidates for nested layers.
fn typed_children<'a>(v: &'a Value, at: &str, out: &mut Vec<(String, &'a Value)>) {
    let visit = |child_at: String, child: &'a Value, out: &mut Vec<(String, &'a Value)>| {
        if layer_type(child).is_some() {
            out.push((child_at, child));
        } else {
            typed_children(child, &child_at, out);
        }
    };
    match v {
        Value::Object(obj) => {
            for (key, val) in obj {
                visit(format!("{at}.{key}"), val, out);
            }
        }
        Value::Array(items) => {
            for (j, item) in items.iter().enumerate() {
                visit(format!("{at}[{j}]"), item, out);
            }
        }
        _ => {}
    }
}

/// Descends to the innermost nested layer that fails on its own and describes its error.
fn locate_error(v: &Value, at: &str, e: serde_json::Error) -> String {
    let msg = e.to_string();
    let mut children = Vec::new();
    if let Value::Object(obj) = v {
        for (key, val) in obj.iter().filter(|(k, _)| *k != "type") {
            if layer_type(val).is_some() {
                children.push((format!("{at}.{key}"), val));
            } else {
                typed_children(val, &format!("{at}.{key}"), &mut children);
            }
        }
    }
    for (child_at, child) in children {
        let ty = layer_type(child).unwrap_or_default();
        // A typed object is a nested layer if its type is a layer type, or if this error is
        // serde's for an unknown layer type of that name (not, say, an unknown initialiser).
        if !(is_layer_type(ty) || msg == bare_layer_error(ty)) {
            continue;
        }
        if let Err(ce) = LayerSpec::deserialize(child) {
            return locate_error(child, &child_at, ce);
        }
    }
    match layer_type(v) {
        Some(ty) if msg == bare_layer_error(ty) && !is_layer_type(ty) => {
            let rest = msg
                .strip_prefix(&format!("unknown variant `{ty}`"))
                .unwrap_or_default();
            format!(
                "{at}: unknown layer type `{ty}`{rest} (a layer type defined outside dlkit-nn \
                 loads once registered with dlkit_nn::register_layer)"
            )
        }
        Some(ty) => format!("{at} ({ty}): {}", plain_unknown_field(&msg)),
        None if v.is_object() && v.get("type").is_none() => {
            format!("{at}: a layer needs a `type` field ({msg})")
        }
        None => format!("{at}: {msg}"),
    }
}

/// Serde's "unknown field `k`, expected `a`" (or "expected one of `a`, `b`", or "there are no
/// fields") as "unknown field `k`; its fields are `a`, `b`" (or "it takes no fields").
fn plain_unknown_field(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return msg.to_string();
    };
    let Some(end) = rest.find('`') else {
        return msg.to_string();
    };
    let (key, tail) = (&rest[..end], &rest[end + 1..]);
    let known = if tail == ", there are no fields" {
        "it takes no fields".to_string()
    } else if let Some(list) = tail
        .strip_prefix(", expected one of ")
        .or_else(|| tail.strip_prefix(", expected "))
    {
        format!("its fields are {list}")
    } else {
        return msg.to_string();
    };
    format!("unknown field `{key}`; {known}")
}
