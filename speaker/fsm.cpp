#include "speaker/fsm.hpp"

#include <algorithm>

#include "codec/bgp/notification_codes.hpp"

namespace bgpscribe::speaker::fsm {

namespace bgp = codec::bgp;

const char* to_string(State s) {
  switch (s) {
    case State::Idle:
      return "Idle";
    case State::Connect:
      return "Connect";
    case State::Active:
      return "Active";
    case State::OpenSent:
      return "OpenSent";
    case State::OpenConfirm:
      return "OpenConfirm";
    case State::Established:
      return "Established";
  }
  return "?";
}

const char* to_string(Timer t) {
  switch (t) {
    case Timer::ConnectRetry:
      return "ConnectRetry";
    case Timer::Hold:
      return "Hold";
    case Timer::Keepalive:
      return "Keepalive";
    case Timer::DelayOpen:
      return "DelayOpen";
    case Timer::IdleHold:
      return "IdleHold";
  }
  return "?";
}

const char* to_string(EventType e) {
  switch (e) {
    case EventType::ManualStart:
      return "ManualStart";
    case EventType::ManualStop:
      return "ManualStop";
    case EventType::ConnectRetryExpired:
      return "ConnectRetryExpired";
    case EventType::HoldExpired:
      return "HoldExpired";
    case EventType::KeepaliveExpired:
      return "KeepaliveExpired";
    case EventType::DelayOpenExpired:
      return "DelayOpenExpired";
    case EventType::IdleHoldExpired:
      return "IdleHoldExpired";
    case EventType::TcpConnected:
      return "TcpConnected";
    case EventType::TcpFailed:
      return "TcpFailed";
    case EventType::OpenReceived:
      return "OpenReceived";
    case EventType::MessageError:
      return "MessageError";
    case EventType::NotificationReceived:
      return "NotificationReceived";
    case EventType::KeepaliveReceived:
      return "KeepaliveReceived";
    case EventType::UpdateReceived:
      return "UpdateReceived";
    case EventType::RouteRefreshReceived:
      return "RouteRefreshReceived";
    case EventType::CollisionDump:
      return "CollisionDump";
    case EventType::CeaseRequested:
      return "CeaseRequested";
  }
  return "?";
}

const char* to_string(ActionType a) {
  switch (a) {
    case ActionType::StartTimer:
      return "StartTimer";
    case ActionType::StopTimer:
      return "StopTimer";
    case ActionType::Connect:
      return "Connect";
    case ActionType::Disconnect:
      return "Disconnect";
    case ActionType::SendOpen:
      return "SendOpen";
    case ActionType::SendKeepalive:
      return "SendKeepalive";
    case ActionType::SendNotification:
      return "SendNotification";
    case ActionType::Established:
      return "Established";
    case ActionType::SessionDown:
      return "SessionDown";
  }
  return "?";
}

bool Actions::contains(ActionType t) const {
  return std::any_of(begin(), end(), [t](const Action& a) { return a.type == t; });
}

namespace {

bgp::Notification make(std::uint8_t code, std::uint8_t subcode) {
  return bgp::Notification{code, subcode, {}};
}

// RFC 6608: the FSM error subcode for an unexpected message in each state.
std::uint8_t fsm_subcode_for(State s) {
  switch (s) {
    case State::OpenSent:
      return bgp::fsm_subcode::kUnexpectedInOpenSent;
    case State::OpenConfirm:
      return bgp::fsm_subcode::kUnexpectedInOpenConfirm;
    case State::Established:
      return bgp::fsm_subcode::kUnexpectedInEstablished;
    default:
      return bgp::fsm_subcode::kUnspecified;
  }
}

}  // namespace

Millis Fsm::keepalive_interval() const {
  if (hold_time_ == 0) {
    return Millis{0};
  }
  if (config_.keepalive.count() > 0) {
    // A configured keepalive may not exceed a third of the negotiated hold time (RFC 4271
    // section 4.4 recommends one third; more would let the peer's hold timer expire).
    return std::min(config_.keepalive, Millis{hold_time_ * 1000 / 3});
  }
  return Millis{std::max<std::int64_t>(1000, hold_time_ * 1000 / 3)};
}

Millis Fsm::hold_duration() const {
  return Millis{static_cast<std::int64_t>(hold_time_) * 1000};
}

void Fsm::start_passive_for_inbound() {
  enabled_ = true;
  set_state(State::Active);
}

void Fsm::start_timer(Actions& out, Timer t, Millis d) {
  out.push(Action{ActionType::StartTimer, t, d});
}

void Fsm::stop_all_timers(Actions& out) {
  for (std::size_t i = 0; i < kTimerCount; ++i) {
    const auto t = static_cast<Timer>(i);
    if (t != Timer::IdleHold) {
      out.push(Action{ActionType::StopTimer, t, Millis{0}});
    }
  }
  delay_open_running_ = false;
}

void Fsm::fail(Actions& out, bool notify, const bgp::Notification& n) {
  const bool was_up = state_ == State::OpenConfirm || state_ == State::Established;
  if (notify) {
    out.notification = n;
    out.push(Action{ActionType::SendNotification});
  }
  stop_all_timers(out);
  out.push(Action{ActionType::Disconnect});
  if (was_up) {
    out.push(Action{ActionType::SessionDown});
  }
  set_state(State::Idle);
  if (enabled_) {
    // RFC 4271 section 8.1.1 DampPeerOscillations: the restart delay doubles per consecutive
    // failure so that a peer that keeps failing does not make us spin.
    ++failures_;
    Millis delay = config_.idle_hold;
    for (std::uint32_t i = 1; i < failures_ && delay < config_.idle_hold_max; ++i) {
      delay *= 2;
    }
    start_timer(out, Timer::IdleHold, std::min(delay, config_.idle_hold_max));
  }
}

Actions Fsm::handle(const Event& event) {
  Actions out;
  if (event.type == EventType::ManualStop) {
    enabled_ = false;
    if (state_ == State::Idle) {
      out.push(Action{ActionType::StopTimer, Timer::IdleHold, Millis{0}});
      return out;
    }
    // RFC 4271 section 8.2.2: ManualStop sends Cease when a NOTIFICATION may be sent (from
    // OpenSent on; before that there is no BGP conversation to close).
    const bool notify =
        state_ == State::OpenSent || state_ == State::OpenConfirm || state_ == State::Established;
    bgp::Notification n = event.notification;
    if (n.code == 0) {
      n = make(bgp::error_code::kCease, bgp::cease_subcode::kAdministrativeShutdown);
    }
    fail(out, notify, n);
    out.push(Action{ActionType::StopTimer, Timer::IdleHold, Millis{0}});
    return out;
  }
  switch (state_) {
    case State::Idle:
      on_idle(event, out);
      break;
    case State::Connect:
      on_connect(event, out);
      break;
    case State::Active:
      on_active(event, out);
      break;
    case State::OpenSent:
      on_open_sent(event, out);
      break;
    case State::OpenConfirm:
      on_open_confirm(event, out);
      break;
    case State::Established:
      on_established(event, out);
      break;
  }
  return out;
}

void Fsm::on_idle(const Event& e, Actions& out) {
  // Section 8.2.2 Idle: only a start (manual, or automatic after IdleHold) leaves Idle; every
  // other event is ignored.
  if (e.type != EventType::ManualStart && e.type != EventType::IdleHoldExpired) {
    return;
  }
  if (e.type == EventType::IdleHoldExpired && !enabled_) {
    return;
  }
  enabled_ = true;
  start_timer(out, Timer::ConnectRetry, config_.connect_retry);
  if (config_.passive) {
    set_state(State::Active);
  } else {
    out.push(Action{ActionType::Connect});
    set_state(State::Connect);
  }
}

void Fsm::tcp_up(Actions& out) {
  if (config_.delay_open.count() > 0) {
    out.push(Action{ActionType::StopTimer, Timer::ConnectRetry, Millis{0}});
    start_timer(out, Timer::DelayOpen, config_.delay_open);
    delay_open_running_ = true;
    return;  // stay until the OPEN arrives or DelayOpen expires
  }
  out.push(Action{ActionType::StopTimer, Timer::ConnectRetry, Millis{0}});
  out.push(Action{ActionType::SendOpen});
  start_timer(out, Timer::Hold, config_.open_hold);
  set_state(State::OpenSent);
}

void Fsm::open_while_delayed(const Event& e, Actions& out) {
  out.push(Action{ActionType::StopTimer, Timer::DelayOpen, Millis{0}});
  delay_open_running_ = false;
  out.push(Action{ActionType::SendOpen});
  open_accepted(e, out);
}

void Fsm::open_accepted(const Event& e, Actions& out) {
  out.push(Action{ActionType::StopTimer, Timer::ConnectRetry, Millis{0}});
  hold_time_ = e.hold_time;
  out.push(Action{ActionType::SendKeepalive});
  if (hold_time_ > 0) {
    start_timer(out, Timer::Keepalive, keepalive_interval());
    start_timer(out, Timer::Hold, hold_duration());
  } else {
    // Hold time 0: no keepalives and no hold timer (section 4.2).
    out.push(Action{ActionType::StopTimer, Timer::Hold, Millis{0}});
  }
  set_state(State::OpenConfirm);
}

void Fsm::on_connect(const Event& e, Actions& out) {
  if (e.type == EventType::ConnectRetryExpired) {
    out.push(Action{ActionType::Disconnect});
    start_timer(out, Timer::ConnectRetry, config_.connect_retry);
    out.push(Action{ActionType::Connect});
    return;
  }
  before_open_common(e, out);
}

void Fsm::on_active(const Event& e, Actions& out) {
  if (e.type == EventType::ConnectRetryExpired) {
    start_timer(out, Timer::ConnectRetry, config_.connect_retry);
    if (!config_.passive) {
      out.push(Action{ActionType::Connect});
      set_state(State::Connect);
    }
    return;
  }
  before_open_common(e, out);
}

void Fsm::before_open_common(const Event& e, Actions& out) {
  switch (e.type) {
    case EventType::DelayOpenExpired:
      delay_open_running_ = false;
      out.push(Action{ActionType::SendOpen});
      start_timer(out, Timer::Hold, config_.open_hold);
      set_state(State::OpenSent);
      return;
    case EventType::TcpConnected:
      tcp_up(out);
      return;
    case EventType::TcpFailed:
      // Common practice (and the RFC's path when DelayOpen runs): wait in Active for the
      // connect-retry timer, then try again, rather than dropping to Idle.
      delay_open_running_ = false;
      out.push(Action{ActionType::StopTimer, Timer::DelayOpen, Millis{0}});
      out.push(Action{ActionType::Disconnect});
      start_timer(out, Timer::ConnectRetry, config_.connect_retry);
      set_state(State::Active);
      return;
    case EventType::OpenReceived:
      if (delay_open_running_) {
        open_while_delayed(e, out);
        return;
      }
      fail(out, true, make(bgp::error_code::kFsm, bgp::fsm_subcode::kUnspecified));
      return;
    case EventType::MessageError:
      fail(out, true, e.notification);
      return;
    case EventType::ManualStart:
      return;
    default:
      fail(out, false, {});  // NOTIFICATION received, or an event that cannot happen here
      return;
  }
}

bool Fsm::after_open_common(const Event& e, Actions& out) {
  switch (e.type) {
    case EventType::HoldExpired:
      fail(out, true, make(bgp::error_code::kHoldTimerExpired, 0));
      return true;
    case EventType::MessageError:
    case EventType::CeaseRequested:
      fail(out, true, e.notification);
      return true;
    case EventType::CollisionDump:
      fail(out, true,
           make(bgp::error_code::kCease, bgp::cease_subcode::kConnectionCollisionResolution));
      return true;
    case EventType::NotificationReceived:
      fail(out, false, {});
      return true;
    case EventType::ConnectRetryExpired:
    case EventType::DelayOpenExpired:
    case EventType::IdleHoldExpired:
    case EventType::ManualStart:
    case EventType::TcpConnected:
      return true;  // stale timers and repeated starts are harmless here
    default:
      return false;
  }
}

void Fsm::on_open_sent(const Event& e, Actions& out) {
  switch (e.type) {
    case EventType::OpenReceived:
      out.push(Action{ActionType::StopTimer, Timer::DelayOpen, Millis{0}});
      open_accepted(e, out);
      return;
    case EventType::TcpFailed:
      // Section 8.2.2 OpenSent event 18: back to Active and wait for the connect-retry timer.
      out.push(Action{ActionType::Disconnect});
      out.push(Action{ActionType::StopTimer, Timer::Hold, Millis{0}});
      start_timer(out, Timer::ConnectRetry, config_.connect_retry);
      set_state(State::Active);
      return;
    case EventType::KeepaliveExpired:
      return;  // not running yet
    default:
      if (!after_open_common(e, out)) {
        fail(out, true, make(bgp::error_code::kFsm, fsm_subcode_for(state_)));
      }
      return;
  }
}

void Fsm::on_open_confirm(const Event& e, Actions& out) {
  switch (e.type) {
    case EventType::KeepaliveReceived:
      if (hold_time_ > 0) {  // hold time 0: no hold timer at all (RFC 4271 section 4.2)
        start_timer(out, Timer::Hold, hold_duration());
      }
      set_state(State::Established);
      failures_ = 0;
      out.push(Action{ActionType::Established});
      return;
    case EventType::KeepaliveExpired:
      out.push(Action{ActionType::SendKeepalive});
      start_timer(out, Timer::Keepalive, keepalive_interval());
      return;
    case EventType::TcpFailed:
      fail(out, false, {});
      return;
    default:
      if (!after_open_common(e, out)) {
        fail(out, true, make(bgp::error_code::kFsm, fsm_subcode_for(state_)));
      }
      return;
  }
}

void Fsm::on_established(const Event& e, Actions& out) {
  switch (e.type) {
    case EventType::UpdateReceived:
    case EventType::KeepaliveReceived:
      // Section 8.2.2 events 26 and 27: only KEEPALIVE and UPDATE prove the peer alive; a
      // peer that floods anything else still runs into its hold timer.
      if (hold_time_ > 0) {
        start_timer(out, Timer::Hold, hold_duration());
      }
      return;
    case EventType::RouteRefreshReceived:
      return;
    case EventType::KeepaliveExpired:
      out.push(Action{ActionType::SendKeepalive});
      start_timer(out, Timer::Keepalive, keepalive_interval());
      return;
    case EventType::TcpFailed:
      fail(out, false, {});
      return;
    default:
      if (!after_open_common(e, out)) {
        fail(out, true, make(bgp::error_code::kFsm, fsm_subcode_for(state_)));
      }
      return;
  }
}

bool keep_existing_connection(std::uint32_t local_id, std::uint32_t remote_id,
                              std::uint32_t local_as, std::uint32_t remote_as,
                              bool local_initiated_existing) {
  // The connection opened by the speaker with the higher BGP Identifier survives; with equal
  // identifiers (allowed between ASes by RFC 6286) the one opened by the larger AS.
  const bool local_wins = local_id > remote_id || (local_id == remote_id && local_as > remote_as);
  return local_wins == local_initiated_existing;
}

}  // namespace bgpscribe::speaker::fsm
