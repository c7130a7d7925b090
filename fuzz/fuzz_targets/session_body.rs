//! Session bodies and metadata merge patches. The input is a session body,
//! a NUL byte, and a patch body. An accepted create reads back as sent; an
//! accepted patch leaves the metadata as RFC 7396 says (checked against a
//! separate implementation of it); anything refused changes nothing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use sessions_core::{Limits, SessionRegistry, Upserted};

fuzz_target!(|data: &[u8]| {
    let (body, patch) = match data.iter().position(|byte| *byte == 0) {
        Some(split) => (&data[..split], &data[split + 1..]),
        None => (data, &[][..]),
    };
    let registry = SessionRegistry::new(Limits::default());
    let id = "65a1f00dcafe0123456789ab".parse().expect("a valid id");
    let Ok(update) = sessions_http::fuzzing::parse_session_body(body) else {
        return;
    };
    let Ok(Upserted::Created(created)) = registry.upsert(id, update) else {
        assert!(registry.get(id).is_err(), "a refused create left a session");
        return;
    };
    let sent: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).expect("accepted bodies are JSON")
    };
    assert_eq!(Value::String(created.appname.clone()), sent["appname"]);
    assert_eq!(Value::String(created.mode.clone()), sent["mode"]);
    assert_eq!(created.jobid.clone().map_or(Value::Null, Value::String), sent["jobid"]);
    let metadata = sent.get("metadata").cloned().unwrap_or(Value::Object(Map::new()));
    assert_eq!(created.metadata.as_json(), serde_json::to_string(&metadata).expect("JSON"));

    let Ok(patch) = sessions_http::fuzzing::parse_metadata_patch(patch) else {
        return;
    };
    let before = registry.get(id).expect("exists");
    match registry.patch_metadata(id, &patch) {
        Ok(patched) => {
            let mut expected = metadata;
            rfc7396(&mut expected, &Value::Object(patch));
            assert_eq!(patched.metadata.as_json(), serde_json::to_string(&expected).expect("JSON"));
        }
        Err(_) => assert_eq!(registry.get(id).expect("exists"), before, "a refused patch changed something"),
    }
});

/// RFC 7396, section 2, written out from the pseudocode.
fn rfc7396(target: &mut Value, patch: &Value) {
    if let Value::Object(patch) = patch {
        if !target.is_object() {
            *target = Value::Object(Map::new());
        }
        let Value::Object(object) = target else { unreachable!() };
        for (name, value) in patch {
            if value.is_null() {
                object.shift_remove(name);
            } else {
                rfc7396(object.entry(name.clone()).or_insert(Value::Null), value);
            }
        }
    } else {
        *target = patch.clone();
    }
}
