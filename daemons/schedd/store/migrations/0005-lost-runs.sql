-- Runs the schedd gave up on without hearing of their end (the startd silent past the job lease, or back
-- without the claim), by claim: an exit the startd reports later, from its journal, is still the job's
-- completion, also after the schedd restarted. Written in the same transaction as the job's return to idle.
CREATE TABLE lost_runs (
  claim_id    TEXT PRIMARY KEY,
  cluster_id  INTEGER NOT NULL,
  proc_id     INTEGER NOT NULL,
  startd_addr TEXT NOT NULL,
  slot_name   TEXT NOT NULL,
  seq         INTEGER NOT NULL
);
CREATE INDEX lost_runs_seq ON lost_runs (seq);
