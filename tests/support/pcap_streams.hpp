// Test support: TCP payload streams reassembled from pcap and pcapng captures (libpcap).
//
// Tests use it to feed real BGP and BMP sessions from the shared data set to the codec. It
// reassembles each direction of each TCP connection by sequence number (duplicates and
// retransmissions dropped, gaps flagged), over Ethernet (with VLAN tags), Linux cooked
// captures (SLL and SLL2), Juniper Ethernet, Cisco HDLC, Frame Relay, BSD loopback and raw IP
// link types, IPv4 and IPv6. It is test code: it trusts libpcap, ignores IP fragments and TCP
// options, and never touches the network.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bgpscribe::tests {

struct Endpoint {
  std::array<std::uint8_t, 16> address{};  // IPv4 in the first 4 octets
  bool ipv6 = false;
  std::uint16_t port = 0;

  [[nodiscard]] std::string to_string() const;  // "192.0.2.1:179", "[2001:db8::1]:179"
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

// One direction of one TCP connection, in capture order of its first packet.
struct TcpStream {
  Endpoint source;
  Endpoint destination;
  std::vector<std::uint8_t> data;  // payload octets in sequence order
  std::size_t segments = 0;        // segments that carried payload
  bool syn_seen = false;           // the stream starts at its SYN (else mid-session)
  bool gap = false;                // octets are missing (not captured, or cut by snaplen)
};

struct UdpDatagramCount {
  Endpoint source;
  Endpoint destination;
  std::size_t datagrams = 0;
};

struct Capture {
  int link_type = -1;
  std::size_t packets = 0;
  std::size_t undecoded_packets = 0;  // link layer or network layer we could not read
  std::vector<TcpStream> streams;
  std::vector<UdpDatagramCount> udp;  // UDP flows seen (IPFIX and the like), not reassembled
  std::string error;                  // non-empty when the file could not be read
};

// Reads a pcap or pcapng file and reassembles every TCP stream in it.
Capture read_tcp_streams(const std::filesystem::path& file);

// Every regular file below `dir`, sorted; empty when `dir` does not exist.
std::vector<std::filesystem::path> list_files(const std::filesystem::path& dir);

// The captures below `data / folder` ("bgp-pcap", "bmp-pcap"), relative to `data`, sorted: the
// parameters of a test over the shared data set. One empty name when there are none, so that
// the test still runs and can report the skip.
std::vector<std::string> shared_captures(const std::filesystem::path& data,
                                         const std::string& folder);
// A test name for the capture `path`: "INDEX_" then its file name with every character other
// than a letter or digit as '_'.
std::string capture_test_name(std::size_t index, const std::string& path);

}  // namespace bgpscribe::tests
