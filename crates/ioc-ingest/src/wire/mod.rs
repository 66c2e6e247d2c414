//! JSON bodies read with bounded memory. A record keeps only the fields
//! its [`Schema`] names, each as a scalar (or, for a few DVCQG fields, a
//! short list of objects); every other value is skipped unread, and the
//! records past a batch's limit are counted, not kept. So whatever a body
//! holds (a million `0`s, a megabyte array in a field, personal data),
//! what stays in memory is bounded by the body's size and the batch limit.

mod body;
mod record;
mod skip;

pub use body::{Envelope, Records, array, element, envelope};
pub use record::{Element, ElementSeed, List, MAX_LIST_ITEMS, Object, Scalar, Schema};

#[cfg(test)]
mod tests;
