// The live API's HTTP listeners (RIS Live, metrics): a TCP acceptor opened with the error an
// operator can act on, and the thread that serves its connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "collector/config/config.hpp"

namespace bgpscribe::collector::api {

// "127.0.0.1:9479", "[::1]:9479".
std::string shown_address(const config::ListenAddress& address, std::uint16_t port);

// Binds and listens; throws std::runtime_error "api: cannot listen for <what> on <address>:
// <reason>" (naming CAP_NET_BIND_SERVICE for a port below 1024 refused). Returns the bound port.
std::uint16_t listen_on(boost::asio::ip::tcp::acceptor& acceptor,
                        const config::ListenAddress& address, const std::string& what);

// An io_context on a thread of its own with a TCP acceptor: every accepted connection goes to
// `on_connection` on that thread, which serves it there (never on the collector's threads).
class ServerThread {
 public:
  using OnConnection = std::function<void(boost::asio::ip::tcp::socket)>;
  // Listens at once (listen_on: throws naming the address), then starts the thread.
  ServerThread(const config::ListenAddress& address, const std::string& what,
               OnConnection on_connection);
  // stop(), if not done yet.
  ~ServerThread();
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  // Closes the acceptor, runs `before` on the thread (close the clients there), stops the
  // io_context (what is pending is dropped with it) and joins the thread.
  void stop(const std::function<void()>& before = {});

  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  void accept();

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  OnConnection on_connection_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace bgpscribe::collector::api
