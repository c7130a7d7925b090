//! The rules of the domain that every store applies before it keeps
//! anything: names within `max_name_bytes` (an app name not empty),
//! metadata within `max_metadata_bytes` of compact JSON and
//! `MAX_JSON_DEPTH` levels, batches within their entry count, message
//! length, data depth, and the byte budget of a whole log.

use sessions_log::{AppendError, LogRing, NewEntry};

use crate::{
    CompactMetadata, Limits, MAX_JSON_DEPTH, Metadata, NewSession, SessionUpdate, ValidationError,
    json_depth,
};

impl SessionUpdate {
    pub fn validate(&self, limits: &Limits) -> Result<(), ValidationError> {
        if let Some(appname) = &self.appname {
            validate_appname(appname, limits)?;
        }
        if let Some(mode) = &self.mode {
            validate_name("mode", mode, limits)?;
        }
        if let Some(Some(jobid)) = &self.jobid {
            validate_name("jobid", jobid, limits)?;
        }
        Ok(())
    }
}

impl NewSession {
    pub fn validate(&self, limits: &Limits) -> Result<(), ValidationError> {
        validate_appname(&self.appname, limits)?;
        validate_name("mode", &self.mode, limits)?;
        if let Some(jobid) = &self.jobid {
            validate_name("jobid", jobid, limits)?;
        }
        Ok(())
    }
}

fn validate_appname(appname: &str, limits: &Limits) -> Result<(), ValidationError> {
    if appname.is_empty() {
        return Err(ValidationError::EmptyAppname);
    }
    validate_name("appname", appname, limits)
}

fn validate_name(field: &'static str, value: &str, limits: &Limits) -> Result<(), ValidationError> {
    if value.len() > limits.max_name_bytes {
        return Err(ValidationError::FieldTooLong {
            field,
            bytes: value.len(),
            limit: limits.max_name_bytes,
        });
    }
    Ok(())
}

/// Encodes metadata, refusing it when its compact JSON is over the limit or
/// nests deeper than [`MAX_JSON_DEPTH`].
/// `metadata` as compact JSON, if it is within the limits.
pub fn encode_metadata(
    metadata: &Metadata,
    limits: &Limits,
) -> Result<CompactMetadata, ValidationError> {
    let encoded = CompactMetadata::encode(metadata);
    if encoded.len() > limits.max_metadata_bytes {
        return Err(ValidationError::MetadataTooLarge {
            bytes: encoded.len(),
            limit: limits.max_metadata_bytes,
        });
    }
    let depth = json_depth(encoded.as_json());
    if depth > MAX_JSON_DEPTH {
        return Err(ValidationError::MetadataTooDeep {
            depth,
            limit: MAX_JSON_DEPTH,
        });
    }
    Ok(encoded)
}

/// Checks a batch of log entries against every limit an entry or a batch
/// has: all of it is fine, or the first fault is named.
pub fn check_batch(entries: &[NewEntry], limits: &Limits) -> Result<(), ValidationError> {
    if entries.len() > limits.max_batch_entries {
        return Err(ValidationError::TooManyEntries {
            count: entries.len(),
            limit: limits.max_batch_entries,
        });
    }
    for (index, entry) in entries.iter().enumerate() {
        if entry.message.len() > limits.max_message_bytes {
            return Err(ValidationError::MessageTooLong {
                index,
                bytes: entry.message.len(),
                limit: limits.max_message_bytes,
            });
        }
        let data = entry.data.as_ref().map_or("", |data| data.as_json());
        let depth = json_depth(data);
        if depth > MAX_JSON_DEPTH {
            return Err(ValidationError::DataTooDeep {
                index,
                depth,
                limit: MAX_JSON_DEPTH,
            });
        }
        let bytes = LogRing::max_entry_cost(entry.message.len(), data.len());
        if bytes > limits.log.max_bytes() {
            return Err(AppendError::EntryTooLarge {
                index,
                bytes,
                limit: limits.log.max_bytes(),
            }
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CompactMetadata;

    #[test]
    fn metadata_is_kept_as_compact_json() {
        let metadata: Metadata =
            serde_json::from_str(r#"{ "a" : [1, 2],  "b": {"c": "é"} }"#).unwrap();
        let encoded = CompactMetadata::encode(&metadata);
        assert_eq!(encoded.as_json(), r#"{"a":[1,2],"b":{"c":"é"}}"#);
        assert_eq!(encoded.decode(), metadata);
        assert!(CompactMetadata::default().is_empty());
        let limits = Limits {
            max_metadata_bytes: encoded.len() - 1,
            ..Limits::default()
        };
        assert_eq!(
            encode_metadata(&metadata, &limits),
            Err(ValidationError::MetadataTooLarge {
                bytes: 26,
                limit: 25
            }),
            "bytes, not characters: é takes two"
        );
    }
}
