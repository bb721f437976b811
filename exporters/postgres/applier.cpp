#include "exporters/postgres/applier.hpp"

#include <xxhash.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "codec/bgp/ip.hpp"
#include "codec/wire/reader.hpp"
#include "exporters/api/log.hpp"
#include "exporters/postgres/partition.hpp"
#include "exporters/postgres/rows.hpp"

namespace bgpscribe::exporters::postgres {

using exporters::logf;
using exporters::LogLevel;

namespace {

constexpr const char* kCopyUpdates =
    "COPY bgp.updates (time, peer_id, ord, prefix, path_id, attr_id) FROM STDIN (FORMAT binary)";

// A timestamptz expression for a Unix time in microseconds: exact, unlike to_timestamp(double).
std::string ts(std::int64_t unix_us) {
  return "(timestamptz 'epoch' + " + std::to_string(unix_us) + " * interval '1 microsecond')";
}

std::optional<std::string> nonzero_id(std::uint32_t id) {
  if (id == 0) {
    return std::nullopt;
  }
  return codec::bgp::IpAddress::v4(id).to_string();
}

// Rewrites the int4 field `field` of one tuple from a batch-local peer number to its id.
void map_peer(std::span<std::uint8_t> data,
              const std::vector<std::pair<std::size_t, std::int32_t>>& fields, std::size_t field,
              const std::vector<std::int32_t>& ids) {
  if (fields.size() <= field || fields[field].second != 4) {
    throw std::runtime_error("batch COPY data: tuple without a peer field");
  }
  const std::uint32_t local = codec::wire::load_u32(data, fields[field].first);
  if (local >= ids.size()) {
    throw std::runtime_error("batch COPY data names peer " + std::to_string(local));
  }
  const auto id = static_cast<std::uint32_t>(ids[local]);
  const auto p = data.subspan(fields[field].first, 4);
  p[0] = static_cast<std::uint8_t>(id >> 24);
  p[1] = static_cast<std::uint8_t>(id >> 16);
  p[2] = static_cast<std::uint8_t>(id >> 8);
  p[3] = static_cast<std::uint8_t>(id);
}

// The RIB rows of the batch without their last field (`fresh`): bgp.rib's own columns.
std::vector<std::uint8_t> rib_columns(std::span<std::uint8_t> stage) {
  std::vector<std::uint8_t> out;
  out.reserve(stage.size());
  CopyTuples tuples(stage);
  std::vector<std::pair<std::size_t, std::int32_t>> fields;
  std::size_t header_end = 0;
  while (tuples.next(fields)) {
    if (fields.size() != 7) {
      throw std::runtime_error("batch RIB rows: expected 7 fields");
    }
    if (out.empty()) {
      header_end = fields[0].first - 6;  // the tuple's field count and first length
      out.assign(stage.begin(), stage.begin() + static_cast<std::ptrdiff_t>(header_end));
    }
    out.push_back(0);
    out.push_back(6);
    const std::size_t from = fields[0].first - 4;
    const std::size_t to = fields[6].first - 4;  // the length word of `fresh`
    out.insert(out.end(), stage.begin() + static_cast<std::ptrdiff_t>(from),
               stage.begin() + static_cast<std::ptrdiff_t>(to));
  }
  out.push_back(0xFF);
  out.push_back(0xFF);
  return out;
}

// The part (0 to parts - 1) of a row whose prefix field holds `value` (a binary cidr): a hash,
// so that a prefix falls into the same part in every batch and in every run. PostgreSQL's own
// partition hash, so that with 1, 2 or 4 parts each part's rows land in hash partitions of
// bgp.rib and of the log that no other part touches (schema version 4); version 2 batch files
// keep the XXH3 split they were written with.
std::uint32_t part_of(std::span<const std::uint8_t> value, std::uint32_t parts, PartSplit split) {
  if (split == PartSplit::Xxh3) {
    return static_cast<std::uint32_t>(XXH3_64bits(value.data(), value.size()) % parts);
  }
  const std::optional<std::uint64_t> h = cidr_partition_hash(value);
  if (!h) {
    throw std::runtime_error("batch COPY data: a prefix that is not an IPv4 or IPv6 cidr");
  }
  return static_cast<std::uint32_t>(*h % parts);
}

}  // namespace

// map_peer for every tuple.
void map_peers(std::vector<std::uint8_t>& data, std::size_t field,
               const std::vector<std::int32_t>& ids) {
  if (data.empty()) {
    return;
  }
  CopyTuples tuples(data);
  std::vector<std::pair<std::size_t, std::int32_t>> fields;
  while (tuples.next(fields)) {
    map_peer(data, fields, field, ids);
  }
  if (!tuples.ok()) {
    throw std::runtime_error("batch COPY data is malformed");
  }
}

// Splits binary COPY data into `parts` COPY streams by the prefix in field `prefix_field`
// (row order kept within each; a part without rows is empty), with the batch-local peer
// numbers of field `peer_field` replaced by database ids on the way (as map_peers does).
std::vector<std::vector<std::uint8_t>> split_rows(std::span<std::uint8_t> data,
                                                  std::size_t peer_field,
                                                  const std::vector<std::int32_t>& ids,
                                                  std::size_t prefix_field, std::uint32_t parts,
                                                  PartSplit split) {
  std::vector<std::vector<std::uint8_t>> out(parts);
  if (data.empty()) {
    return out;
  }
  CopyTuples tuples(data);
  std::vector<std::pair<std::size_t, std::int32_t>> fields;
  std::span<const std::uint8_t> header;
  while (tuples.next(fields)) {
    if (fields.size() <= prefix_field || fields[prefix_field].second < 0) {
      throw std::runtime_error("batch COPY data: tuple without a prefix");
    }
    map_peer(data, fields, peer_field, ids);
    const std::size_t begin = fields[0].first - 6;  // the field count and the first length
    const auto& last = fields.back();
    const std::size_t end = last.first + static_cast<std::size_t>(std::max(last.second, 0));
    if (header.empty()) {
      header = data.first(begin);
    }
    auto& o = out[part_of(data.subspan(fields[prefix_field].first,
                                       static_cast<std::size_t>(fields[prefix_field].second)),
                          parts, split)];
    if (o.empty()) {
      o.reserve(data.size() / parts + data.size() / 16);
      o.assign(header.begin(), header.end());
    }
    o.insert(o.end(), data.begin() + static_cast<std::ptrdiff_t>(begin),
             data.begin() + static_cast<std::ptrdiff_t>(end));
  }
  if (!tuples.ok()) {
    throw std::runtime_error("batch COPY data is malformed");
  }
  for (auto& o : out) {
    if (!o.empty()) {
      o.push_back(0xFF);
      o.push_back(0xFF);
    }
  }
  return out;
}

Applier::Applier(std::string collector_name, std::uint32_t stream, std::int64_t retention_s)
    : collector_name_(std::move(collector_name)), stream_(stream), retention_s_(retention_s) {}

void Applier::prepare(PgConnection& db) {
  db.exec(
      "CREATE TEMP TABLE attr_stage (LIKE bgp.attr_sets INCLUDING DEFAULTS) "
      "ON COMMIT DELETE ROWS");
  db.exec(
      "CREATE TEMP TABLE rib_stage (peer_id integer, prefix cidr, path_id bigint, "
      "attr_id bigint, since timestamptz, updated timestamptz, fresh boolean) "
      "ON COMMIT DELETE ROWS");
}

void Applier::start(PgConnection& control) {
  const auto r = control.exec(
      "INSERT INTO bgp.collectors (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET "
      "last_seen = now() RETURNING collector_id",
      PgParams().text(collector_name_));
  collector_id_ = static_cast<std::int32_t>(r.integer(0, 0));
  covered_from_us_ = covered_to_us_ = 0;
  retention_due_ = {};
}

void Applier::apply_retention(PgConnection& db) {
  if (retention_s_ <= 0 || std::chrono::steady_clock::now() < retention_due_) {
    return;
  }
  retention_due_ = std::chrono::steady_clock::now() + std::chrono::hours(1);
  db.exec("UPDATE bgp.settings SET retention = " + std::to_string(retention_s_) +
          " * interval '1 second'");
  const auto r = db.exec("SELECT bgp.apply_retention()");
  if (r.rows() > 0) {
    logf(LogLevel::Info, "postgres", "retention dropped %d partitions", r.rows());
  }
}

bool Applier::partitions_covered(std::int64_t first_us, std::int64_t last_us) const {
  return first_us >= covered_from_us_ && last_us < covered_to_us_;
}

void Applier::ensure_partitions(PgConnection& db, std::int64_t first_us, std::int64_t last_us) {
  if (partitions_covered(first_us, last_us)) {
    return;
  }
  // In a transaction of its own: creating a partition locks the parent until commit.
  db.exec("SELECT bgp.ensure_partitions(" + ts(first_us) + ", " + ts(last_us) + ")");
  const auto r = db.exec(
      "SELECT (extract(epoch FROM a.lower) * 1000000)::bigint, "
      "(extract(epoch FROM b.upper) * 1000000)::bigint FROM bgp.partition_bounds(" +
      ts(first_us) + ") a, bgp.partition_bounds(" + ts(last_us) + ") b");
  covered_from_us_ = r.integer(0, 0);
  covered_to_us_ = r.integer(0, 1);
}

std::vector<std::int32_t> Applier::upsert_peers(PgConnection& db, const Batch& batch) {
  if (batch.peers.empty()) {
    return {};
  }
  db.exec("BEGIN");
  db.exec("SET LOCAL synchronous_commit = off");
  std::vector<std::int32_t> ids;
  for (const auto& p : batch.peers) {
    const std::string address = p.address.to_string();
    // The source, beside address and AS, in bgp.peers' key (schema version 7): $1 to $5 of
    // every statement below, the collector's own sessions with '', 0, 0 and false.
    const auto source = [&] {
      PgParams params;
      params.integer(collector_id_)
          .text(p.router)
          .integer(p.bmp_peer_type)
          .integer(static_cast<std::int64_t>(p.distinguisher))  // the 8 octets, as bigint
          .text(p.post_policy ? "true" : "false");
      return params;
    };
    if (p.asn == 0) {
      // A transition before the OPEN told the AS: the latest peer of this source with this
      // address.
      const auto r = db.exec(
          "SELECT peer_id FROM bgp.peers WHERE collector_id = $1 AND router = $2 AND "
          "bmp_peer_type = $3 AND distinguisher = $4 AND post_policy = $5 AND address = $6 "
          "ORDER BY last_seen DESC LIMIT 1",
          source().text(address));
      if (r.rows() > 0) {
        ids.push_back(static_cast<std::int32_t>(r.integer(0, 0)));
        continue;
      }
    }
    PgParams params = source();
    if (p.router_address.is_unspecified()) {
      params.null();
    } else {
      params.text(p.router_address.to_string());
    }
    params.text(address).integer(p.asn).text(p.name);
    if (auto id = nonzero_id(p.bgp_id)) {
      params.text(*id);
    } else {
      params.null();
    }
    if (p.local_address.is_unspecified()) {
      params.null();
    } else {
      params.text(p.local_address.to_string());
    }
    params.integer(p.local_as);
    if (auto id = nonzero_id(p.local_bgp_id)) {
      params.text(*id);
    } else {
      params.null();
    }
    params.text_array(p.has_session ? std::optional(p.capabilities_sent) : std::nullopt);
    params.text_array(p.has_session ? std::optional(p.capabilities_received) : std::nullopt);
    if (p.has_session) {
      params.bytes(p.open_sent).bytes(p.open_received);
    } else {
      params.null().null();
    }
    params.integer(p.first_us).integer(p.last_us);
    const auto r = db.exec(
        "INSERT INTO bgp.peers AS p (collector_id, router, bmp_peer_type, distinguisher, "
        "post_policy, router_address, address, asn, name, bgp_id, local_address, local_as, "
        "local_bgp_id, capabilities_sent, capabilities_received, open_sent, open_received, "
        "first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
        "$14, $15, $16, $17, timestamptz 'epoch' + $18 * interval '1 microsecond', "
        "timestamptz 'epoch' + $19 * interval '1 microsecond') "
        "ON CONFLICT (collector_id, router, bmp_peer_type, distinguisher, post_policy, address, "
        "asn) DO UPDATE SET name = EXCLUDED.name, "
        "router_address = coalesce(EXCLUDED.router_address, p.router_address), "
        "bgp_id = coalesce(EXCLUDED.bgp_id, p.bgp_id), "
        "local_address = coalesce(EXCLUDED.local_address, p.local_address), "
        "local_as = EXCLUDED.local_as, "
        "local_bgp_id = coalesce(EXCLUDED.local_bgp_id, p.local_bgp_id), "
        "capabilities_sent = coalesce(EXCLUDED.capabilities_sent, p.capabilities_sent), "
        "capabilities_received = coalesce(EXCLUDED.capabilities_received, "
        "p.capabilities_received), open_sent = coalesce(EXCLUDED.open_sent, p.open_sent), "
        "open_received = coalesce(EXCLUDED.open_received, p.open_received), "
        "first_seen = least(p.first_seen, EXCLUDED.first_seen), "
        "last_seen = greatest(p.last_seen, EXCLUDED.last_seen) RETURNING peer_id, xmax = 0",
        params);
    const auto id = static_cast<std::int32_t>(r.integer(0, 0));
    if (p.asn != 0 && r.get(0, 1) == "t") {
      // The first row of a peer with its AS: a dynamic peer's transitions before its OPEN (in
      // an earlier batch, when the OPEN came late) were written under AS 0 (of the same
      // source); they are this peer's, so they move here and the AS 0 row goes (it never
      // holds routes).
      const auto moved = source().text(address).integer(id);
      const std::string same_peer =
          "p.collector_id = $1 AND p.router = $2 AND p.bmp_peer_type = $3 AND "
          "p.distinguisher = $4 AND p.post_policy = $5 AND p.address = $6 AND p.asn = 0";
      const std::string move_events =
          "UPDATE bgp.peer_events e SET peer_id = $7 FROM bgp.peers p WHERE p.peer_id = "
          "e.peer_id AND " +
          same_peer;
      const std::string drop_peer = "DELETE FROM bgp.peers p WHERE " + same_peer +
                                    " AND NOT EXISTS (SELECT 1 FROM bgp.peer_events e WHERE "
                                    "e.peer_id = p.peer_id) AND $7 <> p.peer_id";
      db.exec(move_events, moved);
      db.exec(drop_peer, moved);
    }
    ids.push_back(id);
  }
  db.exec("COMMIT");
  return ids;
}

void Applier::upsert_attrs(PgConnection& db, const Batch& batch) {
  if (batch.attrs.empty()) {
    return;
  }
  db.exec("BEGIN");
  db.exec("SET LOCAL synchronous_commit = off");
  insert_attrs(db, batch);
  db.exec("COMMIT");
}

bool Applier::apply_whole(ApplyConnection& c, Batch& batch, std::uint32_t parts,
                          const std::vector<std::int32_t>& ids) {
  map_peers(batch.updates, 1, ids);
  map_peers(batch.rib, 0, ids);
  if (!begin(c.db, 0, parts - 1, batch.sequence)) {
    return false;
  }
  insert_attrs(c.db, batch);
  if (!batch.updates.empty()) {
    c.db.copy_in(kCopyUpdates, batch.updates);
  }
  if (!batch.rib.empty()) {
    apply_rib(c, batch.rib);
  }
  insert_events(c.db, batch, ids);
  apply_session_ends(c.db, batch, ids);
  commit(c.db, 0, parts - 1, batch.sequence);
  return true;
}

bool Applier::apply_part(ApplyConnection& c, const Batch& batch,
                         const std::vector<std::int32_t>& ids, std::uint32_t part,
                         std::span<const std::uint8_t> updates, std::span<std::uint8_t> rib) {
  if (!begin(c.db, part, part, batch.sequence)) {
    return false;
  }
  if (!updates.empty()) {
    c.db.copy_in(kCopyUpdates, updates);
  }
  if (!rib.empty()) {
    apply_rib(c, rib);
  }
  if (part == 0) {
    insert_events(c.db, batch, ids);
  }
  commit(c.db, part, part, batch.sequence);
  return true;
}

void Applier::apply_rib(ApplyConnection& c, std::span<std::uint8_t> rib) {
  // The current RIB follows the log in the same transaction: the batch's final state per
  // (peer, prefix, path id) replaces what was there, with set-based statements (no triggers).
  //
  // A table load (a session coming up, the collector starting) brings keys bgp.rib does not
  // have: then the rows go in by a direct COPY, as fast as loading the table by hand. When a
  // key exists (the COPY fails on the primary key), the savepoint undoes it and the rows take
  // the general path; the direct COPY then pauses for a while, since under churn it mostly
  // fails.
  PgConnection& db = c.db;
  bool withdrawals = false;
  {
    CopyTuples tuples(rib);
    std::vector<std::pair<std::size_t, std::int32_t>> fields;
    while (!withdrawals && tuples.next(fields)) {
      withdrawals = fields.size() > 3 && fields[3].second < 0;
    }
  }
  if (!withdrawals && c.direct_rib_pause == 0) {
    db.exec("SAVEPOINT direct_rib");
    try {
      db.copy_in(
          "COPY bgp.rib (peer_id, prefix, path_id, attr_id, since, updated) FROM STDIN "
          "(FORMAT binary)",
          rib_columns(rib));
      db.exec("RELEASE SAVEPOINT direct_rib");
      return;
    } catch (const PgError& e) {
      if (e.connection_lost() || e.sqlstate() != "23505") {  // unique_violation
        throw;
      }
      db.exec("ROLLBACK TO SAVEPOINT direct_rib");
      c.direct_rib_pause = 50;
    }
  } else if (c.direct_rib_pause > 0) {
    --c.direct_rib_pause;
  }
  db.copy_in(
      "COPY rib_stage (peer_id, prefix, path_id, attr_id, since, updated, fresh) FROM STDIN "
      "(FORMAT binary)",
      rib);
  db.exec(
      "DELETE FROM bgp.rib r USING rib_stage s WHERE s.attr_id IS NULL AND "
      "r.peer_id = s.peer_id AND r.prefix = s.prefix AND r.path_id = s.path_id");
  // `since` stays when the attributes did not change (fresh: they changed inside the batch,
  // so the batch's own `since` holds).
  db.exec(
      "INSERT INTO bgp.rib AS t (peer_id, prefix, path_id, attr_id, since, updated) "
      "SELECT peer_id, prefix, path_id, attr_id, since, updated FROM rib_stage "
      "WHERE attr_id IS NOT NULL AND NOT fresh "
      "ON CONFLICT (peer_id, prefix, path_id) DO UPDATE SET attr_id = EXCLUDED.attr_id, "
      "since = CASE WHEN t.attr_id = EXCLUDED.attr_id THEN t.since ELSE EXCLUDED.since END, "
      "updated = EXCLUDED.updated");
  db.exec(
      "INSERT INTO bgp.rib AS t (peer_id, prefix, path_id, attr_id, since, updated) "
      "SELECT peer_id, prefix, path_id, attr_id, since, updated FROM rib_stage "
      "WHERE attr_id IS NOT NULL AND fresh "
      "ON CONFLICT (peer_id, prefix, path_id) DO UPDATE SET attr_id = EXCLUDED.attr_id, "
      "since = EXCLUDED.since, updated = EXCLUDED.updated");
}

std::vector<std::uint64_t> Applier::progress(PgConnection& db, std::uint32_t parts) {
  std::vector<std::uint64_t> last(parts, 0);
  const auto r = db.exec(
      "SELECT part, last_batch FROM bgp.writer_progress WHERE collector_id = $1 AND stream = $2",
      PgParams().integer(collector_id_).integer(stream_));
  for (int i = 0; i < r.rows(); ++i) {
    const auto part = static_cast<std::uint64_t>(r.integer(i, 0));
    if (part < parts) {
      last[part] = static_cast<std::uint64_t>(r.integer(i, 1));
    }
  }
  return last;
}

bool Applier::begin(PgConnection& db, std::uint32_t first_part, std::uint32_t last_part,
                    std::uint64_t sequence) {
  db.exec("BEGIN");
  const auto params =
      PgParams().integer(collector_id_).integer(stream_).integer(first_part).integer(last_part);
  db.exec(
      "INSERT INTO bgp.writer_progress (collector_id, stream, part, last_batch) SELECT $1, $2, "
      "p, 0 FROM generate_series($3::integer, $4::integer) p ON CONFLICT DO NOTHING",
      params);
  // The row lock also keeps a second writer of the same stream (an old process still
  // draining) from applying the same part at the same time.
  const auto r = db.exec(
      "SELECT last_batch FROM bgp.writer_progress WHERE collector_id = $1 AND stream = $2 AND "
      "part BETWEEN $3 AND $4 ORDER BY part FOR UPDATE",
      params);
  for (int i = 0; i < r.rows(); ++i) {
    if (static_cast<std::uint64_t>(r.integer(i, 0)) >= sequence) {
      db.exec("ROLLBACK");
      return false;
    }
  }
  return true;
}

void Applier::commit(PgConnection& db, std::uint32_t first_part, std::uint32_t last_part,
                     std::uint64_t sequence) {
  db.exec(
      "UPDATE bgp.writer_progress SET last_batch = $5, updated = now() WHERE collector_id = $1 "
      "AND stream = $2 AND part BETWEEN $3 AND $4",
      PgParams()
          .integer(collector_id_)
          .integer(stream_)
          .integer(first_part)
          .integer(last_part)
          .integer(static_cast<std::int64_t>(sequence)));
  db.exec("COMMIT");
}

void Applier::insert_attrs(PgConnection& db, const Batch& batch) {
  if (batch.attrs.empty()) {
    return;
  }
  db.copy_in(std::string("COPY attr_stage (") + kAttrColumns + ") FROM STDIN (FORMAT binary)",
             batch.attrs);
  db.exec("INSERT INTO bgp.attr_sets SELECT * FROM attr_stage ON CONFLICT (attr_id) DO NOTHING");
}

void Applier::insert_events(PgConnection& db, const Batch& batch,
                            const std::vector<std::int32_t>& ids) {
  for (const auto& e : batch.events) {
    PgParams p;
    p.integer(e.time_us).integer(ids[e.peer]).text(e.old_state).text(e.new_state);
    if (e.reason.empty()) {
      p.null();
    } else {
      p.text(e.reason);
    }
    if (e.has_notification) {
      p.integer(e.code)
          .integer(e.subcode)
          .text(e.notification_text)
          .bytes(e.notification_data)
          .text(e.sent_by);
    } else {
      p.null().null().null().null().null();
    }
    db.exec(
        "INSERT INTO bgp.peer_events (time, peer_id, old_state, new_state, reason, "
        "notification_code, notification_subcode, notification_text, notification_data, "
        "sent_by) VALUES (timestamptz 'epoch' + $1 * interval '1 microsecond', $2, $3, $4, $5, "
        "$6, $7, $8, $9, $10)",
        p);
  }
}

void Applier::apply_session_ends(PgConnection& db, const Batch& batch,
                                 const std::vector<std::int32_t>& ids) {
  if (batch.restart_us != 0) {
    // Sessions of the previous run that did not end cleanly (kill -9, power loss) are still in
    // the state their last event left them, routes or not: they went down when that run did,
    // which is known no later than now.
    const auto params = PgParams().integer(collector_id_);
    db.exec("INSERT INTO bgp.peer_events (time, peer_id, old_state, new_state, reason) SELECT " +
                ts(batch.restart_us) +
                ", p.peer_id, e.new_state, 'Idle', 'collector restarted' FROM bgp.peers p "
                "CROSS JOIN LATERAL (SELECT x.new_state FROM bgp.peer_events x WHERE "
                "x.peer_id = p.peer_id ORDER BY x.time DESC LIMIT 1) e WHERE "
                "p.collector_id = $1 AND e.new_state <> 'Idle'",
            params);
    db.exec(
        "INSERT INTO bgp.updates (time, peer_id, ord, prefix, path_id, attr_id, cause) SELECT " +
            ts(batch.restart_us) +
            ", r.peer_id, 0, r.prefix, r.path_id, NULL, 'collector_restart' FROM bgp.rib r JOIN "
            "bgp.peers p USING (peer_id) WHERE p.collector_id = $1",
        params);
    db.exec(
        "DELETE FROM bgp.rib r USING bgp.peers p WHERE p.peer_id = r.peer_id AND "
        "p.collector_id = $1",
        params);
  }
  for (const auto& d : batch.downs) {
    // A session that went down withdraws its routes (but those a graceful restart keeps,
    // stale); the end of the restart withdraws those still stale (not announced again since
    // the session went down). Logged, then gone from the RIB.
    const auto params = PgParams().integer(ids[d.peer]);
    std::string afis;
    for (const auto& [bit, family] : {std::pair{kStaleIpv4, "4"}, std::pair{kStaleIpv6, "6"}}) {
      if ((d.stale_afis & bit) != 0) {
        afis += std::string(afis.empty() ? "" : ", ") + family;
      }
    }
    std::string where = "peer_id = $1";
    if (d.stale_end) {
      where += " AND family(prefix) IN (" + afis + ") AND updated <= " + ts(d.stale_since_us);
    } else if (!afis.empty()) {
      where += " AND family(prefix) NOT IN (" + afis + ")";
    }
    db.exec(
        "INSERT INTO bgp.updates (time, peer_id, ord, prefix, path_id, attr_id, cause) SELECT " +
            ts(d.time_us) + ", peer_id, " + std::to_string(d.ord) + ", prefix, path_id, NULL, " +
            (d.stale_end ? "'graceful_restart'" : "'session_down'") + " FROM bgp.rib WHERE " +
            where,
        params);
    db.exec("DELETE FROM bgp.rib WHERE " + where, params);
  }
  if (batch.checkpoint_us != 0) {
    const auto params = PgParams().integer(collector_id_);
    const auto r = db.exec(
        "INSERT INTO bgp.checkpoint_routes (time, peer_id, prefix, path_id, attr_id, since) "
        "SELECT " +
            ts(batch.checkpoint_us) +
            ", r.peer_id, r.prefix, r.path_id, r.attr_id, r.since FROM bgp.rib r "
            "JOIN bgp.peers p USING (peer_id) WHERE p.collector_id = $1",
        params);
    db.exec("INSERT INTO bgp.checkpoints (collector_id, time, routes) VALUES ($1, " +
                ts(batch.checkpoint_us) + ", " + std::to_string(r.affected()) +
                ") ON CONFLICT DO NOTHING",
            params);
  }
}

}  // namespace bgpscribe::exporters::postgres
