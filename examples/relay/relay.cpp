// bgpscribe-relay: a one-way, two-peer relay built on the speaker library. Every UPDATE from
// the --from peer goes to the --to peer, rewritten on the way: UpdateBuilder::from(update)
// copies the attributes, the relay applies its rewrites (set MED, add communities, prepend its
// AS) and re-adds the update's announced and withdrawn routes. End-of-RIB follows too.
//
// Like a route server it keeps the next hop and keeps no attributes (no Adj-RIB): only the keys
// of the routes --from holds, so that it can withdraw them from --to when --from goes away.
// Updates that arrive before --to is Established wait in a bounded queue and are sent when it
// comes up; when the queue overflows, or when --to comes back after a drop (it forgot our
// routes), the relay asks --from for its routes again with ROUTE-REFRESH instead.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <tuple>
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
using bgpscribe::speaker::Route;
using bgpscribe::speaker::State;
using bgpscribe::speaker::Update;
using bgpscribe::speaker::UpdateBuilder;

constexpr const char* kProgram = "bgpscribe-relay";

void note(const std::string& text) {
  std::cerr << kProgram << ": " << text << '\n';
}

struct Rewrite {
  std::optional<std::uint32_t> med;
  std::vector<std::uint32_t> communities;  // added when absent
  bool prepend = false;                    // prepend --local-as to the AS path
};

// What goes to --to, in order: an UPDATE (attributes and routes) or an End-of-RIB marker.
struct Item {
  UpdateBuilder attributes;  // no routes: those are filtered by family when sent
  std::vector<Route> announce;
  std::vector<Route> withdraw;
  std::optional<bgp::AfiSafi> end_of_rib;
};

class Relay {
 public:
  Relay(Process& process, Peer& from, Peer& to, Rewrite rewrite, std::size_t queue_limit)
      : process_(process),
        from_(from),
        to_(to),
        rewrite_(std::move(rewrite)),
        queue_limit_(queue_limit) {
    from_.on_update([this](Peer& /*p*/, const Update& u) { received(u); });
    from_.on_end_of_rib([this](Peer& /*p*/, bgp::AfiSafi f) {
      Item item;
      item.end_of_rib = f;
      deliver(std::move(item));
    });
    from_.on_state_change([this](Peer& p, State old_state, State new_state, std::string_view why) {
      state_changed(p, old_state, new_state, why);
      if (old_state == State::Established) {
        from_down();
      }
    });
    to_.on_state_change([](Peer& p, State old_state, State new_state, std::string_view why) {
      state_changed(p, old_state, new_state, why);
    });
    to_.on_established([this](Peer& /*p*/) { to_up(); });
    // A refresh request from --to can only be answered by --from.
    to_.on_refresh([this](Peer& /*p*/, const bgp::RouteRefresh& rr) {
      if (rr.subtype == bgp::RouteRefreshSubtype::Normal && !from_.send_refresh(rr.family)) {
        note("cannot pass on a ROUTE-REFRESH for " + bgp::family_text(rr.family) + " to " +
             from_.config().label());
      }
    });
    for (Peer* p : {&from_, &to_}) {
      p->on_notification([](Peer& q, const bgp::Notification& n, Direction d) {
        note(q.config().label() + ": NOTIFICATION " + bgpscribe::speaker::to_string(d) + ": " +
             bgpscribe::speaker::NotificationInfo::describe(n));
      });
      p->on_error([](Peer& q, const bgpscribe::speaker::PeerError& e) {
        note(q.config().label() + ": error: " + e.message);
      });
    }
  }

  void shutdown(std::string_view why) {
    if (stopping_) {
      return;
    }
    stopping_ = true;
    note("forwarded " + std::to_string(forwarded_) + " updates, " + std::to_string(dropped_) +
         " dropped from a full queue");
    from_.stop(why);
    to_.stop(why);
    process_.stop();
  }

 private:
  static void state_changed(Peer& p, State from, State to, std::string_view why) {
    if (from == State::Established || to == State::Established) {
      note(p.config().label() + ": " + bgpscribe::speaker::fsm::to_string(from) + " -> " +
           bgpscribe::speaker::fsm::to_string(to) + " (" + std::string(why) + ")");
    }
  }

  // The routes --from holds, by family, prefix and path id.
  using RouteKey = std::tuple<bgp::Afi, bgp::Safi, bgp::Prefix, std::uint32_t>;
  static RouteKey key(const Route& r) { return {r.family.afi, r.family.safi, r.prefix, r.path_id}; }

  void received(const Update& u) {
    if (u.end_of_rib()) {
      return;  // on_end_of_rib forwards it
    }
    Item item;
    item.announce = u.announced();
    item.withdraw = u.withdrawn();
    if (item.announce.empty() && item.withdraw.empty()) {
      return;
    }
    for (const auto& r : item.withdraw) {
      held_.erase(key(r));
    }
    for (const auto& r : item.announce) {
      held_.insert(key(r));
    }
    item.attributes = UpdateBuilder::from(u);
    // RFC 4271 section 5.1.5: LOCAL_PREF never goes to an external peer.
    if (to_.config().peer_as != to_.config().local_as) {
      item.attributes.erase(bgp::AttributeType::LocalPref);
    }
    if (!item.announce.empty()) {
      rewrite(item.attributes, u);
    }
    deliver(std::move(item));
  }

  void rewrite(UpdateBuilder& b, const Update& u) const {
    if (rewrite_.med) {
      b.med(*rewrite_.med);
    }
    const auto present = u.communities();
    for (auto c : rewrite_.communities) {
      if (std::find(present.begin(), present.end(), c) == present.end()) {
        b.community(c);
      }
    }
    if (rewrite_.prepend) {
      const std::uint32_t local_as = to_.config().local_as;
      bgp::AsPath path = u.as_path();
      if (path.empty() || path.front().type != bgp::AsSegmentType::AsSequence ||
          path.front().asns.size() >= 255) {
        path.insert(path.begin(), bgp::AsSegment{bgp::AsSegmentType::AsSequence, {local_as}});
      } else {
        path.front().asns.insert(path.front().asns.begin(), local_as);
      }
      b.as_path_segments(std::move(path));
    }
  }

  void deliver(Item item) {
    if (to_.state() == State::Established) {
      send(item);
      return;
    }
    if (overflowed_) {
      ++dropped_;
      return;
    }
    if (queue_.size() >= queue_limit_) {
      // Keeping some of the updates would leave --to with a wrong table: drop them all and
      // ask --from for its routes again once --to is up.
      note("queue full (" + std::to_string(queue_limit_) + " updates): dropping it, " +
           "a ROUTE-REFRESH will follow when " + to_.config().label() + " is up");
      dropped_ += queue_.size() + 1;
      queue_.clear();
      overflowed_ = true;
      return;
    }
    queue_.push_back(std::move(item));
  }

  void send(const Item& item) {
    if (item.end_of_rib) {
      if (to_.has_family(*item.end_of_rib)) {
        if (!to_.send_end_of_rib(*item.end_of_rib)) {
          note("cannot send End-of-RIB to " + to_.config().label());
        }
      }
      return;
    }
    UpdateBuilder b = item.attributes;
    for (const auto& r : item.withdraw) {
      if (to_.has_family(r.family)) {
        b.withdraw(r);
      }
    }
    for (const auto& r : item.announce) {
      if (to_.has_family(r.family)) {
        b.announce(r);
      }
    }
    if (b.announcements().empty() && b.withdrawals().empty()) {
      return;
    }
    if (!to_.send_update(b)) {
      note("cannot send UPDATE to " + to_.config().label());
      return;
    }
    ++forwarded_;
  }

  void to_up() {
    if (!to_seen_up_ && !overflowed_) {
      // First session: the queue holds everything --from sent since it came up, in order.
      const std::size_t n = queue_.size();
      while (!queue_.empty() && to_.state() == State::Established) {
        send(queue_.front());
        queue_.pop_front();
      }
      note(to_.config().label() + ": sent " + std::to_string(n) + " queued updates");
    } else {
      // --to lost what we sent before (or the queue overflowed): get a full table again.
      queue_.clear();
      if (from_.state() == State::Established) {
        bool refreshed = true;
        for (const auto& f : from_.negotiated()->families) {
          refreshed = refreshed && from_.send_refresh(f);
        }
        note(from_.config().label() +
             (refreshed ? std::string(": ROUTE-REFRESH sent")
                        : ": cannot send ROUTE-REFRESH: " + std::to_string(held_.size()) +
                              " routes not sent again to " + to_.config().label()));
      }
    }
    to_seen_up_ = true;
    overflowed_ = false;
  }

  // --from went away: its routes go away at --to too.
  void from_down() {
    if (held_.empty()) {
      return;
    }
    Item item;
    for (const auto& [afi, safi, prefix, path_id] : held_) {
      item.withdraw.push_back(Route{bgp::AfiSafi{afi, safi}, prefix, path_id});
    }
    note(from_.config().label() + ": withdrawing its " + std::to_string(held_.size()) +
         " routes from " + to_.config().label());
    held_.clear();
    deliver(std::move(item));
  }

  Process& process_;
  Peer& from_;
  Peer& to_;
  Rewrite rewrite_;
  std::size_t queue_limit_;
  std::deque<Item> queue_;
  bool overflowed_ = false;
  bool to_seen_up_ = false;
  bool stopping_ = false;
  std::set<RouteKey> held_;
  std::uint64_t forwarded_ = 0;
  std::uint64_t dropped_ = 0;
};

// The program; main reports what escapes it.
int program(int argc, char** argv) {
  CLI::App app{"bgpscribe-relay: forward the UPDATEs of one BGP peer to another, rewritten"};
  std::uint32_t local_as = 0;
  std::string router_id;
  std::vector<std::string> listens;
  std::string from_spec;
  std::string to_spec;
  std::optional<std::uint32_t> set_med;
  std::vector<std::string> add_communities;
  bool prepend = false;
  std::size_t queue_limit = 100000;
  std::uint16_t hold = 90;
  std::uint32_t connect_retry = 5;
  const char* peer_help =
      "ADDRESS,AS[,active|passive][,port=N][,local=ADDRESS][,md5=KEY][,addpath]";
  app.add_option("--local-as", local_as, "our AS number")->required();
  app.add_option("--router-id", router_id, "our BGP identifier (IPv4 address)")->required();
  app.add_option("--listen", listens, "ADDRESS:PORT or [V6]:PORT to accept sessions on");
  app.add_option("--from", from_spec,
                 std::string("the peer whose updates are relayed: ") + peer_help)
      ->required();
  app.add_option("--to", to_spec, std::string("the peer that receives them: ") + peer_help)
      ->required();
  app.add_option("--set-med", set_med, "set MULTI_EXIT_DISC on every announcement");
  app.add_option("--add-community", add_communities, "add the community A:B (repeatable)");
  app.add_flag("--prepend", prepend, "prepend --local-as to the AS path");
  app.add_option("--queue-limit", queue_limit,
                 "updates kept while --to is not Established (then: ROUTE-REFRESH)");
  app.add_option("--hold", hold, "hold time to offer (seconds)");
  app.add_option("--connect-retry", connect_retry, "connect-retry time (seconds)");
  CLI11_PARSE(app, argc, argv);

  Process process;
  Peer* from = nullptr;
  Peer* to = nullptr;
  Rewrite rewrite{set_med, {}, prepend};
  try {
    for (const auto& c : add_communities) {
      const auto parts = ex::split(c, ':');
      const auto high =
          parts.size() == 2 ? ex::parse_number<std::uint16_t>(parts[0]) : std::nullopt;
      const auto low = parts.size() == 2 ? ex::parse_number<std::uint16_t>(parts[1]) : std::nullopt;
      if (!high || !low) {
        throw CLI::ValidationError("--add-community", "expected A:B (0..65535 each), got " + c);
      }
      rewrite.communities.push_back((std::uint32_t{*high} << 16) | *low);
    }
    PeerConfig base;
    base.local_as = local_as;
    base.local_id = ex::parse_router_id(router_id);
    base.hold_time = hold;
    base.connect_retry = std::chrono::seconds(connect_retry);
    // ADD-PATH: receive path ids from --from, send them to --to.
    auto addpath = [](bool receive) {
      return [receive](const std::string& key, const std::string& /*value*/, PeerConfig& c) {
        if (key != "addpath") {
          return false;
        }
        (receive ? c.add_path_receive : c.add_path_send) = {bgp::kIpv4Unicast, bgp::kIpv6Unicast};
        return true;
      };
    };
    PeerConfig from_config = ex::parse_peer("--from", from_spec, base, addpath(true));
    PeerConfig to_config = ex::parse_peer("--to", to_spec, base, addpath(false));
    to_config.auto_end_of_rib = false;  // --from's End-of-RIB is forwarded instead
    if ((from_config.passive || to_config.passive) && listens.empty()) {
      throw CLI::ValidationError("--listen", "a passive peer needs --listen");
    }
    from = &process.add_peer(std::move(from_config));
    to = &process.add_peer(std::move(to_config));
    for (const auto& l : listens) {
      const auto [address, port] = ex::parse_endpoint("--listen", l);
      process.listen(address, port);
    }
  } catch (const std::exception& e) {
    note(e.what());
    return 2;
  }
  Relay relay(process, *from, *to, std::move(rewrite), queue_limit);
  from->start();
  to->start();

  asio::signal_set signals(process.io(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int /*sig*/) {
    if (!ec) {
      relay.shutdown("bgpscribe-relay stopped");
    }
  });
  process.run();
  process.run_for(std::chrono::milliseconds(300));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return bgpscribe::examples::guarded_main("bgpscribe-relay", [&] { return program(argc, argv); });
}
