// Process: the event loop of a BGP speaker, its listening sockets, its peers and dynamic-peer
// ranges (the Net::BGP::Process of this library).
//
// One io_context runs everything single-threaded: accepting, every Peer's sessions and timers,
// and the application's callbacks. An incoming connection is matched by source address to a
// configured Peer, else to the most specific dynamic range (which instantiates a Peer from its
// template and tells the application), else closed at once without reading a byte and counted.
// Startup errors (a port in use, an invalid peer config) throw std::system_error or
// std::invalid_argument: they are the application's to report; nothing after startup throws.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "codec/bgp/ip.hpp"
#include "speaker/peer.hpp"
#include "speaker/peer_config.hpp"

namespace bgpscribe::speaker {

// Accept sessions from any address in `range` whose AS is in `allowed_as` (any AS when empty).
// A Peer made from the template lives while it has a connection (or, after a graceful-restart
// drop, until its stale routes expire) and is then removed, which frees its place: an address
// that connected once keeps nothing. A connection counts against `max_pending` until its OPEN
// is accepted, and against `max_peers` from then on; one that sends no OPEN within
// `open_timeout` gets Hold Timer Expired (4/0). docs/speaker.md, "Dynamic peers".
struct DynamicPeers {
  codec::bgp::Prefix range{};
  std::vector<std::uint32_t> allowed_as;
  PeerConfig peer_template;  // peer_address, peer_as and passive are filled in per peer
  // Called once per new Peer, before its first message is read: set callbacks here.
  std::function<void(Peer&)> on_new_peer;
  // Called once per Peer of the range just before it is destroyed (session over, no OPEN, or
  // remove_peer), after its last state change: forget the Peer& here.
  std::function<void(Peer&)> on_peer_removed;
  // Called for each connection refused (address, why): the range is full, or too many
  // connections of the range are waiting for their OPEN. Also counted in ProcessStats.
  std::function<void(const codec::bgp::IpAddress&, std::string_view)> on_refused;
  // Peers of the range past their OPEN; more are refused (at the connection, or with Cease /
  // Connection Rejected, 6/5, at the OPEN).
  std::size_t max_peers = 4096;
  // Connections of the range still waiting for their OPEN; more are closed unread.
  // Default: min(max_peers, 64).
  std::optional<std::size_t> max_pending;
  // How long a connection may go without sending its OPEN (after our own, which DelayOpen
  // holds back): the OpenSent hold timer of a dynamic peer, instead of RFC 4271's 4 minutes.
  Millis open_timeout{std::chrono::seconds(5)};
};

struct ProcessStats {
  std::uint64_t accepted = 0;               // connections accepted from a known or dynamic peer
  std::uint64_t unmatched_connections = 0;  // closed at once: no peer or range matched
  std::uint64_t refused_connections = 0;    // of a dynamic range, refused: the two reasons below
  std::uint64_t refused_range_full = 0;     // max_peers reached (at the connection or the OPEN)
  std::uint64_t refused_pending_full = 0;   // max_pending connections waiting for their OPEN
  std::uint64_t dynamic_peers_created = 0;
  std::uint64_t dynamic_peers_removed = 0;  // their session ended: the place is free again
  // Dynamic peers removed before an OPEN of theirs was accepted: no OPEN within open_timeout,
  // a refused OPEN (AS not allowed, ...), or the connection closed by the other side.
  std::uint64_t pending_closed = 0;
};

class Process {
 public:
  Process();
  explicit Process(boost::asio::io_context& io);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Listens on `address`:`port` and returns the bound port (0 picks a free one). "::" accepts
  // IPv4 too (dual stack). Throws std::system_error when the socket cannot be bound.
  std::uint16_t listen(const codec::bgp::IpAddress& address, std::uint16_t port);

  // Adds a configured peer (not started: call Peer::start). Throws std::invalid_argument
  // with the config's problems, or when a peer with that address exists.
  Peer& add_peer(PeerConfig config);
  // Stops the peer (Cease / Peer De-configured) and destroys it once the current callback has
  // returned. The reference is invalid afterwards.
  void remove_peer(Peer& peer);
  void add_dynamic_peers(DynamicPeers d);
  // Called for each connection closed because no peer or dynamic range matches its address
  // (counted in ProcessStats::unmatched_connections): the application may log it; the library
  // does not log.
  void on_unmatched(std::function<void(const codec::bgp::IpAddress&)> f) {
    on_unmatched_ = std::move(f);
  }

  [[nodiscard]] Peer* find_peer(const codec::bgp::IpAddress& address) const;
  [[nodiscard]] std::vector<Peer*> peers() const;

  void run();
  // Runs for at most `d`; returns the number of handlers run.
  std::size_t run_for(Millis d);
  void stop();
  [[nodiscard]] boost::asio::io_context& io() { return *io_; }
  [[nodiscard]] const ProcessStats& stats() const { return stats_; }

  // ---- Used by Peer -------------------------------------------------------------------------
  // A dynamic peer's OPEN was accepted: it moves from its range's pending connections to its
  // peers; false (and counted) when the range already has max_peers.
  bool admit_dynamic(Peer& peer);
  // A dynamic peer has no connection left (and no stale routes): it is removed.
  void dynamic_peer_unused(Peer& peer);

 private:
  struct Listener;
  void accept_next(Listener& l);
  void on_accept(boost::asio::ip::tcp::socket socket);
  // Index of the most specific dynamic range holding `address`, or dynamic_.size().
  [[nodiscard]] std::size_t dynamic_range_for(const codec::bgp::IpAddress& address) const;
  void install_md5(const Listener& l, const codec::bgp::IpAddress& address, std::uint8_t length,
                   const std::string& key) const;
  void install_md5_everywhere(const codec::bgp::IpAddress& address, std::uint8_t length,
                              const std::string& key) const;
  // Takes the peer out of peers_ and destroys it once the current callback chain has returned.
  void discard(Peer& peer, std::string_view why);
  void refuse(DynamicPeers& d, const codec::bgp::IpAddress& address, std::string_view why);

  std::unique_ptr<boost::asio::io_context> owned_io_;
  boost::asio::io_context* io_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<std::unique_ptr<Peer>> removed_;
  std::vector<DynamicPeers> dynamic_;
  struct RangeCounts {
    std::size_t peers = 0;    // past their OPEN: against max_peers
    std::size_t pending = 0;  // waiting for their OPEN: against max_pending
  };
  std::vector<RangeCounts> dynamic_counts_;
  struct DynamicSlot {
    std::size_t range = 0;
    bool admitted = false;  // counted in peers, else in pending
    bool refused = false;   // its OPEN came with the range full
  };
  std::unordered_map<const Peer*, DynamicSlot> dynamic_slots_;
  ProcessStats stats_;
  std::function<void(const codec::bgp::IpAddress&)> on_unmatched_;
};

}  // namespace bgpscribe::speaker
