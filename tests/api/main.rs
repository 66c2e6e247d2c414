//! Black-box tests of the HTTP API: a real server on a random loopback
//! port, real HTTP clients, a real database on each backend.

mod alerts;
mod catalog;
mod dashboards;
mod dvcqg;
mod hardening;
mod health;
mod ingest;
mod metrics;
mod read;
mod stream;
