//! The `ioc` subcommands: each module holds its arguments and what it does.

pub mod check;
pub mod demo;
pub mod import;
pub mod load;
pub mod simulate;
pub mod token;
