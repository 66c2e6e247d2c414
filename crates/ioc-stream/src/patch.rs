//! JSON merge patches (RFC 7386): the delta between two values of a topic.
//! Objects are patched member by member; anything else is replaced whole.
//! A member whose new value is `null` reads as absent after the patch,
//! which clients treat alike.

use serde_json::{Map, Value};

/// The patch that turns `old` into `new`, or `None` when they are equal.
pub fn diff(old: &Value, new: &Value) -> Option<Value> {
    if old == new {
        return None;
    }
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return Some(new.clone());
    };
    let mut patch = Map::new();
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        patch.insert(key.clone(), Value::Null);
    }
    for (key, value) in new {
        match old.get(key) {
            Some(before) if before == value => {}
            Some(before @ Value::Object(_)) if value.is_object() => {
                if let Some(inner) = diff(before, value) {
                    patch.insert(key.clone(), inner);
                }
            }
            _ => {
                patch.insert(key.clone(), value.clone());
            }
        }
    }
    Some(Value::Object(patch))
}

/// Applies `patch` to `target` (what a client does with a delta).
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(object) = target else {
        return;
    };
    for (key, value) in members {
        if value.is_null() {
            object.remove(key);
        } else {
            apply(object.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_patch_carries_only_what_changed() {
        let old = json!({"province": {"received": 10, "online": 4, "name": "Bình Phước"}, "rows": [1, 2]});
        let new = json!({"province": {"received": 11, "online": 4, "name": "Bình Phước"}, "rows": [1, 2]});
        assert_eq!(
            diff(&old, &new),
            Some(json!({"province": {"received": 11}}))
        );
        assert_eq!(diff(&new, &new), None);
    }

    #[test]
    fn applying_the_diff_gives_the_new_value() {
        let cases = [
            (
                json!({"a": 1, "b": {"c": 2, "d": 3}}),
                json!({"a": 1, "b": {"c": 5}, "e": [1]}),
            ),
            (json!({"a": [1, 2]}), json!({"a": [2]})),
            (json!({"a": {"b": 1}}), json!({"a": 7})),
            (json!(3), json!({"x": 1})),
            (json!({"x": 1}), json!("text")),
        ];
        for (old, new) in cases {
            let mut patched = old.clone();
            apply(&mut patched, &diff(&old, &new).unwrap());
            assert_eq!(patched, new, "from {old}");
        }
    }

    #[test]
    fn a_value_that_became_null_reads_as_absent() {
        let old = json!({"value": 0.5, "num": 1});
        let new = json!({"value": null, "num": 0});
        let mut patched = old.clone();
        apply(&mut patched, &diff(&old, &new).unwrap());
        assert_eq!(patched, json!({"num": 0}));
    }
}
