//! Process tests of `ioc`, in one test binary: the binary run as an
//! administrator runs it (the CLI, `ioc import`, `ioc demo`), `ioc serve`
//! processes on one database, faults under load, the live aggregates, and
//! the pages in headless Chromium. The harness is `ioc-testkit`.

mod aggregates;
mod browser;
mod cli;
mod demo;
mod faults;
mod import;
mod nodes;

/// The `ioc` binary of this build.
const IOC: &str = env!("CARGO_BIN_EXE_ioc");
