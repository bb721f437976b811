#include "tools/replay.hpp"

#include <utility>  // before Asio (DESIGN.md: Boost 1.74 with g++ 12)

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "codec/bgp/update.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/file.hpp"
#include "speaker/fsm.hpp"
#include "speaker/peer.hpp"
#include "speaker/peer_config.hpp"
#include "speaker/process.hpp"
#include "tools/replay_packer.hpp"

namespace bgpscribe::tools {

namespace bgp = codec::bgp;
namespace mrt = codec::mrt;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using speaker::Direction;
using speaker::NotificationInfo;
using speaker::Peer;
using speaker::PeerConfig;
using speaker::Process;
using speaker::State;

namespace {

// Encode while the session's send queue holds less than this; a round of one session encodes at
// most kRoundBytes before the next session's turn (and the sockets') comes.
constexpr std::size_t kHighWater = std::size_t{4} << 20;
constexpr std::size_t kRoundBytes = std::size_t{256} << 10;
constexpr auto kPoll = std::chrono::microseconds(500);

std::optional<bgp::IpAddress> nth_address(const bgp::IpAddress& base, std::uint64_t n) {
  bgp::IpAddress a = base;
  std::uint64_t carry = n;
  for (std::size_t i = a.size(); i-- > 0 && carry != 0;) {
    const std::uint64_t v = a.bytes[i] + (carry & 0xFF);
    a.bytes[i] = static_cast<std::uint8_t>(v);
    carry = (carry >> 8) + (v >> 8);
  }
  if (carry != 0) {
    return std::nullopt;
  }
  return a;
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

enum class Phase { Connecting, Rib, RibDone, Updates, Draining, Done, Failed };
enum class Pump { Idle, More, Blocked, Waiting };

struct Session {
  const MrtPeer* mrt = nullptr;
  std::uint32_t number = 0;  // 0 for the first session
  bool diversify = false;
  bgp::IpAddress source;
  std::uint32_t as = 0;
  std::uint32_t bgp_id = 0;
  std::unique_ptr<Process> process;
  Peer* peer = nullptr;
  PackContext ctx;
  std::unique_ptr<Packer> packer;
  Phase phase = Phase::Connecting;
  bool ipv4 = false;
  bool ipv6 = false;
  std::uint32_t collector_as = 0;

  // Cursor: RIB set / update event, route within it, scale copy of the route.
  std::size_t set = 0;
  std::size_t event = 0;
  std::size_t route = 0;
  std::uint32_t copy = 0;
  bool run_open = false;
  Clock::time_point due{};

  bool emitted = false;
  bool send_failed = false;
  bool down = false;  // went down after sending everything (during --hold)
  std::string reason = "no connection yet";
  Clock::time_point started{};
  Clock::time_point finished{};
  std::int64_t held = 0;  // sum of the held_delta of the routes sent
  ReplaySessionStats stats;

  // Connecting, sending or held; false once failed or gone down during --hold.
  [[nodiscard]] bool up() const { return phase != Phase::Failed && !down; }

  [[nodiscard]] bool has(bgp::AfiSafi f) const {
    return f == bgp::kIpv6Unicast ? ipv6 : (f == bgp::kIpv4Unicast && ipv4);
  }
};

class Runner {
 public:
  Runner(const ReplayOptions& options, const ReplayInput& input, const bgp::IpAddress& to,
         bool want_v4, bool want_v6)
      : options_(options),
        input_(input),
        to_(to),
        want_v4_(want_v4),
        want_v6_(want_v6),
        timer_(io_),
        connect_timer_(io_),
        signals_(io_, SIGINT, SIGTERM) {}

  bool open_record() {
    if (options_.record.empty()) {
      return true;
    }
    if (auto st = record_.open(options_.record); !st) {
      std::fprintf(stderr, "bgpscribe replay: cannot write %s: %s\n", options_.record.c_str(),
                   st.error().message);
      return false;
    }
    recording_ = true;
    return true;
  }

  void add_session(const MrtPeer& mrt, const bgp::IpAddress& source, std::uint32_t clone) {
    auto s = std::make_unique<Session>();
    Session& session = *s;
    s->mrt = &mrt;
    s->number = static_cast<std::uint32_t>(sessions_.size());
    s->diversify = options_.diversify;
    s->source = source;
    s->as = s->diversify ? diversify_as(s->number) : mrt.as != 0 ? mrt.as : 64512;
    std::uint32_t derived = 0;
    for (std::size_t i = source.size() - 4; i < source.size(); ++i) {
      derived = (derived << 8) | source.bytes[i];
    }
    s->bgp_id = clone == 0 && mrt.bgp_id != 0 ? mrt.bgp_id : derived;
    s->stats.source = source.to_string();
    s->stats.as = s->as;
    s->stats.mrt_peer = mrt.ip.to_string() + " AS" + std::to_string(mrt.as);
    s->packer =
        std::make_unique<Packer>([this, &session](std::span<const std::uint8_t> m, bgp::AfiSafi,
                                                  bool add_path) { emit(session, m, add_path); });

    PeerConfig c;
    c.name = s->stats.source;
    c.local_as = s->as;
    c.local_id = s->bgp_id;
    c.peer_as = options_.remote_as;
    c.peer_address = to_;
    c.peer_port = options_.port;
    c.local_address = source;
    c.families.clear();
    if (want_v4_) {
      c.families.push_back(bgp::kIpv4Unicast);
    }
    if (want_v6_) {
      c.families.push_back(bgp::kIpv6Unicast);
    }
    if (options_.add_path) {
      c.add_path_send = c.families;
    }
    c.auto_end_of_rib = false;
    c.connect_retry = std::chrono::seconds(2);
    c.idle_hold = std::chrono::milliseconds(500);
    c.idle_hold_max = std::chrono::seconds(2);
    // A Process knows one Peer per remote address: every session gets its own, on one loop.
    s->process = std::make_unique<Process>(io_);
    Peer& peer = s->process->add_peer(c);
    s->peer = &peer;
    peer.on_established([this, &session](Peer& p) { established(session, p); })
        .on_state_change([this, &session](Peer& p, State from, State to, std::string_view why) {
          state_changed(session, p, from, to, why);
        })
        .on_notification([&session](Peer&, const bgp::Notification& n, Direction d) {
          session.reason = std::string(d == Direction::Received ? "received " : "sent ") +
                           NotificationInfo::describe(n);
        });
    sessions_.push_back(std::move(s));
  }

  int run(ReplayResult& result) {
    signals_.async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) {
        interrupted_ = true;
        std::fprintf(stderr, "bgpscribe replay: interrupted, closing the sessions\n");
        shutdown();
      }
    });
    for (auto& s : sessions_) {
      s->peer->start();
    }
    connect_timer_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options_.connect_timeout)));
    connect_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) {
        connect_deadline();
      }
    });
    io_.run();

    if (recording_) {
      if (auto st = record_.close(); !st) {
        std::fprintf(stderr, "bgpscribe replay: writing %s failed: %s\n", options_.record.c_str(),
                     st.error().message);
        record_failed_ = true;
      }
    }
    Clock::time_point first = Clock::time_point::max();
    Clock::time_point last = Clock::time_point::min();
    for (auto& s : sessions_) {
      s->stats.held = static_cast<std::uint64_t>(std::max<std::int64_t>(s->held, 0));
      if (s->phase == Phase::Done) {
        s->stats.ok = !s->down;
        s->stats.seconds = seconds_between(s->started, s->finished);
        first = std::min(first, s->started);
        last = std::max(last, s->finished);
      }
      result.prefixes += s->stats.prefixes;
      result.ipv6_prefixes += s->stats.ipv6_prefixes;
      result.withdrawals += s->stats.withdrawals;
      result.held += s->stats.held;
      result.left_out += s->stats.left_out;
      result.messages += s->stats.messages;
      result.bytes += s->stats.bytes;
      result.sessions.push_back(s->stats);
    }
    if (first <= last) {
      result.seconds = seconds_between(first, last);
    }
    if (failed_ || record_failed_) {
      return 1;
    }
    return interrupted_ && options_.hold >= 0 ? 1 : 0;
  }

 private:
  void emit(Session& s, std::span<const std::uint8_t> m, bool add_path) {
    if (!s.peer->send_raw(m)) {
      s.send_failed = true;
      return;
    }
    ++s.stats.messages;
    s.stats.bytes += m.size();
    s.emitted = true;
    if (recording_) {
      record(s, m, add_path);
    }
  }

  // The message as the collector archives it: peer = this session (source address, AS),
  // local = the collector (RFC 6396 section 4.4.3, RFC 8050 section 3).
  void record(const Session& s, std::span<const std::uint8_t> m, bool add_path) {
    mrt::Bgp4mpMessage r;
    if (s.ctx.four_octet_as) {
      r.subtype = add_path ? mrt::Bgp4mpSubtype::MessageAs4Addpath : mrt::Bgp4mpSubtype::MessageAs4;
    } else {
      r.subtype = add_path ? mrt::Bgp4mpSubtype::MessageAddpath : mrt::Bgp4mpSubtype::Message;
    }
    r.peer.peer_as = s.as;
    r.peer.local_as = s.collector_as;
    r.peer.peer_ip = s.source;
    r.peer.local_ip = to_;
    r.message = m;
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
    mrt::Timestamp t{static_cast<std::uint32_t>(us / 1000000),
                     static_cast<std::uint32_t>(us % 1000000), false};
    scratch_.clear();
    if (!mrt::encode(r, t, scratch_) || !record_.write(scratch_.bytes())) {
      if (!record_failed_) {
        std::fprintf(stderr, "bgpscribe replay: writing %s failed\n", options_.record.c_str());
      }
      record_failed_ = true;
    }
  }

  void established(Session& s, Peer& p) {
    if (s.phase != Phase::Connecting || shutting_down_) {
      return;
    }
    const bgp::NegotiatedSession* n = p.negotiated();
    const bgp::ParseContext tx = n->send_context();
    s.ctx.four_octet_as = n->four_octet_as;
    s.ctx.add_path_ipv4 = tx.add_path(bgp::kIpv4Unicast);
    s.ctx.add_path_ipv6 = tx.add_path(bgp::kIpv6Unicast);
    s.ctx.max_size = n->extended_message ? bgp::kMaxExtendedMessageSize : bgp::kMaxMessageSize;
    s.ctx.strip_ibgp_attributes = !n->ibgp;
    s.ctx.source = s.source;
    if (s.diversify) {
      s.ctx.prepend_as = s.as;
      s.ctx.own_next_hop = true;
      const auto v4 = diversify_next_hop_v4(s.number);
      const auto v6 = diversify_next_hop_v6(s.number);
      std::copy_n(v4.bytes.begin(), 4, s.ctx.next_hop_v4.begin());
      s.ctx.next_hop_v6 = v6.bytes;
    }
    s.ipv4 = want_v4_ && n->has_family(bgp::kIpv4Unicast);
    s.ipv6 = want_v6_ && n->has_family(bgp::kIpv6Unicast);
    s.collector_as = n->peer_as;
    if (options_.add_path && !options_.quiet &&
        ((s.ipv4 && !s.ctx.add_path_ipv4) || (s.ipv6 && !s.ctx.add_path_ipv6))) {
      std::fprintf(stderr,
                   "bgpscribe replay: %s: the collector did not accept ADD-PATH for every "
                   "family; path ids are dropped there\n",
                   s.stats.source.c_str());
    }
    s.started = Clock::now();
    s.phase = Phase::Rib;
    if (options_.stats) {
      // Wall-clock times, for benches that time what a collector does with the routes.
      std::fprintf(stderr, "bgpscribe replay: %s: established at %.6f\n", s.stats.source.c_str(),
                   unix_now());
    }
    schedule_now();
  }

  void state_changed(Session& s, Peer& p, State from, State /*to*/, std::string_view why) {
    s.reason = std::string(why);
    if (from != State::Established || shutting_down_ || s.phase == Phase::Failed || s.down) {
      return;
    }
    // Done: everything was sent and the session was held (--hold, or waiting for the other
    // sessions); the collector closed it, sent a NOTIFICATION or died. A failure all the same.
    const bool done = s.phase == Phase::Done;
    const char* when = holding_ ? " during --hold" : done ? " after sending everything" : "";
    std::fprintf(stderr, "bgpscribe replay: session %s -> %s port %u went down%s: %s\n",
                 s.stats.source.c_str(), to_.to_string().c_str(),
                 static_cast<unsigned>(options_.port), when, s.reason.c_str());
    if (done) {
      s.down = true;
      failed_ = true;
    } else {
      fail(s);
    }
    p.stop();  // no reconnection: the replay of this session is over
    if (std::none_of(sessions_.begin(), sessions_.end(), [](const auto& x) { return x->up(); })) {
      // Nothing left to send or to hold: do not wait out --hold (or a signal, with -1).
      std::fprintf(stderr, "bgpscribe replay: no session left up, stopping\n");
      shutdown();
    }
  }

  void fail(Session& s) {
    s.phase = Phase::Failed;
    failed_ = true;
    schedule_now();
  }

  void connect_deadline() {
    bool missing = false;
    for (auto& s : sessions_) {
      if (s->phase == Phase::Connecting) {
        std::fprintf(stderr,
                     "bgpscribe replay: session from %s to %s port %u did not come up within "
                     "%g s: %s\n",
                     s->stats.source.c_str(), to_.to_string().c_str(),
                     static_cast<unsigned>(options_.port), options_.connect_timeout,
                     s->reason.c_str());
        s->phase = Phase::Failed;
        missing = true;
      }
    }
    if (missing) {
      failed_ = true;
      shutdown();
    }
  }

  void schedule_now() {
    if (tick_posted_) {
      return;
    }
    tick_posted_ = true;
    asio::post(io_, [this] {
      tick_posted_ = false;
      tick();
    });
  }

  void schedule_at(Clock::time_point t) {
    if (timer_armed_ && timer_at_ <= t) {
      return;
    }
    timer_armed_ = true;
    timer_at_ = t;
    timer_.expires_at(t);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) {
        return;
      }
      timer_armed_ = false;
      tick();
    });
  }

  void tick() {
    if (shutting_down_) {
      return;
    }
    const auto now = Clock::now();
    bool more = false;
    auto earliest = Clock::time_point::max();
    for (auto& s : sessions_) {
      switch (pump(*s, now)) {
        case Pump::More:
          more = true;
          break;
        case Pump::Blocked:
          earliest = std::min(earliest, now + kPoll);
          break;
        case Pump::Waiting:
          earliest = std::min(earliest, s->due);
          break;
        case Pump::Idle:
          break;
      }
    }
    release_barrier();
    if (finished()) {
      begin_hold();
      return;
    }
    if (more) {
      schedule_now();
    } else if (earliest != Clock::time_point::max()) {
      schedule_at(earliest);
    }
  }

  // Update files start once every session has sent its RIB part ("RIB first").
  void release_barrier() {
    if (updates_started_) {
      return;
    }
    bool any = false;
    for (auto& s : sessions_) {
      if (s->phase == Phase::Connecting || s->phase == Phase::Rib) {
        return;
      }
      any = any || s->phase == Phase::RibDone;
    }
    if (!any) {
      return;
    }
    updates_started_ = true;
    update_start_ = Clock::now();
    for (auto& s : sessions_) {
      if (s->phase == Phase::RibDone) {
        s->phase = Phase::Updates;
      }
    }
    schedule_now();
  }

  [[nodiscard]] bool finished() const {
    return std::all_of(sessions_.begin(), sessions_.end(), [](const auto& s) {
      return s->phase == Phase::Done || s->phase == Phase::Failed;
    });
  }

  void send_end_of_rib(Session& s) {
    for (const auto f : {bgp::kIpv4Unicast, bgp::kIpv6Unicast}) {
      if (!s.has(f)) {
        continue;
      }
      scratch_.clear();
      if (bgp::UpdateMessage::end_of_rib(f).encode(scratch_, s.ctx.max_size)) {
        const std::vector<std::uint8_t> m = scratch_.buffer();
        emit(s, m, false);
      }
    }
  }

  // Sends routes of `s` until its budget is used, its queue is full or it must wait.
  Pump pump(Session& s, Clock::time_point now) {
    const std::uint64_t budget = s.stats.bytes + kRoundBytes;
    const ScaleMap& scale = input_.scale_map();
    const std::uint32_t copies = std::max<std::uint32_t>(options_.scale, 1);
    while (true) {
      if (s.send_failed && s.phase != Phase::Failed && s.phase != Phase::Done) {
        std::fprintf(stderr, "bgpscribe replay: session %s: sending failed: %s\n",
                     s.stats.source.c_str(), s.reason.c_str());
        fail(s);
      }
      switch (s.phase) {
        case Phase::Connecting:
        case Phase::RibDone:
        case Phase::Done:
        case Phase::Failed:
          return Pump::Idle;
        case Phase::Draining:
          if (s.peer->send_queue_bytes() == 0) {
            s.finished = Clock::now();
            s.phase = Phase::Done;
            if (options_.stats) {
              std::fprintf(stderr,
                           "bgpscribe replay: %s: %llu prefixes, %llu withdrawals, %lld routes "
                           "held, sent at %.6f\n",
                           s.stats.source.c_str(),
                           static_cast<unsigned long long>(s.stats.prefixes),
                           static_cast<unsigned long long>(s.stats.withdrawals),
                           static_cast<long long>(s.held), unix_now());
            }
            return Pump::Idle;
          }
          return Pump::Blocked;
        default:
          break;
      }
      if (s.peer->send_queue_bytes() >= kHighWater) {
        return Pump::Blocked;
      }
      if (s.stats.bytes >= budget) {
        return Pump::More;
      }
      // Adds the copies of routes [s.route, end) to the open run; false when it must yield.
      // Announcements (or withdrawals) of `family`.
      auto send_routes = [&](const std::vector<ReplayRoute>& routes, std::size_t end,
                             bgp::AfiSafi family, bool withdraw) {
        while (s.route < end) {
          const ReplayRoute& r = routes[s.route];
          while (s.copy < copies) {
            const std::uint32_t k = s.copy++;
            bgp::Prefix prefix = r.prefix;
            if (k > 0) {
              auto p = scale.copy(r.prefix, r.rank, k);
              if (!p) {
                ++s.stats.scale_skipped;
                continue;
              }
              prefix = *p;
            }
            if (s.diversify && diversify_leaves_out(s.number, prefix)) {
              s.stats.left_out += withdraw ? 0 : 1;
              continue;
            }
            s.packer->add(prefix, r.path_id);
            s.held += r.held_delta;
            if (withdraw) {
              ++s.stats.withdrawals;
            } else {
              ++s.stats.prefixes;
              s.stats.ipv6_prefixes += family == bgp::kIpv6Unicast ? 1 : 0;
            }
            if (s.emitted) {
              s.emitted = false;
              if (s.send_failed || s.stats.bytes >= budget ||
                  s.peer->send_queue_bytes() >= kHighWater) {
                return false;
              }
            }
          }
          s.copy = 0;
          ++s.route;
        }
        return true;
      };

      if (s.phase == Phase::Rib) {
        const auto& sets = s.mrt->sets;
        if (s.set >= sets.size()) {
          s.packer->flush();
          send_end_of_rib(s);
          s.phase = Phase::RibDone;
          continue;
        }
        const AttributeSet& set = sets[s.set];
        if (!s.run_open) {
          if (set.rib.empty() || !s.has(set.family)) {
            ++s.set;
            continue;
          }
          if (!s.packer->begin_announce(set, s.ctx)) {
            ++too_large_;
            ++s.set;
            continue;
          }
          s.run_open = true;
          s.route = 0;
          s.copy = 0;
        }
        if (!send_routes(set.rib, set.rib.size(), set.family, false)) {
          continue;
        }
        s.run_open = false;
        ++s.set;
        continue;
      }

      // Phase::Updates: one event (one family of one recorded UPDATE) after the other.
      const auto& events = s.mrt->updates;
      if (s.event >= events.size()) {
        s.packer->flush();
        s.phase = Phase::Draining;
        continue;
      }
      const UpdateEvent& e = events[s.event];
      if (!s.run_open) {
        if (!s.has(e.family)) {
          ++s.event;
          continue;
        }
        if (options_.speed > 0 && e.time_us > input_.first_update_us()) {
          const double offset =
              static_cast<double>(e.time_us - input_.first_update_us()) / 1e6 / options_.speed;
          s.due = update_start_ + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(offset));
          if (s.due > now) {
            s.packer->flush();
            return Pump::Waiting;
          }
        }
        const bool ok = e.withdraw ? s.packer->begin_withdraw(e.family, s.ctx)
                                   : s.packer->begin_announce(s.mrt->sets[e.set], s.ctx);
        if (!ok) {
          ++too_large_;
          ++s.event;
          continue;
        }
        s.run_open = true;
        s.route = e.begin;
        s.copy = 0;
      }
      if (!send_routes(s.mrt->update_routes, e.end, e.family, e.withdraw)) {
        continue;
      }
      s.packer->flush();  // each recorded UPDATE keeps its own messages
      s.run_open = false;
      ++s.event;
    }
  }

  void begin_hold() {
    if (holding_) {
      return;
    }
    holding_ = true;
    if (options_.hold < 0) {
      return;  // until a signal
    }
    timer_.cancel();
    timer_armed_ = false;
    timer_.expires_after(
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.hold)));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) {
        shutdown();
      }
    });
  }

  // Cease to every peer, then leave the loop once the connections are closed (2 s at most).
  void shutdown() {
    if (shutting_down_) {
      return;
    }
    shutting_down_ = true;
    connect_timer_.cancel();
    timer_.cancel();
    for (auto& s : sessions_) {
      s->peer->stop("bgpscribe replay finished");
    }
    shutdown_deadline_ = Clock::now() + std::chrono::seconds(2);
    wait_closed();
  }

  void wait_closed() {
    const bool open = std::any_of(sessions_.begin(), sessions_.end(),
                                  [](const auto& s) { return s->peer->connection_count() > 0; });
    if (!open || Clock::now() >= shutdown_deadline_) {
      signals_.cancel();
      io_.stop();
      return;
    }
    close_timer_ = std::make_unique<asio::steady_timer>(io_);
    close_timer_->expires_after(std::chrono::milliseconds(20));
    close_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec) {
        wait_closed();
      }
    });
  }

 public:
  std::uint64_t too_large() const { return too_large_; }

 private:
  const ReplayOptions& options_;
  const ReplayInput& input_;
  bgp::IpAddress to_;
  bool want_v4_;
  bool want_v6_;
  asio::io_context io_;
  std::vector<std::unique_ptr<Session>> sessions_;
  asio::steady_timer timer_;
  asio::steady_timer connect_timer_;
  std::unique_ptr<asio::steady_timer> close_timer_;
  asio::signal_set signals_;
  bool tick_posted_ = false;
  bool timer_armed_ = false;
  Clock::time_point timer_at_{};
  bool updates_started_ = false;
  Clock::time_point update_start_{};
  bool holding_ = false;
  bool shutting_down_ = false;
  Clock::time_point shutdown_deadline_{};
  bool failed_ = false;
  bool interrupted_ = false;
  std::uint64_t too_large_ = 0;
  mrt::FileWriter record_;
  bool recording_ = false;
  bool record_failed_ = false;
  codec::wire::Writer scratch_;
};

void print_stats(const ReplayResult& r, std::uint64_t too_large) {
  for (const auto& s : r.sessions) {
    std::fprintf(
        stderr,
        "bgpscribe replay: %s AS%u (MRT peer %s): %llu prefixes, %llu withdrawals, %llu "
        "routes held, %llu left out, %llu messages, %s, %.3f s, %.0f prefixes/s%s\n",
        s.source.c_str(), s.as, s.mrt_peer.c_str(), static_cast<unsigned long long>(s.prefixes),
        static_cast<unsigned long long>(s.withdrawals), static_cast<unsigned long long>(s.held),
        static_cast<unsigned long long>(s.left_out), static_cast<unsigned long long>(s.messages),
        mib(s.bytes).c_str(), s.seconds,
        s.seconds > 0 ? static_cast<double>(s.prefixes + s.withdrawals) / s.seconds : 0.0,
        s.ok ? "" : " (failed)");
  }
  std::fprintf(stderr,
               "bgpscribe replay: total %zu sessions: %llu prefixes (%llu IPv6), %llu "
               "withdrawals, %llu routes held, %llu left out, %llu messages, %s, %.3f s, %.0f "
               "prefixes/s\n",
               r.sessions.size(), static_cast<unsigned long long>(r.prefixes),
               static_cast<unsigned long long>(r.ipv6_prefixes),
               static_cast<unsigned long long>(r.withdrawals),
               static_cast<unsigned long long>(r.held), static_cast<unsigned long long>(r.left_out),
               static_cast<unsigned long long>(r.messages), mib(r.bytes).c_str(), r.seconds,
               r.seconds > 0 ? static_cast<double>(r.prefixes + r.withdrawals) / r.seconds : 0.0);
  std::uint64_t scale_skipped = 0;
  for (const auto& s : r.sessions) {
    scale_skipped += s.scale_skipped;
  }
  std::fprintf(stderr,
               "bgpscribe replay: input: %llu records, %llu RIB routes, %llu UPDATEs, %llu "
               "malformed, %llu routes of other families, %llu duplicate RIB entries; %llu scale "
               "copies without room, %llu attribute sets too large\n",
               static_cast<unsigned long long>(r.input.records),
               static_cast<unsigned long long>(r.input.rib_routes),
               static_cast<unsigned long long>(r.input.update_messages),
               static_cast<unsigned long long>(r.input.malformed),
               static_cast<unsigned long long>(r.input.skipped_family),
               static_cast<unsigned long long>(r.input.skipped_duplicate),
               static_cast<unsigned long long>(scale_skipped),
               static_cast<unsigned long long>(too_large));
}

}  // namespace

std::uint32_t diversify_as(std::uint32_t session) {
  return kDiversifyAsBase + 1 + session;
}

bgp::IpAddress diversify_next_hop_v4(std::uint32_t session) {
  return bgp::IpAddress::v4(0xC6120000U + 1 + session);  // 198.18.0.0/15
}

bgp::IpAddress diversify_next_hop_v6(std::uint32_t session) {
  std::array<std::uint8_t, 16> b{0x20, 0x01, 0x0D, 0xB8};  // 2001:db8::198.18.0.0 + 1 + session
  const auto v4 = diversify_next_hop_v4(session);
  std::copy_n(v4.bytes.begin(), 4, b.begin() + 12);
  return bgp::IpAddress::v6(b);
}

bool diversify_leaves_out(std::uint32_t session, const bgp::Prefix& prefix) {
  // SplitMix64 over the address, length, family and session: a fixed, well-spread choice.
  auto mix = [](std::uint64_t z) {
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    high = (high << 8) | prefix.address.bytes[i];
    low = (low << 8) | prefix.address.bytes[i + 8];
  }
  const std::uint64_t tag = (std::uint64_t{session} << 16) | (std::uint64_t{prefix.length} << 1) |
                            (prefix.address.is_v4() ? 0U : 1U);
  return mix(mix(mix(tag) ^ high) ^ low) % 1000 < kDiversifyLeaveOutPerMille;
}

int run_replay(const ReplayOptions& options, ReplayResult* result_out) {
  ReplayResult result;
  const auto to = bgp::IpAddress::parse(options.to);
  const auto base = bgp::IpAddress::parse(options.source_base);
  if (!to || !base) {
    std::fprintf(stderr, "bgpscribe replay: %s is not an IP address\n",
                 !to ? options.to.c_str() : options.source_base.c_str());
    return 2;
  }
  if (to->family != base->family) {
    std::fprintf(stderr, "bgpscribe replay: --to and --source-base must be of one family\n");
    return 2;
  }
  InputOptions in;
  in.add_path = options.add_path;
  in.quiet = options.quiet;
  in.ipv4 =
      std::find(options.families.begin(), options.families.end(), "ipv4") != options.families.end();
  in.ipv6 =
      std::find(options.families.begin(), options.families.end(), "ipv6") != options.families.end();
  if (options.ipv6_from_ipv4 > 100) {
    std::fprintf(stderr, "bgpscribe replay: --ipv6-from-ipv4 is a percentage (0-100)\n");
    return 2;
  }
  if (options.clone == 0 || options.scale == 0) {
    std::fprintf(stderr, "bgpscribe replay: --clone and --scale must be at least 1\n");
    return 2;
  }

  ReplayInput input(in);
  const auto load_start = Clock::now();
  for (const auto& f : options.files) {
    if (!input.load(f)) {
      return 2;
    }
  }
  const std::uint64_t derived = input.derive_ipv6(options.ipv6_from_ipv4);
  input.finish(options.scale);
  result.input = input.stats();
  if (options.stats && options.ipv6_from_ipv4 > 0) {
    std::fprintf(stderr, "bgpscribe replay: derived %llu IPv6 RIB routes from IPv4 ones\n",
                 static_cast<unsigned long long>(derived));
  }
  if (options.stats) {
    std::fprintf(stderr, "bgpscribe replay: read %zu files in %.2f s: %zu MRT peers\n",
                 options.files.size(), seconds_between(load_start, Clock::now()),
                 input.peers().size());
  }

  // The MRT peers with the most routes (stable: input order among equals).
  std::vector<const MrtPeer*> chosen;
  for (const auto& p : input.peers()) {
    if (p->route_count() > 0) {
      chosen.push_back(p.get());
    }
  }
  std::stable_sort(chosen.begin(), chosen.end(), [](const MrtPeer* a, const MrtPeer* b) {
    return a->route_count() > b->route_count();
  });
  if (options.peers > 0 && chosen.size() > options.peers) {
    chosen.resize(options.peers);
  }
  if (chosen.empty()) {
    std::fprintf(stderr, "bgpscribe replay: no routes to replay in the input\n");
    if (result_out != nullptr) {
      *result_out = result;
    }
    return 1;
  }

  Runner runner(options, input, *to, in.ipv4, in.ipv6);
  if (!runner.open_record()) {
    return 2;
  }
  std::uint64_t n = 0;
  try {
    for (std::uint32_t c = 0; c < options.clone; ++c) {
      for (const MrtPeer* p : chosen) {
        std::optional<bgp::IpAddress> source;
        do {
          source = nth_address(*base, n++);
        } while (source && *source == *to);
        if (!source) {
          std::fprintf(stderr, "bgpscribe replay: too many sessions for --source-base %s\n",
                       options.source_base.c_str());
          return 2;
        }
        runner.add_session(*p, *source, c);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bgpscribe replay: %s\n", e.what());
    return 2;
  }
  if (options.stats) {
    std::fprintf(stderr, "bgpscribe replay: %llu sessions to %s port %u\n",
                 static_cast<unsigned long long>(options.clone) * chosen.size(), options.to.c_str(),
                 static_cast<unsigned>(options.port));
  }
  const int status = runner.run(result);
  if (options.stats) {
    print_stats(result, runner.too_large());
  }
  if (result_out != nullptr) {
    *result_out = result;
  }
  return status;
}

}  // namespace bgpscribe::tools
