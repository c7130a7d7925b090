//! Session ids: exactly the strings of 24 ASCII hex digits parse, and they
//! are written back in lowercase.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sessions_core::SessionId;

fuzz_target!(|text: &str| {
    let is_id = text.len() == 24 && text.bytes().all(|byte| byte.is_ascii_hexdigit());
    match text.parse::<SessionId>() {
        Ok(id) => {
            assert!(is_id, "accepted {text:?}");
            assert_eq!(id.to_string(), text.to_ascii_lowercase());
        }
        Err(error) => {
            assert!(!is_id, "refused {text:?}");
            assert!(error.to_string().contains("is not a session id"));
        }
    }
});
