-- What each running DAG's manager recorded, in order: replaying it rebuilds the DAG's state after a restart.
CREATE TABLE dag_events (
  dag_cluster INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  event       TEXT NOT NULL,
  PRIMARY KEY (dag_cluster, seq)
) WITHOUT ROWID;
