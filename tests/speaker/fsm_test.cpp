// The RFC 4271 FSM driven directly: events in, actions out, no sockets or clocks.
#include "speaker/fsm.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "codec/bgp/notification_codes.hpp"

namespace bgpscribe::speaker::fsm {
namespace {

namespace bgp = codec::bgp;
using std::chrono::seconds;

Event ev(EventType t, std::uint16_t hold = 0) {
  return Event{t, hold, {}};
}

std::vector<ActionType> types(const Actions& a) {
  std::vector<ActionType> out;
  for (const auto& x : a) {
    out.push_back(x.type);
  }
  return out;
}

const Action* find_start(const Actions& a, Timer t) {
  for (const auto& x : a) {
    if (x.type == ActionType::StartTimer && x.timer == t) {
      return &x;
    }
  }
  return nullptr;
}

Config cfg() {
  Config c;
  c.connect_retry = seconds(30);
  c.hold_time = 90;
  c.idle_hold = seconds(1);
  c.idle_hold_max = seconds(8);
  return c;
}

// Drives a fresh active FSM to Established.
Fsm established(Config c = cfg()) {
  Fsm f(c);
  (void)f.handle(ev(EventType::ManualStart));
  (void)f.handle(ev(EventType::TcpConnected));
  (void)f.handle(ev(EventType::OpenReceived, 90));
  (void)f.handle(ev(EventType::KeepaliveReceived));
  return f;
}

TEST(Fsm, ActiveStartConnectsAndStartsConnectRetry) {
  Fsm f(cfg());
  const Actions a = f.handle(ev(EventType::ManualStart));
  EXPECT_EQ(f.state(), State::Connect);
  EXPECT_TRUE(a.contains(ActionType::Connect));
  ASSERT_NE(find_start(a, Timer::ConnectRetry), nullptr);
  EXPECT_EQ(find_start(a, Timer::ConnectRetry)->duration, seconds(30));
}

TEST(Fsm, PassiveStartWaitsInActiveWithoutConnecting) {
  Config c = cfg();
  c.passive = true;
  Fsm f(c);
  const Actions a = f.handle(ev(EventType::ManualStart));
  EXPECT_EQ(f.state(), State::Active);
  EXPECT_FALSE(a.contains(ActionType::Connect));
  // The connect-retry timer expiring in Active does not make a passive FSM connect.
  const Actions b = f.handle(ev(EventType::ConnectRetryExpired));
  EXPECT_EQ(f.state(), State::Active);
  EXPECT_FALSE(b.contains(ActionType::Connect));
}

TEST(Fsm, TcpUpSendsOpenWithTheLargeHoldTimer) {
  Fsm f(cfg());
  (void)f.handle(ev(EventType::ManualStart));
  const Actions a = f.handle(ev(EventType::TcpConnected));
  EXPECT_EQ(f.state(), State::OpenSent);
  EXPECT_TRUE(a.contains(ActionType::SendOpen));
  ASSERT_NE(find_start(a, Timer::Hold), nullptr);
  EXPECT_EQ(find_start(a, Timer::Hold)->duration, seconds(240));  // section 8: 4 minutes
}

TEST(Fsm, OpenReceivedSendsKeepaliveAndUsesNegotiatedHoldTime) {
  Fsm f(cfg());
  (void)f.handle(ev(EventType::ManualStart));
  (void)f.handle(ev(EventType::TcpConnected));
  const Actions a = f.handle(ev(EventType::OpenReceived, 30));
  EXPECT_EQ(f.state(), State::OpenConfirm);
  EXPECT_TRUE(a.contains(ActionType::SendKeepalive));
  EXPECT_EQ(find_start(a, Timer::Hold)->duration, seconds(30));
  EXPECT_EQ(find_start(a, Timer::Keepalive)->duration, seconds(10));
  EXPECT_EQ(f.hold_time(), 30);
}

TEST(Fsm, KeepaliveInOpenConfirmEstablishes) {
  Fsm f(cfg());
  (void)f.handle(ev(EventType::ManualStart));
  (void)f.handle(ev(EventType::TcpConnected));
  (void)f.handle(ev(EventType::OpenReceived, 90));
  const Actions a = f.handle(ev(EventType::KeepaliveReceived));
  EXPECT_EQ(f.state(), State::Established);
  EXPECT_TRUE(a.contains(ActionType::Established));
}

TEST(Fsm, HoldTimeZeroMeansNoKeepalivesAndNoHoldTimer) {
  Fsm f(cfg());
  (void)f.handle(ev(EventType::ManualStart));
  (void)f.handle(ev(EventType::TcpConnected));
  const Actions a = f.handle(ev(EventType::OpenReceived, 0));
  EXPECT_EQ(find_start(a, Timer::Keepalive), nullptr);
  EXPECT_EQ(find_start(a, Timer::Hold), nullptr);
  // The KEEPALIVE that brings the session up must not start a hold timer of zero either (it
  // expired at once: the session went down with 4/0 about 40 ms after Established).
  const Actions up = f.handle(ev(EventType::KeepaliveReceived));
  EXPECT_EQ(f.state(), State::Established);
  EXPECT_EQ(find_start(up, Timer::Hold), nullptr);
  EXPECT_EQ(find_start(up, Timer::Keepalive), nullptr);
  const Actions b = f.handle(ev(EventType::UpdateReceived));
  EXPECT_EQ(b.count, 0U);
  EXPECT_EQ(f.handle(ev(EventType::KeepaliveReceived)).count, 0U);
}

TEST(Fsm, UpdateAndKeepaliveRestartHoldButRouteRefreshDoesNot) {
  Fsm f = established();
  EXPECT_NE(find_start(f.handle(ev(EventType::UpdateReceived)), Timer::Hold), nullptr);
  EXPECT_NE(find_start(f.handle(ev(EventType::KeepaliveReceived)), Timer::Hold), nullptr);
  EXPECT_EQ(find_start(f.handle(ev(EventType::RouteRefreshReceived)), Timer::Hold), nullptr);
}

TEST(Fsm, HoldExpiryInEstablishedSendsHoldTimerExpiredAndRestartsLater) {
  Fsm f = established();
  const Actions a = f.handle(ev(EventType::HoldExpired));
  EXPECT_EQ(f.state(), State::Idle);
  EXPECT_EQ(types(a).front(), ActionType::SendNotification);
  EXPECT_EQ(a.notification.code, bgp::error_code::kHoldTimerExpired);
  EXPECT_TRUE(a.contains(ActionType::Disconnect));
  EXPECT_TRUE(a.contains(ActionType::SessionDown));
  ASSERT_NE(find_start(a, Timer::IdleHold), nullptr);
  EXPECT_EQ(find_start(a, Timer::IdleHold)->duration, seconds(1));
  // IdleHold expiry starts again.
  const Actions b = f.handle(ev(EventType::IdleHoldExpired));
  EXPECT_EQ(f.state(), State::Connect);
  EXPECT_TRUE(b.contains(ActionType::Connect));
}

TEST(Fsm, IdleHoldDoublesPerConsecutiveFailureUpToTheMaximum) {
  Fsm f(cfg());
  (void)f.handle(ev(EventType::ManualStart));
  std::vector<std::int64_t> delays;
  for (int i = 0; i < 6; ++i) {
    (void)f.handle(ev(EventType::TcpConnected));
    const Actions a = f.handle(ev(EventType::NotificationReceived));
    ASSERT_NE(find_start(a, Timer::IdleHold), nullptr);
    delays.push_back(
        std::chrono::duration_cast<seconds>(find_start(a, Timer::IdleHold)->duration).count());
    (void)f.handle(ev(EventType::IdleHoldExpired));
  }
  EXPECT_EQ(delays, (std::vector<std::int64_t>{1, 2, 4, 8, 8, 8}));
  // Reaching Established resets the backoff.
  (void)f.handle(ev(EventType::TcpConnected));
  (void)f.handle(ev(EventType::OpenReceived, 90));
  (void)f.handle(ev(EventType::KeepaliveReceived));
  EXPECT_EQ(f.failures(), 0U);
}

TEST(Fsm, ManualStopSendsCeaseWithTheGivenTextAndDoesNotRestart) {
  Fsm f = established();
  Event stop{EventType::ManualStop};
  stop.notification = {bgp::error_code::kCease, bgp::cease_subcode::kAdministrativeShutdown,
                       bgp::shutdown_communication_data("maintenance")};
  const Actions a = f.handle(stop);
  EXPECT_EQ(f.state(), State::Idle);
  EXPECT_EQ(a.notification.code, bgp::error_code::kCease);
  EXPECT_EQ(bgp::shutdown_communication(a.notification), "maintenance");
  EXPECT_EQ(find_start(a, Timer::IdleHold), nullptr);
  EXPECT_FALSE(f.enabled());
  EXPECT_EQ(f.handle(ev(EventType::IdleHoldExpired)).count, 0U);
  EXPECT_EQ(f.state(), State::Idle);
}

TEST(Fsm, ManualStopBeforeOpenSentSendsNoNotification) {
  Fsm f(cfg());
  (void)f.handle(ev(EventType::ManualStart));
  const Actions a = f.handle(ev(EventType::ManualStop));
  EXPECT_FALSE(a.contains(ActionType::SendNotification));
  EXPECT_TRUE(a.contains(ActionType::Disconnect));
  EXPECT_EQ(f.state(), State::Idle);
}

TEST(Fsm, UnexpectedMessagesGetTheRfc6608FsmError) {
  {
    Fsm f(cfg());
    (void)f.handle(ev(EventType::ManualStart));
    (void)f.handle(ev(EventType::TcpConnected));
    const Actions a = f.handle(ev(EventType::UpdateReceived));
    EXPECT_EQ(a.notification.code, bgp::error_code::kFsm);
    EXPECT_EQ(a.notification.subcode, bgp::fsm_subcode::kUnexpectedInOpenSent);
  }
  {
    Fsm f(cfg());
    (void)f.handle(ev(EventType::ManualStart));
    (void)f.handle(ev(EventType::TcpConnected));
    (void)f.handle(ev(EventType::OpenReceived, 90));
    const Actions a = f.handle(ev(EventType::UpdateReceived));
    EXPECT_EQ(a.notification.subcode, bgp::fsm_subcode::kUnexpectedInOpenConfirm);
  }
  {
    Fsm f = established();
    const Actions a = f.handle(ev(EventType::OpenReceived, 90));
    EXPECT_EQ(a.notification.subcode, bgp::fsm_subcode::kUnexpectedInEstablished);
    EXPECT_EQ(f.state(), State::Idle);
  }
}

TEST(Fsm, MessageErrorSendsTheGivenNotification) {
  Fsm f = established();
  Event e{EventType::MessageError};
  e.notification = {
      bgp::error_code::kUpdateMessage, bgp::update_subcode::kMalformedAttributeList, {}};
  const Actions a = f.handle(e);
  EXPECT_EQ(a.notification.code, bgp::error_code::kUpdateMessage);
  EXPECT_EQ(a.notification.subcode, bgp::update_subcode::kMalformedAttributeList);
  EXPECT_EQ(f.state(), State::Idle);
}

TEST(Fsm, NotificationReceivedIsNeverAnswered) {
  Fsm f = established();
  const Actions a = f.handle(ev(EventType::NotificationReceived));
  EXPECT_FALSE(a.contains(ActionType::SendNotification));
  EXPECT_TRUE(a.contains(ActionType::SessionDown));
  EXPECT_EQ(f.state(), State::Idle);
}

TEST(Fsm, TcpFailureInConnectWaitsInActiveThenRetries) {
  Fsm f(cfg());
  (void)f.handle(ev(EventType::ManualStart));
  const Actions a = f.handle(ev(EventType::TcpFailed));
  EXPECT_EQ(f.state(), State::Active);
  EXPECT_NE(find_start(a, Timer::ConnectRetry), nullptr);
  const Actions b = f.handle(ev(EventType::ConnectRetryExpired));
  EXPECT_EQ(f.state(), State::Connect);
  EXPECT_TRUE(b.contains(ActionType::Connect));
}

TEST(Fsm, ConnectRetryInConnectRestartsTheAttempt) {
  Fsm f(cfg());
  (void)f.handle(ev(EventType::ManualStart));
  const Actions a = f.handle(ev(EventType::ConnectRetryExpired));
  EXPECT_EQ(f.state(), State::Connect);
  EXPECT_EQ(types(a), (std::vector<ActionType>{ActionType::Disconnect, ActionType::StartTimer,
                                               ActionType::Connect}));
}

TEST(Fsm, TcpFailureInOpenSentGoesBackToActive) {
  Fsm f(cfg());
  (void)f.handle(ev(EventType::ManualStart));
  (void)f.handle(ev(EventType::TcpConnected));
  (void)f.handle(ev(EventType::TcpFailed));
  EXPECT_EQ(f.state(), State::Active);
}

TEST(Fsm, DelayOpenWaitsForThePeersOpen) {
  Config c = cfg();
  c.delay_open = seconds(5);
  Fsm f(c);
  (void)f.handle(ev(EventType::ManualStart));
  const Actions a = f.handle(ev(EventType::TcpConnected));
  EXPECT_FALSE(a.contains(ActionType::SendOpen));
  EXPECT_NE(find_start(a, Timer::DelayOpen), nullptr);
  EXPECT_EQ(f.state(), State::Connect);
  // The peer's OPEN arrives first: send ours and a KEEPALIVE, go to OpenConfirm.
  const Actions b = f.handle(ev(EventType::OpenReceived, 90));
  EXPECT_EQ(types(b)[1], ActionType::SendOpen);
  EXPECT_TRUE(b.contains(ActionType::SendKeepalive));
  EXPECT_EQ(f.state(), State::OpenConfirm);
}

TEST(Fsm, DelayOpenExpirySendsOpen) {
  Config c = cfg();
  c.delay_open = seconds(5);
  Fsm f(c);
  (void)f.handle(ev(EventType::ManualStart));
  (void)f.handle(ev(EventType::TcpConnected));
  const Actions a = f.handle(ev(EventType::DelayOpenExpired));
  EXPECT_TRUE(a.contains(ActionType::SendOpen));
  EXPECT_EQ(f.state(), State::OpenSent);
}

TEST(Fsm, CollisionDumpSendsConnectionCollisionResolution) {
  Fsm f(cfg());
  (void)f.handle(ev(EventType::ManualStart));
  (void)f.handle(ev(EventType::TcpConnected));
  (void)f.handle(ev(EventType::OpenReceived, 90));
  const Actions a = f.handle(ev(EventType::CollisionDump));
  EXPECT_EQ(a.notification.code, bgp::error_code::kCease);
  EXPECT_EQ(a.notification.subcode, bgp::cease_subcode::kConnectionCollisionResolution);
  EXPECT_EQ(f.state(), State::Idle);
}

TEST(Fsm, InboundConnectionStartsInActive) {
  Config c = cfg();
  c.passive = true;
  Fsm f(c);
  f.start_passive_for_inbound();
  const Actions a = f.handle(ev(EventType::TcpConnected));
  EXPECT_TRUE(a.contains(ActionType::SendOpen));
  EXPECT_EQ(f.state(), State::OpenSent);
}

TEST(Fsm, KeepaliveIntervalIsAThirdOfHoldAndAtLeastOneSecond) {
  Fsm f = established();
  EXPECT_EQ(f.keepalive_interval(), seconds(30));
  Config c = cfg();
  c.keepalive = seconds(60);  // more than hold/3: clamped
  Fsm g = established(c);
  EXPECT_EQ(g.keepalive_interval(), seconds(30));
  Fsm h(cfg());
  (void)h.handle(ev(EventType::ManualStart));
  (void)h.handle(ev(EventType::TcpConnected));
  (void)h.handle(ev(EventType::OpenReceived, 3));
  EXPECT_EQ(h.keepalive_interval(), seconds(1));
}

// RFC 4271 section 6.8: the connection opened by the higher BGP Identifier survives; RFC 6286
// section 2.3: with equal identifiers, the one opened by the larger AS.
TEST(Collision, HigherIdentifierKeepsTheConnectionItOpened) {
  // Local id higher: keep the connection we opened.
  EXPECT_TRUE(keep_existing_connection(20, 10, 1, 2, /*local_initiated_existing=*/true));
  EXPECT_FALSE(keep_existing_connection(20, 10, 1, 2, /*local_initiated_existing=*/false));
  // Local id lower: keep the connection the peer opened.
  EXPECT_FALSE(keep_existing_connection(10, 20, 1, 2, true));
  EXPECT_TRUE(keep_existing_connection(10, 20, 1, 2, false));
  // Equal identifiers: the larger AS wins.
  EXPECT_TRUE(keep_existing_connection(10, 10, 65002, 65001, true));
  EXPECT_FALSE(keep_existing_connection(10, 10, 65001, 65002, true));
}

TEST(Names, EveryStateAndEventHasAName) {
  EXPECT_STREQ(to_string(State::Established), "Established");
  EXPECT_STREQ(to_string(EventType::HoldExpired), "HoldExpired");
  EXPECT_STREQ(to_string(Timer::IdleHold), "IdleHold");
  EXPECT_STREQ(to_string(ActionType::SendOpen), "SendOpen");
}

}  // namespace
}  // namespace bgpscribe::speaker::fsm
