//! HTTP routes.

pub mod alerts;
pub mod body;
pub mod health;
pub mod ingest;
pub mod metrics;
pub mod pages;
pub mod params;
pub mod read;
pub mod stream;
