-- bgpscribe archive, version 3: a writer applies a batch in parts, over several connections.
--
-- The exporter splits the rows of an ordinary batch (no session going down, no restart, no
-- checkpoint) into parts by prefix, and each part commits on its own connection, so that the
-- server's work for one batch (heap and index inserts into bgp.updates and bgp.rib) runs on
-- several cores. Exactly-once then holds per part: part p of batch n commits together with
-- last_batch = n in the row (collector, stream, p), and a retry after a crash applies only the
-- parts whose row is still below n. The same prefix always falls into the same part of a
-- batch, and a part of batch n commits before that part of batch n + 1 starts, so each
-- (peer, prefix, path id) still sees its rows in order. Batches that must be one transaction
-- (a session down, a restart, a checkpoint) set every part's row in that one transaction.
ALTER TABLE bgp.writer_progress ADD COLUMN part smallint NOT NULL DEFAULT 0;
ALTER TABLE bgp.writer_progress DROP CONSTRAINT writer_progress_pkey;
ALTER TABLE bgp.writer_progress ADD PRIMARY KEY (collector_id, stream, part);
