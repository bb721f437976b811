// The graceful restart helper (speaker/graceful_restart.hpp) driven directly: session ends and
// returns, End-of-RIB and timer expiries in, reports and timer actions out. No sockets, no
// clock: a timer "runs out" when the test says so. Each rule names its RFC section.
#include "speaker/graceful_restart.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace bgpscribe::speaker {
namespace {

namespace bgp = codec::bgp;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Gr = GracefulRestartState;
using Timer = Gr::Timer;
using Event = GracefulRestartEvent;

constexpr bgp::AfiSafi kV4 = bgp::kIpv4Unicast;
constexpr bgp::AfiSafi kV6 = bgp::kIpv6Unicast;
constexpr std::uint8_t kF = bgp::GracefulRestartTuple::kForwardingState;
constexpr std::uint8_t kN = bgp::GracefulRestartCapability::kNotification;
constexpr auto kStaleTime = seconds(360);

Gr::Config cfg(bool helper = true, bool notification = false) {
  return Gr::Config{helper, notification, kStaleTime};
}

// The peer's graceful restart capability (RFC 4724 section 3).
bgp::GracefulRestartCapability cap(std::uint16_t restart_time,
                                   std::vector<bgp::GracefulRestartTuple> tuples,
                                   std::uint8_t flags = 0) {
  bgp::GracefulRestartCapability c;
  c.flags = flags;
  c.restart_time = restart_time;
  c.tuples = std::move(tuples);
  return c;
}

bgp::NegotiatedSession session(std::optional<bgp::GracefulRestartCapability> gr) {
  bgp::NegotiatedSession n;
  n.families = {kV4, kV6};
  n.peer_graceful_restart = std::move(gr);
  return n;
}

Gr::Action report(Event e, bgp::AfiSafi f) {
  return Gr::Action{Gr::ActionType::Report, e, f};
}
Gr::Action start(Timer t, milliseconds d) {
  return Gr::Action{Gr::ActionType::StartTimer, Event::Stale, {}, t, d};
}
Gr::Action stop(Timer t) {
  return Gr::Action{Gr::ActionType::StopTimer, Event::Stale, {}, t};
}

std::string family_text(bgp::AfiSafi f) {
  return std::to_string(static_cast<int>(f.afi)) + "/" + std::to_string(static_cast<int>(f.safi));
}

// "stale 1/1, start Restart 5000ms, ..." for readable failures.
std::string text(const Gr::Actions& actions) {
  std::string out;
  for (const auto& a : actions) {
    if (!out.empty()) {
      out += ", ";
    }
    switch (a.type) {
      case Gr::ActionType::Report:
        out += std::string(to_string(a.event)) + " " + family_text(a.family);
        break;
      case Gr::ActionType::StartTimer:
        out += std::string("start ") + to_string(a.timer) + " " +
               std::to_string(a.duration.count()) + "ms";
        break;
      case Gr::ActionType::StopTimer:
        out += std::string("stop ") + to_string(a.timer);
        break;
    }
  }
  return out;
}

#define EXPECT_ACTIONS(got, ...) \
  EXPECT_EQ(text(got), text(Gr::Actions{__VA_ARGS__})) << "actions differ"

// A session with `peer` ends without a NOTIFICATION and the helper has acted on it.
Gr down(const bgp::GracefulRestartCapability& peer, Gr::Config c = cfg()) {
  Gr gr(c);
  const auto n = session(peer);
  gr.session_ending({&n, false, false});
  (void)gr.session_down();
  return gr;
}

// ---- Which families a session's end keeps --------------------------------------------------

// Each row says what differs from a TCP end of a session where both sides announced the
// capability (the peer with restart time 120, IPv4 with the F bit, IPv6 without).
struct EndCase {
  const char* rule = "";
  bool helper = true;  // we announced the capability
  bool our_n = false;  // our N bit (RFC 8538)
  std::optional<bgp::GracefulRestartCapability> peer = cap(120, {{kV4, kF}, {kV6, 0}});
  bool negotiated = true;     // false: the session had no OPEN agreed
  bool notification = false;  // a NOTIFICATION was exchanged
  bool hard_reset = false;    // it was Cease / Hard Reset
  std::vector<bgp::AfiSafi> kept{};
};

TEST(GracefulRestart, WhichFamiliesASessionsEndKeeps) {
  const auto with_n = cap(120, {{kV4, kF}, {kV6, 0}}, kN);
  const std::vector<EndCase> cases = {
      {.rule = "RFC 4724 section 4.2: a TCP end keeps every family of the peer's capability, "
               "F bit or not",
       .kept = {kV4, kV6}},
      {.rule = "RFC 4724 section 4.2: nothing without our own capability (no helper)",
       .helper = false},
      {.rule = "RFC 4724 section 4.2: nothing when the peer did not announce the capability",
       .peer = std::nullopt},
      {.rule = "RFC 4724 section 4.2: nothing from a session that never agreed on an OPEN",
       .negotiated = false},
      {.rule = "RFC 4724 section 4.2: a NOTIFICATION ends the session for good",
       .notification = true},
      {.rule = "RFC 8538 section 4: our N bit alone does not keep routes after a NOTIFICATION",
       .our_n = true,
       .notification = true},
      {.rule = "RFC 8538 section 4: the peer's N bit alone does not either",
       .peer = with_n,
       .notification = true},
      {.rule = "RFC 8538 section 4: with N on both sides a NOTIFICATION keeps the routes",
       .our_n = true,
       .peer = with_n,
       .notification = true,
       .kept = {kV4, kV6}},
      {.rule = "RFC 8538 section 3: Hard Reset ends the session for good even with N on both sides",
       .our_n = true,
       .peer = with_n,
       .notification = true,
       .hard_reset = true},
      {.rule = "RFC 8538 section 4: with N on both sides a TCP end still keeps the routes",
       .our_n = true,
       .peer = with_n,
       .kept = {kV4, kV6}},
      {.rule =
           "RFC 4724 section 3: a restart time of 0 keeps nothing (nothing comes back within it)",
       .peer = cap(0, {{kV4, kF}})},
      {.rule = "RFC 4724 section 3: a family listed twice is kept once",
       .peer = cap(120, {{kV4, 0}, {kV4, kF}}),
       .kept = {kV4}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.rule);
    Gr gr(cfg(c.helper, c.our_n));
    const auto n = session(c.peer);
    gr.session_ending({c.negotiated ? &n : nullptr, c.notification, c.hard_reset});
    EXPECT_EQ(gr.ending_stale(), c.kept);
    const Gr::Actions a = gr.session_down();
    EXPECT_TRUE(gr.ending_stale().empty());  // consumed by session_down
    EXPECT_EQ(gr.stale(), c.kept);
    if (c.kept.empty()) {
      EXPECT_TRUE(a.empty()) << text(a);
      EXPECT_FALSE(gr.running());
    } else {
      EXPECT_EQ(gr.running(), Timer::Restart);
    }
  }
}

// ---- The restart timer ---------------------------------------------------------------------

TEST(GracefulRestart, SessionDownReportsStaleThenStartsThePeersRestartTime) {
  // RFC 4724 section 4.2: retain and mark stale; the peer has its Restart Time to come back.
  Gr gr(cfg());
  const auto n = session(cap(5, {{kV4, kF}, {kV6, 0}}));
  gr.session_ending({&n, false, false});
  EXPECT_ACTIONS(gr.session_down(), report(Event::Stale, kV4), report(Event::Stale, kV6),
                 start(Timer::Restart, seconds(5)));
}

TEST(GracefulRestart, RestartTimeRunsOutAndEveryStaleFamilyExpires) {
  // RFC 4724 section 4.2: not re-established within the Restart Time: delete the stale routes.
  Gr gr = down(cap(5, {{kV4, kF}, {kV6, kF}}));
  EXPECT_ACTIONS(gr.timer_expired(Timer::Restart), report(Event::Expired, kV4),
                 report(Event::Expired, kV6));
  EXPECT_TRUE(gr.stale().empty());
  EXPECT_FALSE(gr.running());
  // Once gone, they are not reported again.
  EXPECT_ACTIONS(gr.timer_expired(Timer::Restart));
  EXPECT_ACTIONS(gr.session_established(nullptr));
}

// ---- The peer comes back -------------------------------------------------------------------

// Both families were stale (the peer's capability had IPv4 and IPv6, both with the F bit).
struct ReturnCase {
  const char* rule = "";
  std::optional<bgp::GracefulRestartCapability> peer{};  // in the new session
  bool negotiated = true;
  std::vector<bgp::AfiSafi> expired{};  // at once
  std::vector<bgp::AfiSafi> kept{};     // until End-of-RIB or the stale time
};

TEST(GracefulRestart, TheReturningSessionsCapabilityDecidesWhatStaysStale) {
  const std::vector<ReturnCase> cases = {
      {.rule = "RFC 4724 section 4.2: F bit set for every family: all stay stale until End-of-RIB",
       .peer = cap(5, {{kV4, kF}, {kV6, kF}}, bgp::GracefulRestartCapability::kRestartState),
       .kept = {kV4, kV6}},
      {.rule = "RFC 4724 section 4.2: a family without the F bit loses its stale routes at once",
       .peer = cap(5, {{kV4, kF}, {kV6, 0}}),
       .expired = {kV6},
       .kept = {kV4}},
      {.rule = "RFC 4724 section 4.2: a family missing from the new capability loses them at once",
       .peer = cap(5, {{kV4, kF}}),
       .expired = {kV6},
       .kept = {kV4}},
      {.rule = "RFC 4724 section 4.2: no capability in the new session: every family at once",
       .expired = {kV4, kV6}},
      {.rule = "RFC 4724 section 4.2: nothing negotiated counts as no capability",
       .negotiated = false,
       .expired = {kV4, kV6}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.rule);
    Gr gr = down(cap(5, {{kV4, kF}, {kV6, kF}}));
    const auto n = session(c.peer);
    Gr::Actions want{stop(Timer::Restart)};
    for (const auto& f : c.expired) {
      want.push_back(report(Event::Expired, f));
    }
    if (!c.kept.empty()) {
      // RFC 4724 section 4.2: the optional upper bound on keeping stale routes.
      want.push_back(start(Timer::Stale, kStaleTime));
    }
    EXPECT_EQ(text(gr.session_established(c.negotiated ? &n : nullptr)), text(want));
    EXPECT_EQ(gr.stale(), c.kept);
    EXPECT_EQ(gr.running(), c.kept.empty() ? std::nullopt : std::optional(Timer::Stale));
  }
}

TEST(GracefulRestart, EndOfRibRecoversItsFamilyAndTheLastStopsTheStaleTimer) {
  // RFC 4724 section 4.2: at End-of-RIB the routes of the family still stale are removed.
  Gr gr = down(cap(5, {{kV4, kF}, {kV6, kF}}));
  const auto back = session(cap(5, {{kV4, kF}, {kV6, kF}}));
  (void)gr.session_established(&back);
  EXPECT_ACTIONS(gr.end_of_rib(kV6), report(Event::Recovered, kV6));
  EXPECT_EQ(gr.stale(), std::vector{kV4});
  EXPECT_EQ(gr.running(), Timer::Stale);
  // A family that is not stale (again, or never was): nothing.
  EXPECT_ACTIONS(gr.end_of_rib(kV6));
  EXPECT_ACTIONS(gr.end_of_rib(bgp::kIpv4Multicast));
  EXPECT_ACTIONS(gr.end_of_rib(kV4), report(Event::Recovered, kV4), stop(Timer::Stale));
  EXPECT_FALSE(gr.running());
}

TEST(GracefulRestart, StaleTimeRunsOutBeforeEndOfRib) {
  // RFC 4724 section 4.2: the upper bound on stale routes: what is still stale expires.
  Gr gr = down(cap(5, {{kV4, kF}, {kV6, kF}}));
  const auto back = session(cap(5, {{kV4, kF}, {kV6, kF}}));
  (void)gr.session_established(&back);
  (void)gr.end_of_rib(kV4);
  EXPECT_ACTIONS(gr.timer_expired(Timer::Stale), report(Event::Expired, kV6));
  EXPECT_TRUE(gr.stale().empty());
}

TEST(GracefulRestart, AnExpiryOfATimerNoLongerRunningIsIgnored) {
  // The Peer's timer may have run out just as it was stopped or replaced: the helper acts only
  // on the timer it is running (RFC 4724 section 4.2 gives each its own meaning).
  Gr gr = down(cap(5, {{kV4, kF}}));
  const auto back = session(cap(5, {{kV4, kF}}));
  (void)gr.session_established(&back);  // Restart stopped, Stale started
  EXPECT_ACTIONS(gr.timer_expired(Timer::Restart));
  EXPECT_EQ(gr.stale(), std::vector{kV4});
  Gr idle(cfg());
  EXPECT_ACTIONS(idle.timer_expired(Timer::Stale));
  EXPECT_ACTIONS(idle.timer_expired(Timer::Restart));
}

TEST(GracefulRestart, ASecondEndBeforeEndOfRibKeepsWhatIsStaleAndRestartsTheRestartTime) {
  // RFC 4724 section 4.2 (the section does not say; this is the helper's reading): families
  // already stale stay stale without a second report, new ones are reported, and the peer
  // has its restart time again from this end.
  Gr gr = down(cap(5, {{kV4, kF}}));
  const auto back = session(cap(7, {{kV4, kF}, {kV6, kF}}));
  (void)gr.session_established(&back);
  ASSERT_EQ(gr.running(), Timer::Stale);
  gr.session_ending({&back, false, false});
  EXPECT_EQ(gr.ending_stale(), (std::vector{kV4, kV6}));
  EXPECT_ACTIONS(gr.session_down(), report(Event::Stale, kV6), stop(Timer::Stale),
                 start(Timer::Restart, seconds(7)));
  EXPECT_EQ(gr.stale(), (std::vector{kV4, kV6}));
}

TEST(GracefulRestart, AnEstablishedSessionWithNothingStaleDoesNothing) {
  // RFC 4724 section 4.2 concerns only retained routes: a first session, or one after every
  // family recovered, starts and stops no timer.
  Gr gr(cfg());
  const auto n = session(cap(5, {{kV4, 0}}));
  EXPECT_ACTIONS(gr.session_established(&n));
  EXPECT_ACTIONS(gr.end_of_rib(kV4));
  EXPECT_FALSE(gr.running());
}

TEST(GracefulRestart, TheLastSessionEndingDecides) {
  // ending_stale() is what the session now going down keeps: a second decision replaces one
  // that session_down() has not consumed.
  Gr gr(cfg());
  const auto with = session(cap(5, {{kV4, 0}}));
  const auto without = session(std::nullopt);
  gr.session_ending({&with, false, false});
  gr.session_ending({&without, false, false});
  EXPECT_TRUE(gr.ending_stale().empty());
  EXPECT_ACTIONS(gr.session_down());
  // And a session_down() without a decision keeps nothing.
  EXPECT_ACTIONS(gr.session_down());
}

// ---- The application -----------------------------------------------------------------------

TEST(GracefulRestart, StopExpiresEveryStaleFamilyAndStopsTheTimer) {
  // RFC 4724 section 4.2 keeps routes for a peer that comes back; one we stop will not.
  Gr gr = down(cap(5, {{kV4, kF}, {kV6, kF}}));
  EXPECT_ACTIONS(gr.stop(), report(Event::Expired, kV4), report(Event::Expired, kV6),
                 stop(Timer::Restart));
  EXPECT_TRUE(gr.stale().empty());
  EXPECT_ACTIONS(gr.stop());
}

TEST(GracefulRestart, RemoveStopsTheTimerWithoutReports) {
  // A removed peer reports its removal instead (docs/speaker.md, Dynamic peers).
  Gr gr = down(cap(5, {{kV4, kF}}));
  EXPECT_ACTIONS(gr.remove(), stop(Timer::Restart));
  EXPECT_FALSE(gr.running());
}

TEST(GracefulRestart, AWholeRestartAsTheSessionTestSeesIt) {
  // RFC 4724 section 4.2 end to end: drop (stale), return with F and the R bit, End-of-RIB.
  Gr gr(cfg());
  const auto first = session(cap(5, {{kV4, kF}}));
  gr.session_ending({&first, false, false});
  EXPECT_EQ(gr.ending_stale(), std::vector{kV4});
  EXPECT_ACTIONS(gr.session_down(), report(Event::Stale, kV4), start(Timer::Restart, seconds(5)));
  const auto second = session(cap(5, {{kV4, kF}}, bgp::GracefulRestartCapability::kRestartState));
  EXPECT_ACTIONS(gr.session_established(&second), stop(Timer::Restart),
                 start(Timer::Stale, kStaleTime));
  EXPECT_ACTIONS(gr.end_of_rib(kV4), report(Event::Recovered, kV4), stop(Timer::Stale));
  EXPECT_TRUE(gr.stale().empty());
  EXPECT_FALSE(gr.running());
}

}  // namespace
}  // namespace bgpscribe::speaker
