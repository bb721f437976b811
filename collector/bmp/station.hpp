// The collector's BMP station input (RFC 7854): routers that cannot or may not peer with the
// collector send BMP, and every peer they monitor becomes a source (router.hpp).
//
// Runs on the collector's io_context, like the BGP sessions, so its sources touch the RIB and
// the fan-out on that one thread. Listens on `bmp_listen`; a connection from an address outside
// `bmp_routers` is refused (closed at once, logged within a rate limit). One connection per
// router address: a new one replaces the old (a router that restarted before its old connection
// timed out). A router that breaks the protocol is disconnected with the reason in the log; the
// others go on.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collector/bmp/router.hpp"
#include "collector/config/config.hpp"

namespace bgpscribe::collector::bmp {

struct StationStats {
  std::uint64_t connections = 0;  // accepted
  std::uint64_t refused = 0;      // from addresses outside bmp_routers
  std::uint64_t closed_on_error = 0;
  std::uint64_t bytes = 0;
};

// One connected router, for the status.
struct RouterStatus {
  std::string name;
  std::string address;
  std::string sys_name;
  std::int64_t connected_us = 0;
  std::size_t peers_up = 0;
  RouterStats stats;
};

class Station {
 public:
  Station(boost::asio::io_context& io, std::vector<config::BmpRouter> routers,
          RouterEvents& events);
  ~Station();
  Station(const Station&) = delete;
  Station& operator=(const Station&) = delete;

  // Binds every address (returns the ports bound, in order). Throws std::runtime_error naming
  // the address and port that failed.
  std::vector<std::uint16_t> listen(const std::vector<config::ListenAddress>& addresses);
  // Closes the listeners and every router connection: their sources go down with `why`.
  void stop(const std::string& why);

  [[nodiscard]] const StationStats& stats() const { return stats_; }
  [[nodiscard]] std::vector<RouterStatus> routers() const;

 private:
  struct Connection;
  void accept(std::size_t listener);
  void read(const std::shared_ptr<Connection>& c);
  // Hands every whole message in the buffer to the router; false when the connection ended.
  bool drain(Connection& c, std::int64_t now_us);
  void end(Connection& c, const std::string& why, bool error);
  // The router's name for `address`, or nullopt when no bmp_routers entry allows it.
  [[nodiscard]] std::optional<std::string> name_for(const codec::bgp::IpAddress& address) const;
  void log_refused(const codec::bgp::IpAddress& address);

  boost::asio::io_context& io_;
  std::vector<config::BmpRouter> allowed_;
  RouterEvents& events_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::map<codec::bgp::IpAddress, std::shared_ptr<Connection>> connections_;
  StationStats stats_;
  std::int64_t refused_window_s_ = 0;
  int refused_logged_ = 0;
  std::uint64_t refused_held_ = 0;
  bool stopped_ = false;
};

}  // namespace bgpscribe::collector::bmp
