//! Which users export an S3 notification names.
//!
//! The original sample read `Records[0]` only and used the key as sent (defect B11). S3 sends object keys
//! URL-encoded (`+` for a space, `%XX` for other bytes), and one notification may carry several records. Every
//! record is decoded here, and the newest export wins: the records are ordered by event time, then by S3's
//! `sequencer` (which orders events on the same key).

use serde::Serialize;

/// One record of an S3 notification, as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Record {
    /// The bucket name.
    pub bucket: String,
    /// The object key, URL-encoded as S3 sends it.
    pub encoded_key: String,
    /// The record's `eventTime` (RFC 3339; compared as text, which orders S3's fixed format correctly).
    pub event_time: String,
    /// The record's `s3.object.sequencer` (hexadecimal; longer is later when prefixes are equal).
    pub sequencer: String,
}

/// An S3 object, by bucket and decoded key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    /// The bucket name.
    pub bucket: String,
    /// The object key, decoded.
    pub key: String,
}

/// A key S3 could not have sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("object key {key:?} is not valid URL encoding: {reason}")]
pub struct BadObjectKey {
    key: String,
    reason: &'static str,
}

/// The export a notification names: the newest of its records, with its key decoded. `Ok(None)` when the
/// notification has no records. Any undecodable key is an error (a run must not guess which file it reads).
pub fn latest_export(records: &[S3Record]) -> Result<Option<ObjectRef>, BadObjectKey> {
    let mut newest: Option<(&S3Record, ObjectRef)> = None;
    for record in records {
        let object = ObjectRef {
            bucket: record.bucket.clone(),
            key: decode_object_key(&record.encoded_key)?,
        };
        let is_newer = newest.as_ref().is_none_or(|(best, _)| {
            (&record.event_time, record.sequencer.len(), &record.sequencer)
                > (&best.event_time, best.sequencer.len(), &best.sequencer)
        });
        if is_newer {
            newest = Some((record, object));
        }
    }
    Ok(newest.map(|(_, object)| object))
}

/// Decodes an S3 notification key: `+` is a space, `%XX` a byte; the bytes must be UTF-8.
pub fn decode_object_key(encoded: &str) -> Result<String, BadObjectKey> {
    let bad = |reason| BadObjectKey { key: encoded.to_owned(), reason };
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut input = encoded.bytes();
    while let Some(byte) = input.next() {
        bytes.push(match byte {
            b'+' => b' ',
            b'%' => {
                let hex = [input.next(), input.next()];
                let digits = hex.map(|d| d.and_then(|d| char::from(d).to_digit(16)));
                match digits {
                    [Some(high), Some(low)] => {
                        u8::try_from(high * 16 + low).map_err(|_| bad("bad escape"))?
                    }
                    _ => return Err(bad("'%' is not followed by two hexadecimal digits")),
                }
            }
            other => other,
        });
    }
    String::from_utf8(bytes).map_err(|_| bad("the decoded bytes are not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(
            decode_object_key("users/AD+users%20%C3%A9t%C3%A9.csv").unwrap(),
            "users/AD users été.csv"
        );
        assert_eq!(decode_object_key("a%2Bb").unwrap(), "a+b");
        assert!(decode_object_key("bad%2").is_err());
        assert!(decode_object_key("bad%zz").is_err());
        assert!(decode_object_key("%FF").is_err());
    }
}
