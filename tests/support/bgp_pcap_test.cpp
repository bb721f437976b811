// Every BGP capture of the shared data set through the BGP framing and message parsers.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "codec/bgp/capability.hpp"
#include "codec/bgp/message.hpp"
#include "codec/bgp/notification.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bgp/route_refresh.hpp"
#include "codec/bgp/text.hpp"
#include "codec/bgp/update.hpp"
#include "tests/support/pcap_streams.hpp"
#include "tests/support/provenance.hpp"

namespace bgpscribe::tests {
namespace {

namespace bgp = codec::bgp;
using Span = std::span<const std::uint8_t>;

const std::filesystem::path kData = BGPSCRIBE_SHARED_DATA;

// PROVENANCE.md "Odd files here on purpose": frames tshark flags as malformed.
const std::set<std::string> kKnownMalformed = {
    "bgp-pcap/tcpdump/tests/bgp-infinite-loop.pcap",
};

bool same(Span a, const std::vector<std::uint8_t>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

struct FramedStream {
  const TcpStream* stream = nullptr;
  std::vector<Span> messages;
  std::optional<bgp::Open> open;  // the first OPEN this side sent
};

class BgpPcap : public testing::TestWithParam<std::string> {};

TEST_P(BgpPcap, EveryMessageFramesAndParses) {
  if (GetParam().empty()) {
    GTEST_SKIP() << "shared data set not found at " << kData << " (bgp-pcap)";
  }
  const std::string rel = GetParam();
  const bool known_malformed = kKnownMalformed.contains(rel);
  const Capture capture = read_tcp_streams(kData / rel);
  ASSERT_TRUE(capture.error.empty()) << capture.error;

  std::vector<std::string> failures;
  std::map<std::string, std::size_t> counts;
  std::vector<FramedStream> framed;
  std::size_t incomplete_tails = 0;

  // Framing, as the socket loop does it (RFC 8654 limit: the capture may hold either).
  for (const TcpStream& s : capture.streams) {
    if (s.data.empty()) {
      continue;
    }
    FramedStream fs{&s, {}, {}};
    const Span data(s.data);
    std::size_t at = 0;
    while (at < data.size()) {
      const bgp::Frame f = bgp::frame(data.subspan(at), bgp::kMaxExtendedMessageSize);
      if (f.status == bgp::FrameStatus::Broken) {
        failures.push_back(s.source.to_string() + " offset " + std::to_string(at) + ": " +
                           f.error.message);
        break;
      }
      if (f.status == bgp::FrameStatus::NeedMore) {
        // The capture stopped inside a message (pmacct's replays do): not a framing error,
        // and tshark does not count it either.
        ++incomplete_tails;
        break;
      }
      fs.messages.push_back(data.subspan(at, f.size));
      at += f.size;
    }
    for (Span m : fs.messages) {
      if (m[18] == static_cast<std::uint8_t>(bgp::MessageType::Open) && !fs.open) {
        if (auto o = bgp::parse_open(m)) {
          fs.open = *o;
        }
      }
    }
    framed.push_back(std::move(fs));
  }

  for (const FramedStream& fs : framed) {
    // The receiver's view of this direction: it sent the reverse stream's OPEN.
    const FramedStream* reverse = nullptr;
    for (const FramedStream& other : framed) {
      if (other.stream->source == fs.stream->destination &&
          other.stream->destination == fs.stream->source) {
        reverse = &other;
      }
    }
    std::optional<bgp::ParseContext> ctx;
    if (fs.open && reverse != nullptr && reverse->open) {
      if (auto n = bgp::negotiate(*reverse->open, *fs.open)) {
        ctx = n->receive_context();
      }
    }
    for (Span m : fs.messages) {
      const auto type = static_cast<bgp::MessageType>(m[18]);
      const char* name = bgp::to_string(type);
      ++counts[name != nullptr ? name : "?"];
      const std::string where = fs.stream->source.to_string() + " " + (name ? name : "?") + " at " +
                                std::to_string(m.data() - fs.stream->data.data());
      switch (type) {
        case bgp::MessageType::Open: {
          auto o = bgp::parse_open(m);
          if (!o) {
            failures.push_back(where + ": " + o.error().message);
            break;
          }
          codec::wire::Writer w;
          if (!bgp::encode_open(*o, w) || !same(m, w.buffer())) {
            failures.push_back(where + ": OPEN does not re-encode to its bytes");
          }
          break;
        }
        case bgp::MessageType::Notification: {
          auto n = bgp::parse_notification(m);
          if (!n) {
            failures.push_back(where + ": " + n.error().message);
            break;
          }
          codec::wire::Writer w;
          if (!bgp::encode_notification(*n, w, bgp::kMaxExtendedMessageSize) ||
              !same(m, w.buffer())) {
            failures.push_back(where + ": NOTIFICATION does not re-encode to its bytes");
          }
          break;
        }
        case bgp::MessageType::RouteRefresh:
        case bgp::MessageType::CiscoRouteRefresh: {
          auto rr = bgp::parse_route_refresh(m);
          if (!rr) {
            failures.push_back(where + ": " + rr.error().message);
            break;
          }
          codec::wire::Writer w;
          if (!bgp::encode_route_refresh(*rr, w, bgp::kMaxExtendedMessageSize) ||
              !same(m, w.buffer())) {
            failures.push_back(where + ": ROUTE-REFRESH does not re-encode to its bytes");
          }
          break;
        }
        case bgp::MessageType::Keepalive:
          if (!bgp::parse_keepalive(m)) {
            failures.push_back(where + ": bad KEEPALIVE");
          }
          break;
        case bgp::MessageType::Update: {
          if (ctx) {
            auto u = bgp::parse_update(m, *ctx);
            if (!u) {
              failures.push_back(where + ": " + u.error().message);
            }
            break;
          }
          // Without both OPENs the AS width is unknown: accept either, as MRT readers do.
          bgp::ParseContext as4;
          bgp::ParseContext as2;
          as2.four_octet_as = false;
          auto u4 = bgp::parse_update(m, as4);
          if (!u4 && !bgp::parse_update(m, as2)) {
            failures.push_back(where + ": " + u4.error().message);
          }
          break;
        }
      }
    }
  }

  RecordProperty("incomplete_tails", static_cast<int>(incomplete_tails));
  if (known_malformed) {
    // Framing stops at the first malformed message, so counts cannot match tshark's.
    RecordProperty("known_malformed_failures", static_cast<int>(failures.size()));
    EXPECT_FALSE(failures.empty()) << "expected the known-malformed capture to fail somewhere";
    return;
  }
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();

  const auto provenance = read_provenance(kData / "PROVENANCE.md");
  const auto it = provenance.find(rel);
  if (it != provenance.end() && !it->second.messages.empty()) {
    EXPECT_EQ(counts, it->second.messages);
  }
}

INSTANTIATE_TEST_SUITE_P(SharedData, BgpPcap, testing::ValuesIn(shared_captures(kData, "bgp-pcap")),
                         [](const auto& p) { return capture_test_name(p.index, p.param); });

}  // namespace
}  // namespace bgpscribe::tests
