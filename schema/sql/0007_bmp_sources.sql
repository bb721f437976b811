-- bgpscribe archive, version 7: the peers that BMP routers report (RFC 7854) are peers of their
-- own.
--
-- Until version 6 a peer was one (collector, address, AS): every peer was a BGP session of the
-- collector. Through the BMP station input a router reports the sessions it monitors, and each
-- becomes a source of routes: two routers reporting the same neighbour, one router reporting a
-- neighbour in two VRFs (peer distinguisher), or the pre- and post-policy Adj-RIB-In of one
-- neighbour (L flag) are separate peers, each with its own RIB. Keyed by (address, AS) alone
-- they would share one row, and each source's routes would overwrite the others' in bgp.rib.
--
-- A peer now also carries the BMP source it comes from:
--   router          the router's configured name in the collector; '' for the collector's own
--                   sessions (NOT NULL: NULLs never collide in a unique key)
--   router_address  the address the router's BMP session comes from; NULL for own sessions
--   bmp_peer_type   the per-peer header's peer type: 0 global, 1 RD, 2 local instance peer,
--                   3 Loc-RIB (RFC 9069); 0 for own sessions
--   distinguisher   the per-peer header's peer distinguisher, its 8 octets as a bigint (a route
--                   distinguisher's type in the top two octets); 0 for own sessions
--   post_policy     the routes are the router's post-policy Adj-RIB-In (L flag)
-- The other columns are the monitored session's (address, AS and BGP identifier of the peer,
-- local address and AS of the router's end, both OPENs from the Peer Up). Existing rows become
-- the collector's own sessions. Adding columns with constant defaults rewrites nothing.
ALTER TABLE bgp.peers
  ADD COLUMN router text NOT NULL DEFAULT '',
  ADD COLUMN router_address inet,
  ADD COLUMN bmp_peer_type smallint NOT NULL DEFAULT 0 CHECK (bmp_peer_type BETWEEN 0 AND 255),
  ADD COLUMN distinguisher bigint NOT NULL DEFAULT 0,
  ADD COLUMN post_policy boolean NOT NULL DEFAULT false,
  -- An own session has no BMP fields: no own session hides among a router's peers.
  ADD CONSTRAINT peers_own_session_check CHECK (
    router <> '' OR (router_address IS NULL AND bmp_peer_type = 0 AND distinguisher = 0
                     AND NOT post_policy));

-- The key: the collector's own sessions keep theirs (router ''), a router's peers are told
-- apart by router, peer type, distinguisher and policy. It leads with (collector, router), so
-- it also finds one router's peers.
ALTER TABLE bgp.peers ADD CONSTRAINT peers_source_key
  UNIQUE (collector_id, router, bmp_peer_type, distinguisher, post_policy, address, asn);
ALTER TABLE bgp.peers DROP CONSTRAINT peers_collector_id_address_asn_key;

-- The peers with their collector and source, readable.
CREATE VIEW bgp.peers_view AS
SELECT c.name AS collector, p.peer_id, p.router, p.router_address, p.bmp_peer_type,
       p.distinguisher, p.post_policy, p.address, p.asn, p.name, p.bgp_id, p.local_address,
       p.local_as, p.local_bgp_id, p.first_seen, p.last_seen
FROM bgp.peers p
LEFT JOIN bgp.collectors c ON c.collector_id = p.collector_id;

-- The RIB and log views gain the router and the policy as their last columns ('' and false for
-- the collector's own sessions), so that the routes of one router's peers need no join.
CREATE OR REPLACE VIEW bgp.rib_view AS
SELECT c.name AS collector, r.peer_id, p.address AS peer_address, p.asn AS peer_as, r.prefix,
       r.path_id, r.since, r.updated, a.origin, a.as_path, a.as_path_text, a.as_path_length,
       a.origin_as, a.next_hop, a.next_hop_link_local, a.med, a.local_pref, a.communities,
       a.large_communities, a.extended_communities, a.atomic_aggregate, a.aggregator_as,
       a.aggregator_address, a.originator_id, a.cluster_list, a.otc, r.attr_id, p.router,
       p.post_policy
FROM bgp.rib r
LEFT JOIN bgp.peers p ON p.peer_id = r.peer_id
LEFT JOIN bgp.collectors c ON c.collector_id = p.collector_id
LEFT JOIN bgp.attr_sets a ON a.attr_id = r.attr_id;

CREATE OR REPLACE VIEW bgp.updates_view AS
SELECT u.time, u.ord, c.name AS collector, u.peer_id, p.address AS peer_address,
       p.asn AS peer_as, u.prefix, u.path_id,
       CASE WHEN u.attr_id IS NULL THEN 'withdraw' ELSE 'announce' END AS action,
       a.origin, a.as_path, a.as_path_text, a.as_path_length, a.origin_as, a.next_hop,
       a.next_hop_link_local, a.med, a.local_pref, a.communities, a.large_communities,
       a.extended_communities, a.atomic_aggregate, a.aggregator_as, a.aggregator_address,
       a.originator_id, a.cluster_list, a.otc, u.attr_id, u.cause::text AS cause, p.router,
       p.post_policy
FROM bgp.updates u
LEFT JOIN bgp.peers p ON p.peer_id = u.peer_id
LEFT JOIN bgp.collectors c ON c.collector_id = p.collector_id
LEFT JOIN bgp.attr_sets a ON a.attr_id = u.attr_id;
