//! HTTP routes.

pub mod alerts;
pub mod health;
pub mod ingest;
pub mod metrics;
pub mod pages;
pub mod read;
pub mod stream;
