//! Aggregation: the numbers of `METRICS.md`, kept incrementally.
//!
//! The [`Engine`] keeps, per unit, counters per local day (receptions by
//! channel, finishes by timeliness, withdrawals, fees, …) and the day-keyed
//! bookkeeping from which the pending set at any cut-off is derived. A
//! change of a dossier (old state → new state) subtracts the old state's
//! contributions and adds the new one's, so the state always equals a full
//! recomputation from the dossiers. Windows are sums over day ranges.

pub mod alerts;
pub mod campaign;
mod counters;
mod engine;
mod keys;
pub mod ranking;
pub mod score;
mod window;

pub use engine::{Engine, EngineError};
pub use keys::{Keys, Ratio};
pub use window::{Cutoff, Window, WindowError, WindowSpec};
