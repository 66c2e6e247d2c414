DROP TRIGGER dossier_changes_notify ON dossier_changes;
DROP FUNCTION ioc_notify_changes();
