#include "tests/support/pcap_streams.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/provenance.hpp"
#include "tests/support/temp_dir.hpp"

namespace bgpscribe::tests {
namespace {

using Buffer = std::vector<std::uint8_t>;

void put16(Buffer& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(Buffer& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}

// TCP header (no options) + payload.
Buffer tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint8_t flags,
           const std::string& payload) {
  Buffer b;
  put16(b, sport);
  put16(b, dport);
  put32(b, seq);
  put32(b, 0);        // ack
  b.push_back(0x50);  // data offset 5
  b.push_back(flags);
  put16(b, 65535);  // window
  put16(b, 0);      // checksum (not checked)
  put16(b, 0);      // urgent
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Buffer ethernet_ipv4(const Buffer& segment, std::uint8_t src_last, std::uint8_t dst_last) {
  Buffer b(12, 0);  // MAC addresses
  put16(b, 0x0800);
  b.push_back(0x45);
  b.push_back(0);
  put16(b, static_cast<std::uint16_t>(20 + segment.size()));
  put32(b, 0);  // id, flags, fragment offset
  b.push_back(64);
  b.push_back(6);  // TCP
  put16(b, 0);
  b.insert(b.end(), {192, 0, 2, src_last, 192, 0, 2, dst_last});
  b.insert(b.end(), segment.begin(), segment.end());
  b.insert(b.end(), 6, 0);  // Ethernet padding that the IP length excludes
  return b;
}

Buffer sll_ipv6(const Buffer& segment) {
  Buffer b(14, 0);  // packet type, ARPHRD, address length, address
  put16(b, 0x86DD);
  b.insert(b.end(), {0x60, 0, 0, 0});
  put16(b, static_cast<std::uint16_t>(segment.size()));
  b.push_back(6);  // TCP
  b.push_back(64);
  Buffer src(16, 0), dst(16, 0);
  src[0] = dst[0] = 0x20;
  src[1] = dst[1] = 0x01;
  src[15] = 1;
  dst[15] = 2;
  b.insert(b.end(), src.begin(), src.end());
  b.insert(b.end(), dst.begin(), dst.end());
  b.insert(b.end(), segment.begin(), segment.end());
  return b;
}

std::filesystem::path write_capture(int link, const std::vector<Buffer>& frames,
                                    const std::filesystem::path& path) {
  pcap_t* dead = pcap_open_dead(link, 65535);
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  for (const auto& f : frames) {
    pcap_pkthdr h{};
    h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &h, f.data());  // NOLINT: libpcap's API
  }
  pcap_dump_close(d);
  pcap_close(dead);
  return path;
}

TEST(PcapStreams, ReordersDropsRetransmissionsAndSplitsDirections) {
  constexpr std::uint8_t kSyn = 0x02, kAck = 0x10;
  const std::vector<Buffer> frames = {
      ethernet_ipv4(tcp(40000, 179, 999, kSyn, ""), 1, 2),
      ethernet_ipv4(tcp(179, 40000, 5000, kSyn | kAck, ""), 2, 1),
      ethernet_ipv4(tcp(40000, 179, 1005, kAck, "world"), 1, 2),  // arrives early
      ethernet_ipv4(tcp(40000, 179, 1000, kAck, "hello"), 1, 2),
      ethernet_ipv4(tcp(40000, 179, 1000, kAck, "hello"), 1, 2),  // retransmission
      ethernet_ipv4(tcp(40000, 179, 1003, kAck, "lowo"), 1, 2),   // overlapping resend
      ethernet_ipv4(tcp(179, 40000, 5001, kAck, "reply"), 2, 1),
  };
  const TempDir dir("bgpscribe-pcap-test");
  const auto path = write_capture(DLT_EN10MB, frames, dir / "ethernet.pcap");
  const Capture c = read_tcp_streams(path);
  ASSERT_TRUE(c.error.empty()) << c.error;
  EXPECT_EQ(c.packets, 7U);
  EXPECT_EQ(c.undecoded_packets, 0U);
  ASSERT_EQ(c.streams.size(), 2U);
  const TcpStream& a = c.streams[0];
  EXPECT_EQ(a.source.to_string(), "192.0.2.1:40000");
  EXPECT_EQ(a.destination.to_string(), "192.0.2.2:179");
  EXPECT_EQ(std::string(a.data.begin(), a.data.end()), "helloworld");
  EXPECT_TRUE(a.syn_seen);
  EXPECT_FALSE(a.gap);
  EXPECT_EQ(std::string(c.streams[1].data.begin(), c.streams[1].data.end()), "reply");
}

TEST(PcapStreams, Ipv6OverLinuxSllAndGaps) {
  const std::vector<Buffer> frames = {
      sll_ipv6(tcp(1790, 5000, 0xFFFFFFFE, 0x10, "ab")),  // sequence numbers wrap
      sll_ipv6(tcp(1790, 5000, 0, 0x10, "cd")),
      sll_ipv6(tcp(1790, 5000, 10, 0x10, "zz")),  // 8 octets never captured
  };
  const TempDir dir("bgpscribe-pcap-test");
  const auto path = write_capture(DLT_LINUX_SLL, frames, dir / "sll.pcap");
  const Capture c = read_tcp_streams(path);
  ASSERT_TRUE(c.error.empty()) << c.error;
  ASSERT_EQ(c.streams.size(), 1U);
  EXPECT_EQ(c.streams[0].source.to_string(), "[2001::1]:1790");
  EXPECT_EQ(std::string(c.streams[0].data.begin(), c.streams[0].data.end()), "abcdzz");
  EXPECT_TRUE(c.streams[0].gap);
  EXPECT_FALSE(c.streams[0].syn_seen);
}

TEST(PcapStreams, MissingFileIsAnError) {
  const Capture c = read_tcp_streams("/nonexistent/bgpscribe.pcap");
  EXPECT_FALSE(c.error.empty());
  EXPECT_TRUE(list_files("/nonexistent/bgpscribe").empty());
}

TEST(Provenance, ReadsCountsFromTheSharedData) {
  const std::filesystem::path data = BGPSCRIBE_SHARED_DATA;
  if (!std::filesystem::exists(data / "PROVENANCE.md")) {
    GTEST_SKIP() << "shared data set not found at " << data;
  }
  const auto p = read_provenance(data / "PROVENANCE.md");
  const auto it = p.find("bgp-pcap/pmacct/tests/303-BGP-high-availability/traffic-00.pcap");
  ASSERT_NE(it, p.end());
  EXPECT_EQ(it->second.messages.at("UPDATE"), 45U);
  EXPECT_EQ(it->second.messages.at("OPEN"), 1U);
  const auto bmp = p.find("bmp-pcap/NetGauze/assets/pcaps/bmp/evpn/evpn.pcap");
  ASSERT_NE(bmp, p.end());
  EXPECT_EQ(bmp->second.messages.at("RouteMonitoring"), 143U);
  EXPECT_EQ(bmp->second.inner_bgp.at("NOTIFICATION"), 2U);
}

}  // namespace
}  // namespace bgpscribe::tests
