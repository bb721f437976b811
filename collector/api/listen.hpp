// Opens a TCP acceptor for one of the live API's HTTP listeners (RIS Live, metrics), with the
// error an operator can act on.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "collector/config/config.hpp"

namespace bgpscribe::collector::api {

// "127.0.0.1:9479", "[::1]:9479".
std::string shown_address(const config::ListenAddress& address, std::uint16_t port);

// Binds and listens; throws std::runtime_error "api: cannot listen for <what> on <address>:
// <reason>" (naming CAP_NET_BIND_SERVICE for a port below 1024 refused). Returns the bound port.
std::uint16_t listen_on(boost::asio::ip::tcp::acceptor& acceptor,
                        const config::ListenAddress& address, const std::string& what);

}  // namespace bgpscribe::collector::api
