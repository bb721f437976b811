// `bgpscribe dump` over raw BMP streams (tools/bmp_input.hpp): streams built with the BMP
// codec's encoders, dumped by the real binary.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "codec/bgp/attributes.hpp"
#include "codec/bgp/capability.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bgp/update.hpp"
#include "codec/bmp/message.hpp"
#include "codec/mrt/file.hpp"
#include "tests/support/command.hpp"
#include "tests/support/temp_dir.hpp"

namespace bgpscribe {
namespace {

namespace bgp = codec::bgp;
namespace bmp = codec::bmp;
namespace mrt = codec::mrt;
using Buffer = std::vector<std::uint8_t>;
using tests::lines_of;
using tests::run_command;

tests::CommandResult dump(const std::string& args) {
  return run_command(std::string(BGPSCRIBE_BINARY) + " dump " + args);
}

bgp::Open make_open(std::uint16_t as, std::uint32_t id, std::uint32_t as4) {
  bgp::Open o;
  o.my_as = as;
  o.hold_time = 90;
  o.bgp_identifier = id;
  o.add_capability(bgp::Capability::of(bgp::MultiprotocolCapability{bgp::kIpv4Unicast}));
  o.add_capability(bgp::Capability::of(bgp::MultiprotocolCapability{bgp::kIpv6Unicast}));
  if (as4 != 0) {
    o.add_capability(bgp::Capability::of(bgp::FourOctetAsCapability{as4}));
  }
  return o;
}

Buffer encode_open(const bgp::Open& o) {
  codec::wire::Writer w;
  EXPECT_TRUE(bgp::encode_open(o, w));
  return w.take();
}

bgp::Prefix prefix(const char* text, std::uint8_t length) {
  return bgp::Prefix{*bgp::IpAddress::parse(text), length};
}

bmp::PerPeerHeader peer_header(const char* address, std::uint32_t as, std::uint8_t flags) {
  bmp::PerPeerHeader h;
  h.set_peer_address(*bgp::IpAddress::parse(address));
  h.flags = static_cast<std::uint8_t>(h.flags | flags);
  h.peer_as = as;
  h.bgp_identifier = 0xC0000201;
  h.timestamp_seconds = 1700000000;
  h.timestamp_microseconds = 123;
  return h;
}

// A stream of BMP messages, written to a file.
class Stream {
 public:
  void add(const bmp::Message& m) { EXPECT_TRUE(bmp::encode(m, w_)); }
  void add_raw(const Buffer& bytes) { w_.bytes(bytes); }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const { return w_.bytes(); }
  std::string write(const tests::TempDir& dir, const std::string& name,
                    mrt::Compression c = mrt::Compression::None) const {
    const std::string path = (dir / name).string();
    mrt::FileWriter f;
    mrt::WriterOptions o;
    o.compression = c;
    EXPECT_TRUE(f.open(path, o));
    EXPECT_TRUE(f.write(w_.bytes()));
    EXPECT_TRUE(f.close());
    return path;
  }

 private:
  codec::wire::Writer w_;
};

struct Opens {
  Buffer sent;
  Buffer received;
};

bmp::PeerUp peer_up(const bmp::PerPeerHeader& peer, const char* local, const Opens& opens) {
  bmp::PeerUp up;
  up.peer = peer;
  const auto l = *bgp::IpAddress::parse(local);
  if (l.is_v4()) {
    for (std::size_t i = 0; i < 4; ++i) {
      up.local_address[12 + i] = l.bytes[i];
    }
  } else {
    up.local_address = l.bytes;
  }
  up.local_port = 179;
  up.remote_port = 40000;
  up.sent_open = opens.sent;
  up.received_open = opens.received;
  return up;
}

// An IPv4 UPDATE announcing 10.0.0.0/24 and 10.0.1.0/24, withdrawing 10.9.0.0/16.
Buffer ipv4_update(bool add_path, std::uint8_t as_size) {
  bgp::UpdateMessage u;
  u.add_path = add_path;
  u.attributes.origin(bgp::Origin::Igp)
      .as_path({bgp::AsSegment{bgp::AsSegmentType::AsSequence, {65001, 64496}}}, as_size)
      .next_hop(0xC0000201);
  u.nlri.push_back({prefix("10.0.0.0", 24), 7});
  u.nlri.push_back({prefix("10.0.1.0", 24), 8});
  u.withdrawn.push_back({prefix("10.9.0.0", 16), 9});
  codec::wire::Writer w;
  EXPECT_TRUE(u.encode(w));
  return w.take();
}

Buffer ipv6_update() {
  bgp::UpdateMessage u;
  const std::vector<bgp::Prefix> announced = {prefix("2001:db8:1::", 48)};
  const auto next_hop = *bgp::IpAddress::parse("2001:db8::1");
  u.attributes.origin(bgp::Origin::Igp)
      .as_path({bgp::AsSegment{bgp::AsSegmentType::AsSequence, {4200000001U}}})
      .mp_reach(bgp::kIpv6Unicast, next_hop.span(), announced);
  codec::wire::Writer w;
  EXPECT_TRUE(u.encode(w));
  return w.take();
}

class DumpBmpTest : public ::testing::Test {
 protected:
  tests::TempDir dir_{"bgpscribe-dump-bmp-test"};
};

// The A flag (2-octet AS_PATH) and ADD-PATH on IPv4 (the router receives path ids: the peer's
// OPEN sends them) come from the Peer Up; local address and AS from it too.
TEST_F(DumpBmpTest, PeerUpGivesAddPathAndTwoOctetAs) {
  bgp::Open sent = make_open(65000, 0xC00002FE, 0);
  sent.add_capability(bgp::Capability::of(
      bgp::AddPathCapability{{{bgp::kIpv4Unicast, bgp::AddPathMode::Receive}}}));
  bgp::Open received = make_open(65001, 0xC0000201, 0);
  received.add_capability(
      bgp::Capability::of(bgp::AddPathCapability{{{bgp::kIpv4Unicast, bgp::AddPathMode::Send}}}));
  const Opens opens{encode_open(sent), encode_open(received)};
  const auto peer = peer_header("192.0.2.1", 65001, bmp::peer_flag::kLegacyAsPath);
  const Buffer update = ipv4_update(true, 2);

  Stream s;
  s.add(bmp::Initiation{{bmp::Tlv{2, {}}}});
  s.add(peer_up(peer, "192.0.2.254", opens));
  s.add(bmp::RouteMonitoring{peer, update, {}});
  bmp::PeerDown down;
  down.peer = peer;
  down.reason = bmp::PeerDownReason::RemoteNoNotification;
  s.add(down);
  const auto path = s.write(dir_, "addpath.bmp");

  const auto r = dump("-m " + path);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::vector<std::string> expected = {
      "BGP4MP_ET|1700000000.000123|STATE|192.0.2.1|65001|5|6",
      "BGP4MP_ET_AP|1700000000.000123|W|192.0.2.1|65001|10.9.0.0/16|9",
      "BGP4MP_ET_AP|1700000000.000123|A|192.0.2.1|65001|10.0.0.0/24|7|65001 64496|IGP|192.0.2.1|"
      "0|0||NAG||",
      "BGP4MP_ET_AP|1700000000.000123|A|192.0.2.1|65001|10.0.1.0/24|8|65001 64496|IGP|192.0.2.1|"
      "0|0||NAG||",
      "BGP4MP_ET|1700000000.000123|STATE|192.0.2.1|65001|6|1",
  };
  EXPECT_EQ(lines_of(r.out), expected);

  const auto json = dump("--json " + path);
  EXPECT_EQ(json.status, 0) << json.err;
  const auto lines = lines_of(json.out);
  ASSERT_EQ(lines.size(), 6U) << json.out;
  EXPECT_NE(lines[0].find("\"kind\":\"bmp_initiation\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\"local_ip\":\"192.0.2.254\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("\"local_as\":65000"), std::string::npos) << lines[1];
  EXPECT_NE(lines[3].find("\"path_id\":7"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find("\"bmp\":{\"peer_type\":\"global\",\"peer_bgp_id\":\"192.0.2.1\","
                          "\"post_policy\":false,\"adj_rib_out\":false}}"),
            std::string::npos)
      << lines[3];
  EXPECT_NE(lines[5].find("\"peer_down_reason\":4"), std::string::npos) << lines[5];
}

// An IPv6 peer, post-policy, 4-octet AS; the stream gzip-compressed and found without --input.
TEST_F(DumpBmpTest, Ipv6PeerPostPolicyCompressed) {
  const Opens opens{encode_open(make_open(23456, 1, 4200000000U)),
                    encode_open(make_open(23456, 2, 4200000001U))};
  const auto peer = peer_header("2001:db8::1", 4200000001U, bmp::peer_flag::kPostPolicy);
  Stream s;
  s.add(peer_up(peer, "2001:db8::2", opens));
  s.add(bmp::RouteMonitoring{peer, ipv6_update(), {}});
  const auto path = s.write(dir_, "v6.bmp.gz", mrt::Compression::Gzip);

  const auto r = dump("-m " + path);
  EXPECT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> expected = {
      "BGP4MP_ET|1700000000.000123|STATE|2001:db8::1|4200000001|5|6",
      "BGP4MP_ET|1700000000.000123|A|2001:db8::1|4200000001|2001:db8:1::/48|4200000001|IGP|"
      "2001:db8::1|0|0||NAG||",
  };
  EXPECT_EQ(lines_of(r.out), expected);
  const auto json = lines_of(dump("--json " + path).out);
  ASSERT_EQ(json.size(), 2U);
  EXPECT_NE(json[1].find("\"local_ip\":\"2001:db8::2\",\"local_as\":4200000000"), std::string::npos)
      << json[1];
  EXPECT_NE(json[1].find("\"post_policy\":true"), std::string::npos) << json[1];
  // Forced to MRT, the same file is a broken MRT file.
  EXPECT_EQ(dump("-m --input mrt " + path).status, 1);
}

// A Route Monitoring whose peer had no Peer Up: a default context, one warning per peer.
TEST_F(DumpBmpTest, RouteMonitoringWithoutPeerUpWarns) {
  const auto peer = peer_header("192.0.2.7", 64500, 0);
  Stream s;
  s.add(bmp::RouteMonitoring{peer, ipv4_update(false, 4), {}});
  s.add(bmp::RouteMonitoring{peer, ipv4_update(false, 4), {}});
  const auto path = s.write(dir_, "nopeerup.bmp");
  const auto r = dump("-m " + path);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines_of(r.out).size(), 6U);
  EXPECT_NE(r.err.find("record 0 at byte 0: warning: Route Monitoring for a peer without Peer Up"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("2 records, 0 errors, 1 warnings"), std::string::npos) << r.err;
  const auto json = dump("--json " + path);
  EXPECT_NE(json.out.find("\"default_context\":true"), std::string::npos) << json.out;
}

// A stream cut inside its last message, and one whose second message has a bad version: what
// came before is printed, the error names the byte offset, the exit status is 1.
TEST_F(DumpBmpTest, TruncatedAndBrokenStreams) {
  const auto peer = peer_header("192.0.2.7", 64500, 0);
  Stream whole;
  whole.add(bmp::RouteMonitoring{peer, ipv4_update(false, 4), {}});
  const std::size_t first = whole.bytes().size();
  whole.add(bmp::RouteMonitoring{peer, ipv4_update(false, 4), {}});
  const auto all = whole.bytes();

  Stream cut;
  cut.add_raw(Buffer(all.begin(), all.end() - 5));
  auto r = dump("-m -q " + cut.write(dir_, "cut.bmp"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines_of(r.out).size(), 3U);
  r = dump("-m " + cut.write(dir_, "cut.bmp"));
  EXPECT_NE(r.err.find("record 1 at byte " + std::to_string(first) +
                       ": BMP stream ends inside a message"),
            std::string::npos)
      << r.err;

  Buffer bad(all.begin(), all.end());
  bad[first] = 9;  // version
  Stream broken;
  broken.add_raw(bad);
  r = dump("-m --input bmp " + broken.write(dir_, "broken.bmp"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines_of(r.out).size(), 3U);
  EXPECT_NE(r.err.find("record 1 at byte " + std::to_string(first) +
                       ": broken BMP stream, the rest of the file is not read"),
            std::string::npos)
      << r.err;
}

// A message whose body does not parse (an UPDATE with a broken marker) is skipped and counted;
// the next one is printed.
TEST_F(DumpBmpTest, BadBodySkipsOneMessage) {
  const auto peer = peer_header("192.0.2.7", 64500, 0);
  Stream one;
  one.add(bmp::RouteMonitoring{peer, ipv4_update(false, 4), {}});
  Buffer bad(one.bytes().begin(), one.bytes().end());
  bad[bmp::kCommonHeaderSize + bmp::kPerPeerHeaderSize] = 0;  // the marker's first octet
  Stream s;
  s.add_raw(bad);
  s.add(bmp::RouteMonitoring{peer, ipv4_update(false, 4), {}});
  const auto r = dump("-m " + s.write(dir_, "badbody.bmp"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines_of(r.out).size(), 3U) << r.out;
  EXPECT_NE(r.err.find("record 0 at byte 0: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 records, 1 errors"), std::string::npos) << r.err;
}

// A message of the draft version 4 (draft-ietf-grow-bmp-tlv) is framed and kept raw: counted as
// "other", shown in JSON as bmp_unsupported, not printed in -m. A stream that starts with one
// is not recognised as BMP without --input bmp.
TEST_F(DumpBmpTest, DraftVersion4IsKeptRaw) {
  const auto peer = peer_header("192.0.2.7", 64500, 0);
  Stream s;
  s.add_raw({4, 0, 0, 0, 6, 0});  // version 4, length 6, Route Monitoring, no body
  s.add(bmp::RouteMonitoring{peer, ipv4_update(false, 4), {}});
  const auto path = s.write(dir_, "v4.bmp");
  auto r = dump("-m -q --summary --input bmp " + path);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines_of(r.out).size(), 3U);
  EXPECT_NE(r.err.find(": 2 BMP messages: route-monitoring 1, "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(", other 1\n"), std::string::npos) << r.err;
  r = dump("--json -q --input bmp " + path);
  EXPECT_NE(r.out.find("\"kind\":\"bmp_unsupported\",\"bmp_version\":4,\"bmp_type\":0}"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(dump("-m -q " + path).status, 1);  // read as MRT
}

}  // namespace
}  // namespace bgpscribe
