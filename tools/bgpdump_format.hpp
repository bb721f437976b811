// The `bgpdump -m` / `-M` one-line text format, byte for byte.
//
// Researchers have a decade of scripts that read bgpdump's output, so `bgpscribe dump -m`
// reproduces it exactly, including its treatment of AS4 paths, ADD-PATH, missing attributes
// and AS sets. The rules below mirror bgpdump 1.6.2's behaviour as observed on real archives;
// where bgpdump is plainly wrong we do the right thing unless `strict` asks for the old
// behaviour (see README "Differences from bgpdump"):
//   - bgpdump keeps only the first 8192 prefixes of an NLRI list; we print all of them.
//   - bgpdump prints nothing for RIB_GENERIC and the multicast RIB subtypes; we print the
//     IPv4/IPv6 ones in the same TABLE_DUMP2 shape.
//   - in deprecated BGP (type 5) withdrawals bgpdump prints the peer address in place of the
//     prefix address (two inet_ntoa() calls in one printf); we print the prefix.
//   - with `-t change` bgpdump prints a stale stack value as the time of TABLE_DUMP_V2 routes;
//     we print the entry's originated time.
// The formatter decodes through the codec (MRT records, attribute TLVs, NLRI, next hops) and
// only interprets the values the way bgpdump does.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/bgp/attributes.hpp"
#include "codec/mrt/check.hpp"
#include "codec/mrt/record.hpp"
#include "codec/mrt/table_dump.hpp"
#include "tools/text.hpp"

namespace bgpscribe::tools {

struct BgpdumpOptions {
  bool human_time = false;          // -M
  bool change_time = false;         // -t change
  bool packet_index = false;        // -p
  bool large_communities = false;   // -l
  bool unknown_attributes = false;  // -u
  bool strict = false;              // reproduce bgpdump's omissions too
};

class BgpdumpFormatter {
 public:
  explicit BgpdumpFormatter(const BgpdumpOptions& options);

  // Appends the lines for one record to `out`. Records that bgpdump shows no line for append
  // nothing. Fails when mrt::check_record finds the record malformed (then nothing is
  // appended); check() tells the rest of that decision (warnings, unsupported records).
  codec::Status format(const codec::mrt::Record& record, Text& out);
  // The same, appending to a string (slower; for tests and fuzzers).
  codec::Status format(const codec::mrt::Record& record, std::string& out);

  // Starts from a PEER_INDEX_TABLE read elsewhere (a formatter that begins mid-file).
  void set_peer_table(std::shared_ptr<const codec::mrt::PeerIndexTable> table);

  // Records that bgpdump would have counted as parsed (its -p packet index).
  [[nodiscard]] std::uint64_t packet_index() const { return packet_index_; }
  // The decision for the last record formatted (with this format's own warnings added).
  [[nodiscard]] const codec::mrt::RecordCheck& check() const { return check_; }

  // State of the attribute block being printed; public for the implementation's helpers.
  struct Mp {
    bool present = false;
    std::uint8_t next_hop_length = 0;
    std::array<std::uint8_t, 16> next_hop{};
    codec::bgp::NlriBlock nlri{};
  };
  struct Attrs {
    std::uint64_t flag = 0;  // bit (type - 1) for every type 1..64 met
    int origin = -1;
    bool has_as_path = false;
    Text as_path;
    int as_path_count = 0;
    std::uint32_t next_hop = 0xFFFFFFFF;
    std::uint32_t med = 0;
    std::uint32_t local_pref = 0;
    std::uint32_t aggregator_as = 0;
    std::uint32_t aggregator_address = 0xFFFFFFFF;
    bool has_new_aggregator = false;
    std::uint32_t new_aggregator_as = 0;
    std::uint32_t new_aggregator_address = 0xFFFFFFFF;
    std::span<const std::uint8_t> communities{};
    std::span<const std::uint8_t> large_communities{};
    std::span<const std::uint8_t> as_path_data{};
    std::span<const std::uint8_t> new_as_path_data{};
    Mp announce[3][4];
    Mp withdraw[3][4];
    std::vector<codec::bgp::RawAttribute> unknown;
    [[nodiscard]] bool has(int type) const {
      return type >= 1 && type <= 64 && (flag & (std::uint64_t{1} << (type - 1))) != 0;
    }
  };

 private:
  void decode_attributes(std::span<const std::uint8_t> block, std::uint8_t asn_len, bool add_path,
                         bool mrt_rib, codec::bgp::AfiSafi rib_family);
  void time_text(std::int64_t seconds, std::int64_t microseconds, bool extended);
  void append_address(Text& out, const codec::bgp::IpAddress& ip) const;
  void line_start(const char* format, const char* kind, Text& out) const;
  void attribute_tail(Text& out) const;
  void preference_and_tail(Text& out) const;

  codec::Status table_dump(const codec::mrt::Record& record, Text& out);
  void table_dump_entry(const codec::mrt::Record& record, const codec::mrt::TableDumpEntry& entry,
                        Text& out);
  codec::Status table_dump_v2(const codec::mrt::Record& record, Text& out);
  codec::Status bgp4mp(const codec::mrt::Record& record, Text& out);
  codec::Status legacy_bgp(const codec::mrt::Record& record, Text& out);

  BgpdumpOptions options_;
  codec::mrt::RecordCheck check_;
  codec::bgp::Update update_;  // check_record's parse (reused between records)
  std::shared_ptr<const codec::mrt::PeerIndexTable> peers_;
  std::vector<std::string> peer_text_;  // "address|AS|" of each peer of the table
  std::uint64_t packet_index_ = 0;      // records counted so far
  std::uint64_t record_index_ = 0;      // the index printed for the current record
  std::string time_;                    // the time column of the record being printed
  Attrs attrs_;
  std::string scratch_;
  Text scratch_text_;
  Text head_;  // the shared start of a block's lines
  Text tail_;  // the shared attribute columns of a block's announcements
};

}  // namespace bgpscribe::tools
