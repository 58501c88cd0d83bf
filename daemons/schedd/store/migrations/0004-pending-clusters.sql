-- A submission larger than one piece is written in several transactions: its cluster row is marked pending
-- until the last one, and a schedd that starts finds a pending cluster unacknowledged and drops it.
ALTER TABLE clusters ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
