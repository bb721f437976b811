#include "tests/support/pcap_streams.hpp"

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <tuple>

namespace bgpscribe::tests {

namespace {

using Octets = std::span<const std::uint8_t>;

// Link types by number, so that the code does not depend on which DLT_ macros this libpcap
// defines (the values are fixed by tcpdump.org's link-layer header type registry).
constexpr int kLinkNull = 0;  // BSD loopback: 4-octet host-order family
constexpr int kLinkEthernet = 1;
constexpr int kLinkRaw = 12;  // LINKTYPE_RAW (pcap files store 101)
constexpr int kLinkRawBsd = 14;
constexpr int kLinkRawLinktype = 101;
constexpr int kLinkCiscoHdlc = 104;
constexpr int kLinkFrameRelay = 107;
constexpr int kLinkLoop = 108;  // OpenBSD loopback: network-order family
constexpr int kLinkLinuxSll = 113;
constexpr int kLinkJuniperEther = 178;
constexpr int kLinkIpv4 = 228;
constexpr int kLinkIpv6 = 229;
constexpr int kLinkLinuxSll2 = 276;

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86DD;
constexpr std::uint16_t kEtherVlan = 0x8100;
constexpr std::uint16_t kEtherQinQ = 0x88A8;

std::uint16_t be16(Octets b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
std::uint32_t be32(Octets b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

// The IP packet inside an Ethernet frame (VLAN tags skipped), or nullopt.
std::optional<Octets> from_ethernet(Octets f) {
  if (f.size() < 14) {
    return std::nullopt;
  }
  std::size_t at = 12;
  std::uint16_t type = be16(f, at);
  while ((type == kEtherVlan || type == kEtherQinQ) && f.size() >= at + 6) {
    at += 4;
    type = be16(f, at);
  }
  if (type != kEtherIpv4 && type != kEtherIpv6) {
    return std::nullopt;
  }
  return f.subspan(at + 2);
}

// tcpdump print-juniper.c: magic "MGC", a flags octet, optional extension TLVs behind a
// 2-octet big-endian length, then for Juniper Ethernet a plain Ethernet frame.
std::optional<Octets> from_juniper_ether(Octets f) {
  if (f.size() < 4 || f[0] != 'M' || f[1] != 'G' || f[2] != 'C') {
    return std::nullopt;
  }
  constexpr std::uint8_t kExtensions = 0x80;
  constexpr std::uint8_t kNoL2 = 0x02;
  std::size_t at = 4;
  if ((f[3] & kExtensions) != 0) {
    if (f.size() < 6) {
      return std::nullopt;
    }
    const std::size_t ext = be16(f, 4);
    at += 2 + ext;
  }
  if (f.size() <= at) {
    return std::nullopt;
  }
  if ((f[3] & kNoL2) != 0) {
    return f.subspan(at);  // IP follows directly
  }
  return from_ethernet(f.subspan(at));
}

// Frame Relay: a 2-octet Q.922 address, then either Cisco's encapsulation (an Ethertype) or
// RFC 2427 (control 0x03, optional pad, NLPID 0xCC IPv4 / 0x8E IPv6, or SNAP 0x80 + Ethertype).
std::optional<Octets> from_frame_relay(Octets f) {
  if (f.size() > 4 && (be16(f, 2) == kEtherIpv4 || be16(f, 2) == kEtherIpv6)) {
    return f.subspan(4);
  }
  for (std::size_t at = 2; at + 2 < f.size() && at < 6; ++at) {
    if (f[at] != 0x03) {
      continue;
    }
    std::size_t p = at + 1;
    if (f[p] == 0x00) {
      ++p;  // pad octet
    }
    if (p >= f.size()) {
      return std::nullopt;
    }
    if (f[p] == 0xCC || f[p] == 0x8E) {
      return f.subspan(p + 1);
    }
    if (f[p] == 0x80 && f.size() >= p + 6) {
      return f.subspan(p + 6);  // OUI(3) + Ethertype(2)
    }
  }
  return std::nullopt;
}

std::optional<Octets> network_layer(int link, Octets f) {
  switch (link) {
    case kLinkEthernet:
      return from_ethernet(f);
    case kLinkLinuxSll:
      return f.size() > 16 ? std::optional<Octets>(f.subspan(16)) : std::nullopt;
    case kLinkLinuxSll2:
      return f.size() > 20 ? std::optional<Octets>(f.subspan(20)) : std::nullopt;
    case kLinkJuniperEther:
      return from_juniper_ether(f);
    case kLinkCiscoHdlc:
      return f.size() > 4 ? std::optional<Octets>(f.subspan(4)) : std::nullopt;
    case kLinkFrameRelay:
      return from_frame_relay(f);
    case kLinkNull:
    case kLinkLoop:
      return f.size() > 4 ? std::optional<Octets>(f.subspan(4)) : std::nullopt;
    case kLinkRaw:
    case kLinkRawBsd:
    case kLinkRawLinktype:
    case kLinkIpv4:
    case kLinkIpv6:
      return f;
    default:
      return std::nullopt;
  }
}

struct Segment {
  Endpoint source;
  Endpoint destination;
  std::uint8_t protocol = 0;  // 6 TCP, 17 UDP
  Octets transport;
  bool truncated = false;  // IP says more octets than were captured
};

// IPv4 (RFC 791) or IPv6 (RFC 8200, skipping the usual extension headers) to the transport.
std::optional<Segment> transport_layer(Octets ip) {
  if (ip.empty()) {
    return std::nullopt;
  }
  Segment s;
  const int version = ip[0] >> 4;
  if (version == 4) {
    if (ip.size() < 20) {
      return std::nullopt;
    }
    const std::size_t ihl = std::size_t{ip[0] & 0x0FU} * 4;
    const std::size_t total = be16(ip, 2);
    const std::uint16_t fragment = be16(ip, 6);
    if (ihl < 20 || ip.size() < ihl || (fragment & 0x3FFFU) != 0) {
      return std::nullopt;  // fragments are not reassembled
    }
    s.protocol = ip[9];
    std::copy(ip.begin() + 12, ip.begin() + 16, s.source.address.begin());
    std::copy(ip.begin() + 16, ip.begin() + 20, s.destination.address.begin());
    // Ethernet pads short frames: trust the IP total length when it is smaller.
    const std::size_t end = total >= ihl && total <= ip.size() ? total : ip.size();
    s.truncated = total > ip.size();
    s.transport = ip.subspan(ihl, end - ihl);
    return s;
  }
  if (version == 6) {
    if (ip.size() < 40) {
      return std::nullopt;
    }
    s.source.ipv6 = s.destination.ipv6 = true;
    std::copy(ip.begin() + 8, ip.begin() + 24, s.source.address.begin());
    std::copy(ip.begin() + 24, ip.begin() + 40, s.destination.address.begin());
    const std::size_t payload = be16(ip, 4);
    std::uint8_t next = ip[6];
    std::size_t at = 40;
    // Hop-by-hop, routing, destination options: length in 8-octet units after the first 8.
    while ((next == 0 || next == 43 || next == 60) && ip.size() >= at + 8) {
      const std::uint8_t following = ip[at];
      at += (std::size_t{ip[at + 1]} + 1) * 8;
      next = following;
    }
    if (next == 44 || ip.size() < at) {
      return std::nullopt;  // fragment
    }
    s.protocol = next;
    const std::size_t end = 40 + payload <= ip.size() ? 40 + payload : ip.size();
    s.truncated = 40 + payload > ip.size();
    if (end < at) {
      return std::nullopt;
    }
    s.transport = ip.subspan(at, end - at);
    return s;
  }
  return std::nullopt;
}

struct PendingSegment {
  std::uint32_t seq = 0;
  std::vector<std::uint8_t> payload;
};

struct Flow {
  Endpoint source;
  Endpoint destination;
  std::size_t order = 0;
  bool syn_seen = false;
  std::uint32_t isn = 0;  // sequence number of the first payload octet after the SYN
  std::optional<std::size_t> syn_payload;  // index of a segment that came with the SYN
  bool truncated = false;
  std::vector<PendingSegment> segments;
};

// Orders by sequence number relative to a base (wrap-safe), drops what was already covered.
TcpStream assemble(Flow& flow) {
  TcpStream out;
  out.source = flow.source;
  out.destination = flow.destination;
  out.syn_seen = flow.syn_seen;
  out.gap = flow.truncated;
  if (flow.segments.empty()) {
    return out;
  }
  std::uint32_t base = flow.isn;
  if (flow.syn_payload) {
    // A SYN consumes one sequence number, so its payload starts at ISN + 1. Some synthetic
    // captures (pmacct's replays) put the payload at the ISN itself: believe them when the
    // next segment starts right after the payload counted that way.
    PendingSegment& first = flow.segments[*flow.syn_payload];
    const std::uint32_t at_isn = first.seq - 1;
    const auto next = static_cast<std::uint32_t>(at_isn + first.payload.size());
    for (const auto& s : flow.segments) {
      if (&s != &first && s.seq == next) {
        first.seq = at_isn;
        base = at_isn;
        break;
      }
    }
  }
  if (!flow.syn_seen) {
    // Mid-session capture: the earliest sequence number (wrap-aware, relative to the first
    // segment seen) is the start.
    base = flow.segments.front().seq;
    for (const auto& s : flow.segments) {
      if (static_cast<std::int32_t>(s.seq - base) < 0) {
        base = s.seq;
      }
    }
  }
  std::stable_sort(flow.segments.begin(), flow.segments.end(),
                   [base](const PendingSegment& a, const PendingSegment& b) {
                     return a.seq - base < b.seq - base;
                   });
  std::uint64_t expected = 0;
  for (const auto& s : flow.segments) {
    const std::uint64_t rel = s.seq - base;
    const std::uint64_t end = rel + s.payload.size();
    if (end <= expected) {
      continue;  // retransmission
    }
    if (rel > expected) {
      out.gap = true;  // octets never captured; keep going so later messages stay visible
      expected = rel;
    }
    const std::size_t skip = static_cast<std::size_t>(expected - rel);
    out.data.insert(out.data.end(), s.payload.begin() + static_cast<std::ptrdiff_t>(skip),
                    s.payload.end());
    ++out.segments;
    expected = end;
  }
  return out;
}

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};

}  // namespace

std::string Endpoint::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(ipv6 ? AF_INET6 : AF_INET, address.data(), text, sizeof(text));
  if (ipv6) {
    return "[" + std::string(text) + "]:" + std::to_string(port);
  }
  return std::string(text) + ":" + std::to_string(port);
}

Capture read_tcp_streams(const std::filesystem::path& file) {
  Capture capture;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, PcapCloser> handle(pcap_open_offline(file.c_str(), errbuf));
  if (!handle) {
    capture.error = errbuf;
    return capture;
  }
  capture.link_type = pcap_datalink(handle.get());

  using Key = std::tuple<Endpoint, Endpoint>;
  std::map<Key, Flow> flows;
  std::map<Key, UdpDatagramCount> udp;
  std::size_t order = 0;

  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int rc = 0;
  while ((rc = pcap_next_ex(handle.get(), &header, &data)) == 1) {
    ++capture.packets;
    const Octets frame(data, header->caplen);
    auto ip = network_layer(capture.link_type, frame);
    auto seg = ip ? transport_layer(*ip) : std::nullopt;
    if (!seg) {
      ++capture.undecoded_packets;
      continue;
    }
    const bool cut = seg->truncated || header->caplen < header->len;
    if (seg->protocol == 17 && seg->transport.size() >= 8) {
      seg->source.port = be16(seg->transport, 0);
      seg->destination.port = be16(seg->transport, 2);
      auto& u = udp[Key{seg->source, seg->destination}];
      u.source = seg->source;
      u.destination = seg->destination;
      ++u.datagrams;
      continue;
    }
    if (seg->protocol != 6 || seg->transport.size() < 20) {
      ++capture.undecoded_packets;
      continue;
    }
    const Octets tcp = seg->transport;
    seg->source.port = be16(tcp, 0);
    seg->destination.port = be16(tcp, 2);
    const std::uint32_t seq = be32(tcp, 4);
    const std::size_t data_offset = std::size_t{static_cast<std::uint8_t>(tcp[12] >> 4)} * 4;
    const std::uint8_t flags = tcp[13];
    constexpr std::uint8_t kSyn = 0x02;
    if (data_offset < 20 || data_offset > tcp.size()) {
      ++capture.undecoded_packets;
      continue;
    }
    Flow& flow = flows[Key{seg->source, seg->destination}];
    if (flow.order == 0) {
      flow.order = ++order;
      flow.source = seg->source;
      flow.destination = seg->destination;
    }
    flow.truncated = flow.truncated || cut;
    if ((flags & kSyn) != 0) {
      flow.syn_seen = true;
      flow.isn = seq + 1;
    }
    const Octets payload = tcp.subspan(data_offset);
    if (!payload.empty()) {
      if ((flags & kSyn) != 0) {
        flow.syn_payload = flow.segments.size();
      }
      flow.segments.push_back(
          PendingSegment{(flags & kSyn) != 0 ? seq + 1 : seq, {payload.begin(), payload.end()}});
    }
  }
  if (rc == -1) {
    capture.error = pcap_geterr(handle.get());
  }

  std::vector<Flow*> ordered;
  for (auto& [key, flow] : flows) {
    ordered.push_back(&flow);
  }
  std::sort(ordered.begin(), ordered.end(),
            [](const Flow* a, const Flow* b) { return a->order < b->order; });
  for (Flow* f : ordered) {
    capture.streams.push_back(assemble(*f));
  }
  for (auto& [key, u] : udp) {
    capture.udp.push_back(u);
  }
  return capture;
}

std::vector<std::filesystem::path> list_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return out;
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec)) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> shared_captures(const std::filesystem::path& data,
                                         const std::string& folder) {
  std::vector<std::string> out;
  for (const auto& f : list_files(data / folder)) {
    out.push_back(std::filesystem::relative(f, data).string());
  }
  if (out.empty()) {
    out.emplace_back();
  }
  return out;
}

std::string capture_test_name(std::size_t index, const std::string& path) {
  std::string name = std::to_string(index) + "_";
  for (char c : std::filesystem::path(path).filename().string()) {
    name += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
  }
  return name;
}

}  // namespace bgpscribe::tests
