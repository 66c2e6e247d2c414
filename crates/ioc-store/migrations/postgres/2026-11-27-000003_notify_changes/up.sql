-- Wakes every `ioc serve` node that LISTENs on `ioc_changes` when changes are
-- committed, whichever node or `ioc import` wrote them. One notification per
-- statement; PostgreSQL delivers it at commit and folds repeats within a
-- transaction into one.
CREATE FUNCTION ioc_notify_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ioc_changes', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER dossier_changes_notify
    AFTER INSERT ON dossier_changes
    FOR EACH STATEMENT EXECUTE FUNCTION ioc_notify_changes();
