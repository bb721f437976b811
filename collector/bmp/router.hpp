// One BMP router's session at the collector's station input (RFC 7854): the order and the
// consistency of its messages, and the sources it reports.
//
// Every peer the router monitors (Peer Up) becomes a source of records, as a direct BGP session
// is one: its pre-policy Adj-RIB-In from the Peer Up on, its post-policy Adj-RIB-In (L flag)
// from the first Route Monitoring that carries one. Each source has its own PeerInfo (the
// monitored session's addresses, ASes and BGP identifiers, and the router) and the context its
// UPDATEs decode with (codec/bmp/context.hpp). Adj-RIB-Out (RFC 8671: routes the router sends,
// not receives) is not archived; such messages are counted.
//
// A message that breaks the protocol (RFC 7854 section 4: no Initiation first, a Route
// Monitoring for a peer that is not up, a per-peer header that disagrees with the peer's
// OPENs, an unknown message type, a body that does not parse) fails handle() with a reason that
// says what and where: the station then closes the connection, and close() takes every source
// of the router down. No I/O here: the station reads the socket, the fuzz target feeds bytes.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "codec/bgp/ip.hpp"
#include "codec/bgp/parse_context.hpp"
#include "codec/bmp/message.hpp"
#include "exporters/api/record.hpp"

namespace bgpscribe::collector::bmp {

// One source of the router: a monitored peer's pre- or post-policy Adj-RIB-In.
struct Source {
  exporters::PeerInfoPtr info;
  // For its UPDATEs: [0] with 4-octet AS_PATHs, [1] with 2-octet ones (A flag, RFC 7854 4.2).
  std::array<codec::bgp::ParseContext, 2> context{};
  exporters::SharedBytes open_sent;      // the router's OPEN to the peer
  exporters::SharedBytes open_received;  // the peer's OPEN
  std::int64_t up_time_us = 0;           // when the Peer Up arrived
};

// What a router's messages become; the collector implements it.
class RouterEvents {
 public:
  RouterEvents() = default;
  RouterEvents(const RouterEvents&) = delete;
  RouterEvents& operator=(const RouterEvents&) = delete;
  virtual ~RouterEvents() = default;
  // The collector-wide id of a source (the same for the same router, peer type,
  // distinguisher, address and policy across reconnections).
  virtual std::uint32_t source_id(const exporters::PeerInfo& info) = 0;
  // The source's session is up (Peer Up, or the first post-policy Route Monitoring).
  virtual void source_up(const Source& source, std::int64_t time_us) = 0;
  // One UPDATE of the source (`update`: the whole BGP message, as the router sent it).
  virtual void route_monitoring(const Source& source, std::span<const std::uint8_t> update,
                                const codec::bgp::ParseContext& context, std::int64_t time_us) = 0;
  // The source's session ended. `notification`: the NOTIFICATION that ended it, if any;
  // `local`: the router sent it (Peer Down reason 1).
  virtual void source_down(const Source& source, std::int64_t time_us, const std::string& reason,
                           std::span<const std::uint8_t> notification, bool local) = 0;
};

struct RouterStats {
  std::uint64_t messages = 0;
  std::uint64_t route_monitoring = 0;
  std::uint64_t peer_ups = 0;
  std::uint64_t peer_downs = 0;
  std::uint64_t statistics = 0;
  std::uint64_t adj_rib_out = 0;         // Route Monitoring of Adj-RIB-Out, not archived
  std::uint64_t mirroring = 0;           // Route Mirroring, not archived
  std::uint64_t peer_downs_unknown = 0;  // Peer Down for a peer that was not up: ignored
};

class Router {
 public:
  // `name`: how the archive names the router (config BmpRouter).
  Router(std::string name, const codec::bgp::IpAddress& address, RouterEvents& events);

  // One complete BMP message, as bmp::frame framed it, received at `now_us`. A reason
  // (what, where) means the connection must close (then close()); nullopt: go on.
  using Problem = std::optional<std::string>;
  [[nodiscard]] Problem handle(std::span<const std::uint8_t> message, std::int64_t now_us);
  // The connection ended: every source still up goes down with `why`.
  void close(std::int64_t now_us, const std::string& why);

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const codec::bgp::IpAddress& address() const { return address_; }
  [[nodiscard]] const RouterStats& stats() const { return stats_; }
  // sysName and sysDescr from the Initiation (empty until then).
  [[nodiscard]] const std::string& sys_name() const { return sys_name_; }
  [[nodiscard]] const std::string& sys_descr() const { return sys_descr_; }
  // Whether a Termination ended the session (and why, in words).
  [[nodiscard]] bool terminated() const { return terminated_; }
  [[nodiscard]] const std::string& termination() const { return termination_; }
  [[nodiscard]] std::size_t peers_up() const { return peers_.size(); }

 private:
  // Peer type(1), distinguisher(8), address(16): RFC 7854 section 4.2 names a peer by them.
  using PeerKey = std::array<std::uint8_t, 25>;
  struct Peer {
    std::unique_ptr<Source> pre;   // from the Peer Up
    std::unique_ptr<Source> post;  // from the first post-policy Route Monitoring
    codec::bmp::PerPeerHeader up_header{};
  };
  static PeerKey key_of(const codec::bmp::PerPeerHeader& h);

  Problem peer_up(const codec::bmp::PeerUp& m, std::int64_t now_us);
  Problem route(const codec::bmp::RouteMonitoring& m, std::int64_t now_us);
  Problem peer_down(const codec::bmp::PeerDown& m, std::span<const std::uint8_t> message,
                    std::int64_t now_us);
  std::unique_ptr<Source> make_source(const Source& pre, bool post_policy);
  void down(Peer& p, std::int64_t now_us, const std::string& why,
            std::span<const std::uint8_t> notification, bool local);

  std::string name_;
  codec::bgp::IpAddress address_;
  RouterEvents& events_;
  std::map<PeerKey, Peer> peers_;
  RouterStats stats_;
  bool initiated_ = false;
  bool terminated_ = false;
  std::string termination_;
  std::string sys_name_;
  std::string sys_descr_;
};

}  // namespace bgpscribe::collector::bmp
