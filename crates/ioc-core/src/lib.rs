//! Domain vocabulary of ioc, free of IO: the unit tree, dossiers and their
//! code lists, the local calendar and the timeliness rules of `METRICS.md`.
//!
//! Raw input is parsed once, at the edge, into the newtypes defined here;
//! everything downstream takes these types, never bare strings.

pub mod alert;
pub mod calendar;
pub mod clock;
pub mod codes;
pub mod dossier;
pub mod hash;
pub mod key;
pub mod procedure;
pub mod reference;
pub mod text;
pub mod timeliness;
pub mod unit;
pub mod working_days;

pub use calendar::LocalCalendar;
pub use clock::{Clock, ManualClock, SystemClock};
pub use codes::{Channel, Status, UnknownCode};
pub use dossier::{Dossier, DossierCode, DossierState, Source, VersionOrder};
pub use key::{Better, Key, KeyKind, UnknownKey};
pub use procedure::{Catalog, OnlineLevel, Procedure, ProcedureCode};
pub use reference::{ReferenceError, ReferenceErrors};
pub use timeliness::{Granularity, Timeliness, TimelinessRules};
pub use unit::{AliasSystem, Levels, Unit, UnitCode, UnitTree, UnitTreeBuilder, UnresolvedUnit};
pub use working_days::WorkingCalendar;
