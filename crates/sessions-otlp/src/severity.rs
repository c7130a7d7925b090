//! OTLP severities (24 numbers in six ranges, plus free text) folded into
//! the four levels of a session log.

use sessions_core::session_log::Level;

/// The level of a record with `severity_number` and `severity_text`.
///
/// The number wins when it is one of OTLP's 24: TRACE and DEBUG (1–8) are
/// `debug`, INFO (9–12) `info`, WARN (13–16) `warn`, ERROR and FATAL
/// (17–24) `error`. Otherwise (0, unspecified, or a number OTLP does not
/// define) the text decides, read like the `level` of a JSON append (any
/// case; `trace`, `warning`, `fatal` and `critical` are aliases) with a
/// trailing step digit ignored (`INFO2`); text that names no level, or none
/// at all, is `info`.
pub fn level_of(number: i32, text: &str) -> Level {
    match range(number) {
        Some(range) => range.level,
        None => level_of_text(text).unwrap_or(Level::Info),
    }
}

/// What the level loses, for the entry's `data`: the severity of a record
/// that the four levels fold away. That is a record in the TRACE or FATAL
/// range (its text, or the range's name such as `FATAL2` when it has none),
/// or, without a number, a text that is not plainly one of the levels
/// (`CRITICAL`, `notice`).
pub(crate) fn severity_note(number: i32, text: &str) -> Option<String> {
    if let Some(range) = range(number) {
        if !range.folded {
            return None;
        }
        if !text.is_empty() {
            return Some(text.to_owned());
        }
        let step = (number - 1) % 4;
        return Some(if step == 0 {
            range.name.to_owned()
        } else {
            format!("{}{}", range.name, step + 1)
        });
    }
    let plain = ["debug", "info", "warn", "warning", "error"]
        .iter()
        .any(|name| name.eq_ignore_ascii_case(without_step(text.trim())));
    (!text.is_empty() && !plain).then(|| text.to_owned())
}

struct Range {
    level: Level,
    name: &'static str,
    /// Whether the level is a coarser name for the range (TRACE, FATAL).
    folded: bool,
}

fn range(number: i32) -> Option<Range> {
    let (level, name, folded) = match number {
        1..=4 => (Level::Debug, "TRACE", true),
        5..=8 => (Level::Debug, "DEBUG", false),
        9..=12 => (Level::Info, "INFO", false),
        13..=16 => (Level::Warn, "WARN", false),
        17..=20 => (Level::Error, "ERROR", false),
        21..=24 => (Level::Error, "FATAL", true),
        _ => return None,
    };
    Some(Range {
        level,
        name,
        folded,
    })
}

fn level_of_text(text: &str) -> Option<Level> {
    Level::parse(without_step(text.trim())).ok()
}

/// `INFO2` → `INFO`: OTLP's step digits 2 to 4 (and 1) after a name.
fn without_step(text: &str) -> &str {
    match text.strip_suffix(['1', '2', '3', '4']) {
        Some(name) if !name.is_empty() => name,
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(number: i32, text: &str, level: Level, note: Option<&str>) {
        assert_eq!(
            level_of(number, text),
            level,
            "level of ({number}, {text:?})"
        );
        assert_eq!(
            severity_note(number, text).as_deref(),
            note,
            "note of ({number}, {text:?})"
        );
    }

    #[test]
    fn numbers_decide_when_there_is_one() {
        check(1, "", Level::Debug, Some("TRACE"));
        check(2, "", Level::Debug, Some("TRACE2"));
        check(4, "", Level::Debug, Some("TRACE4"));
        check(1, "trace", Level::Debug, Some("trace"));
        check(5, "", Level::Debug, None);
        check(8, "DEBUG4", Level::Debug, None);
        check(9, "", Level::Info, None);
        check(10, "Information", Level::Info, None);
        check(12, "", Level::Info, None);
        check(13, "WARNING", Level::Warn, None);
        check(16, "", Level::Warn, None);
        check(17, "ERROR", Level::Error, None);
        check(20, "", Level::Error, None);
        check(21, "", Level::Error, Some("FATAL"));
        check(21, "CRITICAL", Level::Error, Some("CRITICAL"));
        check(23, "", Level::Error, Some("FATAL3"));
        check(24, "", Level::Error, Some("FATAL4"));
        // The number wins over a text that says otherwise.
        check(17, "info", Level::Error, None);
    }

    #[test]
    fn without_a_number_the_text_decides() {
        check(0, "", Level::Info, None);
        check(0, "debug", Level::Debug, None);
        check(0, "TRACE", Level::Debug, Some("TRACE"));
        check(0, "Info", Level::Info, None);
        check(0, "INFO2", Level::Info, None);
        check(0, "warning", Level::Warn, None);
        check(0, "WARN3", Level::Warn, None);
        check(0, "error", Level::Error, None);
        check(0, "fatal", Level::Error, Some("fatal"));
        check(0, "CRITICAL", Level::Error, Some("CRITICAL"));
        check(0, " error ", Level::Error, None);
        check(0, "notice", Level::Info, Some("notice"));
        check(0, "4", Level::Info, Some("4"));
    }

    #[test]
    fn numbers_otlp_does_not_define_fall_back_to_the_text() {
        check(25, "warn", Level::Warn, None);
        check(-1, "", Level::Info, None);
        check(i32::MAX, "ERROR", Level::Error, None);
        check(i32::MIN, "fatal", Level::Error, Some("fatal"));
    }
}
