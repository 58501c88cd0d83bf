-- A removal of many procs (drm of a large cluster) is committed as one row: from then on its procs are
-- removed (JobStatus 3, this reason and time, over what their rows in `jobs` say) and move to history a piece
-- at a time in the background, the row going with the last piece; a schedd that starts resumes the move.
CREATE TABLE removals (
  id         INTEGER PRIMARY KEY,
  cluster_id INTEGER NOT NULL,
  -- the procs, as JSON [[first, last], …]
  procs      TEXT NOT NULL,
  -- RemoveReason, as ClassAd literal text
  reason     TEXT NOT NULL,
  -- EnteredCurrentStatus and the completion date in history (epoch seconds)
  time       INTEGER NOT NULL
);
