DROP TABLE api_tokens;
DROP TABLE alerts;
DROP TABLE dossier_changes;
DROP TABLE dossiers;
DROP TABLE procedures;
DROP TABLE unit_aliases;
DROP TABLE unit_names;
DROP TABLE units;
