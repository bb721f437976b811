// Fuzz target for the speaker's receive path (speaker/): a real loopback session that
// completes the OPEN exchange and then receives the fuzz input as the peer's byte stream.
//
// Everything the library does with hostile bytes runs: framing, the FSM, OPEN/UPDATE/
// NOTIFICATION/ROUTE-REFRESH decoding, RFC 7606 reactions, max-prefix accounting, graceful
// restart bookkeeping and the Update accessors (called from the update callback). Input
// layout: one selector octet (bit 0: ADD-PATH on IPv4/IPv6 unicast, bit 1: the client without
// the 4-octet AS capability, bit 2: max-prefix 20, bit 3: graceful restart on both sides,
// bit 4: a second OPEN-less connection first), then the stream. One Process lives across
// inputs; each input gets a new connection, and the loop runs until the session is gone.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "codec/bgp/capability.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bgp/route_refresh.hpp"
#include "codec/wire/writer.hpp"
#include "speaker/process.hpp"

namespace {

namespace bgp = bgpscribe::codec::bgp;
namespace wire = bgpscribe::codec::wire;
using bgpscribe::speaker::Peer;
using bgpscribe::speaker::PeerConfig;
using bgpscribe::speaker::Process;
using bgpscribe::speaker::State;
using bgpscribe::speaker::Update;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

PeerConfig base_config(std::uint8_t selector) {
  PeerConfig c;
  c.local_as = 65001;
  c.local_id = 0x0a000001;
  c.peer_as = 4200000002;
  c.peer_address = *bgp::IpAddress::parse("127.0.0.2");
  c.passive = true;
  c.hold_time = 90;
  if ((selector & 1) != 0) {
    c.add_path_receive = {bgp::kIpv4Unicast, bgp::kIpv6Unicast};
  }
  if ((selector & 4) != 0) {
    c.max_prefix = 20;
  }
  if ((selector & 8) != 0) {
    c.graceful_restart_time = 60;
  }
  return c;
}

void pump(Process& p);

struct World {
  Process process;
  std::uint16_t port = 0;
  std::uint64_t sink = 0;  // keeps accessor results alive so they are computed

  World() { port = process.listen(*bgp::IpAddress::parse("127.0.0.1"), 0); }

  Peer& peer_for(std::uint8_t selector) {
    if (Peer* old = process.find_peer(*bgp::IpAddress::parse("127.0.0.2"))) {
      process.remove_peer(*old);
      pump(process);
    }
    Peer& p = process.add_peer(base_config(selector));
    p.on_update([this](Peer&, const Update& u) {
      sink += u.announced().size() + u.withdrawn().size() + u.as_path().size() +
              u.communities().size() + u.large_communities().size() +
              u.extended_communities().size() + (u.next_hop() ? 1 : 0) + (u.aggregator() ? 1 : 0) +
              (u.end_of_rib() ? 1 : 0);
      auto copy = u.owned();
      require(copy.bytes().size() == u.bytes().size(), "owned copy keeps the bytes");
    });
    p.on_error([this](Peer&, const bgpscribe::speaker::PeerError& e) {
      sink += e.message.size() + e.bytes.size();
    });
    p.start();
    return p;
  }
};

int connect_from_peer(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.2", &local.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Runs the loop briefly (the listener keeps it from running out of work).
void pump(Process& p) {
  p.io().restart();
  p.io().run_for(std::chrono::microseconds(200));
}

void close_hard(int fd) {
  // RST instead of FIN: no TIME_WAIT, so many thousand inputs never run out of ports.
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World* world = new World();  // lives for the whole run
  if (size < 1) {
    return 0;
  }
  const std::uint8_t selector = data[0];
  const std::vector<std::uint8_t> stream(data + 1, data + size);
  Peer& peer = world->peer_for(selector);

  PeerConfig client;
  client.local_as = 4200000002;
  client.local_id = 0x0a000002;
  client.four_octet_as = (selector & 2) == 0;
  client.local_as = client.four_octet_as ? 4200000002 : 23456;
  client.add_path_send = {bgp::kIpv4Unicast, bgp::kIpv6Unicast};
  if ((selector & 8) != 0) {
    client.graceful_restart_time = 30;
  }
  bgp::Open open = bgpscribe::speaker::make_open(client);
  if (!client.four_octet_as) {
    // A 2-octet speaker: My AS is the real AS; the configured peer AS then mismatches, which
    // exercises the refusal path (the session never reaches Established).
    open.my_as = 23456;
  }
  wire::Writer w;
  require(static_cast<bool>(bgp::encode_open(open, w)), "client OPEN encodes");
  bgp::encode_keepalive(w);
  w.bytes(stream);

  if ((selector & 16) != 0) {
    // A connection that sends nothing and closes: the peer must survive it.
    const int idle = connect_from_peer(world->port);
    if (idle >= 0) {
      pump(world->process);
      close_hard(idle);
    }
  }
  const int fd = connect_from_peer(world->port);
  if (fd < 0) {
    return 0;
  }
  const auto bytes = w.bytes();
  std::size_t sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (sent < bytes.size() && std::chrono::steady_clock::now() < deadline) {
    const ssize_t n =
        ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      break;
    }
    pump(world->process);
  }
  ::shutdown(fd, SHUT_WR);
  // Run until the session has ended (the peer closed or we reset it), bounded.
  while (std::chrono::steady_clock::now() < deadline) {
    pump(world->process);
    if (peer.connection_count() == 0 && peer.state() != State::Established) {
      break;
    }
  }
  close_hard(fd);
  pump(world->process);
  return 0;
}
