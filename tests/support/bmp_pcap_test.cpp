// Every BMP capture of the shared data set through the BMP parser, with the embedded BGP PDUs
// through the BGP codec.
#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "codec/bgp/open.hpp"
#include "codec/bgp/update.hpp"
#include "codec/bmp/context.hpp"
#include "codec/bmp/message.hpp"
#include "tests/support/pcap_streams.hpp"
#include "tests/support/provenance.hpp"

namespace bgpscribe::tests {
namespace {

namespace bgp = codec::bgp;
namespace bmp = codec::bmp;
using Span = std::span<const std::uint8_t>;

const std::filesystem::path kData = BGPSCRIBE_SHARED_DATA;

// PROVENANCE.md "Odd files here on purpose": Route Monitoring with no Peer Up, in the draft
// BMP version 4 (draft-ietf-grow-bmp-tlv: the UPDATE sits in a TLV, with a capability TLV for
// stateless parsing). The messages must frame and re-encode; their bodies stay raw, so the
// embedded BGP PDUs are not counted.
const std::set<std::string> kDraftVersion4 = {
    "bmp-pcap/NetGauze/assets/pcaps/bmp/vpnv4-stateless-with-withdraw/"
    "vpnv4-stateless-with-withdraw.pcap",
};

// PROVENANCE names BMP types as tshark does.
const char* provenance_name(bmp::MessageType t) {
  switch (t) {
    case bmp::MessageType::RouteMonitoring:
      return "RouteMonitoring";
    case bmp::MessageType::StatisticsReport:
      return "StatsReport";
    case bmp::MessageType::PeerDown:
      return "PeerDown";
    case bmp::MessageType::PeerUp:
      return "PeerUp";
    case bmp::MessageType::Initiation:
      return "Initiation";
    case bmp::MessageType::Termination:
      return "Termination";
    case bmp::MessageType::RouteMirroring:
      return "RouteMirroring";
    case bmp::MessageType::RoutePolicyAttributeTrace:
      return "RoutePolicyAttributeTrace";
  }
  return "?";
}

using PeerKey = std::tuple<std::size_t, std::uint8_t, std::array<std::uint8_t, 8>,
                           std::array<std::uint8_t, 16>>;

PeerKey key_of(std::size_t stream, const bmp::PerPeerHeader& p) {
  return {stream, static_cast<std::uint8_t>(p.peer_type), p.distinguisher, p.address};
}

struct PeerOpens {
  bgp::Open sent;
  bgp::Open received;
};

class BmpPcap : public testing::TestWithParam<std::string> {};

TEST_P(BmpPcap, EveryMessageFramesAndParses) {
  if (GetParam().empty()) {
    GTEST_SKIP() << "shared data set not found at " << kData << " (bmp-pcap)";
  }
  const std::string rel = GetParam();
  const bool draft_v4 = kDraftVersion4.contains(rel);
  const Capture capture = read_tcp_streams(kData / rel);
  ASSERT_TRUE(capture.error.empty()) << capture.error;

  std::vector<std::string> failures;
  std::vector<std::string> update_failures;
  std::map<std::string, std::size_t> counts;
  std::map<std::string, std::size_t> inner;
  std::map<PeerKey, PeerOpens> peers;
  std::size_t bmp_streams = 0;
  std::size_t incomplete_tails = 0;

  for (std::size_t si = 0; si < capture.streams.size(); ++si) {
    const TcpStream& s = capture.streams[si];
    // BMP on any TCP port; IPFIX (version 10) over TCP is not BMP.
    if (s.data.size() < 2 || (s.data[0] == 0x00 && s.data[1] == 0x0A)) {
      continue;
    }
    ++bmp_streams;
    const Span data(s.data);
    std::size_t at = 0;
    while (at < data.size()) {
      const bmp::Frame f = bmp::frame(data.subspan(at));
      if (f.status == codec::bgp::FrameStatus::Broken) {
        failures.push_back(s.source.to_string() + " offset " + std::to_string(at) + ": " +
                           f.error.message);
        break;
      }
      if (f.status == codec::bgp::FrameStatus::NeedMore) {
        ++incomplete_tails;  // the capture stopped inside a message
        break;
      }
      const Span bytes = data.subspan(at, f.size);
      const std::string where = s.source.to_string() + " at " + std::to_string(at);
      at += f.size;
      ++counts[provenance_name(f.header.type)];

      auto m = bmp::parse_message(bytes);
      if (!m) {
        failures.push_back(where + ": " + m.error().message + " (offset " +
                           std::to_string(m.error().offset) + ")");
        continue;
      }
      codec::wire::Writer w;
      if (!bmp::encode(*m, w) || !std::ranges::equal(bytes, w.buffer())) {
        failures.push_back(where + ": does not re-encode to its bytes");
      }

      if (const auto* up = std::get_if<bmp::PeerUp>(&*m)) {
        inner["OPEN"] += 2;
        auto sent = bgp::parse_open(up->sent_open);
        auto received = bgp::parse_open(up->received_open);
        if (!sent || !received) {
          failures.push_back(where + ": Peer Up OPEN: " +
                             (sent ? received.error().message : sent.error().message));
          continue;
        }
        peers[key_of(si, up->peer)] = PeerOpens{*sent, *received};
      } else if (const auto* down = std::get_if<bmp::PeerDown>(&*m)) {
        if (down->notification) {
          ++inner["NOTIFICATION"];
        }
      } else if (const auto* rm = std::get_if<bmp::RouteMonitoring>(&*m)) {
        ++inner["UPDATE"];
        const auto peer = peers.find(key_of(si, rm->peer));
        if (peer != peers.end()) {
          const bgp::ParseContext ctx =
              bmp::route_monitoring_context(peer->second.sent, peer->second.received, rm->peer);
          auto u = bgp::parse_update(rm->update, ctx);
          if (!u) {
            update_failures.push_back(where + ": UPDATE: " + u.error().message);
          }
        } else {
          // No Peer Up in the capture: the A flag still gives the AS width.
          bgp::ParseContext ctx;
          ctx.four_octet_as = !rm->peer.legacy_as_path();
          auto u = bgp::parse_update(rm->update, ctx);
          if (!u) {
            update_failures.push_back(where + ": UPDATE without Peer Up: " + u.error().message);
          }
        }
      }
    }
  }

  RecordProperty("incomplete_tails", static_cast<int>(incomplete_tails));
  EXPECT_GT(bmp_streams, 0U);
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
  EXPECT_TRUE(update_failures.empty())
      << update_failures.size() << " UPDATE failures, first: " << update_failures.front();

  const auto provenance = read_provenance(kData / "PROVENANCE.md");
  const auto it = provenance.find(rel);
  if (it != provenance.end()) {
    if (!it->second.messages.empty()) {
      EXPECT_EQ(counts, it->second.messages);
    }
    if (!it->second.inner_bgp.empty() && !draft_v4) {
      EXPECT_EQ(inner, it->second.inner_bgp);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SharedData, BmpPcap, testing::ValuesIn(shared_captures(kData, "bmp-pcap")),
                         [](const auto& p) { return capture_test_name(p.index, p.param); });

}  // namespace
}  // namespace bgpscribe::tests
