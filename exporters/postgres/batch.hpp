// Batches of the PostgreSQL exporter: records turned into rows, sealed into a self-contained
// file (the spool), applied to the database in one transaction by the Writer.
//
// A batch holds, in binary COPY form, the update log rows, the final state of every (peer,
// prefix, path id) it touched (for the current RIB) and the attribute sets it introduced; in
// a small header, the peers it names (by batch-local number: database peer ids are assigned by
// the writer, which may run long after the batch was sealed while the database was away), the
// state events, the sessions that went down and a checkpoint request. The file (a framed file,
// exporters/api/framed_file.hpp: version 7 when a peer comes from a BMP router, else version 6;
// versions 1 to 5 still read) carries its sequence number and a CRC-32C per part, so a retry
// after a crash is recognised (writer_progress) and a damaged file is refused instead of
// half-applied.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codec/bgp/attributes.hpp"
#include "codec/bgp/update.hpp"
#include "exporters/api/record.hpp"
#include "exporters/postgres/copy.hpp"

namespace bgpscribe::exporters::postgres {

// A peer as a batch names it: bgp.peers columns (a down session's OPEN-less transitions use
// the address alone: asn 0 = the latest peer of the same source with that address, see
// Writer). A peer a BMP router reports names its router (schema version 7); the collector's
// own sessions leave the five BMP fields empty.
struct BatchPeer {
  codec::bgp::IpAddress address{};
  std::uint32_t asn = 0;
  std::string router;  // empty: the collector's own session
  codec::bgp::IpAddress router_address{};
  std::uint8_t bmp_peer_type = 0;
  std::uint64_t distinguisher = 0;
  bool post_policy = false;
  std::string name;
  std::uint32_t bgp_id = 0;
  codec::bgp::IpAddress local_address{};
  std::uint32_t local_as = 0;
  std::uint32_t local_bgp_id = 0;
  std::int64_t first_us = 0;
  std::int64_t last_us = 0;
  bool has_session = false;  // the OPENs and capabilities below are set (PeerUp seen)
  std::vector<std::string> capabilities_sent;
  std::vector<std::string> capabilities_received;
  std::vector<std::uint8_t> open_sent;
  std::vector<std::uint8_t> open_received;

  [[nodiscard]] bool from_bmp() const { return !router.empty(); }
  // Whether `other` comes from the same source (the collector itself, or the same router's
  // peer type, distinguisher and policy): the part of the key beside address and AS.
  [[nodiscard]] bool same_source(const BatchPeer& other) const {
    return router == other.router && bmp_peer_type == other.bmp_peer_type &&
           distinguisher == other.distinguisher && post_policy == other.post_policy;
  }
};

struct BatchEvent {
  std::int64_t time_us = 0;
  std::uint32_t peer = 0;  // batch-local
  std::string old_state;
  std::string new_state;
  std::string reason;
  bool has_notification = false;
  std::uint8_t code = 0;
  std::uint8_t subcode = 0;
  std::string notification_text;
  std::vector<std::uint8_t> notification_data;
  std::string sent_by;  // "local" or "peer" (with a notification)
};

// A session that left Established: every route of the peer is withdrawn at `time_us`, but
// those of the address families in `stale_afis` (bit 0 IPv4, bit 1 IPv6), which a graceful
// restart keeps, stale. Or, with `stale_end`, the end of such a restart for the families in
// `stale_afis`: the routes still stale (announced last at `stale_since_us` or before, the
// session's end) are withdrawn at `time_us`.
struct BatchDown {
  std::int64_t time_us = 0;
  std::uint32_t peer = 0;
  std::int32_t ord = 0;
  bool stale_end = false;
  std::uint8_t stale_afis = 0;
  std::int64_t stale_since_us = 0;
};
inline constexpr std::uint8_t kStaleIpv4 = 1;
inline constexpr std::uint8_t kStaleIpv6 = 2;

// The most parts a batch may be applied in (WriterOptions::connections at most this).
inline constexpr std::uint32_t kMaxParts = 16;
// The hash partitions of bgp.rib and of each day of the log (schema version 4).
inline constexpr std::uint32_t kHashPartitions = 4;

// The parts a batch is sealed in for a writer with `connections` connections: one per hash
// partition when there are at most as many connections, so that a free connection can take the
// next part whichever connection was slower (the parts of one number still go in order), and
// each part's rows land in partitions of their own; one part for one connection.
constexpr std::uint32_t parts_for(int connections) {
  if (connections <= 1) {
    return 1;
  }
  return std::max(static_cast<std::uint32_t>(connections), kHashPartitions);
}

// How a batch's rows are split into parts by prefix. Files written by this version use
// PostgreSQL's own hash partitioning (the parts then match the partitions of bgp.rib and of the
// log, schema version 4); version 2 files keep the XXH3 split they were first applied with.
enum class PartSplit : std::uint8_t { PartitionHash, Xxh3 };

// A sealed batch, as read back from its file. The COPY data is mutable: the writer replaces
// batch-local peer numbers with database ids in place.
struct Batch {
  std::uint64_t sequence = 0;
  std::int64_t first_us = 0;
  std::int64_t last_us = 0;
  std::int64_t checkpoint_us = 0;  // 0: none
  // The collector (re)started at this time: every session of the previous run is gone, so
  // every route still in bgp.rib for this collector is withdrawn (0: not a start batch).
  std::int64_t restart_us = 0;
  // The journal number of the last record in the batch (Record::seq; 0: none, or a file of a
  // version before 4).
  std::uint64_t last_seq = 0;
  // Parts the rows are applied in, each on a connection of its own (split by prefix, see
  // Writer); fixed when the batch is sealed so that a retry after a crash splits it the same way.
  std::uint32_t parts = 1;
  PartSplit split = PartSplit::PartitionHash;  // the file's version says which
  std::vector<BatchPeer> peers;
  std::vector<BatchEvent> events;
  std::vector<BatchDown> downs;
  std::vector<std::uint8_t> attrs;    // bgp.attr_sets rows (kAttrColumns)
  std::vector<std::uint8_t> updates;  // bgp.updates rows: time, peer, ord, prefix, path_id, attr
  std::vector<std::uint8_t> rib;      // rib stage rows: peer, prefix, path_id, attr, since,
                                      // updated, fresh
  std::uint64_t update_rows = 0;
  std::uint64_t rib_rows = 0;
  std::uint64_t attr_rows = 0;

  // The file form (version 7 when a peer comes from a BMP router, else version 6); parse()
  // reads it and versions 1 to 5 back (nullopt and `error` set when it is damaged, or of a
  // newer version).
  [[nodiscard]] std::vector<std::uint8_t> serialize() const;
  static std::optional<Batch> parse(std::span<const std::uint8_t> file, std::string& error);
  // last_seq from the first kHeaderBytes of a file (0 when it is of a version before 4, or
  // shorter, or its head's CRC fails).
  static constexpr std::size_t kHeaderBytes = 16 + 8 + 77;
  static std::uint64_t last_seq_of(std::span<const std::uint8_t> header);
};

struct BuilderStats {
  std::uint64_t messages = 0;
  std::uint64_t announced = 0;
  std::uint64_t withdrawn = 0;
  std::uint64_t treat_as_withdraw = 0;  // UPDATEs whose routes RFC 7606 turns into withdrawals
  std::uint64_t unparsable = 0;         // UPDATEs the codec could not decode (no rows)
  std::uint64_t attr_sets = 0;          // new attribute sets put into batches
};

// Turns records into the rows of the current batch.
class BatchBuilder {
 public:
  // `known_attr_limit`: how many attribute set ids to remember as already sent (then the memory
  // is cleared and sets are sent again; the database ignores the duplicates).
  explicit BatchBuilder(std::size_t known_attr_limit = 4'000'000);

  // Adds a record. Returns true when the batch must be sealed now (a session went down, or a
  // RIB snapshot asks for a checkpoint): later records must not share its transaction.
  bool add(const Record& record);

  [[nodiscard]] bool empty() const;
  [[nodiscard]] std::size_t rows() const { return update_rows_.rows() + events_.size(); }
  [[nodiscard]] std::int64_t first_us() const { return first_us_; }
  // The journal number of the last record added (Record::seq), sealed or not.
  [[nodiscard]] std::uint64_t last_seq() const { return last_seq_; }
  [[nodiscard]] const BuilderStats& stats() const { return stats_; }
  // Whether the last record left a session's down transition waiting for its PeerDown record
  // (the batch must not be sealed in between).
  [[nodiscard]] bool pending() const { return !pending_down_.empty(); }

  // Marks the current batch as the collector's start (Batch::restart_us).
  void restart(std::int64_t now_us) { restart_us_ = now_us; }
  // Moves the rows into a Batch numbered `sequence` and starts a new one.
  Batch seal(std::uint64_t sequence);
  // Forgets the attribute sets sent so far (after a batch was lost, e.g. refused as damaged).
  void forget_attribute_sets() { known_attrs_.clear(); }

 private:
  struct RibKey {
    std::uint32_t peer;
    std::uint32_t path_id;
    codec::bgp::Prefix prefix;
    template <typename H>
    friend H AbslHashValue(H h, const RibKey& k) {
      return H::combine(std::move(h), k.peer, k.path_id, k.prefix.address.bytes,
                        k.prefix.address.family, k.prefix.length);
    }
    friend bool operator==(const RibKey&, const RibKey&) = default;
  };
  struct RibState {
    std::int64_t attr_id = 0;
    bool announced = false;
    bool fresh = false;  // a withdrawal came first in this batch: `since` is not inherited
    std::int64_t since = 0;
    std::int64_t updated = 0;
  };
  // Where a log row sits in update_rows_, and its sort key (family, address, length).
  // A prefix as three integers ordered like (family, address octets, length): sorting rows by
  // it is integer compares instead of memcmp calls.
  struct PrefixKey {
    std::uint64_t high = 0;  // family, octets 0-6
    std::uint64_t low = 0;   // octets 7-14
    std::uint32_t tail = 0;  // octet 15, length
    static PrefixKey of(const codec::bgp::Prefix& p);
    friend auto operator<=>(const PrefixKey&, const PrefixKey&) = default;
  };
  struct RowRef {
    PrefixKey key;
    std::uint32_t offset;
    std::uint32_t size;
  };
  // bgp.peers' key within a collector: the source (own session, or a BMP router's peer type,
  // distinguisher and policy), the address and the AS.
  struct PeerKey {
    std::string router;
    std::uint8_t bmp_peer_type = 0;
    std::uint64_t distinguisher = 0;
    bool post_policy = false;
    codec::bgp::IpAddress address;
    std::uint32_t asn = 0;
    template <typename H>
    friend H AbslHashValue(H h, const PeerKey& k) {
      return H::combine(std::move(h), k.router, k.bmp_peer_type, k.distinguisher, k.post_policy,
                        k.address.bytes, k.address.family, k.asn);
    }
    friend bool operator==(const PeerKey&, const PeerKey&) = default;
  };
  struct PeerOrder {
    std::int64_t last_us = -1;
    std::int32_t ord = 0;
  };

  std::uint32_t peer_index(const Record& r);
  void on_message(const Record& r, std::uint32_t peer);
  void route(std::uint32_t peer, const codec::bgp::Nlri& n, std::int64_t time_us, std::int32_t ord,
             std::optional<std::int64_t> attr_id);
  std::int32_t next_ord(std::uint32_t collector_peer_id, std::int64_t time_us);

  std::size_t known_attr_limit_;
  absl::flat_hash_set<std::int64_t> known_attrs_;
  absl::flat_hash_map<std::uint32_t, PeerOrder> order_;  // by PeerInfo::id
  // The current batch.
  std::vector<BatchPeer> peers_;
  std::vector<PeerInfoPtr> peer_infos_;
  absl::flat_hash_map<const PeerInfo*, std::uint32_t> peer_of_;  // a cache of peer_by_key_
  absl::flat_hash_map<PeerKey, std::uint32_t> peer_by_key_;
  std::vector<BatchEvent> events_;
  std::vector<BatchDown> downs_;
  absl::flat_hash_map<RibKey, RibState> rib_;
  CopyWriter attr_rows_;
  CopyWriter update_rows_;
  CopyWriter rib_rows_;  // only while sealing; a member so that its room is kept
  std::vector<RowRef> row_refs_;
  std::int64_t first_us_ = 0;
  std::int64_t last_us_ = 0;
  std::int64_t checkpoint_us_ = 0;
  std::int64_t restart_us_ = 0;
  std::uint64_t last_seq_ = 0;                                   // kept across seals
  absl::flat_hash_map<std::uint32_t, BatchEvent> pending_down_;  // by batch-local peer
  BuilderStats stats_;
  // Scratch.
  codec::bgp::Update update_;
  std::vector<std::uint8_t> canonical_;
};

}  // namespace bgpscribe::exporters::postgres
