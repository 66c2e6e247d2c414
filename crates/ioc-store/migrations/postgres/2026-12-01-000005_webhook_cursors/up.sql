-- Where each webhook receiver stands in the alert event log: the events up to
-- delivered_seq are delivered (or given up), the next one has had `attempts`
-- tries and waits until next_attempt_at. One node at a time delivers to a
-- receiver: the one whose lease (leased_by, lease_until) holds.
CREATE TABLE webhook_cursors (
    url             TEXT PRIMARY KEY,
    delivered_seq   BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    leased_by       TEXT,
    lease_until     TIMESTAMP
);
