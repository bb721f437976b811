-- bgpscribe archive, version 2: query functions and readable views over version 1's tables
-- (docs/sql.md has examples and sample output).
--
-- The RIB at a past time t: for each peer, the latest checkpoint of its collector at or before
-- t (bgp.checkpoints; the log rows at the checkpoint's own time are inside it), plus the log
-- rows after that checkpoint up to and including t; without a checkpoint, the log from its
-- start. Per (peer, prefix, path id) the last row by (time, ord) wins, an announcement beating
-- a withdrawal of the same message (RFC 4271 section 4.3: a prefix in both is announced); a
-- withdrawal as last row means no route. `since` follows bgp.rib's rule: the time of the
-- announcement that brought the route's current attributes, a re-announcement with the same
-- attributes keeping it. A time at or after now() reads bgp.rib, the current RIB, directly.
--
-- The functions are LANGUAGE sql, STABLE and not STRICT, and each body is one SELECT:
-- PostgreSQL inlines them into the calling query, so constant arguments reach the planner,
-- which then prunes time partitions and probes the (prefix, time) indexes. Branches guarded by
-- an argument (t >= now(), t IS NULL, more_specifics, ...) become one-time filters: only the
-- branch that applies runs. Times bounding the log scans are also written so that partitions
-- outside them are skipped at run time.
--
-- Retention: once bgp.drop_partitions has removed old partitions, a time before the oldest
-- checkpoint that is left is answered from an incomplete log (docs/sql.md).

-- Every prefix covering p, p included, as an array: IMMUTABLE, so a constant argument folds
-- into a constant the planner turns into index probes (prefix = ANY (...)).
CREATE OR REPLACE FUNCTION bgp.supernet_array(p cidr)
RETURNS cidr[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT array_agg(set_masklen(p, l)::cidr ORDER BY l DESC)
  FROM generate_series(masklen(p), 0, -1) AS l
$$;

-- ---- The RIB at a time ------------------------------------------------------------------------

-- The routes of the given prefixes (exactly these, no containment) of every peer at time t.
-- route_at and lookup are built on it.
--
-- PL/pgSQL, unlike the others, for the 10 ms a lookup must take on a large archive: planning a
-- query over every partition of the log costs about 0.1 ms per partition (3 ms for a month of
-- daily partitions, 18 ms on a session's first call), far more than running it. So it first
-- finds the oldest checkpoint in use, then runs the query with both time bounds as constants
-- (EXECUTE ... USING: PostgreSQL plans with the values), and only the partitions between that
-- checkpoint and t are planned at all.
CREATE OR REPLACE FUNCTION bgp.routes_at(prefixes cidr[], t timestamptz DEFAULT now())
RETURNS TABLE (peer_id integer, prefix cidr, path_id bigint, attr_id bigint, since timestamptz)
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  oldest timestamptz;  -- the oldest checkpoint any peer starts from; -infinity: the log's start
BEGIN
  IF t >= now() THEN
    RETURN QUERY EXECUTE
      'SELECT r.peer_id, r.prefix, r.path_id, r.attr_id, r.since
       FROM bgp.rib r WHERE r.prefix = ANY ($1)'
      USING prefixes;
    RETURN;
  END IF;
  SELECT coalesce(min(coalesce(x.cp, '-infinity')), 'infinity') INTO oldest
  FROM (SELECT (SELECT max(c.time) FROM bgp.checkpoints c
                WHERE c.collector_id = p.collector_id AND c.time <= t) AS cp
        FROM bgp.peers p) x;
  RETURN QUERY EXECUTE $q$
    WITH peer_cp AS MATERIALIZED (
      -- Each peer with its collector's latest checkpoint at or before t (NULL: none).
      SELECT p.peer_id,
             (SELECT max(c.time) FROM bgp.checkpoints c
              WHERE c.collector_id = p.collector_id AND c.time <= $2) AS cp
      FROM bgp.peers p
    ),
    events AS (
      -- A checkpointed route enters as one announcement at its `since`, before every log row.
      SELECT r.peer_id, r.prefix, r.path_id, r.attr_id, r.since AS time, -1 AS ord
      FROM peer_cp pc
      JOIN bgp.checkpoint_routes r ON r.peer_id = pc.peer_id AND r.time = pc.cp
      WHERE r.prefix = ANY ($1) AND r.time >= $3 AND r.time <= $2
      UNION ALL
      SELECT u.peer_id, u.prefix, u.path_id, u.attr_id, u.time, u.ord
      FROM bgp.updates u
      JOIN peer_cp pc ON pc.peer_id = u.peer_id
      WHERE u.prefix = ANY ($1) AND u.time > $3 AND u.time <= $2
        AND u.time > coalesce(pc.cp, '-infinity')
    ),
    marked AS (
      SELECT e.*,
             e.attr_id IS DISTINCT FROM lag(e.attr_id) OVER w AS starts,  -- first row of a run
             lead(e.ord) OVER w IS NULL AS last
      FROM events e
      WINDOW w AS (PARTITION BY e.peer_id, e.prefix, e.path_id
                   ORDER BY e.time, e.ord, e.attr_id IS NOT NULL)
    ),
    runs AS (
      SELECT m.*,
             max(m.time) FILTER (WHERE m.starts) OVER (
               PARTITION BY m.peer_id, m.prefix, m.path_id
               ORDER BY m.time, m.ord, m.attr_id IS NOT NULL ROWS UNBOUNDED PRECEDING)
               AS run_start
      FROM marked m
    )
    SELECT s.peer_id, s.prefix, s.path_id, s.attr_id, s.run_start
    FROM runs s
    WHERE s.last AND s.attr_id IS NOT NULL
  $q$ USING prefixes, t, oldest;
END
$fn$;

-- The RIB of one peer (or of every peer: NULL) at time t.
CREATE OR REPLACE FUNCTION bgp.rib_at(t timestamptz, peer integer DEFAULT NULL)
RETURNS TABLE (peer_id integer, prefix cidr, path_id bigint, attr_id bigint, since timestamptz)
LANGUAGE sql STABLE AS $$
  WITH peer_cp AS MATERIALIZED (
    SELECT p.peer_id,
           (SELECT max(c.time) FROM bgp.checkpoints c
            WHERE c.collector_id = p.collector_id AND c.time <= rib_at.t) AS cp
    FROM bgp.peers p
    WHERE rib_at.peer IS NULL OR p.peer_id = rib_at.peer
  ),
  events AS (
    SELECT r.peer_id, r.prefix, r.path_id, r.attr_id, r.since AS time, -1 AS ord
    FROM peer_cp pc
    JOIN bgp.checkpoint_routes r ON r.peer_id = pc.peer_id AND r.time = pc.cp
    WHERE r.time <= rib_at.t AND r.time >= (SELECT min(x.cp) FROM peer_cp x)
    UNION ALL
    SELECT u.peer_id, u.prefix, u.path_id, u.attr_id, u.time, u.ord
    FROM bgp.updates u
    JOIN peer_cp pc ON pc.peer_id = u.peer_id
    WHERE u.time <= rib_at.t
      AND u.time > coalesce(pc.cp, '-infinity')
      AND u.time > (SELECT coalesce(min(coalesce(x.cp, '-infinity')), 'infinity') FROM peer_cp x)
  ),
  marked AS (
    SELECT e.*,
           e.attr_id IS DISTINCT FROM lag(e.attr_id) OVER w AS starts,
           lead(e.ord) OVER w IS NULL AS last
    FROM events e
    WINDOW w AS (PARTITION BY e.peer_id, e.prefix, e.path_id
                 ORDER BY e.time, e.ord, e.attr_id IS NOT NULL)
  ),
  runs AS (
    SELECT m.*,
           max(m.time) FILTER (WHERE m.starts) OVER (
             PARTITION BY m.peer_id, m.prefix, m.path_id
             ORDER BY m.time, m.ord, m.attr_id IS NOT NULL ROWS UNBOUNDED PRECEDING) AS run_start
    FROM marked m
  )
  SELECT r.peer_id, r.prefix, r.path_id, r.attr_id, r.since
  FROM bgp.rib r
  WHERE rib_at.t >= now() AND (rib_at.peer IS NULL OR r.peer_id = rib_at.peer)
  UNION ALL
  SELECT s.peer_id, s.prefix, s.path_id, s.attr_id, s.run_start
  FROM runs s
  WHERE rib_at.t < now() AND s.last AND s.attr_id IS NOT NULL
$$;

-- The routes of every peer for exactly the prefix p at time t.
CREATE OR REPLACE FUNCTION bgp.route_at(p cidr, t timestamptz DEFAULT now())
RETURNS TABLE (peer_id integer, prefix cidr, path_id bigint, attr_id bigint, since timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT * FROM bgp.routes_at(ARRAY[route_at.p], route_at.t)
$$;

-- Longest-prefix match at time t: per peer, the routes (every path id) of the longest prefix
-- that covers the address a (or, for a network such as 10.1.0.0/16, covers all of it).
CREATE OR REPLACE FUNCTION bgp.lookup(a inet, t timestamptz DEFAULT now())
RETURNS TABLE (peer_id integer, prefix cidr, path_id bigint, attr_id bigint, since timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT s.peer_id, s.prefix, s.path_id, s.attr_id, s.since
  FROM (SELECT r.*, rank() OVER (PARTITION BY r.peer_id ORDER BY masklen(r.prefix) DESC) AS k
        FROM bgp.routes_at(bgp.supernet_array(network(lookup.a)), lookup.t) r) s
  WHERE s.k = 1
$$;

-- ---- History and counts -----------------------------------------------------------------------

-- The log rows of prefix p in [from_time, to_time), with its more-specifics (<<) and its
-- less-specifics (>>) on request, oldest first, with the readable attributes of announcements.
CREATE OR REPLACE FUNCTION bgp.prefix_history(
  p cidr, from_time timestamptz, to_time timestamptz,
  more_specifics boolean DEFAULT false, less_specifics boolean DEFAULT false)
RETURNS TABLE ("time" timestamptz, ord integer, peer_id integer, prefix cidr, path_id bigint,
               action text, attr_id bigint, origin text, as_path text, origin_as bigint,
               next_hop inet, med bigint, local_pref bigint, communities text[],
               large_communities text[])
LANGUAGE sql STABLE AS $$
  SELECT u.time, u.ord, u.peer_id, u.prefix, u.path_id,
         CASE WHEN u.attr_id IS NULL THEN 'withdraw' ELSE 'announce' END,
         u.attr_id, a.origin, a.as_path_text, a.origin_as, a.next_hop, a.med, a.local_pref,
         a.communities, a.large_communities
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

-- Announcements and withdrawals per peer per bucket of the log in [from_time, to_time).
-- Buckets start at from_time (date_bin: a width in hours, days, ...; not months); a peer's
-- bucket without rows is not listed.
CREATE OR REPLACE FUNCTION bgp.update_counts(
  from_time timestamptz, to_time timestamptz, bucket interval, peer integer DEFAULT NULL)
RETURNS TABLE (bucket_start timestamptz, peer_id integer, announcements bigint,
               withdrawals bigint)
LANGUAGE sql STABLE AS $$
  SELECT date_bin(update_counts.bucket, u.time, update_counts.from_time), u.peer_id,
         count(*) FILTER (WHERE u.attr_id IS NOT NULL),
         count(*) FILTER (WHERE u.attr_id IS NULL)
  FROM bgp.updates u
  WHERE u.time >= update_counts.from_time AND u.time < update_counts.to_time
    AND (update_counts.peer IS NULL OR u.peer_id = update_counts.peer)
  GROUP BY 1, 2
  ORDER BY 1, 2
$$;

-- ---- Routes by attribute: t NULL is the current RIB (bgp.rib) ---------------------------------

-- The routes whose attribute set is one of attrs at time t (at or after now(): bgp.rib).
-- A route qualifies only if its last row up to t carries one of those sets, so only prefixes
-- with such a row in the checkpoint or in the log after it are candidates: one scan of those
-- rows finds them, and routes_at settles each candidate with index probes. Rebuilding the
-- whole RIB (rib_at) instead took ten times longer on a 10 M route archive for an origin AS;
-- but the probes cost about 60 us a prefix there against 3 us a route for the rebuild, so
-- past max_probes candidates (most of the table: a transit AS, a common community) the
-- rebuild is used.
CREATE OR REPLACE FUNCTION bgp.routes_with_attrs(
  attrs bigint[], t timestamptz DEFAULT now(), max_probes integer DEFAULT 200000)
RETURNS TABLE (peer_id integer, prefix cidr, path_id bigint, attr_id bigint, since timestamptz)
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  oldest timestamptz;
  candidates cidr[];
BEGIN
  IF t >= now() THEN
    RETURN QUERY EXECUTE
      'SELECT r.peer_id, r.prefix, r.path_id, r.attr_id, r.since
       FROM bgp.rib r WHERE r.attr_id = ANY ($1)'
      USING attrs;
    RETURN;
  END IF;
  SELECT coalesce(min(coalesce(x.cp, '-infinity')), 'infinity') INTO oldest
  FROM (SELECT (SELECT max(c.time) FROM bgp.checkpoints c
                WHERE c.collector_id = p.collector_id AND c.time <= t) AS cp
        FROM bgp.peers p) x;
  -- IN (SELECT unnest(...)): a hash semi-join, where = ANY would compare every row with
  -- every id of a large set.
  EXECUTE $q$
    SELECT array_agg(DISTINCT x.prefix) FROM (
      SELECT r.prefix
      FROM bgp.checkpoint_routes r
      JOIN bgp.peers p ON p.peer_id = r.peer_id
      WHERE r.time >= $3 AND r.time <= $2
        AND r.time = (SELECT max(c.time) FROM bgp.checkpoints c
                      WHERE c.collector_id = p.collector_id AND c.time <= $2)
        AND r.attr_id IN (SELECT unnest($1))
      UNION ALL
      SELECT u.prefix
      FROM bgp.updates u
      WHERE u.time > $3 AND u.time <= $2 AND u.attr_id IN (SELECT unnest($1))
    ) x
  $q$ INTO candidates USING attrs, t, oldest;
  IF cardinality(candidates) > max_probes THEN
    RETURN QUERY EXECUTE
      'SELECT r.peer_id, r.prefix, r.path_id, r.attr_id, r.since
       FROM bgp.rib_at($1) r WHERE r.attr_id IN (SELECT unnest($2))'
      USING t, attrs;
    RETURN;
  END IF;
  RETURN QUERY EXECUTE
    'SELECT r.peer_id, r.prefix, r.path_id, r.attr_id, r.since
     FROM bgp.routes_at($1, $2) r WHERE r.attr_id IN (SELECT unnest($3))'
    USING coalesce(candidates, '{}'), t, attrs;
END
$fn$;

-- The routes whose AS path ends in asn (attr_sets.origin_as).
CREATE OR REPLACE FUNCTION bgp.originated_by(asn bigint, t timestamptz DEFAULT NULL)
RETURNS TABLE (peer_id integer, prefix cidr, path_id bigint, attr_id bigint, since timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT * FROM bgp.routes_with_attrs(
    ARRAY(SELECT a.attr_id FROM bgp.attr_sets a WHERE a.origin_as = originated_by.asn),
    coalesce(originated_by.t, 'infinity'))
$$;

-- The routes whose AS path contains asn anywhere (AS_SET members included).
CREATE OR REPLACE FUNCTION bgp.paths_through(asn bigint, t timestamptz DEFAULT NULL)
RETURNS TABLE (peer_id integer, prefix cidr, path_id bigint, attr_id bigint, since timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT * FROM bgp.routes_with_attrs(
    ARRAY(SELECT a.attr_id FROM bgp.attr_sets a WHERE a.as_path @> ARRAY[paths_through.asn]),
    coalesce(paths_through.t, 'infinity'))
$$;

-- The routes carrying community c: "65000:100" (RFC 1997), "65000:1:2" (two colons: a large
-- community, RFC 8092), or an extended community as attr_sets spells it ("rt:65000:100",
-- starting with a letter; no index serves these).
CREATE OR REPLACE FUNCTION bgp.with_community(c text, t timestamptz DEFAULT NULL)
RETURNS TABLE (peer_id integer, prefix cidr, path_id bigint, attr_id bigint, since timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT * FROM bgp.routes_with_attrs(
    ARRAY(SELECT a.attr_id FROM bgp.attr_sets a
          WHERE with_community.c !~ '^[A-Za-z]' AND with_community.c !~ ':.*:'
            AND a.communities @> ARRAY[with_community.c]
          UNION ALL
          SELECT a.attr_id FROM bgp.attr_sets a
          WHERE with_community.c !~ '^[A-Za-z]' AND with_community.c ~ ':.*:'
            AND a.large_communities @> ARRAY[with_community.c]
          UNION ALL
          SELECT a.attr_id FROM bgp.attr_sets a
          WHERE with_community.c ~ '^[A-Za-z]'
            AND a.extended_communities @> ARRAY[with_community.c]),
    coalesce(with_community.t, 'infinity'))
$$;

-- ---- Readable views ---------------------------------------------------------------------------
-- Left joins: a query that names no column of a joined table does not read it (PostgreSQL
-- removes a left join to a unique key that nothing uses).

-- The current RIB with its peer, collector and decoded attributes.
CREATE OR REPLACE VIEW bgp.rib_view AS
SELECT c.name AS collector, r.peer_id, p.address AS peer_address, p.asn AS peer_as, r.prefix,
       r.path_id, r.since, r.updated, a.origin, a.as_path, a.as_path_text, a.as_path_length,
       a.origin_as, a.next_hop, a.next_hop_link_local, a.med, a.local_pref, a.communities,
       a.large_communities, a.extended_communities, a.atomic_aggregate, a.aggregator_as,
       a.aggregator_address, a.originator_id, a.cluster_list, a.otc, r.attr_id
FROM bgp.rib r
LEFT JOIN bgp.peers p ON p.peer_id = r.peer_id
LEFT JOIN bgp.collectors c ON c.collector_id = p.collector_id
LEFT JOIN bgp.attr_sets a ON a.attr_id = r.attr_id;

-- The update log likewise; action is 'announce' or 'withdraw' (withdrawals have no attributes).
CREATE OR REPLACE VIEW bgp.updates_view AS
SELECT u.time, u.ord, c.name AS collector, u.peer_id, p.address AS peer_address,
       p.asn AS peer_as, u.prefix, u.path_id,
       CASE WHEN u.attr_id IS NULL THEN 'withdraw' ELSE 'announce' END AS action,
       a.origin, a.as_path, a.as_path_text, a.as_path_length, a.origin_as, a.next_hop,
       a.next_hop_link_local, a.med, a.local_pref, a.communities, a.large_communities,
       a.extended_communities, a.atomic_aggregate, a.aggregator_as, a.aggregator_address,
       a.originator_id, a.cluster_list, a.otc, u.attr_id
FROM bgp.updates u
LEFT JOIN bgp.peers p ON p.peer_id = u.peer_id
LEFT JOIN bgp.collectors c ON c.collector_id = p.collector_id
LEFT JOIN bgp.attr_sets a ON a.attr_id = u.attr_id;
