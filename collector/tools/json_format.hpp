// `bgpscribe dump --json`: one JSON object per line per route or event, schema in
// docs/dump-json.md.
//
// Unlike the bgpdump text format this decodes through the codec's RFC view: AS4_PATH merged per
// RFC 6793, RFC 7606 diagnostics reported, every family (RIB_GENERIC included), extended and
// large communities, unknown attributes as hex. No I/O here: lines are appended to a string.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "codec/bgp/attributes.hpp"
#include "codec/bgp/parse_context.hpp"
#include "codec/mrt/record.hpp"
#include "codec/mrt/table_dump.hpp"

namespace bgpscribe::collector::tools {

class JsonFormatter {
 public:
  JsonFormatter() = default;

  // Appends the lines for one record. Fails when the record is malformed (nothing appended).
  codec::Status format(const codec::mrt::Record& record, std::string& out);
  // Starts from a PEER_INDEX_TABLE read elsewhere (a formatter that begins mid-file).
  void set_peer_table(std::shared_ptr<const codec::mrt::PeerIndexTable> table) {
    peers_ = std::move(table);
  }

 private:
  codec::Status table_dump(const codec::mrt::Record& record, std::string& out);
  codec::Status rib(const codec::mrt::Record& record, std::string& out);
  codec::Status bgp4mp(const codec::mrt::Record& record, std::string& out);
  codec::Status legacy_bgp(const codec::mrt::Record& record, std::string& out);
  codec::Status message(std::span<const std::uint8_t> bgp_message,
                        const codec::bgp::ParseContext& ctx, std::string& out);

  std::shared_ptr<const codec::mrt::PeerIndexTable> peers_;
  std::string head_;  // the shared leading members of the record's lines
  std::string attrs_;
};

// Appends `"key":` and a JSON string with the escapes RFC 8259 requires.
void append_json_string(std::string& out, std::string_view s);
// The attribute members (without braces) of a decoded block, for tools and tests.
void append_json_attributes(std::string& out, const codec::bgp::PathAttributes& a,
                            const codec::bgp::ParseContext& ctx);

}  // namespace bgpscribe::collector::tools
