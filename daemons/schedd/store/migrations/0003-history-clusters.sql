-- A finished cluster's shared attributes, stored once for all its procs (as the queue stores them): a history
-- row then holds only its proc's own attributes, so removing a million-proc cluster writes a million small
-- rows instead of a million copies of the cluster's ad. A row whose cluster has no entry here (written before
-- this table existed) holds its whole ad.
CREATE TABLE history_clusters (
  cluster_id INTEGER PRIMARY KEY,
  ad         TEXT NOT NULL
);
-- History as its readers see it: each row's whole ad (the proc's attributes over its cluster's).
CREATE VIEW history_ads AS
  SELECT h.cluster_id, h.proc_id, h.owner, h.status, h.completion_date,
         CASE WHEN c.ad IS NULL THEN h.ad ELSE json_patch(c.ad, h.ad) END AS ad
  FROM history h LEFT JOIN history_clusters c ON c.cluster_id = h.cluster_id;
-- The queue is read whole when the schedd starts and looked up in memory: indexes over the jobs table were
-- never used, and each cost a b-tree write per submitted, changed and removed job. History is read newest
-- first, a page at a time from where the last one ended: an index in exactly that order lets a page start
-- there (history_by_completion ordered the rows of one second by nothing, so each page sorted all of them);
-- an owner is filtered on the way.
DROP INDEX jobs_by_status;
DROP INDEX jobs_by_owner;
DROP INDEX history_by_owner;
DROP INDEX history_by_completion;
CREATE INDEX history_newest ON history (completion_date DESC, cluster_id DESC, proc_id DESC);
