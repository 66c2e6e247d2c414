//! The `ioc` server: configuration, CLI commands, the HTTP API and the
//! wiring of the pipeline. The binary in `main.rs` only parses arguments.

pub mod aggregates;
pub mod alerting;
pub mod auth;
pub mod bootstrap;
pub mod builtin;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod pipeline;
pub mod reference;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod unit_metrics;
pub mod views;
pub mod webhook;

pub use config::Settings;
pub use startup::Application;
