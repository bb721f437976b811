// `bgpscribe dump --json`: one JSON object per line per route or event, schema in
// docs/dump.md ("JSON lines").
//
// Unlike the bgpdump text format this decodes through the codec's RFC view: AS4_PATH merged per
// RFC 6793, RFC 7606 diagnostics reported, every family (RIB_GENERIC included), extended and
// large communities, unknown attributes as hex. No I/O here: lines are appended to a string.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/bgp/attributes.hpp"
#include "codec/bgp/parse_context.hpp"
#include "codec/bgp/text.hpp"
#include "codec/mrt/check.hpp"
#include "codec/mrt/record.hpp"
#include "codec/mrt/table_dump.hpp"

namespace bgpscribe::tools {

class JsonFormatter {
 public:
  JsonFormatter() = default;

  // Appends the lines for one record. Fails when mrt::check_record finds the record malformed
  // (nothing appended); check() tells the rest of that decision.
  codec::Status format(const codec::mrt::Record& record, std::string& out);
  // Where the next record starts in the (uncompressed) stream: `error.offset` members count
  // from the start of the file.
  void set_record_offset(std::uint64_t offset) { record_offset_ = offset; }
  [[nodiscard]] const codec::mrt::RecordCheck& check() const { return check_; }
  // Starts from a PEER_INDEX_TABLE read elsewhere (a formatter that begins mid-file).
  void set_peer_table(std::shared_ptr<const codec::mrt::PeerIndexTable> table) {
    peers_ = std::move(table);
  }

 private:
  codec::Status table_dump(const codec::mrt::Record& record, std::string& out);
  codec::Status rib(const codec::mrt::Record& record, std::string& out);
  codec::Status bgp4mp(const codec::mrt::Record& record, std::string& out);
  codec::Status legacy_bgp(const codec::mrt::Record& record, std::string& out);
  // `message_at`: the record offset of the message's first octet (type 5 records store the
  // message without its 19-octet header, so there it is where the header would be).
  codec::Status message(std::span<const std::uint8_t> bgp_message, std::uint64_t message_at,
                        std::string& out);
  void attributes(const codec::bgp::PathAttributes& a, std::string& out);

  codec::mrt::RecordCheck check_;
  codec::bgp::Update update_;  // check_record's parse of an UPDATE record
  std::uint64_t record_offset_ = 0;
  std::shared_ptr<const codec::mrt::PeerIndexTable> peers_;
  std::string head_;  // the shared leading members of the record's lines
  std::string attrs_;
};

// One RIPE RIS Live `ris_message` (https://ris-live.ripe.net/manual/), written by one set of
// functions for `bgpscribe dump --format ris-live` (RisLiveFormatter, from MRT records) and for
// the RIS Live stream of `bgpscribe run` (collector/api/ris_live.hpp, from the live API's
// events), so that both write an UPDATE alike. Members in RIS Live's order (docs/dump.md).
struct RisHead {
  std::int64_t seconds = 0;
  std::uint32_t microseconds = 0;
  codec::bgp::IpAddress peer{};
  std::uint32_t peer_asn = 0;
  std::string_view id;
  std::string_view host;
  std::string_view type;  // UPDATE, RIS_PEER_STATE, OPEN, NOTIFICATION, KEEPALIVE
};

// What RIS Live shows of an UPDATE. Kept and reused by its writer: clear() keeps capacity.
struct RisUpdate {
  struct Segment {
    bool set = false;        // AS_SET or AS_CONFED_SET: a nested array
    std::uint32_t asns = 0;  // how many of `path_asns`
  };
  struct Announcement {
    codec::bgp::IpAddress next_hop{};
    std::optional<codec::bgp::IpAddress> link_local;
    std::uint32_t prefixes = 0;  // how many of `announced`
  };
  std::vector<Segment> path;
  std::vector<std::uint32_t> path_asns;
  std::vector<std::uint32_t> communities;  // RFC 1997 values
  std::optional<codec::bgp::Origin> origin;
  std::optional<std::uint32_t> med;
  std::optional<std::uint32_t> aggregator_asn;
  std::uint32_t aggregator_address = 0;  // host order
  std::vector<Announcement> announcements;
  std::vector<codec::bgp::Prefix> announced;
  std::vector<codec::bgp::Prefix> withdrawn;

  void clear();
  // The path, communities, origin, MED and aggregator of a decoded block (AS4_PATH and
  // AS4_AGGREGATOR merged on 2-octet sessions).
  void set_attributes(const codec::bgp::PathAttributes& a, bool four_octet_as);
};

// `{"type":"ris_message","data":{` and the head's members.
void open_ris_message(std::string& out, const RisHead& head);
// path, community, origin, med, aggregator, announcements, withdrawals.
void append_ris_update(std::string& out, const RisUpdate& update);
// Ends the message (a trailing comma of the last member dropped) and the line.
void close_ris_message(std::string& out);

// `bgpscribe dump --format ris-live`: RIPE RIS Live `ris_message` objects, one per line, so
// that scripts written for the RIS Live stream read archived files (mapping in docs/dump.md).
// One line per BGP message (UPDATE, OPEN, NOTIFICATION, KEEPALIVE), per peer going up or down
// (RIS_PEER_STATE) and per RIB entry (an UPDATE announcing the one prefix). Follows the same
// mrt::check_record decision as the other formats.
class RisLiveFormatter {
 public:
  codec::Status format(const codec::mrt::Record& record, std::string& out);
  void set_peer_table(std::shared_ptr<const codec::mrt::PeerIndexTable> table) {
    peers_ = std::move(table);
  }
  // The record index (for `id`) and the collector name (`host`) of the next record.
  void set_record(std::uint64_t index, std::string_view host) {
    index_ = index;
    host_ = host;
  }
  [[nodiscard]] const codec::mrt::RecordCheck& check() const { return check_; }

 private:
  void open_line(const codec::mrt::Header& header, const codec::bgp::IpAddress& peer,
                 std::uint32_t peer_as, const char* type, std::string& out);
  codec::Status message(std::span<const std::uint8_t> bgp_message, std::uint64_t message_at,
                        const codec::mrt::Header& header, const codec::bgp::IpAddress& peer,
                        std::uint32_t peer_as, bool sent, std::string& out);
  codec::Status rib_entries(const codec::mrt::Record& record, std::string& out);

  codec::mrt::RecordCheck check_;
  codec::bgp::Update update_;  // check_record's parse of an UPDATE record
  std::shared_ptr<const codec::mrt::PeerIndexTable> peers_;
  std::uint64_t index_ = 0;
  std::uint32_t line_ = 0;  // lines of the current record, for unique ids
  std::string host_;
  std::string id_;
  RisUpdate ris_;
};

// A JSON string with the escapes RFC 8259 requires (codec/bgp/text.hpp has the one writer).
using codec::bgp::append_json_string;

// The members every JSON line of ours is made of (dump --json, tail --json, rib --json), each
// followed by its comma: `"name":`, `"name":123,`, `"name":"text",`.
void json_key(std::string& out, const char* name);
void json_member_u64(std::string& out, const char* name, std::uint64_t v);
void json_member_str(std::string& out, const char* name, std::string_view v);
// Ends a line's object: its trailing comma becomes `}`, then the newline.
void json_close_line(std::string& out);
// The attribute members (without braces) of a decoded block, for tools and tests. The
// `error.offset` member is the diagnostic's offset plus `offset_base`.
void append_json_attributes(std::string& out, const codec::bgp::PathAttributes& a,
                            const codec::bgp::ParseContext& ctx, std::uint64_t offset_base = 0);

}  // namespace bgpscribe::tools
