//! JSON log bodies in one pass: one entry object, or `{"entries": [...]}`,
//! read straight into entries without building JSON values first.
//!
//! serde errors carry only text, so the faults this parser finds (which
//! entry, what is wrong with it) travel in a side channel, [`Fault`], and
//! become the `detail` of the 400 at the end.

use std::cell::RefCell;
use std::fmt;

use jiff::Timestamp;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use sessions_core::Metadata;
use sessions_core::session_log::{EntryData, Level, NewEntry};

use crate::json_numbers::check_numbers;
use crate::rfc3339::parse_timestamp;

/// Parses a JSON log body (UTF-8 text that starts like an object). Entries
/// without a level get `default_level`; without a timestamp, `now`. The
/// error is the `detail` of the answer.
pub(crate) fn parse(
    text: &str,
    default_level: Level,
    now: Timestamp,
) -> Result<Vec<NewEntry>, String> {
    let fault = RefCell::new(None);
    let context = Context {
        default_level,
        now,
        fault: &fault,
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = (&mut deserializer)
        .deserialize_map(BodyVisitor(context))
        .and_then(|entries| deserializer.end().map(|()| entries));
    parsed.map_err(|error| match fault.into_inner() {
        Some(Fault::Entry { index, detail }) => format!("entry {index}: {detail}"),
        Some(Fault::EntriesNotArray(detail)) => {
            format!("`entries` must be an array of entry objects: {detail}")
        }
        Some(Fault::Mixed(field)) => format!(
            "unknown field `{field}` next to `entries`; a batch is {{\"entries\": [...]}} alone"
        ),
        None => format!(
            "the body is not a JSON object: {error}; send one entry object or {{\"entries\": [...]}}"
        ),
    })
}

/// What was wrong, found while parsing.
#[derive(Debug)]
enum Fault {
    /// Entry `index` (0 for a single entry) is not a valid entry.
    Entry { index: usize, detail: String },
    /// `entries` is there but not an array of entries.
    EntriesNotArray(String),
    /// `entries` next to another field.
    Mixed(String),
}

#[derive(Clone, Copy)]
struct Context<'a> {
    default_level: Level,
    now: Timestamp,
    fault: &'a RefCell<Option<Fault>>,
}

impl Context<'_> {
    /// Records `fault` (the first one wins) and returns the error that
    /// unwinds the parse.
    fn fail<E: de::Error>(&self, fault: Fault) -> E {
        self.fault.borrow_mut().get_or_insert(fault);
        E::custom("see the recorded fault")
    }

    /// Turns an error from inside entry `index` into its fault, unless a
    /// more precise one was recorded already.
    fn in_entry<E: de::Error>(&self, index: usize, error: E) -> E {
        if self.fault.borrow().is_some() {
            return error;
        }
        self.fail(Fault::Entry {
            index,
            detail: strip_position(&error.to_string()),
        })
    }

    /// As [`Context::in_entry`], for the value of the entry's field `name`,
    /// which the detail names (serde's own message does not).
    fn in_field<E: de::Error>(&self, index: usize, name: &str, error: E) -> E {
        self.in_entry(index, E::custom(format_args!("`{name}`: {error}")))
    }
}

/// serde_json's messages end in "at line 1 column 17", which points into the
/// body where the entry index says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(position) => message[..position].to_owned(),
        None => message.to_owned(),
    }
}

/// The keys a body or an entry may have.
enum Key {
    Message,
    Level,
    Data,
    Timestamp,
    Entries,
    Other(String),
}

impl Key {
    fn name(&self) -> &str {
        match self {
            Key::Message => "message",
            Key::Level => "level",
            Key::Data => "data",
            Key::Timestamp => "timestamp",
            Key::Entries => "entries",
            Key::Other(name) => name,
        }
    }
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
                Ok(match name {
                    "message" => Key::Message,
                    "level" => Key::Level,
                    "data" => Key::Data,
                    "timestamp" => Key::Timestamp,
                    "entries" => Key::Entries,
                    other => Key::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// A level name, parsed as it is read; `null` reads as absent.
struct LevelName(Level);

impl<'de> de::Deserialize<'de> for LevelName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LevelName, D::Error> {
        struct LevelVisitor;
        impl Visitor<'_> for LevelVisitor {
            type Value = LevelName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<LevelName, E> {
                Level::parse(name).map(LevelName).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(LevelVisitor)
    }
}

/// The fields of one entry, as they come.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    level: Option<Option<Level>>,
    data: Option<Option<EntryData>>,
    timestamp: Option<Option<Timestamp>>,
    /// The first field seen, for the error when `entries` follows it.
    first: Option<&'static str>,
}

impl Fields {
    /// Reads the value of `key`; faults are entry `index`'s.
    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: Key,
        map: &mut A,
        index: usize,
        context: Context<'_>,
    ) -> Result<(), A::Error> {
        let entry_fault = |detail: String| context.fail(Fault::Entry { index, detail });
        let (name, present) = match key {
            Key::Message => ("message", self.message.is_some()),
            Key::Level => ("level", self.level.is_some()),
            Key::Data => ("data", self.data.is_some()),
            Key::Timestamp => ("timestamp", self.timestamp.is_some()),
            Key::Entries | Key::Other(_) => {
                return Err(entry_fault(format!(
                    "unknown field `{}`, expected one of `message`, `level`, `data`, `timestamp`",
                    key.name()
                )));
            }
        };
        if present {
            return Err(entry_fault(format!("duplicate field `{name}`")));
        }
        self.first.get_or_insert(name);
        let in_field = |error| context.in_field(index, name, error);
        match key {
            Key::Message => self.message = Some(map.next_value::<String>().map_err(in_field)?),
            Key::Level => {
                let level = map.next_value::<Option<LevelName>>().map_err(in_field)?;
                self.level = Some(level.map(|LevelName(level)| level));
            }
            Key::Data => {
                // Read as text first: its numbers are checked there, where
                // they still say exactly what the client sent.
                let raw = map.next_value::<Option<&RawValue>>().map_err(in_field)?;
                let data = match raw {
                    None => None,
                    Some(raw) => {
                        check_numbers(raw.get().as_bytes()).map_err(entry_fault)?;
                        let data: Metadata = serde_json::from_str(raw.get()).map_err(|error| {
                            // The position would be within `data`, not the body.
                            entry_fault(format!("`data`: {}", strip_position(&error.to_string())))
                        })?;
                        Some(EntryData::from_object(&data))
                    }
                };
                self.data = Some(data);
            }
            _ => {
                let text = map.next_value::<Option<&str>>().map_err(in_field)?;
                let timestamp = text.map(parse_timestamp).transpose().map_err(entry_fault)?;
                self.timestamp = Some(timestamp);
            }
        }
        Ok(())
    }

    fn finish<E: de::Error>(self, index: usize, context: Context<'_>) -> Result<NewEntry, E> {
        let Some(message) = self.message else {
            return Err(context.fail(Fault::Entry {
                index,
                detail: "missing field `message`".into(),
            }));
        };
        let level = self.level.flatten().unwrap_or(context.default_level);
        let timestamp = self.timestamp.flatten().unwrap_or(context.now);
        let mut entry = NewEntry::new(timestamp, level, message);
        if let Some(data) = self.data.flatten() {
            entry = entry.with_data(data);
        }
        Ok(entry)
    }
}

/// The whole body: an entry's fields, or `entries`.
struct BodyVisitor<'a>(Context<'a>);

impl<'de> Visitor<'de> for BodyVisitor<'_> {
    type Value = Vec<NewEntry>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("one entry object or {\"entries\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<NewEntry>, A::Error> {
        let context = self.0;
        let mut fields = Fields::default();
        let mut entries = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Entries if entries.is_some() => {
                    return Err(de::Error::duplicate_field("entries"));
                }
                Key::Entries => {
                    if let Some(first) = fields.first {
                        return Err(context.fail(Fault::Mixed(first.to_owned())));
                    }
                    let read = map.next_value_seed(EntriesSeed(context)).map_err(|error| {
                        if context.fault.borrow().is_some() {
                            error
                        } else {
                            context.fail(Fault::EntriesNotArray(strip_position(&error.to_string())))
                        }
                    })?;
                    entries = Some(read);
                }
                other if entries.is_some() => {
                    return Err(context.fail(Fault::Mixed(other.name().to_owned())));
                }
                other => fields.read(other, &mut map, 0, context)?,
            }
        }
        match entries {
            Some(entries) => Ok(entries),
            None => Ok(vec![fields.finish(0, context)?]),
        }
    }
}

struct EntriesSeed<'a>(Context<'a>);

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = Vec<NewEntry>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<NewEntry>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = Vec<NewEntry>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of entry objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<NewEntry>, A::Error> {
        let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1_024));
        while let Some(entry) = seq.next_element_seed(EntrySeed {
            index: entries.len(),
            context: self.0,
        })? {
            entries.push(entry);
        }
        Ok(entries)
    }
}

/// One element of `entries`.
struct EntrySeed<'a> {
    index: usize,
    context: Context<'a>,
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = NewEntry;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<NewEntry, D::Error> {
        // `any`, not `map`: serde_json refuses a non-object itself when asked
        // for a map, without saying which entry it was.
        deserializer.deserialize_any(self)
    }
}

impl EntrySeed<'_> {
    /// Anything but an object: refused with what it is.
    fn not_an_object<E: de::Error>(&self, found: &str) -> E {
        self.context.fail(Fault::Entry {
            index: self.index,
            detail: format!("found {found} where an object belongs"),
        })
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = NewEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an entry object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NewEntry, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map
            .next_key::<Key>()
            .map_err(|error| self.context.in_entry(self.index, error))?
        {
            fields.read(key, &mut map, self.index, self.context)?;
        }
        fields.finish(self.index, self.context)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<NewEntry, A::Error> {
        Err(self.not_an_object("an array"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<NewEntry, E> {
        Err(self.not_an_object("a string"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<NewEntry, E> {
        Err(self.not_an_object("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<NewEntry, E> {
        Err(self.not_an_object("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<NewEntry, E> {
        Err(self.not_an_object("a number"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<NewEntry, E> {
        Err(self.not_an_object("a boolean"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<NewEntry, E> {
        Err(self.not_an_object("null"))
    }
}
