//! A node's in-memory view of the active alerts and the latest events.

use std::collections::{HashMap, VecDeque};

use ioc_store::alerts::{Alert, AlertKey, Event};

/// The active alerts as this node knows them.
#[derive(Default)]
pub(super) struct Board {
    /// Active alerts by id.
    pub(super) active: HashMap<i64, Alert>,
    /// Active alerts' ids by key.
    pub(super) by_key: HashMap<AlertKey, i64>,
    /// Dossier alerts by (rule, source, code), whatever their unit.
    pub(super) by_dossier: HashMap<(String, String, String), i64>,
    /// The latest events, with what their alert is about.
    pub(super) recent: VecDeque<(Event, Option<AlertKey>)>,
    /// The seq of the last event applied.
    pub(super) seq: i64,
}

impl Board {
    /// Keeps `alert` if it is active, forgets it otherwise.
    pub(super) fn put(&mut self, alert: Alert) {
        self.remove(alert.id);
        if !alert.active {
            return;
        }
        if !alert.key.dossier.is_empty() {
            self.by_dossier.insert(dossier_slot(&alert.key), alert.id);
        }
        self.by_key.insert(alert.key.clone(), alert.id);
        self.active.insert(alert.id, alert);
    }

    fn remove(&mut self, id: i64) {
        if let Some(old) = self.active.remove(&id) {
            self.by_key.remove(&old.key);
            if !old.key.dossier.is_empty() {
                self.by_dossier.remove(&dossier_slot(&old.key));
            }
        }
    }

    /// The active alert of `key`.
    pub(super) fn get(&self, key: &AlertKey) -> Option<&Alert> {
        self.by_key.get(key).and_then(|id| self.active.get(id))
    }
}

fn dossier_slot(key: &AlertKey) -> (String, String, String) {
    (key.rule.clone(), key.source.clone(), key.dossier.clone())
}
