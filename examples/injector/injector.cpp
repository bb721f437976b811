// bgpscribe-inject: a route injector built on the speaker library. It reads routes from a file
// (see examples/README.md), announces them to each peer once its session is Established, sends
// End-of-RIB for every family it announced, and withdraws them on a per-peer user timer
// (Peer::add_timer), re-announcing on the same period with --repeat.
//
// Routes with identical attributes share one UpdateBuilder; the library splits each builder into
// as many UPDATE messages as the session's size limit needs. The injector is an example of the
// sending side of the API and the route source of tests/examples; it logs a few lines per
// session to stderr and keeps no state beyond the routes and each peer's timer.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <compare>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/text.hpp"
#include "codec/bgp/update.hpp"
#include "codec/wire/writer.hpp"
#include "examples/common/cli.hpp"
#include "speaker/process.hpp"

namespace {

namespace asio = boost::asio;
namespace bgp = bgpscribe::codec::bgp;
namespace ex = bgpscribe::examples;
using bgpscribe::speaker::Direction;
using bgpscribe::speaker::Peer;
using bgpscribe::speaker::PeerConfig;
using bgpscribe::speaker::Process;
using bgpscribe::speaker::RawMessage;
using bgpscribe::speaker::Route;
using bgpscribe::speaker::State;
using bgpscribe::speaker::TimerId;
using bgpscribe::speaker::UpdateBuilder;

constexpr const char* kProgram = "bgpscribe-inject";

void note(const std::string& text) {
  std::cerr << kProgram << ": " << text << '\n';
}

void note(const Peer& p, const std::string& text) {
  note(p.config().label() + ": " + text);
}

// ---- Routes file --------------------------------------------------------------------------

// What the routes file says about a route besides its prefix and path id. Routes of one family
// with equal attributes are announced through one UpdateBuilder.
struct RouteAttributes {
  bgp::Afi afi = bgp::Afi::Ipv4;
  bgp::IpAddress next_hop{};
  std::vector<std::uint32_t> as_path;
  bgp::Origin origin = bgp::Origin::Igp;
  std::optional<std::uint32_t> med;
  std::optional<std::uint32_t> local_pref;
  std::vector<std::uint32_t> communities;
  std::vector<std::array<std::uint32_t, 3>> large_communities;
  friend auto operator<=>(const RouteAttributes&, const RouteAttributes&) = default;
};

struct RouteGroup {
  RouteAttributes attributes;
  std::vector<Route> routes;
  [[nodiscard]] bgp::AfiSafi family() const {
    return attributes.afi == bgp::Afi::Ipv6 ? bgp::kIpv6Unicast : bgp::kIpv4Unicast;
  }
};

struct Routes {
  std::vector<RouteGroup> groups;  // in order of first appearance in the file
  std::size_t count = 0;
  bool path_ids = false;  // some route has a non-zero id=
  bool local_pref = false;
};

// "FILE:LINE: message".
class RoutesFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RoutesParser {
 public:
  explicit RoutesParser(std::string path) : path_(std::move(path)) {}

  Routes parse() {
    std::ifstream in(path_);
    if (!in) {
      throw RoutesFileError(path_ + ": cannot open the routes file");
    }
    for (std::string text; std::getline(in, text);) {
      ++line_;
      parse_line(text);
    }
    if (in.bad()) {
      throw RoutesFileError(path_ + ": read error");
    }
    if (routes_.count == 0) {
      throw RoutesFileError(path_ + ": no routes");
    }
    return std::move(routes_);
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw RoutesFileError(path_ + ":" + std::to_string(line_) + ": " + message);
  }

  // "KEY=VALUE: 'ITEM' WHAT": an item of a list value that is not valid.
  static std::string item_error(std::string_view key, std::string_view value, std::string_view item,
                                std::string_view what) {
    std::string m(key);
    m += '=';
    m += value;
    m += ": '";
    m += item;
    m += "' ";
    m += what;
    return m;
  }

  std::uint32_t number(const std::string& key, const std::string& value) const {
    const auto v = ex::parse_number<std::uint32_t>(value);
    if (!v) {
      fail(key + "=" + value + ": expected a number from 0 to 4294967295");
    }
    return *v;
  }

  void parse_line(std::string text) {
    text = text.substr(0, text.find('#'));
    std::istringstream words(text);
    std::string prefix_text;
    if (!(words >> prefix_text)) {
      return;  // blank or comment
    }
    const auto prefix = bgp::Prefix::parse(prefix_text);
    if (!prefix) {
      fail("not a prefix: '" + prefix_text + "'");
    }
    const auto address = bgp::IpAddress::parse(prefix_text.substr(0, prefix_text.find('/')));
    if (!address || !(*address == prefix->address)) {
      fail("host bits set in " + prefix_text + " (did you mean " + prefix->to_string() + "?)");
    }
    RouteAttributes a;
    a.afi = prefix->family();
    std::uint32_t path_id = 0;
    bool has_next_hop = false;
    std::set<std::string> seen;
    for (std::string word; words >> word;) {
      const auto eq = word.find('=');
      if (eq == std::string::npos || eq == 0) {
        fail("expected key=value, got '" + word + "'");
      }
      const std::string key = word.substr(0, eq);
      const std::string value = word.substr(eq + 1);
      if (!seen.insert(key).second) {
        fail("duplicate key '" + key + "'");
      }
      if (key == "nh") {
        const auto nh = bgp::IpAddress::parse(value);
        if (!nh) {
          fail("nh=" + value + ": not an IP address");
        }
        if (a.afi == bgp::Afi::Ipv4 && !nh->is_v4()) {
          fail("nh=" + value + ": an IPv4 prefix needs an IPv4 next hop");
        }
        a.next_hop = *nh;
        has_next_hop = true;
      } else if (key == "path") {
        for (const auto& asn : value.empty() ? std::vector<std::string>{} : ex::split(value, ',')) {
          const auto v = ex::parse_number<std::uint32_t>(asn);
          if (!v || *v == 0) {
            fail(item_error("path", value, asn, "is not an AS number from 1 to 4294967295"));
          }
          a.as_path.push_back(*v);
        }
      } else if (key == "origin") {
        if (value == "igp") {
          a.origin = bgp::Origin::Igp;
        } else if (value == "egp") {
          a.origin = bgp::Origin::Egp;
        } else if (value == "incomplete") {
          a.origin = bgp::Origin::Incomplete;
        } else {
          fail("origin=" + value + ": expected igp, egp or incomplete");
        }
      } else if (key == "med") {
        a.med = number(key, value);
      } else if (key == "lp") {
        a.local_pref = number(key, value);
        routes_.local_pref = true;
      } else if (key == "comm") {
        for (const auto& c : value.empty() ? std::vector<std::string>{} : ex::split(value, ',')) {
          const auto parts = ex::split(c, ':');
          const auto high =
              parts.size() == 2 ? ex::parse_number<std::uint16_t>(parts[0]) : std::nullopt;
          const auto low =
              parts.size() == 2 ? ex::parse_number<std::uint16_t>(parts[1]) : std::nullopt;
          if (!high || !low) {
            fail(item_error("comm", value, c, "is not A:B with A and B from 0 to 65535"));
          }
          a.communities.push_back((std::uint32_t{*high} << 16) | *low);
        }
      } else if (key == "lcomm") {
        for (const auto& c : value.empty() ? std::vector<std::string>{} : ex::split(value, ',')) {
          const auto parts = ex::split(c, ':');
          std::array<std::uint32_t, 3> lc{};
          bool ok = parts.size() == 3;
          for (std::size_t i = 0; ok && i < 3; ++i) {
            const auto v = ex::parse_number<std::uint32_t>(parts[i]);
            ok = v.has_value();
            lc[i] = v.value_or(0);
          }
          if (!ok) {
            fail(item_error("lcomm", value, c, "is not A:B:C with each from 0 to 4294967295"));
          }
          a.large_communities.push_back(lc);
        }
      } else if (key == "id") {
        path_id = number(key, value);
        routes_.path_ids |= path_id != 0;
      } else {
        fail("unknown key '" + key + "' (known: nh path origin med lp comm lcomm id)");
      }
    }
    if (!has_next_hop) {
      fail("missing nh= for " + prefix_text);
    }
    const auto [first, fresh] = lines_.emplace(std::make_pair(*prefix, path_id), line_);
    if (!fresh) {
      fail("duplicate route " + prefix->to_string() + " id " + std::to_string(path_id) +
           " (first on line " + std::to_string(first->second) + ")");
    }
    const auto [group, added] = index_.emplace(a, routes_.groups.size());
    if (added) {
      routes_.groups.push_back(RouteGroup{std::move(a), {}});
    }
    auto& g = routes_.groups[group->second];
    g.routes.push_back(Route{g.family(), *prefix, path_id});
    ++routes_.count;
  }

  std::string path_;
  std::size_t line_ = 0;
  Routes routes_;
  std::map<RouteAttributes, std::size_t> index_;                        // group of attributes
  std::map<std::pair<bgp::Prefix, std::uint32_t>, std::size_t> lines_;  // line of each route
};

// ---- The injector ---------------------------------------------------------------------------

struct Options {
  std::chrono::seconds withdraw_after{0};
  bool repeat = false;
  bool exit_after_withdraw = false;
};

class Injector {
 public:
  Injector(Process& process, Routes routes, Options options)
      : process_(process), routes_(std::move(routes)), options_(options) {}

  void attach(Peer& peer) {
    peers_[&peer] = PeerState{};
    peer.on_established([this](Peer& p) { established(p); });
    peer.on_state_change([this](Peer& p, State from, State to, std::string_view why) {
      if (from == State::Established) {
        note(p, std::string("session down (") + bgpscribe::speaker::fsm::to_string(to) +
                    "): " + std::string(why));
        down(p);
      }
    });
    // Count the UPDATE messages each send_update produced: the library reports every message
    // it sends through the raw hook.
    peer.on_raw([this](Peer& p, const RawMessage& m) {
      if (m.direction == Direction::Sent && m.type == bgp::MessageType::Update) {
        ++peers_[&p].updates_sent;
      }
    });
    peer.on_refresh([this](Peer& p, const bgp::RouteRefresh& rr) { refresh(p, rr); });
    peer.on_notification([](Peer& p, const bgp::Notification& n, Direction d) {
      note(p, std::string("NOTIFICATION ") + bgpscribe::speaker::to_string(d) + ": " +
                  bgpscribe::speaker::NotificationInfo::describe(n));
    });
    peer.on_error(
        [](Peer& p, const bgpscribe::speaker::PeerError& e) { note(p, "error: " + e.message); });
  }

  // Stops every session (Cease with `why` as the shutdown communication) and the event loop.
  void shutdown(std::string_view why) {
    if (stopping_) {
      return;
    }
    stopping_ = true;
    for (auto* p : process_.peers()) {
      p->stop(why);
    }
    process_.stop();
  }

 private:
  struct PeerState {
    TimerId timer = 0;
    bool announced = false;  // our routes are out (announced, not withdrawn since)
    std::uint64_t updates_sent = 0;
  };

  void established(Peer& p) {
    auto& st = peers_[&p];
    const auto* n = p.negotiated();
    note(p,
         "established (AS " + std::to_string(p.peer_as()) + (n->ibgp ? ", iBGP" : ", eBGP") + ")");
    announce(p, true);
    if (options_.withdraw_after.count() > 0) {
      st.timer = p.add_timer(options_.withdraw_after, [this](Peer& q) { tick(q); });
    }
  }

  void down(Peer& p) {
    auto& st = peers_[&p];
    if (st.timer != 0) {
      p.remove_timer(st.timer);
    }
    st.timer = 0;
    st.announced = false;
  }

  // The withdraw timer: withdraw, then (--repeat) announce again one period later.
  void tick(Peer& p) {
    auto& st = peers_[&p];
    if (!st.announced) {
      announce(p, false);
      return;
    }
    withdraw(p);
    if (options_.exit_after_withdraw) {
      p.remove_timer(st.timer);
      st.timer = 0;
      done_.insert(&p);
      if (done_.size() == process_.peers().size()) {
        shutdown("bgpscribe-inject: routes withdrawn");
      }
    } else if (!options_.repeat) {
      p.remove_timer(st.timer);
      st.timer = 0;
    }
  }

  // RFC 2918: the peer asks for our routes of a family again; RFC 7313 section 4: framed by
  // BoRR and EoRR when enhanced route refresh was negotiated.
  void refresh(Peer& p, const bgp::RouteRefresh& rr) {
    if (rr.subtype != bgp::RouteRefreshSubtype::Normal || !p.has_family(rr.family)) {
      return;
    }
    const bool enhanced = p.negotiated()->enhanced_route_refresh;
    if (enhanced) {
      (void)p.send_refresh(rr.family, bgp::RouteRefreshSubtype::BeginningOfRouteRefresh);
    }
    if (peers_[&p].announced) {
      announce(p, false, rr.family);
    }
    if (enhanced) {
      (void)p.send_refresh(rr.family, bgp::RouteRefreshSubtype::EndOfRouteRefresh);
    }
  }

  UpdateBuilder announcement(const RouteGroup& g, bool local_pref) const {
    const auto& a = g.attributes;
    UpdateBuilder b;
    b.origin(a.origin).as_path(a.as_path).next_hop(a.next_hop);
    if (a.med) {
      b.med(*a.med);
    }
    if (a.local_pref && local_pref) {
      b.local_pref(*a.local_pref);
    }
    for (auto c : a.communities) {
      b.community(c);
    }
    for (const auto& c : a.large_communities) {
      b.large_community(c[0], c[1], c[2]);
    }
    for (const auto& r : g.routes) {
      b.announce(r);
    }
    return b;
  }

  // Announces every route (of `only`, when given) the peer has negotiated the family of.
  void announce(Peer& p, bool first, std::optional<bgp::AfiSafi> only = std::nullopt) {
    auto& st = peers_[&p];
    const auto* n = p.negotiated();
    // RFC 4271 section 5.1.5: LOCAL_PREF goes to internal peers only.
    const bool local_pref = n->ibgp;
    const std::uint64_t before = st.updates_sent;
    std::size_t sent = 0;
    std::vector<bgp::AfiSafi> families;
    std::map<std::string, std::size_t> skipped;  // family text -> routes
    for (const auto& g : routes_.groups) {
      if (only && !(g.family() == *only)) {
        continue;
      }
      if (!p.has_family(g.family())) {
        skipped[bgp::family_text(g.family())] += g.routes.size();
        continue;
      }
      if (!p.send_update(announcement(g, local_pref))) {
        note(p, "cannot send UPDATE (session down or send queue full)");
        return;
      }
      sent += g.routes.size();
      if (std::find(families.begin(), families.end(), g.family()) == families.end()) {
        families.push_back(g.family());
      }
    }
    st.announced = true;
    std::string text = "announced " + std::to_string(sent) + " routes in " +
                       std::to_string(st.updates_sent - before) + " UPDATE messages";
    if (only) {
      text += " (ROUTE-REFRESH for " + bgp::family_text(*only) + ")";
    }
    if (first) {
      // RFC 4724 section 2: End-of-RIB after the initial update, per family.
      text += ", End-of-RIB for";
      for (const auto& f : families) {
        if (!p.send_end_of_rib(f)) {
          note(p, "cannot send End-of-RIB for " + bgp::family_text(f));
          return;
        }
        text += " " + bgp::family_text(f);
      }
    }
    note(p, text);
    if (!first) {
      return;
    }
    for (const auto& [family, count] : skipped) {
      note(p,
           "warning: " + family + " not negotiated, " + std::to_string(count) + " routes not sent");
    }
    if (routes_.local_pref && !local_pref) {
      note(p, "warning: lp= not sent to an external peer (RFC 4271 section 5.1.5)");
    }
    if (routes_.path_ids) {
      for (const auto& f : families) {
        if (std::find(n->add_path_send.begin(), n->add_path_send.end(), f) ==
            n->add_path_send.end()) {
          note(p, "warning: ADD-PATH not negotiated for " + bgp::family_text(f) +
                      ": path ids not sent");
        }
      }
    }
  }

  void withdraw(Peer& p) {
    auto& st = peers_[&p];
    UpdateBuilder b;
    for (const auto& g : routes_.groups) {
      if (p.has_family(g.family())) {
        for (const auto& r : g.routes) {
          b.withdraw(r);
        }
      }
    }
    const std::uint64_t before = st.updates_sent;
    if (!p.send_update(b)) {
      note(p, "cannot send UPDATE (session down or send queue full)");
      return;
    }
    st.announced = false;
    note(p, "withdrew " + std::to_string(b.withdrawals().size()) + " routes in " +
                std::to_string(st.updates_sent - before) + " UPDATE messages");
  }

  Process& process_;
  Routes routes_;
  Options options_;
  std::map<const Peer*, PeerState> peers_;
  std::set<const Peer*> done_;  // peers that withdrew (--exit-after-withdraw)
  bool stopping_ = false;
};

// The program; main reports what escapes it.
int program(int argc, char** argv) {
  CLI::App app{"bgpscribe-inject: announce the routes of a file to BGP peers, withdraw them later"};
  std::uint32_t local_as = 0;
  std::string router_id;
  std::vector<std::string> listens;
  std::vector<std::string> peer_specs;
  std::string routes_path;
  std::uint32_t withdraw_after = 0;
  bool repeat = false;
  bool exit_after_withdraw = false;
  std::uint16_t hold = 90;
  std::uint32_t connect_retry = 5;
  app.add_option("--local-as", local_as, "our AS number")->required();
  app.add_option("--router-id", router_id, "our BGP identifier (IPv4 address)")->required();
  app.add_option("--listen", listens, "ADDRESS:PORT or [V6]:PORT to accept sessions on");
  app.add_option("--peer", peer_specs,
                 "ADDRESS,AS[,active|passive][,port=N][,local=ADDRESS][,md5=KEY][,addpath]")
      ->required();
  app.add_option("--routes", routes_path, "routes file (format: examples/README.md)")->required();
  app.add_option("--withdraw-after", withdraw_after,
                 "withdraw every route this many seconds after Established (0 = never)");
  auto* repeat_flag =
      app.add_flag("--repeat", repeat, "announce again after withdrawing, on the same period");
  auto* exit_flag = app.add_flag("--exit-after-withdraw", exit_after_withdraw,
                                 "exit once every peer has withdrawn the routes");
  repeat_flag->excludes(exit_flag);
  app.add_option("--hold", hold, "hold time to offer (seconds)");
  app.add_option("--connect-retry", connect_retry, "connect-retry time (seconds)");
  CLI11_PARSE(app, argc, argv);

  if ((repeat || exit_after_withdraw) && withdraw_after == 0) {
    note("--repeat and --exit-after-withdraw need --withdraw-after");
    return 2;
  }
  Routes routes;
  try {
    routes = RoutesParser(routes_path).parse();
  } catch (const RoutesFileError& e) {
    std::cerr << e.what() << '\n';
    return 2;
  }
  note("loaded " + std::to_string(routes.count) + " routes (" +
       std::to_string(routes.groups.size()) + " attribute sets) from " + routes_path);

  Process process;
  Injector injector(process, std::move(routes),
                    Options{std::chrono::seconds(withdraw_after), repeat, exit_after_withdraw});
  try {
    PeerConfig base;
    base.local_as = local_as;
    base.local_id = ex::parse_router_id(router_id);
    base.hold_time = hold;
    base.connect_retry = std::chrono::seconds(connect_retry);
    base.auto_end_of_rib = false;  // sent after the initial announcement instead
    const ex::PeerOptionHook addpath = [](const std::string& key, const std::string& /*value*/,
                                          PeerConfig& c) {
      if (key != "addpath") {
        return false;
      }
      c.add_path_send = {bgp::kIpv4Unicast, bgp::kIpv6Unicast};
      return true;
    };
    for (const auto& spec : peer_specs) {
      PeerConfig c = ex::parse_peer("--peer", spec, base, addpath);
      if (c.passive && listens.empty()) {
        throw CLI::ValidationError("--peer", "passive peer " + spec + " needs --listen");
      }
      injector.attach(process.add_peer(std::move(c)));
    }
    for (const auto& l : listens) {
      const auto [address, port] = ex::parse_endpoint("--listen", l);
      process.listen(address, port);
    }
  } catch (const std::exception& e) {
    note(e.what());
    return 2;
  }
  for (auto* p : process.peers()) {
    p->start();
  }

  asio::signal_set signals(process.io(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int /*sig*/) {
    if (!ec) {
      injector.shutdown("bgpscribe-inject stopped");
    }
  });
  process.run();
  // Let the withdrawals and Cease messages go out.
  process.run_for(std::chrono::milliseconds(300));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return bgpscribe::examples::guarded_main("bgpscribe-inject", [&] { return program(argc, argv); });
}
