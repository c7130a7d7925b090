//! The shape of an export request, as far as memory goes: which fields hold
//! other messages, in both encodings, and what a request will take once
//! decoded, counted before anything is decoded.
//!
//! A decoded message is many times its size on the wire: an empty attribute
//! is two bytes of protobuf (or `{}` in JSON) and a 64-byte `KeyValue` in a
//! vector that may have twice the room. Without counting first, a body
//! within the size limit could take hundreds of megabytes to decode. JSON
//! adds what serde copies on the way (counted in `json`).

use std::mem::size_of;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;

/// The messages of an export request that hold other messages or lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Message {
    Request,
    ResourceLogs,
    Resource,
    EntityRef,
    ScopeLogs,
    Scope,
    LogRecord,
    KeyValue,
    AnyValue,
    ArrayValue,
    KeyValueList,
}

/// What a field of a message holds, as far as the shape goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    /// A message, or none. It lives inside its parent's struct.
    One(Message),
    /// A list of messages, each an element of a vector.
    Many(Message),
    /// A list of strings, each an element of a vector.
    Strings,
    /// An integer; `named` when it is an enum, which JSON may also give by
    /// the name of its value.
    Integer { named: bool },
    /// Anything else: a string, bytes, a number or a flag, no larger
    /// decoded than on the wire.
    Scalar,
}

impl Message {
    /// The field called `key` in OTLP's JSON encoding.
    pub(crate) fn json_field(self, key: &str) -> Field {
        use Message::*;
        match (self, key) {
            (Request, "resourceLogs") => Field::Many(ResourceLogs),
            (ResourceLogs, "resource") => Field::One(Resource),
            (ResourceLogs, "scopeLogs") => Field::Many(ScopeLogs),
            (Resource, "entityRefs") => Field::Many(EntityRef),
            (EntityRef, "idKeys" | "descriptionKeys") => Field::Strings,
            (ScopeLogs, "scope") => Field::One(Scope),
            (ScopeLogs, "logRecords") => Field::Many(LogRecord),
            (Resource | Scope | LogRecord, "attributes") => Field::Many(KeyValue),
            (LogRecord, "severityNumber") => Field::Integer { named: true },
            (
                LogRecord,
                "timeUnixNano" | "observedTimeUnixNano" | "flags" | "droppedAttributesCount",
            )
            | (Resource | Scope, "droppedAttributesCount")
            | (AnyValue, "intValue") => Field::Integer { named: false },
            (LogRecord, "body") | (KeyValue, "value") => Field::One(AnyValue),
            (AnyValue, "arrayValue") => Field::One(ArrayValue),
            (AnyValue, "kvlistValue") => Field::One(KeyValueList),
            (ArrayValue, "values") => Field::Many(AnyValue),
            (KeyValueList, "values") => Field::Many(KeyValue),
            _ => Field::Scalar,
        }
    }

    /// The field numbered `number` in protobuf, when it holds messages or
    /// a list; `None` for scalars and unknown fields, which decode into no
    /// more than their bytes (or nothing).
    pub(crate) fn protobuf_field(self, number: u64) -> Option<Field> {
        use Message::*;
        let field = match (self, number) {
            (Request, 1) => Field::Many(ResourceLogs),
            (ResourceLogs, 1) => Field::One(Resource),
            (ResourceLogs, 2) => Field::Many(ScopeLogs),
            (Resource, 1) | (Scope, 3) | (LogRecord, 6) | (KeyValueList, 1) => {
                Field::Many(KeyValue)
            }
            (Resource, 3) => Field::Many(EntityRef),
            (EntityRef, 3 | 4) => Field::Strings,
            (ScopeLogs, 1) => Field::One(Scope),
            (ScopeLogs, 2) => Field::Many(LogRecord),
            (LogRecord, 5) | (KeyValue, 2) => Field::One(AnyValue),
            (AnyValue, 5) => Field::One(ArrayValue),
            (AnyValue, 6) => Field::One(KeyValueList),
            (ArrayValue, 1) => Field::Many(AnyValue),
            _ => return None,
        };
        Some(field)
    }

    /// The size of the generated type, which each element of a list takes.
    fn decoded_size(self) -> usize {
        match self {
            Message::Request => size_of::<ExportLogsServiceRequest>(),
            Message::ResourceLogs => size_of::<ResourceLogs>(),
            Message::Resource => size_of::<Resource>(),
            Message::EntityRef => size_of::<EntityRef>(),
            Message::ScopeLogs => size_of::<ScopeLogs>(),
            Message::Scope => size_of::<InstrumentationScope>(),
            Message::LogRecord => size_of::<LogRecord>(),
            Message::KeyValue => size_of::<KeyValue>(),
            Message::AnyValue => size_of::<AnyValue>(),
            Message::ArrayValue => size_of::<ArrayValue>(),
            Message::KeyValueList => size_of::<KeyValueList>(),
        }
    }
}

/// What a request will take once decoded: its log records, the bytes of
/// the elements of its lists, and the most that decoding holds at once on
/// the side. Messages that are not in a list live in their parent's
/// struct; strings and bytes take no more than on the wire.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Census {
    pub(crate) records: usize,
    /// Bytes of the elements of the request's lists.
    pub(crate) list_bytes: usize,
    /// The most bytes decoding holds on the side at one time (in JSON, the
    /// copy serde makes of each `AnyValue` before reading it; nothing in
    /// protobuf).
    pub(crate) side_bytes: usize,
}

impl Census {
    /// Counts one element of a list of `message`s.
    pub(crate) fn element(&mut self, message: Message) {
        if message == Message::LogRecord {
            self.records += 1;
        }
        self.list_bytes += message.decoded_size();
    }

    /// Counts one element of a list of strings.
    pub(crate) fn string(&mut self) {
        self.list_bytes += size_of::<String>();
    }

    /// Notes that decoding holds `bytes` on the side at one time.
    pub(crate) fn side(&mut self, bytes: usize) {
        self.side_bytes = self.side_bytes.max(bytes);
    }

    /// All the request takes decoded, at its peak.
    pub(crate) fn decoded_bytes(&self) -> usize {
        self.list_bytes.saturating_add(self.side_bytes)
    }
}

/// What the lists of a request of one resource, one scope and one record
/// take, before anything in the record: the frame most tests count from.
#[cfg(test)]
pub(crate) const ONE_RECORD_BYTES: usize =
    size_of::<ResourceLogs>() + size_of::<ScopeLogs>() + size_of::<LogRecord>();

#[cfg(test)]
mod tests {
    use super::*;

    /// Every list field in one encoding is the same list in the other, so
    /// both encodings count the same (the JSON names are camelCase of the
    /// protobuf ones; the numbers are those of the `.proto` files).
    #[test]
    fn both_encodings_agree_on_lists() {
        use Message::*;
        let pairs = [
            (Request, "resourceLogs", 1),
            (ResourceLogs, "resource", 1),
            (ResourceLogs, "scopeLogs", 2),
            (Resource, "attributes", 1),
            (Resource, "entityRefs", 3),
            (EntityRef, "idKeys", 3),
            (EntityRef, "descriptionKeys", 4),
            (ScopeLogs, "scope", 1),
            (ScopeLogs, "logRecords", 2),
            (Scope, "attributes", 3),
            (LogRecord, "body", 5),
            (LogRecord, "attributes", 6),
            (KeyValue, "value", 2),
            (AnyValue, "arrayValue", 5),
            (AnyValue, "kvlistValue", 6),
            (ArrayValue, "values", 1),
            (KeyValueList, "values", 1),
        ];
        for (message, key, number) in pairs {
            assert_eq!(
                message.protobuf_field(number),
                Some(message.json_field(key)),
                "{message:?}.{key}"
            );
        }
        assert_eq!(LogRecord.protobuf_field(3), None, "severity text");
        assert_eq!(KeyValue.protobuf_field(1), None, "key");
        assert_eq!(LogRecord.json_field("severityText"), Field::Scalar);
    }

    #[test]
    fn records_and_list_bytes_are_counted() {
        let mut census = Census::default();
        census.element(Message::LogRecord);
        census.element(Message::KeyValue);
        census.string();
        assert_eq!(census.records, 1);
        assert_eq!(
            census.list_bytes,
            size_of::<LogRecord>() + size_of::<KeyValue>() + size_of::<String>()
        );
    }
}
