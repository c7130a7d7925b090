//! A `log` record as a log entry: its level, its message, and its target and
//! structured key-values as `data`.

use jiff::Timestamp;
use log::kv::{Key, Value, VisitSource};
use sessions_core::Metadata;
use sessions_core::session_log::{EntryData, Level, NewEntry};

/// Converts on the thread that logs, because a record borrows from it.
pub(super) fn entry_from(record: &log::Record<'_>) -> NewEntry {
    let message = match record.args().as_str() {
        Some(text) => text.to_owned(),
        None => record.args().to_string(),
    };
    let mut data = Metadata::new();
    data.insert("target".into(), record.target().into());
    // Visiting into a map cannot fail.
    let _ = record.key_values().visit(&mut DataVisitor(&mut data));
    NewEntry::new(Timestamp::now(), level(record.level()), message)
        .with_data(EntryData::from_object(&data))
}

/// The four levels of a session log; `trace` counts as `debug`.
pub(super) fn level(level: log::Level) -> Level {
    match level {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warn,
        log::Level::Info => Level::Info,
        log::Level::Debug | log::Level::Trace => Level::Debug,
    }
}

/// Collects key-values into `data`; a key given twice keeps its last value,
/// and a key named `target` replaces the record's target.
struct DataVisitor<'a>(&'a mut Metadata);

impl<'kvs> VisitSource<'kvs> for DataVisitor<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        self.0.insert(key.as_str().to_owned(), json_value(&value));
        Ok(())
    }
}

/// Numbers and booleans stay what they are; everything else becomes its
/// `Display` text.
fn json_value(value: &Value<'_>) -> serde_json::Value {
    if let Some(boolean) = value.to_bool() {
        return boolean.into();
    }
    if let Some(integer) = value.to_i64() {
        return integer.into();
    }
    if let Some(integer) = value.to_u64() {
        return integer.into();
    }
    if let Some(number) = value.to_f64().and_then(serde_json::Number::from_f64) {
        return number.into();
    }
    match value.to_borrowed_str() {
        Some(text) => text.into(),
        None => value.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(record: &log::Record<'_>, level: Level, message: &str, data: &str) {
        let entry = entry_from(record);
        assert_eq!(entry.level, level);
        assert_eq!(entry.message, message);
        assert_eq!(entry.data.as_ref().map(EntryData::as_json), Some(data));
    }

    #[test]
    fn key_values_go_into_data_with_their_types() {
        let pairs: [(&str, Value<'_>); 5] = [
            ("user", Value::from("ana")),
            ("items", Value::from(3u32)),
            ("delta", Value::from(-2i64)),
            ("ratio", Value::from(0.5f64)),
            ("ok", Value::from(true)),
        ];
        check(
            &log::Record::builder()
                .level(log::Level::Info)
                .target("shop::checkout")
                .args(format_args!("checkout done"))
                .key_values(&pairs)
                .build(),
            Level::Info,
            "checkout done",
            r#"{"target":"shop::checkout","user":"ana","items":3,"delta":-2,"ratio":0.5,"ok":true}"#,
        );
        let path = std::path::Path::new("/tmp/x").display();
        let display: [(&str, Value<'_>); 1] = [("path", Value::from_display(&path))];
        check(
            &log::Record::builder()
                .level(log::Level::Trace)
                .target("io")
                .args(format_args!("read {} bytes", 12))
                .key_values(&display)
                .build(),
            Level::Debug,
            "read 12 bytes",
            r#"{"target":"io","path":"/tmp/x"}"#,
        );
    }
}
