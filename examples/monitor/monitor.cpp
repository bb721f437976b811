// bgpscribe-monitor: a route monitor built on the speaker library. It holds sessions with the
// peers given on the command line and prints every event as one '|'-separated line (see
// examples/README.md for the format); commands on stdin refresh, stop and start peers.
//
// It is an example of the library's API and the program the interoperability tests drive
// against real BGP daemons, so its output is exact and stable rather than pretty.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/streambuf.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/text.hpp"
#include "examples/common/cli.hpp"
#include "speaker/process.hpp"

namespace {

namespace asio = boost::asio;
namespace bgp = bgpscribe::codec::bgp;
using bgpscribe::codec::bgp::family_text;
using bgpscribe::speaker::Direction;
using bgpscribe::speaker::Peer;
using bgpscribe::speaker::PeerConfig;
using bgpscribe::speaker::Process;
using bgpscribe::speaker::Update;

std::string now_text() {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(us / 1000000),
                static_cast<long long>(us % 1000000));
  return buf;
}

std::optional<bgp::AfiSafi> parse_family(std::string_view text) {
  for (auto f : {bgp::kIpv4Unicast, bgp::kIpv6Unicast, bgp::kIpv4Multicast, bgp::kIpv6Multicast}) {
    if (family_text(f) == text) {
      return f;
    }
  }
  return std::nullopt;
}

std::string prefix_head(Peer& p) {
  return now_text() + "|" + p.config().peer_address.to_string() + "|" + std::to_string(p.peer_as());
}

void emit(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// One A line per announced route, one W line per withdrawn route.
void print_update(Peer& p, const Update& u) {
  const std::string head = prefix_head(p);
  for (const auto& r : u.withdrawn()) {
    emit("W|" + head + "|" + r.prefix.to_string() + "|" + std::to_string(r.path_id));
  }
  const auto announced = u.announced();
  if (announced.empty()) {
    return;
  }
  std::string attrs;
  attrs += bgp::to_string(u.as_path());
  attrs += '|';
  if (auto o = u.origin()) {
    attrs += bgp::origin_name(*o);
  }
  attrs += '|';
  if (auto nh = u.next_hop()) {
    attrs += nh->to_string();
  }
  attrs += '|';
  if (auto v = u.local_pref()) {
    attrs += std::to_string(*v);
  }
  attrs += '|';
  if (auto v = u.med()) {
    attrs += std::to_string(*v);
  }
  attrs += '|';
  std::string sep;
  for (auto c : u.communities()) {
    attrs += sep + bgp::community_text(c);
    sep = " ";
  }
  attrs += '|';
  sep.clear();
  for (const auto& c : u.large_communities()) {
    attrs += sep + bgp::large_community_text(c);
    sep = " ";
  }
  attrs += '|';
  sep.clear();
  for (auto c : u.extended_communities()) {
    attrs += sep + bgp::extended_community_text(c);
    sep = " ";
  }
  attrs += '|';
  attrs += u.atomic_aggregate() ? "AG" : "";
  attrs += '|';
  if (auto ag = u.aggregator()) {
    attrs += std::to_string(ag->asn) + " " + bgp::IpAddress::v4(ag->address).to_string();
  }
  std::string line;
  for (const auto& r : announced) {
    line = "A|";
    line += head;
    line += '|';
    line += r.prefix.to_string();
    line += '|';
    line += std::to_string(r.path_id);
    line += '|';
    line += attrs;
    emit(line);
  }
}

std::string capability_names(const bgp::Open& open) {
  std::string out;
  for (const auto& param : open.parameters) {
    for (const auto& c : param.capabilities) {
      if (!out.empty()) {
        out += ' ';
      }
      out += bgp::capability_name(c.code);
    }
  }
  return out;
}

void attach(Peer& peer) {
  peer.on_state_change([](Peer& p, bgpscribe::speaker::State from, bgpscribe::speaker::State to,
                          std::string_view /*why*/) {
    emit("STATE|" + prefix_head(p) + "|" + bgpscribe::speaker::fsm::to_string(from) + "|" +
         bgpscribe::speaker::fsm::to_string(to));
  });
  peer.on_open([](Peer& p, const bgp::Open& open) {
    emit("OPEN|" + prefix_head(p) + "|" + std::to_string(open.hold_time) + "|" +
         bgp::IpAddress::v4(open.bgp_identifier).to_string() + "|" + capability_names(open));
  });
  peer.on_established([](Peer& p) {
    const auto* n = p.negotiated();
    std::string families;
    std::string addpath;
    for (const auto& f : n->families) {
      families += (families.empty() ? "" : ",") + family_text(f);
    }
    for (const auto& f : n->add_path_receive) {
      addpath += (addpath.empty() ? "" : ",") + family_text(f);
    }
    emit("ESTABLISHED|" + prefix_head(p) + "|" + families + "|" + addpath + "|" +
         (n->four_octet_as ? "1" : "0") + "|" +
         (n->peer_graceful_restart ? std::to_string(n->peer_graceful_restart->restart_time) : ""));
  });
  peer.on_update(print_update);
  peer.on_end_of_rib(
      [](Peer& p, bgp::AfiSafi f) { emit("EOR|" + prefix_head(p) + "|" + family_text(f)); });
  peer.on_refresh([](Peer& p, const bgp::RouteRefresh& rr) {
    emit("REFRESH|" + prefix_head(p) + "|" + family_text(rr.family) + "|" +
         std::to_string(static_cast<int>(rr.subtype)));
  });
  peer.on_notification([](Peer& p, const bgp::Notification& n, Direction d) {
    emit("NOTIFICATION|" + prefix_head(p) + "|" + bgpscribe::speaker::to_string(d) + "|" +
         std::to_string(n.code) + "|" + std::to_string(n.subcode) + "|" +
         bgp::shutdown_communication(n).value_or(""));
  });
  peer.on_graceful_restart([](Peer& p, bgpscribe::speaker::GracefulRestartEvent e, bgp::AfiSafi f) {
    emit("GR|" + prefix_head(p) + "|" + bgpscribe::speaker::to_string(e) + "|" + family_text(f));
  });
  peer.on_error([](Peer& p, const bgpscribe::speaker::PeerError& e) {
    emit("ERROR|" + prefix_head(p) + "|" + e.message);
  });
}

// The monitor's own peer options on top of the shared ones.
bool monitor_option(const std::string& key, const std::string& value, PeerConfig& c) {
  if (key == "addpath") {
    c.add_path_receive = {bgp::kIpv4Unicast, bgp::kIpv6Unicast};
  } else if (key == "gr") {
    const auto t = bgpscribe::examples::parse_number<std::uint16_t>(value);
    if (!t) {
      throw CLI::ValidationError("--peer", "bad graceful restart time: " + value);
    }
    c.graceful_restart_time = *t;
  } else if (key == "plain-refresh") {
    // Announce route refresh without the enhanced form (RFC 7313), for peers that mishandle it.
    c.enhanced_route_refresh = false;
  } else if (key == "maxprefix") {
    const auto n = bgpscribe::examples::parse_number<std::uint32_t>(value);
    if (!n) {
      throw CLI::ValidationError("--peer", "bad max-prefix: " + value);
    }
    c.max_prefix = *n;
  } else {
    return false;
  }
  return true;
}

void run_command(Process& process, const std::string& line) {
  std::stringstream ss(line);
  std::string cmd;
  std::string who;
  ss >> cmd >> who;
  if (cmd == "quit") {
    for (auto* p : process.peers()) {
      p->stop();
    }
    process.stop();
    return;
  }
  auto address = bgp::IpAddress::parse(who);
  Peer* peer = address ? process.find_peer(*address) : nullptr;
  if (peer == nullptr) {
    emit("ERROR|" + now_text() + "|" + who + "|0|no such peer: " + line);
    return;
  }
  if (cmd == "refresh") {
    std::string fam;
    ss >> fam;
    auto f = parse_family(fam.empty() ? "ipv4/unicast" : fam);
    if (!f || !peer->send_refresh(*f)) {
      emit("ERROR|" + prefix_head(*peer) + "|cannot send route refresh: " + line);
    }
  } else if (cmd == "stop") {
    std::string text;
    std::getline(ss, text);
    if (!text.empty() && text.front() == ' ') {
      text.erase(0, 1);
    }
    peer->stop(text);
  } else if (cmd == "start") {
    peer->start();
  } else {
    emit("ERROR|" + now_text() + "|" + who + "|0|unknown command: " + line);
  }
}

// The program; main reports what escapes it.
int program(int argc, char** argv) {
  CLI::App app{"bgpscribe-monitor: print every BGP event of the given peers as a line"};
  std::uint32_t local_as = 0;
  std::string router_id;
  std::vector<std::string> listens;
  std::vector<std::string> peers;
  std::uint16_t hold = 90;
  std::uint32_t connect_retry = 5;
  app.add_option("--local-as", local_as, "our AS number")->required();
  app.add_option("--router-id", router_id, "our BGP identifier (IPv4 address)")->required();
  app.add_option("--listen", listens, "ADDRESS:PORT or [V6]:PORT to accept sessions on");
  app.add_option("--peer", peers,
                 "ADDRESS,AS[,active|passive][,port=N][,addpath][,md5=KEY]"
                 "[,gr=SECONDS][,local=ADDRESS][,maxprefix=N][,plain-refresh]")
      ->required();
  app.add_option("--hold", hold, "hold time to offer (seconds)");
  app.add_option("--connect-retry", connect_retry, "connect-retry time (seconds)");
  CLI11_PARSE(app, argc, argv);

  PeerConfig base;
  base.local_as = local_as;
  base.hold_time = hold;
  base.connect_retry = std::chrono::seconds(connect_retry);

  Process process;
  try {
    base.local_id = bgpscribe::examples::parse_router_id(router_id);
    for (const auto& spec : peers) {
      Peer& p =
          process.add_peer(bgpscribe::examples::parse_peer("--peer", spec, base, monitor_option));
      attach(p);
    }
    for (const auto& l : listens) {
      const auto [address, port] = bgpscribe::examples::parse_endpoint("--listen", l);
      process.listen(address, port);
    }
  } catch (const std::exception& e) {
    std::cerr << "bgpscribe-monitor: " << e.what() << "\n";
    return 2;
  }
  for (auto* p : process.peers()) {
    p->start();
  }

  asio::signal_set signals(process.io(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int /*sig*/) {
    if (!ec) {
      run_command(process, "quit");
    }
  });
  asio::posix::stream_descriptor in(process.io(), ::dup(STDIN_FILENO));
  asio::streambuf buf;
  std::function<void()> read_line = [&] {
    asio::async_read_until(in, buf, '\n', [&](const boost::system::error_code& ec, std::size_t) {
      if (ec) {
        return;  // stdin closed: keep running until a signal
      }
      std::istream is(&buf);
      std::string line;
      std::getline(is, line);
      if (!line.empty()) {
        run_command(process, line);
      }
      read_line();
    });
  };
  read_line();
  process.run();
  // Let the Cease messages of "quit" go out.
  process.run_for(std::chrono::milliseconds(200));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return bgpscribe::examples::guarded_main("bgpscribe-monitor",
                                           [&] { return program(argc, argv); });
}
