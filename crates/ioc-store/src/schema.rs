//! Table definitions shared by both backends. Hand-maintained, with the
//! types that PostgreSQL and SQLite have in common (STACK.md §5.1).

diesel::table! {
    /// Administrative units.
    units (code) {
        /// Stable code.
        code -> Text,
        /// Current name.
        name -> Text,
        /// Level name.
        level -> Text,
        /// Parent unit.
        parent_code -> Nullable<Text>,
        /// When the row last changed (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Earlier names of units.
    unit_names (unit_code, valid_to) {
        /// The unit.
        unit_code -> Text,
        /// First local day the name no longer applied.
        valid_to -> Date,
        /// First local day of the name.
        valid_from -> Nullable<Date>,
        /// The name.
        name -> Text,
    }
}

diesel::table! {
    /// Codes of units in other systems.
    unit_aliases (system, alias) {
        /// `dvcqg`, `ma_dinh_danh` or `local`.
        system -> Text,
        /// The code in that system.
        alias -> Text,
        /// The unit.
        unit_code -> Text,
    }
}

diesel::table! {
    /// The procedure catalog.
    procedures (code) {
        /// National catalog code.
        code -> Text,
        /// Name.
        name -> Text,
        /// Field (lĩnh vực).
        field -> Text,
        /// `none`, `partial` or `full`.
        online_level -> Text,
        /// Levels that offer it, separated by `;`.
        levels -> Text,
        /// Whether it bears a fee.
        fee -> Bool,
        /// When the row last changed (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Current state of each dossier.
    dossiers (id) {
        /// Surrogate key.
        id -> BigInt,
        /// Source system.
        source -> Text,
        /// Dossier code within the source.
        code -> Text,
        /// Handling unit.
        unit_code -> Text,
        /// Procedure code.
        procedure_code -> Text,
        /// `direct`, `online` or `postal`.
        channel -> Text,
        /// Status code 1–10.
        status -> SmallInt,
        /// Reception time (UTC).
        received_at -> Nullable<Timestamp>,
        /// Promised return time (UTC).
        due_at -> Nullable<Timestamp>,
        /// End of processing (UTC).
        finished_at -> Nullable<Timestamp>,
        /// When it entered status 7 or 8 (UTC).
        stopped_at -> Nullable<Timestamp>,
        /// Bears a fee.
        fee_required -> Bool,
        /// Fee paid online.
        paid_online -> Bool,
        /// Has an electronic result.
        e_result -> Bool,
        /// The source's time of this version (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Append-only log of accepted dossier changes, old and new state.
    dossier_changes (seq) {
        /// Position in the log.
        seq -> BigInt,
        /// When ioc recorded the change (UTC).
        recorded_at -> Timestamp,
        /// Source system.
        source -> Text,
        /// Dossier code within the source.
        code -> Text,
        /// Before the change (null for a new dossier).
        old_unit_code -> Nullable<Text>,
        /// Before the change (null for a new dossier).
        old_procedure_code -> Nullable<Text>,
        /// Before the change (null for a new dossier).
        old_channel -> Nullable<Text>,
        /// Before the change (null for a new dossier).
        old_status -> Nullable<SmallInt>,
        /// Before the change (null for a new dossier).
        old_received_at -> Nullable<Timestamp>,
        /// Before the change (null for a new dossier).
        old_due_at -> Nullable<Timestamp>,
        /// Before the change (null for a new dossier).
        old_finished_at -> Nullable<Timestamp>,
        /// Before the change (null for a new dossier).
        old_stopped_at -> Nullable<Timestamp>,
        /// Before the change (null for a new dossier).
        old_fee_required -> Nullable<Bool>,
        /// Before the change (null for a new dossier).
        old_paid_online -> Nullable<Bool>,
        /// Before the change (null for a new dossier).
        old_e_result -> Nullable<Bool>,
        /// Before the change (null for a new dossier).
        old_updated_at -> Nullable<Timestamp>,
        /// After the change.
        new_unit_code -> Text,
        /// After the change.
        new_procedure_code -> Text,
        /// After the change.
        new_channel -> Text,
        /// After the change.
        new_status -> SmallInt,
        /// After the change.
        new_received_at -> Nullable<Timestamp>,
        /// After the change.
        new_due_at -> Nullable<Timestamp>,
        /// After the change.
        new_finished_at -> Nullable<Timestamp>,
        /// After the change.
        new_stopped_at -> Nullable<Timestamp>,
        /// After the change.
        new_fee_required -> Bool,
        /// After the change.
        new_paid_online -> Bool,
        /// After the change.
        new_e_result -> Bool,
        /// After the change.
        new_updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Operator alerts.
    alerts (id) {
        /// Key.
        id -> BigInt,
        /// Rule id.
        rule -> Text,
        /// Unit concerned.
        unit_code -> Text,
        /// Source concerned (source and dossier rules), else empty.
        source -> Text,
        /// Dossier concerned (dossier rules), else empty.
        dossier_code -> Text,
        /// `info`, `warning` or `critical`.
        severity -> Text,
        /// Whether the condition holds.
        active -> Bool,
        /// Details as JSON.
        details -> Text,
        /// First raised (UTC).
        raised_at -> Timestamp,
        /// Last changed (UTC).
        updated_at -> Timestamp,
        /// Cleared (UTC).
        cleared_at -> Nullable<Timestamp>,
        /// Who acknowledged it.
        acknowledged_by -> Nullable<Text>,
        /// When it was acknowledged (UTC).
        acknowledged_at -> Nullable<Timestamp>,
        /// Note given with the acknowledgement.
        ack_note -> Nullable<Text>,
    }
}

diesel::table! {
    /// Transitions of alerts, in order.
    alert_events (seq) {
        /// Position.
        seq -> BigInt,
        /// The alert.
        alert_id -> BigInt,
        /// `raise`, `update`, `ack` or `clear`.
        kind -> Text,
        /// When (UTC).
        at -> Timestamp,
        /// `ioc`, or the acknowledging token's label.
        actor -> Text,
        /// Severity after the transition.
        severity -> Text,
        /// Acknowledgement note.
        note -> Nullable<Text>,
    }
}

diesel::table! {
    /// When each source last had a change accepted.
    source_activity (source) {
        /// Source.
        source -> Text,
        /// Last accepted change (UTC).
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    /// Bearer tokens, stored hashed.
    api_tokens (id) {
        /// Key.
        id -> BigInt,
        /// SHA-256 of the token, hex.
        token_hash -> Text,
        /// `ingest`, `viewer`, `operator` or `admin`.
        role -> Text,
        /// Source an ingest token writes as.
        source -> Nullable<Text>,
        /// Unit subtrees an ingest token may write, separated by `,`.
        units -> Text,
        /// Free label.
        label -> Text,
        /// Creation time (UTC).
        created_at -> Timestamp,
        /// Revocation time (UTC).
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Progress of `ioc import` runs.
    import_checkpoints (source, file_key) {
        /// Source the file is imported as.
        source -> Text,
        /// File name, size and a hash of its first bytes.
        file_key -> Text,
        /// Records consumed so far.
        records -> BigInt,
        /// Accepted so far.
        accepted -> BigInt,
        /// Duplicates so far.
        duplicates -> BigInt,
        /// Stale so far.
        stale -> BigInt,
        /// Rejected so far.
        rejected -> BigInt,
        /// Length of the reject file at this point.
        reject_bytes -> BigInt,
        /// Whether the whole file was consumed.
        finished -> Bool,
        /// Last write (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Checkpoints of the in-memory aggregates.
    aggregate_checkpoints (fingerprint) {
        /// Digest of the counting rules.
        fingerprint -> Text,
        /// Follower position, JSON.
        follower -> Text,
        /// Counters, JSON.
        state -> Text,
        /// When it was written (UTC).
        created_at -> Timestamp,
    }
}

diesel::joinable!(unit_names -> units (unit_code));
diesel::joinable!(alert_events -> alerts (alert_id));
diesel::joinable!(unit_aliases -> units (unit_code));
diesel::table! {
    /// Where each webhook receiver stands in the alert event log.
    webhook_cursors (url) {
        /// Receiver URL.
        url -> Text,
        /// Events up to this seq are done.
        delivered_seq -> BigInt,
        /// Tries of the next event so far.
        attempts -> Integer,
        /// When the next event may be tried again (UTC).
        next_attempt_at -> Nullable<Timestamp>,
        /// The node delivering to this receiver.
        leased_by -> Nullable<Text>,
        /// Until when its lease holds (UTC).
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    units,
    unit_names,
    unit_aliases,
    dossiers,
    dossier_changes,
    alerts,
    alert_events
);
