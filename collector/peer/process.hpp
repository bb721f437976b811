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
#include <vector>

#include "codec/bgp/ip.hpp"
#include "collector/peer/peer.hpp"
#include "collector/peer/peer_config.hpp"

namespace bgpscribe::collector {

// Accept sessions from any address in `range` whose AS is in `allowed_as` (any AS when empty).
struct DynamicPeers {
  codec::bgp::Prefix range{};
  std::vector<std::uint32_t> allowed_as;
  PeerConfig peer_template;  // peer_address, peer_as and passive are filled in per peer
  // Called once per new Peer, before its first message is read: set callbacks here.
  std::function<void(Peer&)> on_new_peer;
  // Connections that would make more peers of this range are refused (removed peers free
  // their place).
  std::size_t max_peers = 4096;
};

struct ProcessStats {
  std::uint64_t accepted = 0;               // connections accepted from a known or dynamic peer
  std::uint64_t unmatched_connections = 0;  // closed at once: no peer or range matched
  std::uint64_t refused_connections = 0;    // matched, but refused (peer stopped, range full)
  std::uint64_t dynamic_peers_created = 0;
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

  [[nodiscard]] Peer* find_peer(const codec::bgp::IpAddress& address) const;
  [[nodiscard]] std::vector<Peer*> peers() const;

  void run();
  // Runs for at most `d`; returns the number of handlers run.
  std::size_t run_for(Millis d);
  void stop();
  [[nodiscard]] boost::asio::io_context& io() { return *io_; }
  [[nodiscard]] const ProcessStats& stats() const { return stats_; }

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

  std::unique_ptr<boost::asio::io_context> owned_io_;
  boost::asio::io_context* io_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<std::unique_ptr<Peer>> removed_;
  std::vector<DynamicPeers> dynamic_;
  std::vector<std::size_t> dynamic_counts_;
  ProcessStats stats_;
};

}  // namespace bgpscribe::collector
