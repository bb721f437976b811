#include "collector/api/listen.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
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

ServerThread::ServerThread(const config::ListenAddress& address, const std::string& what,
                           OnConnection on_connection)
    : acceptor_(io_), on_connection_(std::move(on_connection)) {
  port_ = listen_on(acceptor_, address, what);
  accept();
  thread_ = std::thread([this] { io_.run(); });
}

ServerThread::~ServerThread() {
  stop();
}

void ServerThread::accept() {
  acceptor_.async_accept([this](error_code ec, asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) {
        accept();  // a client that went away before we took it (ECONNABORTED, EMFILE)
      }
      return;
    }
    on_connection_(std::move(socket));
    accept();
  });
}

void ServerThread::stop(const std::function<void()>& before) {
  if (!thread_.joinable()) {
    return;
  }
  asio::post(io_, [this, &before] {
    error_code ignored;
    acceptor_.close(ignored);
    if (before) {
      before();
    }
    io_.stop();
  });
  thread_.join();
}

}  // namespace bgpscribe::collector::api
