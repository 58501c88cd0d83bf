-- The job queue. A cluster's shared attributes are stored once; each proc row holds only its own.
-- Hot attributes are columns (indexed); the ads are JSON objects of attribute name -> ClassAd expression text.
CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('next_cluster', 1);

CREATE TABLE clusters (
  cluster_id INTEGER PRIMARY KEY,
  owner      TEXT NOT NULL,
  ad         TEXT NOT NULL
);

CREATE TABLE jobs (
  cluster_id  INTEGER NOT NULL REFERENCES clusters (cluster_id),
  proc_id     INTEGER NOT NULL,
  owner       TEXT NOT NULL,
  status      INTEGER NOT NULL,
  prio        INTEGER NOT NULL DEFAULT 0,
  ad          TEXT NOT NULL,
  -- the claim a running job runs on (never shown to users: a claim id is a capability)
  claim_id    TEXT,
  startd_addr TEXT,
  slot_name   TEXT,
  PRIMARY KEY (cluster_id, proc_id)
) WITHOUT ROWID;
CREATE INDEX jobs_by_status ON jobs (status);
CREATE INDEX jobs_by_owner ON jobs (owner, status);

CREATE TABLE history (
  cluster_id      INTEGER NOT NULL,
  proc_id         INTEGER NOT NULL,
  owner           TEXT NOT NULL,
  status          INTEGER NOT NULL,
  completion_date INTEGER NOT NULL,
  ad              TEXT NOT NULL,
  PRIMARY KEY (cluster_id, proc_id)
) WITHOUT ROWID;
CREATE INDEX history_by_completion ON history (completion_date DESC);
CREATE INDEX history_by_owner ON history (owner, completion_date DESC);
