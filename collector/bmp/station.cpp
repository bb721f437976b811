#include "collector/bmp/station.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>

#include <algorithm>
#include <cstdio>
#include <span>
#include <stdexcept>

#include "codec/bmp/message.hpp"
#include "collector/core/exporter_worker.hpp"
#include "exporters/api/log.hpp"
#include "speaker/address.hpp"

namespace bgpscribe::collector::bmp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace wire_bmp = codec::bmp;

namespace {

// What a read asks for at least: a full table arrives in large reads, and a BMP message is
// usually far smaller. The buffer grows to the largest message allowed (1 MiB) when needed.
constexpr std::size_t kReadBuffer = std::size_t{256} << 10;

}  // namespace

struct Station::Connection {
  Connection(tcp::socket s, std::string name, const codec::bgp::IpAddress& address,
             RouterEvents& events)
      : socket(std::move(s)), router(std::move(name), address, events), buffer(kReadBuffer) {}
  tcp::socket socket;
  Router router;
  std::vector<std::uint8_t> buffer;
  std::size_t begin = 0;  // the first byte not handed to the router
  std::size_t end = 0;    // the end of what was read
  std::int64_t connected_us = 0;
  bool closed = false;
};

Station::Station(asio::io_context& io, std::vector<config::BmpRouter> routers, RouterEvents& events)
    : io_(io), allowed_(std::move(routers)), events_(events) {}

Station::~Station() {
  // The collector stops the station (stop()) while its sources can still go down; here the
  // sockets only close.
  stopped_ = true;
  boost::system::error_code ec;
  for (auto& a : acceptors_) {
    a->close(ec);
  }
  for (auto& [address, c] : connections_) {
    c->closed = true;
    c->socket.close(ec);
  }
}

std::vector<std::uint16_t> Station::listen(const std::vector<config::ListenAddress>& addresses) {
  std::vector<std::uint16_t> ports;
  for (const auto& l : addresses) {
    auto acceptor = std::make_unique<tcp::acceptor>(io_);
    try {
      const tcp::endpoint ep(speaker::net::to_asio(l.address), l.port);
      acceptor->open(ep.protocol());
      acceptor->set_option(asio::socket_base::reuse_address(true));
      if (!l.address.is_v4()) {
        // "::" takes IPv4 routers too (as mapped addresses); a specific IPv6 address only IPv6.
        acceptor->set_option(asio::ip::v6_only(!l.address.is_unspecified()));
      }
      acceptor->bind(ep);
      acceptor->listen(asio::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("BMP station: cannot listen on " + l.address.to_string() + " port " +
                               std::to_string(l.port) + ": " + e.code().message());
    }
    ports.push_back(acceptor->local_endpoint().port());
    acceptors_.push_back(std::move(acceptor));
    accept(acceptors_.size() - 1);
  }
  return ports;
}

std::optional<std::string> Station::name_for(const codec::bgp::IpAddress& address) const {
  const config::BmpRouter* best = nullptr;
  for (const auto& r : allowed_) {
    if (r.prefix.contains(address) && (best == nullptr || r.prefix.length > best->prefix.length)) {
      best = &r;
    }
  }
  if (best == nullptr) {
    return std::nullopt;
  }
  if (best->name.empty()) {
    return address.to_string();
  }
  const bool one_address = best->prefix.length == (address.is_v4() ? 32 : 128);
  return one_address ? best->name : best->name + "[" + address.to_string() + "]";
}

void Station::log_refused(const codec::bgp::IpAddress& address) {
  ++stats_.refused;
  // At most 20 lines a minute: a connection storm must not fill the log.
  const auto now_s = unix_micros() / 1'000'000;
  if (now_s - refused_window_s_ >= 60) {
    refused_window_s_ = now_s;
    refused_logged_ = 0;
  }
  if (refused_logged_ >= 20) {
    ++refused_held_;
    return;
  }
  ++refused_logged_;
  std::string more;
  if (refused_held_ > 0) {
    more = " (" + std::to_string(refused_held_) + " more refused since the last line)";
    refused_held_ = 0;
  }
  const std::string a = address.to_string();
  const exporters::LogField fields[] = {{"address", a}, {"reason", "not in bmp_routers"}};
  exporters::log(exporters::LogLevel::Warning, "bmp",
                 "connection from " + a + " refused: not in bmp_routers" + more, fields);
}

void Station::accept(std::size_t listener) {
  acceptors_[listener]->async_accept(
      [this, listener](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || stopped_) {
          return;
        }
        if (!ec) {
          boost::system::error_code peer_ec;
          const auto remote = socket.remote_endpoint(peer_ec);
          const auto address = speaker::net::from_asio(remote.address());
          const auto name = peer_ec ? std::nullopt : name_for(address);
          if (!name) {
            if (!peer_ec) {
              log_refused(address);
            }
            socket.close(peer_ec);
          } else {
            ++stats_.connections;
            socket.set_option(asio::socket_base::keep_alive(true), peer_ec);
            if (auto old = connections_.find(address); old != connections_.end()) {
              end(*old->second, "a new connection from the router replaces this one", false);
            }
            auto c = std::make_shared<Connection>(std::move(socket), *name, address, events_);
            c->connected_us = unix_micros();
            connections_[address] = c;
            exporters::logf(exporters::LogLevel::Info,
                            ("bmp router " + *name + " (" + address.to_string() + ")").c_str(),
                            "connected");
            read(c);
          }
        }
        accept(listener);
      });
}

void Station::read(const std::shared_ptr<Connection>& c) {
  auto& buf = c->buffer;
  c->socket.async_read_some(
      asio::buffer(std::span(buf).subspan(c->end).data(), buf.size() - c->end),
      [this, c](const boost::system::error_code& ec, std::size_t n) {
        if (c->closed) {
          return;
        }
        if (ec) {
          end(*c,
              ec == asio::error::eof ? std::string("the router closed the connection")
                                     : "read failed: " + ec.message(),
              false);
          return;
        }
        c->end += n;
        stats_.bytes += n;
        if (drain(*c, unix_micros())) {
          read(c);
        }
      });
}

bool Station::drain(Connection& c, std::int64_t now_us) {
  for (;;) {
    const auto pending = std::span<const std::uint8_t>(c.buffer).subspan(c.begin, c.end - c.begin);
    const auto f = wire_bmp::frame(pending);
    if (f.status == codec::bgp::FrameStatus::Broken) {
      end(c,
          "broken BMP stream after " + std::to_string(c.router.stats().messages) +
              " messages: " + f.error.message + " (byte " + std::to_string(f.error.offset) +
              " of the next message)",
          true);
      return false;
    }
    if (f.status == codec::bgp::FrameStatus::NeedMore) {
      // Keep the partial message at the front, and make room for the whole of it.
      if (c.begin > 0) {
        std::copy(c.buffer.begin() + static_cast<std::ptrdiff_t>(c.begin),
                  c.buffer.begin() + static_cast<std::ptrdiff_t>(c.end), c.buffer.begin());
        c.end -= c.begin;
        c.begin = 0;
      }
      if (f.size > c.buffer.size()) {
        c.buffer.resize(f.size);
      }
      return true;
    }
    if (auto problem = c.router.handle(pending.first(f.size), now_us)) {
      end(c, *problem, true);
      return false;
    }
    c.begin += f.size;
    if (c.router.terminated()) {
      end(c, c.router.termination(), false);
      return false;
    }
  }
}

void Station::end(Connection& c, const std::string& why, bool error) {
  if (c.closed) {
    return;
  }
  c.closed = true;
  if (error) {
    ++stats_.closed_on_error;
  }
  const auto peers = c.router.peers_up();
  exporters::logf(
      error ? exporters::LogLevel::Warning : exporters::LogLevel::Info,
      ("bmp router " + c.router.name() + " (" + c.router.address().to_string() + ")").c_str(),
      "%s: %s (%llu messages; %zu peers go down)", error ? "disconnected" : "closed", why.c_str(),
      static_cast<unsigned long long>(c.router.stats().messages), peers);
  c.router.close(unix_micros(), "BMP session of router " + c.router.name() + " ended: " + why);
  boost::system::error_code ec;
  c.socket.shutdown(tcp::socket::shutdown_both, ec);
  c.socket.close(ec);
  if (auto it = connections_.find(c.router.address());
      it != connections_.end() && it->second.get() == &c) {
    connections_.erase(it);  // `c` lives on in its pending read handler, if any
  }
}

void Station::stop(const std::string& why) {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  auto all = connections_;
  for (auto& [address, c] : all) {
    end(*c, why, false);
  }
}

std::vector<RouterStatus> Station::routers() const {
  std::vector<RouterStatus> out;
  for (const auto& [address, c] : connections_) {
    RouterStatus s;
    s.name = c->router.name();
    s.address = address.to_string();
    s.sys_name = c->router.sys_name();
    s.connected_us = c->connected_us;
    s.peers_up = c->router.peers_up();
    s.stats = c->router.stats();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace bgpscribe::collector::bmp
