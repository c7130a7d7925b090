//! A resource (the process, service or host that logged) as a session: its
//! id, name, mode and metadata.

use opentelemetry_proto::tonic::resource::v1::Resource;
use serde_json::Value;
use sessions_core::{Limits, Metadata, SessionId};

use crate::value::attributes_to_json;

/// The resource attributes a derived session id is made of, in this order.
/// Together they tell one running process from another: the service
/// (namespace, name, instance) and, when the SDK reports them, the host and
/// the process id.
pub const IDENTIFYING_ATTRIBUTES: [&str; 5] = [
    "service.namespace",
    "service.name",
    "service.instance.id",
    "host.name",
    "process.pid",
];

/// `appname` when a resource has no `service.name` (what OpenTelemetry calls
/// a service it cannot name).
const UNKNOWN_SERVICE: &str = "unknown_service";

/// `mode` when a resource has no `zen.mode`.
const DEFAULT_MODE: &str = "otlp";

/// The session a resource is logged into.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionMapping {
    pub id: SessionId,
    pub appname: String,
    pub mode: String,
    /// Every resource attribute except `service.name` and `zen.mode` (which
    /// are `appname` and `mode`) and attributes with an empty value.
    pub metadata: Metadata,
}

/// Maps a resource (none counts as one without attributes) to its session.
///
/// - `id`: `service.instance.id` when it is a string of 24 hex digits (a
///   program can choose its session that way); otherwise the first 12 bytes
///   (big-endian) of the 128-bit FNV-1a hash of the
///   [`IDENTIFYING_ATTRIBUTES`] the resource has, each written as its name,
///   the byte 0x1F, its value as compact JSON and the byte 0x1E. The same
///   process so lands in the same session on every export, and in every
///   version of the server.
/// - `appname`: `service.name` (a string; another kind as compact JSON), or
///   `unknown_service` when it is missing or empty.
/// - `mode`: `zen.mode`, or `otlp` when it is missing.
///
/// `appname` and `mode` are cut to the name limit (at a character
/// boundary), so a long service name does not keep a program's logs out.
pub fn map_resource(resource: Option<&Resource>, limits: &Limits) -> SessionMapping {
    let attributes = resource.map(|resource| resource.attributes.as_slice());
    let mut metadata = attributes_to_json(attributes.unwrap_or_default());
    let id = chosen_id(&metadata).unwrap_or_else(|| derived_id(&metadata));
    let appname = metadata
        .shift_remove("service.name")
        .map(text_of)
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| UNKNOWN_SERVICE.to_owned());
    let mode = metadata
        .shift_remove("zen.mode")
        .map(text_of)
        .unwrap_or_else(|| DEFAULT_MODE.to_owned());
    metadata.retain(|_, value| !value.is_null());
    SessionMapping {
        id,
        appname: truncated(appname, limits.max_name_bytes),
        mode: truncated(mode, limits.max_name_bytes),
        metadata,
    }
}

fn chosen_id(attributes: &Metadata) -> Option<SessionId> {
    attributes
        .get("service.instance.id")
        .and_then(Value::as_str)
        .and_then(|text| text.parse().ok())
}

fn derived_id(attributes: &Metadata) -> SessionId {
    let mut hash = Fnv1a128::new();
    for name in IDENTIFYING_ATTRIBUTES {
        if let Some(value) = attributes.get(name) {
            hash.write(name.as_bytes());
            hash.write(&[0x1F]);
            hash.write(value.to_string().as_bytes());
            hash.write(&[0x1E]);
        }
    }
    let digest = hash.finish().to_be_bytes();
    let mut bytes = [0u8; 12];
    bytes.copy_from_slice(&digest[..12]);
    SessionId::from_bytes(bytes)
}

/// FNV-1a with 128 bits: tiny, fully specified, and so stable across
/// releases of Rust and of this server, which `std`'s hasher is not
/// promised to be. Ids need no protection against deliberate collisions:
/// a client may pick any session id over the API anyway.
struct Fnv1a128(u128);

impl Fnv1a128 {
    const OFFSET_BASIS: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;

    fn new() -> Fnv1a128 {
        Fnv1a128(Fnv1a128::OFFSET_BASIS)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u128::from(byte);
            self.0 = self.0.wrapping_mul(Fnv1a128::PRIME);
        }
    }

    fn finish(&self) -> u128 {
        self.0
    }
}

fn text_of(value: Value) -> String {
    match value {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn truncated(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Kind;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
    use serde_json::json;

    use super::*;
    use crate::value::tests::{any, pair, string};

    fn resource(attributes: Vec<KeyValue>) -> Resource {
        Resource {
            attributes,
            ..Resource::default()
        }
    }

    fn map(attributes: Vec<KeyValue>) -> SessionMapping {
        map_resource(Some(&resource(attributes)), &Limits::default())
    }

    fn id_of(attributes: Vec<KeyValue>) -> String {
        map(attributes).id.to_string()
    }

    #[test]
    fn the_fnv_hash_is_the_published_one() {
        // Test vectors of FNV-1a 128 (draft-eastlake-fnv).
        let digest = |input: &[u8]| {
            let mut hash = Fnv1a128::new();
            hash.write(input);
            format!("{:032x}", hash.finish())
        };
        assert_eq!(digest(b""), "6c62272e07bb014262b821756295c58d");
        assert_eq!(digest(b"a"), "d228cb696f1a8caf78912b704e4a8964");
        assert_eq!(digest(b"foobar"), "343e1662793c64bf6f0d3597ba446f18");
    }

    #[test]
    fn a_hex_instance_id_is_the_session_id() {
        let chosen = "65A1F00DCAFE0123456789AB";
        let mapping = map(vec![
            pair("service.name", string("cook")),
            pair("service.instance.id", string(chosen)),
        ]);
        assert_eq!(mapping.id.to_string(), "65a1f00dcafe0123456789ab");
        assert_eq!(
            mapping.metadata,
            json!({"service.instance.id": chosen})
                .as_object()
                .cloned()
                .unwrap()
        );
    }

    #[test]
    fn other_ids_are_derived_from_the_identifying_attributes() {
        let base = || {
            vec![
                pair("service.name", string("cook")),
                pair("host.name", string("devbox")),
                pair("process.pid", any(Kind::IntValue(4711))),
            ]
        };
        // Pinned: the same process must land in the same session in every
        // version of the server.
        assert_eq!(id_of(base()), "cef00e10984a2b09307701ef");
        assert_eq!(id_of(Vec::new()), "6c62272e07bb014262b82175");
        // Other attributes, and the order of attributes, change nothing.
        let mut reordered = base();
        reordered.reverse();
        reordered.push(pair("service.version", string("1.2.3")));
        reordered.push(pair("telemetry.sdk.language", string("python")));
        assert_eq!(id_of(reordered), id_of(base()));
        // Each identifying attribute makes a difference.
        let mut other_pid = base();
        other_pid[2] = pair("process.pid", any(Kind::IntValue(4712)));
        let mut pid_as_text = base();
        pid_as_text[2] = pair("process.pid", string("4711"));
        let mut with_namespace = base();
        with_namespace.push(pair("service.namespace", string("build")));
        let mut with_instance = base();
        with_instance.push(pair("service.instance.id", string("c0ffee-not-hex")));
        let mut without_host = base();
        without_host.remove(1);
        for variant in [
            other_pid,
            pid_as_text,
            with_namespace,
            with_instance,
            without_host,
        ] {
            assert_ne!(id_of(variant.clone()), id_of(base()), "{variant:?}");
        }
        // A value cannot pass for a name: framing keeps them apart.
        assert_ne!(
            id_of(vec![pair("service.name", string("a\u{1e}host.name"))]),
            id_of(vec![
                pair("service.name", string("a")),
                pair("host.name", string(""))
            ])
        );
    }

    #[test]
    fn name_mode_and_metadata() {
        let mapping = map(vec![
            pair("service.name", string("cook")),
            pair("zen.mode", string("nightly")),
            pair("service.version", string("5.4")),
            pair("process.pid", any(Kind::IntValue(4711))),
            KeyValue {
                key: "empty".into(),
                value: Some(AnyValue { value: None }),
                ..KeyValue::default()
            },
        ]);
        assert_eq!(mapping.appname, "cook");
        assert_eq!(mapping.mode, "nightly");
        assert_eq!(
            serde_json::Value::Object(mapping.metadata).to_string(),
            r#"{"service.version":"5.4","process.pid":4711}"#
        );

        let unnamed = map_resource(None, &Limits::default());
        assert_eq!(unnamed.appname, "unknown_service");
        assert_eq!(unnamed.mode, "otlp");
        assert!(unnamed.metadata.is_empty());
        assert_eq!(unnamed.id, map(Vec::new()).id);
        assert_eq!(
            map(vec![pair("service.name", string(""))]).appname,
            "unknown_service"
        );
        assert_eq!(map(vec![pair("zen.mode", string(""))]).mode, "");
        assert_eq!(
            map(vec![pair("service.name", any(Kind::IntValue(7)))]).appname,
            "7"
        );
    }

    #[test]
    fn names_are_cut_to_the_limit_at_a_character_boundary() {
        let limits = Limits {
            max_name_bytes: 5,
            ..Limits::default()
        };
        let mapping = map_resource(
            Some(&resource(vec![
                pair("service.name", string("abcdéf")),
                pair("zen.mode", string("interactive")),
            ])),
            &limits,
        );
        assert_eq!(mapping.appname, "abcd");
        assert_eq!(mapping.mode, "inter");
    }
}
