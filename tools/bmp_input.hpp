// `bgpscribe dump` over raw BMP streams (RFC 7854): files of concatenated BMP messages, as BMP
// stations and packet captures store them.
//
// Each route message is handed to the dump's formatters as the MRT record a collector peering
// with the monitored peer would have written: a Route Monitoring becomes a BGP4MP_ET message
// (time, peer address and AS from the per-peer header, local address and AS from the peer's
// Peer Up when known), a Peer Up or Peer Down a BGP4MP_ET state change. The converter keeps
// one ParseContext per monitored peer (peer type, distinguisher, address) from its Peer Up
// (codec/bmp/context.hpp). It does no I/O and never throws; framing stays with bmp::frame.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "codec/bgp/ip.hpp"
#include "codec/bgp/parse_context.hpp"
#include "codec/bmp/message.hpp"
#include "codec/wire/result.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::tools {

// True when `head`, the first uncompressed bytes of a stream, start a BMP message: version 3,
// a length of at least the common header and at most bmp::kMaxMessageSize, a known type. An
// MRT header cannot: its first byte would be a timestamp in 1971.
bool looks_like_bmp(codec::wire::Bytes head);

// What one BMP message became.
struct BmpConversion {
  enum class Kind : std::uint8_t {
    Record,  // an MRT record was appended to `record`
    Line,    // a JSON line was appended to `line` (--json only)
    None,    // nothing to print (a message -m does not show, or an error)
  };
  Kind kind = Kind::None;
  // Record: where the embedded BGP message starts in the record and in the BMP message, so
  // that offsets in the record map back to the stream (0 for state changes).
  std::uint64_t record_message_at = 0;
  std::uint64_t bmp_message_at = 0;
  // Members to add to every JSON line of the record (`"bmp":{...}`), empty otherwise.
  std::string json_members;
  // A problem with the message: an error (the message was skipped) or a warning (it was
  // printed with a default guess). Offset from the start of the BMP message.
  bool has_problem = false;
  bool warning = false;
  codec::Error problem{};
};

class BmpConverter {
 public:
  // `json`: also produce Line objects (Initiation, Termination, Statistics Report, Route
  // Mirroring, unknown types) and the `bmp` members of route lines.
  explicit BmpConverter(bool json) : json_(json) {}

  // Converts one complete BMP message (exactly one, as framed by bmp::frame). Appends to
  // `record` or `line` as the result says; `out` is reset first.
  void convert(codec::wire::Bytes message, std::vector<std::uint8_t>& record, std::string& line,
               BmpConversion& out);

  [[nodiscard]] std::size_t peers() const { return peers_.size(); }

 private:
  // Peer type(1), distinguisher(8), address(16): RFC 7854 section 4.2 names a peer by them.
  using PeerKey = std::array<std::uint8_t, 25>;
  struct PeerState {
    bool peer_up = false;  // false: seen only in Route Monitoring (default context)
    codec::bgp::ParseContext context{};
    codec::bgp::IpAddress local_ip{};
    std::uint32_t local_as = 0;
  };
  static PeerKey key_of(const codec::bmp::PerPeerHeader& peer);

  void route_monitoring(const codec::bmp::RouteMonitoring& m, std::vector<std::uint8_t>& record,
                        BmpConversion& out);
  void peer_up(const codec::bmp::PeerUp& m, std::vector<std::uint8_t>& record, BmpConversion& out);
  void peer_down(const codec::bmp::PeerDown& m, std::vector<std::uint8_t>& record,
                 BmpConversion& out);
  void state_change(const codec::bmp::PerPeerHeader& peer, const PeerState* state,
                    std::uint16_t old_state, std::uint16_t new_state,
                    std::vector<std::uint8_t>& record, BmpConversion& out);
  void append_members(const codec::bmp::PerPeerHeader& peer, std::string& out) const;
  void json_line(const codec::bmp::Message& m, std::string& line);
  void note_time(const codec::bmp::PerPeerHeader& peer);

  bool json_;
  std::map<PeerKey, PeerState> peers_;
  codec::wire::Writer writer_;
  // The last per-peer header time: Initiation and Termination have none of their own.
  std::uint32_t last_seconds_ = 0;
  std::uint32_t last_microseconds_ = 0;
};

}  // namespace bgpscribe::tools
