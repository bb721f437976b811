#include "speaker/process.hpp"

#include <algorithm>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <stdexcept>
#include <system_error>

#include "speaker/address.hpp"
#include "speaker/socket_options.hpp"

namespace bgpscribe::speaker {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// An IPv4 address as the IPv4-mapped IPv6 address a dual-stack socket sees.
codec::bgp::IpAddress mapped(const codec::bgp::IpAddress& v4) {
  std::array<std::uint8_t, 16> b{};
  b[10] = 0xff;
  b[11] = 0xff;
  std::copy(v4.bytes.begin(), v4.bytes.begin() + 4, b.begin() + 12);
  return codec::bgp::IpAddress::v6(b);
}

}  // namespace

struct Process::Listener {
  explicit Listener(asio::io_context& io) : acceptor(io) {}
  tcp::acceptor acceptor;
  bool v6 = false;
  bool dual_stack = false;
};

Process::Process() : owned_io_(std::make_unique<asio::io_context>(1)), io_(owned_io_.get()) {}

Process::Process(asio::io_context& io) : io_(&io) {}

Process::~Process() {
  for (auto& l : listeners_) {
    boost::system::error_code ignored;
    l->acceptor.close(ignored);
  }
  peers_.clear();
  removed_.clear();
}

std::uint16_t Process::listen(const codec::bgp::IpAddress& address, std::uint16_t port) {
  auto l = std::make_unique<Listener>(*io_);
  const tcp::endpoint ep(net::to_asio(address), port);
  l->acceptor.open(ep.protocol());
  l->acceptor.set_option(asio::socket_base::reuse_address(true));
  l->v6 = !address.is_v4();
  if (l->v6) {
    const bool any = address.is_unspecified();
    l->acceptor.set_option(asio::ip::v6_only(!any));
    l->dual_stack = any;
  }
  l->acceptor.bind(ep);
  l->acceptor.listen(asio::socket_base::max_listen_connections);
  const std::uint16_t bound = l->acceptor.local_endpoint().port();
  // TCP MD5 keys live on the listening socket (the SYN is already signed).
  for (const auto& p : peers_) {
    if (!p->config().md5_password.empty()) {
      const auto& a = p->config().peer_address;
      install_md5(*l, a, a.is_v4() ? 32 : 128, p->config().md5_password);
    }
  }
  for (const auto& d : dynamic_) {
    if (!d.peer_template.md5_password.empty()) {
      install_md5(*l, d.range.address, d.range.length, d.peer_template.md5_password);
    }
  }
  accept_next(*l);
  listeners_.push_back(std::move(l));
  return bound;
}

void Process::install_md5(const Listener& l, const codec::bgp::IpAddress& address,
                          std::uint8_t length, const std::string& key) const {
  const int fd = const_cast<tcp::acceptor&>(l.acceptor).native_handle();
  std::error_code ec;
  if (address.is_v4()) {
    if (!l.v6) {
      ec = net::set_tcp_md5(fd, address, length, key);
    } else if (l.dual_stack) {
      // The kernel keys a mapped address as IPv4, with an IPv4 prefix length.
      ec = net::set_tcp_md5(fd, mapped(address), length, key);
    }
  } else if (l.v6) {
    ec = net::set_tcp_md5(fd, address, length, key);
  }
  if (ec) {
    throw std::system_error(ec, "TCP MD5 key for " + address.to_string());
  }
}

void Process::install_md5_everywhere(const codec::bgp::IpAddress& address, std::uint8_t length,
                                     const std::string& key) const {
  for (const auto& l : listeners_) {
    install_md5(*l, address, length, key);
  }
}

void Process::accept_next(Listener& l) {
  l.acceptor.async_accept([this, &l](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !l.acceptor.is_open()) {
      return;
    }
    if (!ec) {
      on_accept(std::move(socket));
    }
    accept_next(l);
  });
}

void Process::on_accept(tcp::socket socket) {
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) {
    return;
  }
  const codec::bgp::IpAddress address = net::from_asio(remote.address());
  if (Peer* p = find_peer(address)) {
    ++stats_.accepted;
    p->accept(std::move(socket));
    return;
  }
  const std::size_t best = dynamic_range_for(address);
  if (best == dynamic_.size()) {
    // Not ours: close without reading anything (hostile or misconfigured source).
    ++stats_.unmatched_connections;
    socket.close(ec);
    if (on_unmatched_) {
      on_unmatched_(address);
    }
    return;
  }
  DynamicPeers& d = dynamic_[best];
  RangeCounts& counts = dynamic_counts_[best];
  // Closed unread either way: the range has no room for another peer, or enough connections
  // of it are still to send their OPEN (those must not take the places of real routers).
  if (counts.peers >= d.max_peers) {
    ++stats_.refused_range_full;
    socket.close(ec);
    refuse(d, address, "dynamic range full (max_peers)");
    return;
  }
  if (counts.pending >= d.max_pending.value_or(std::min<std::size_t>(d.max_peers, 64))) {
    ++stats_.refused_pending_full;
    socket.close(ec);
    refuse(d, address, "too many connections of the range waiting for their OPEN (max_pending)");
    return;
  }
  PeerConfig c = d.peer_template;
  c.peer_address = address;
  c.peer_as = 0;
  c.allowed_as = d.allowed_as;
  c.passive = true;
  peers_.push_back(std::make_unique<Peer>(*this, std::move(c), true));
  Peer& p = *peers_.back();
  p.set_open_hold(d.open_timeout);
  ++counts.pending;
  dynamic_slots_[&p] = DynamicSlot{best, false, false};
  ++stats_.dynamic_peers_created;
  ++stats_.accepted;
  if (d.on_new_peer) {
    d.on_new_peer(p);
  }
  p.start();
  p.accept(std::move(socket));
}

std::size_t Process::dynamic_range_for(const codec::bgp::IpAddress& address) const {
  // The most specific range wins.
  std::size_t best = dynamic_.size();
  for (std::size_t i = 0; i < dynamic_.size(); ++i) {
    if (dynamic_[i].range.contains(address) &&
        (best == dynamic_.size() || dynamic_[i].range.length > dynamic_[best].range.length)) {
      best = i;
    }
  }
  return best;
}

Peer& Process::add_peer(PeerConfig config) {
  const auto problems = validate(config);
  if (!problems.empty()) {
    std::string msg = "peer " + config.label() + ":";
    for (const auto& p : problems) {
      msg += " " + p + ";";
    }
    throw std::invalid_argument(msg);
  }
  if (find_peer(config.peer_address) != nullptr) {
    throw std::invalid_argument("peer " + config.peer_address.to_string() + " already exists");
  }
  if (!config.md5_password.empty()) {
    const auto& a = config.peer_address;
    install_md5_everywhere(a, a.is_v4() ? 32 : 128, config.md5_password);
  }
  peers_.push_back(std::make_unique<Peer>(*this, std::move(config), false));
  return *peers_.back();
}

void Process::refuse(DynamicPeers& d, const codec::bgp::IpAddress& address, std::string_view why) {
  ++stats_.refused_connections;
  if (d.on_refused) {
    d.on_refused(address, why);
  }
}

bool Process::admit_dynamic(Peer& peer) {
  auto it = dynamic_slots_.find(&peer);
  if (it == dynamic_slots_.end() || it->second.admitted) {
    return true;  // a later connection of a peer already in
  }
  DynamicSlot& slot = it->second;
  DynamicPeers& d = dynamic_[slot.range];
  RangeCounts& counts = dynamic_counts_[slot.range];
  if (counts.peers >= d.max_peers) {
    // Other connections of the range got their OPEN in first; this one is closed with
    // Cease / Connection Rejected and removed with its session.
    slot.refused = true;
    ++stats_.refused_range_full;
    refuse(d, peer.config().peer_address, "dynamic range full (max_peers) at the OPEN");
    return false;
  }
  slot.admitted = true;
  --counts.pending;
  ++counts.peers;
  return true;
}

void Process::dynamic_peer_unused(Peer& peer) {
  discard(peer, "dynamic peer removed: no connection left");
}

void Process::remove_peer(Peer& peer) {
  discard(peer, "removed");
}

void Process::discard(Peer& peer, std::string_view why) {
  auto it =
      std::find_if(peers_.begin(), peers_.end(), [&](const auto& p) { return p.get() == &peer; });
  if (it == peers_.end()) {
    return;
  }
  std::unique_ptr<Peer> owned = std::move(*it);
  peers_.erase(it);
  owned->shutdown_for_removal(why);
  if (auto slot = dynamic_slots_.find(owned.get()); slot != dynamic_slots_.end()) {
    // Its place in the range (or among the pending connections) is free again.
    const DynamicSlot s = slot->second;
    dynamic_slots_.erase(slot);
    RangeCounts& counts = dynamic_counts_[s.range];
    if (s.admitted) {
      --counts.peers;
    } else {
      --counts.pending;
      if (!s.refused) {
        ++stats_.pending_closed;
      }
    }
    ++stats_.dynamic_peers_removed;
    if (dynamic_[s.range].on_peer_removed) {
      dynamic_[s.range].on_peer_removed(*owned);
    }
  }
  if (!owned->config().md5_password.empty() && !owned->dynamic()) {
    const auto& a = owned->config().peer_address;
    try {
      install_md5_everywhere(a, a.is_v4() ? 32 : 128, "");
    } catch (const std::system_error&) {
      // The key stays until the listener closes: harmless, the peer is gone.
    }
  }
  removed_.push_back(std::move(owned));
  // Destroyed once the current callback chain has unwound (it may be this peer's callback).
  asio::post(*io_, [this] { removed_.clear(); });
}

void Process::add_dynamic_peers(DynamicPeers d) {
  if (!d.peer_template.md5_password.empty()) {
    install_md5_everywhere(d.range.address, d.range.length, d.peer_template.md5_password);
  }
  dynamic_.push_back(std::move(d));
  dynamic_counts_.emplace_back();
}

Peer* Process::find_peer(const codec::bgp::IpAddress& address) const {
  for (const auto& p : peers_) {
    if (p->config().peer_address == address) {
      return p.get();
    }
  }
  return nullptr;
}

std::vector<Peer*> Process::peers() const {
  std::vector<Peer*> out;
  out.reserve(peers_.size());
  for (const auto& p : peers_) {
    out.push_back(p.get());
  }
  return out;
}

void Process::run() {
  // run() returns when there is no work; a speaker with only listeners always has work.
  io_->restart();
  io_->run();
}

std::size_t Process::run_for(Millis d) {
  io_->restart();
  return io_->run_for(d);
}

void Process::stop() {
  io_->stop();
}

}  // namespace bgpscribe::speaker
