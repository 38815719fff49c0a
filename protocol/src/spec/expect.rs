//! Checking one expectation against a packet: an optional JSONPath `path` whose
//! every match must satisfy every operator given. Numbers compare by value (1 ==
//! 1.0), `type` uses chai's names (an array is not an object), `haveKeys` is the exact
//! key set and `includeKeys` a subset. Unknown keys are errors, so a typo cannot
//! turn a check into no check.

use serde_json::{Map, Value as Json};
use serde_json_path::JsonPath;

/// The operators this runner knows.
pub const OPERATORS: [&str; 7] = ["equals", "above", "below", "type", "haveKeys", "includeKeys", "contains"];

/// Checks `expectation` against `value`; the error says what differed.
pub fn check(expectation: &Map<String, Json>, value: &Json) -> Result<(), String> {
    for key in expectation.keys() {
        if key != "path" && !OPERATORS.contains(&key.as_str()) {
            return Err(format!("unknown expectation {key:?} (known: path, {})", OPERATORS.join(", ")));
        }
    }
    if !expectation.keys().any(|k| OPERATORS.contains(&k.as_str())) {
        return Err("expectation has no operator".into());
    }
    let targets: Vec<&Json> = match expectation.get("path") {
        None => vec![value],
        Some(Json::String(path)) => {
            let parsed = JsonPath::parse(path).map_err(|e| format!("bad JSONPath {path:?}: {e}"))?;
            let found = parsed.query(value).all();
            if found.is_empty() {
                return Err(format!("nothing at {path} in {}", short(value)));
            }
            found
        }
        Some(other) => return Err(format!("path must be a string, not {other}")),
    };
    for target in targets {
        for (op, expected) in expectation.iter().filter(|(k, _)| *k != "path") {
            operator(op, expected, target).map_err(|e| match expectation.get("path") {
                Some(p) => format!("{}: {e}", p.as_str().unwrap_or("")),
                None => e,
            })?;
        }
    }
    Ok(())
}

fn operator(op: &str, expected: &Json, actual: &Json) -> Result<(), String> {
    let fail = |what: &str| Err(format!("expected {} {what} {}", short(actual), short(expected)));
    match op {
        "equals" => {
            if same(expected, actual) {
                Ok(())
            } else {
                fail("to equal")
            }
        }
        "above" | "below" => {
            let (Some(a), Some(e)) = (actual.as_f64(), expected.as_f64()) else {
                return Err(format!("{op} needs numbers: got {} and {}", short(actual), short(expected)));
            };
            if (op == "above" && a > e) || (op == "below" && a < e) {
                Ok(())
            } else {
                fail(&format!("to be {op}"))
            }
        }
        "type" => {
            let want = expected.as_str().ok_or("type must be a string")?;
            if type_name(actual) == want {
                Ok(())
            } else {
                Err(format!("expected {} to be of type {want}, but it is {}", short(actual), type_name(actual)))
            }
        }
        "haveKeys" | "includeKeys" => {
            let keys = key_list(expected)?;
            let Json::Object(map) = actual else { return fail("to be an object with keys") };
            let missing: Vec<&str> = keys.iter().filter(|k| !map.contains_key(**k)).copied().collect();
            if !missing.is_empty() {
                return Err(format!("missing keys {missing:?} in {}", short(actual)));
            }
            if op == "haveKeys" && map.len() != keys.len() {
                let extra: Vec<&String> = map.keys().filter(|k| !keys.contains(&k.as_str())).collect();
                return Err(format!("unexpected keys {extra:?} in {}", short(actual)));
            }
            Ok(())
        }
        "contains" => {
            let ok = match (actual, expected) {
                (Json::String(a), Json::String(e)) => a.contains(e.as_str()),
                (Json::Array(items), e) => items.iter().any(|i| same(i, e)),
                (Json::Object(a), Json::Object(e)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|x| same(x, v))),
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                fail("to contain")
            }
        }
        _ => Err(format!("unknown operator {op}")),
    }
}

fn key_list(expected: &Json) -> Result<Vec<&str>, String> {
    match expected {
        Json::Array(items) => items.iter().map(|i| i.as_str().ok_or("keys must be strings".to_string())).collect(),
        Json::String(s) => Ok(vec![s.as_str()]),
        other => Err(format!("keys must be a list of strings, not {other}")),
    }
}

/// Deep equality with numbers compared by value.
pub fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// chai's type names.
pub fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// A value for messages, cut short.
fn short(v: &Json) -> String {
    let s = v.to_string();
    if s.len() > 160 {
        let cut = (0..=160).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        format!("{}…", &s[..cut])
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exp(v: Json) -> Map<String, Json> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn operators_pass_and_fail() {
        let img = json!({"type": "image", "width": 300, "height": 200.0, "tags": ["a", "b"], "mean": {"r": 12.5}});
        for (e, ok) in [
            (json!({"equals": img.clone()}), true),
            (json!({"path": "$.height", "equals": 200}), true),
            (json!({"path": "$.width", "equals": 301}), false),
            (json!({"path": "$.width", "above": 299}), true),
            (json!({"path": "$.width", "above": 300}), false),
            (json!({"path": "$.mean.r", "below": 13}), true),
            (json!({"path": "$.type", "below": 13}), false),
            (json!({"type": "object"}), true),
            (json!({"path": "$.tags", "type": "object"}), false),
            (json!({"path": "$.tags", "type": "array"}), true),
            (json!({"includeKeys": ["width", "height"]}), true),
            (json!({"haveKeys": ["width", "height"]}), false),
            (json!({"path": "$.mean", "haveKeys": ["r"]}), true),
            (json!({"path": "$.type", "contains": "ima"}), true),
            (json!({"path": "$.tags", "contains": "b"}), true),
            (json!({"path": "$.tags", "contains": "c"}), false),
            (json!({"contains": {"width": 300}}), true),
            (json!({"path": "$.nothing", "equals": 1}), false),
            (json!({"path": "$.width", "equals": 300, "above": 400}), false),
            (json!({"path": "$.width", "eqals": 300}), false),
            (json!({"path": "$.width"}), false),
            (json!({"path": "$[", "equals": 1}), false),
        ] {
            assert_eq!(check(&exp(e.clone()), &img).is_ok(), ok, "{e}: {:?}", check(&exp(e.clone()), &img));
        }
    }

    #[test]
    fn every_path_match_must_pass() {
        let v = json!({"items": [{"w": 1}, {"w": 5}]});
        assert!(check(&exp(json!({"path": "$.items[*].w", "above": 0})), &v).is_ok());
        assert!(check(&exp(json!({"path": "$.items[*].w", "above": 2})), &v).is_err());
        assert!(check(&exp(json!({"path": "$.items[?(@.w > 2)].w", "equals": 5})), &v).is_ok());
    }
}
