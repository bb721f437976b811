-- bgpscribe archive, version 5: the log says why each withdrawal is there.
--
-- Until version 4, a session going down (and a collector restart after a crash) wrote one
-- ordinary withdrawal per route the peer held: a peer that never sent a withdrawal showed
-- thousands of them in update_counts, and a history could not tell a router's withdrawal from
-- the end of its session. Each log row now has a cause:
--   update             the peer's own UPDATE (an announcement, a withdrawal, or a treat-as-
--                      withdraw of RFC 7606): every row before version 5;
--   session_down       the session left Established: every route it held is withdrawn;
--   collector_restart  the collector restarted without ending its sessions cleanly (a crash):
--                      the routes of its previous run are withdrawn at its start.
-- Adding a column with a constant default rewrites nothing, however large the log.
CREATE TYPE bgp.update_cause AS ENUM ('update', 'session_down', 'collector_restart');
ALTER TABLE bgp.updates ADD COLUMN cause bgp.update_cause NOT NULL DEFAULT 'update';

-- prefix_history and update_counts gain a column each (a function's result type cannot be
-- changed in place).
DROP FUNCTION bgp.prefix_history(cidr, timestamptz, timestamptz, boolean, boolean);
CREATE FUNCTION bgp.prefix_history(
  p cidr, from_time timestamptz, to_time timestamptz,
  more_specifics boolean DEFAULT false, less_specifics boolean DEFAULT false)
RETURNS TABLE ("time" timestamptz, ord integer, peer_id integer, prefix cidr, path_id bigint,
               action text, attr_id bigint, origin text, as_path text, origin_as bigint,
               next_hop inet, med bigint, local_pref bigint, communities text[],
               large_communities text[], cause text)
LANGUAGE sql STABLE AS $$
  SELECT u.time, u.ord, u.peer_id, u.prefix, u.path_id,
         CASE WHEN u.attr_id IS NULL THEN 'withdraw' ELSE 'announce' END,
         u.attr_id, a.origin, a.as_path_text, a.origin_as, a.next_hop, a.med, a.local_pref,
         a.communities, a.large_communities, u.cause::text
  FROM (SELECT * FROM bgp.updates x
        WHERE x.prefix = prefix_history.p
          AND x.time >= prefix_history.from_time AND x.time < prefix_history.to_time
        UNION ALL
        SELECT * FROM bgp.updates x
        WHERE prefix_history.more_specifics AND x.prefix << prefix_history.p
          AND x.time >= prefix_history.from_time AND x.time < prefix_history.to_time
        UNION ALL
        -- >> as equality probes: btree indexes cannot serve "contains" directly.
        SELECT * FROM bgp.updates x
        WHERE prefix_history.less_specifics
          AND x.prefix = ANY (bgp.supernet_array(prefix_history.p))
          AND masklen(x.prefix) < masklen(prefix_history.p)
          AND x.time >= prefix_history.from_time AND x.time < prefix_history.to_time) u
  LEFT JOIN bgp.attr_sets a ON a.attr_id = u.attr_id
  ORDER BY u.time, u.ord, u.peer_id, u.prefix, u.path_id
$$;

-- withdrawals: those the peer sent; implicit_withdrawals: those of its sessions ending (and of
-- collector restarts).
DROP FUNCTION bgp.update_counts(timestamptz, timestamptz, interval, integer);
CREATE FUNCTION bgp.update_counts(
  from_time timestamptz, to_time timestamptz, bucket interval, peer integer DEFAULT NULL)
RETURNS TABLE (bucket_start timestamptz, peer_id integer, announcements bigint,
               withdrawals bigint, implicit_withdrawals bigint)
LANGUAGE sql STABLE AS $$
  SELECT date_bin(update_counts.bucket, u.time, update_counts.from_time), u.peer_id,
         count(*) FILTER (WHERE u.attr_id IS NOT NULL),
         count(*) FILTER (WHERE u.attr_id IS NULL AND u.cause = 'update'),
         count(*) FILTER (WHERE u.cause <> 'update')
  FROM bgp.updates u
  WHERE u.time >= update_counts.from_time AND u.time < update_counts.to_time
    AND (update_counts.peer IS NULL OR u.peer_id = update_counts.peer)
  GROUP BY 1, 2
  ORDER BY 1, 2
$$;

-- The log view gains the cause as its last column.
CREATE OR REPLACE VIEW bgp.updates_view AS
SELECT u.time, u.ord, c.name AS collector, u.peer_id, p.address AS peer_address,
       p.asn AS peer_as, u.prefix, u.path_id,
       CASE WHEN u.attr_id IS NULL THEN 'withdraw' ELSE 'announce' END AS action,
       a.origin, a.as_path, a.as_path_text, a.as_path_length, a.origin_as, a.next_hop,
       a.next_hop_link_local, a.med, a.local_pref, a.communities, a.large_communities,
       a.extended_communities, a.atomic_aggregate, a.aggregator_as, a.aggregator_address,
       a.originator_id, a.cluster_list, a.otc, u.attr_id, u.cause::text AS cause
FROM bgp.updates u
LEFT JOIN bgp.peers p ON p.peer_id = u.peer_id
LEFT JOIN bgp.collectors c ON c.collector_id = p.collector_id
LEFT JOIN bgp.attr_sets a ON a.attr_id = u.attr_id;
