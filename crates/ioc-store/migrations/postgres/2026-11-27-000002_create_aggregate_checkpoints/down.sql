DROP TABLE aggregate_checkpoints;
