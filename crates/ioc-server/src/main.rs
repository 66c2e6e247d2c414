//! The `ioc` binary.

use std::process::ExitCode;

use clap::Parser;

#[actix_web::main]
async fn main() -> ExitCode {
    ioc_server::cli::Cli::parse().run().await
}
