//! The response cache of the read API: bodies made from one snapshot of
//! the aggregates on one local day, keyed by the view and the parameters
//! it was made from (never the raw URL), so that junk parameters or a token
//! in the URL make no new entry.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use actix_web::web::Bytes;
use chrono::NaiveDate;

/// Most responses kept per snapshot.
const CACHE_ENTRIES: usize = 4_096;
/// Most bytes of responses kept per snapshot.
const CACHE_BYTES: usize = 64 << 20;

/// Responses of one snapshot and day; at most `CACHE_ENTRIES` bodies and
/// `CACHE_BYTES` bytes.
#[derive(Default)]
pub struct ResponseCache(Mutex<Entries>);

/// Responses made from one snapshot on one day; numbers depend on nothing else.
#[derive(Default)]
struct Entries {
    version: u64,
    day: Option<NaiveDate>,
    bodies: HashMap<String, Bytes>,
    /// The size of `bodies`.
    bytes: usize,
}

impl ResponseCache {
    /// The body for `key` made from snapshot `version` on `day`, made by
    /// `make` unless already there.
    pub fn get_or_make<E>(
        &self,
        version: u64,
        day: NaiveDate,
        key: &str,
        make: impl FnOnce() -> Result<Bytes, E>,
    ) -> Result<Bytes, E> {
        {
            let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            if (cache.version, cache.day) != (version, Some(day))
                || cache.bodies.len() >= CACHE_ENTRIES
            {
                *cache = Entries {
                    version,
                    day: Some(day),
                    ..Entries::default()
                };
            }
            if let Some(body) = cache.bodies.get(key) {
                return Ok(body.clone());
            }
        }
        let body = make()?;
        let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.version == version && cache.bytes + body.len() <= CACHE_BYTES {
            cache.bytes += body.len();
            cache.bodies.insert(key.to_owned(), body.clone());
        }
        Ok(body)
    }
}
