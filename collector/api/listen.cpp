#include "collector/api/listen.hpp"

#include <boost/asio/error.hpp>
#include <stdexcept>

namespace bgpscribe::collector::api {

namespace asio = boost::asio;
using boost::system::error_code;

std::string shown_address(const config::ListenAddress& address, std::uint16_t port) {
  const std::string text = address.address.to_string();
  return (address.address.is_v4() ? text : "[" + text + "]") + ":" + std::to_string(port);
}

std::uint16_t listen_on(asio::ip::tcp::acceptor& acceptor, const config::ListenAddress& address,
                        const std::string& what) {
  error_code ec;
  const auto ip = asio::ip::make_address(address.address.to_string(), ec);
  const asio::ip::tcp::endpoint endpoint(ip, address.port);
  if (!ec) {
    acceptor.open(endpoint.protocol(), ec);
  }
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    std::string why = ec.message();
    if (ec == asio::error::access_denied && address.port < 1024) {
      why += " (a port below 1024 needs CAP_NET_BIND_SERVICE)";
    }
    throw std::runtime_error("api: cannot listen for " + what + " on " +
                             shown_address(address, address.port) + ": " + why);
  }
  return acceptor.local_endpoint().port();
}

}  // namespace bgpscribe::collector::api
