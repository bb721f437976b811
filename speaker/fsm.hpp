// The BGP finite state machine of one TCP connection (RFC 4271 section 8), as plain code.
//
// Events go in, actions come out: the FSM owns no socket, clock or timer. The session layer
// (speaker/peer.cpp) turns actions into socket operations and timers and feeds back events, and
// tests drive the FSM directly. A Peer runs one Fsm per connection (at most one outbound and
// one inbound during a collision, RFC 4271 section 6.8); collision resolution itself is
// resolve_collision() below, also pure. Timer durations are milliseconds so that tests and
// sub-second connect-retry settings work; the protocol's hold time stays in seconds.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "codec/bgp/notification.hpp"

namespace bgpscribe::speaker::fsm {

using Millis = std::chrono::milliseconds;

// RFC 4271 section 8.2.2.
enum class State : std::uint8_t { Idle, Connect, Active, OpenSent, OpenConfirm, Established };
const char* to_string(State s);

enum class Timer : std::uint8_t { ConnectRetry, Hold, Keepalive, DelayOpen, IdleHold };
inline constexpr std::size_t kTimerCount = 5;
const char* to_string(Timer t);

// RFC 4271 section 8.1, grouped: administrative, timer, TCP and message events.
enum class EventType : std::uint8_t {
  ManualStart,           // 1 (or 3 when passive)
  ManualStop,            // 2: Cease / Administrative Shutdown (the notification may carry text)
  ConnectRetryExpired,   // 9
  HoldExpired,           // 10
  KeepaliveExpired,      // 11
  DelayOpenExpired,      // 12
  IdleHoldExpired,       // 13: automatic restart after a failure
  TcpConnected,          // 16/17: our outbound connection is up (or an inbound one accepted)
  TcpFailed,             // 18: the connection failed or closed
  OpenReceived,          // 19: a valid OPEN (negotiated hold time in the event)
  MessageError,          // 21/22/24/28: header, OPEN or UPDATE error: send the NOTIFICATION
  NotificationReceived,  // 24/25
  KeepaliveReceived,     // 26
  UpdateReceived,        // 27
  RouteRefreshReceived,  // RFC 2918 (does not restart the hold timer)
  CollisionDump,         // 23: this connection lost collision resolution
  CeaseRequested,        // the session layer closes with a Cease (max prefix, resources, ...)
};
const char* to_string(EventType e);

struct Event {
  EventType type = EventType::ManualStart;
  std::uint16_t hold_time = 0;  // OpenReceived: the negotiated hold time in seconds
  // MessageError, CeaseRequested and ManualStop: the NOTIFICATION to send (ManualStop defaults
  // to 6/2 when code is 0).
  codec::bgp::Notification notification{};
};

enum class ActionType : std::uint8_t {
  StartTimer,        // (re)start `timer` for `duration`
  StopTimer,         // stop `timer`
  Connect,           // initiate an outbound TCP connection
  Disconnect,        // close the TCP connection
  SendOpen,          //
  SendKeepalive,     //
  SendNotification,  // the notification in Actions
  Established,       // the session is up: tell the application
  SessionDown,       // left OpenConfirm or Established (resources released)
};
const char* to_string(ActionType a);

struct Action {
  ActionType type = ActionType::StartTimer;
  Timer timer = Timer::ConnectRetry;
  Millis duration{0};
  friend bool operator==(const Action&, const Action&) = default;
};

// The output of one event; fixed capacity so that the hot path (an UPDATE restarting the hold
// timer) never allocates.
struct Actions {
  std::array<Action, 12> items{};
  std::size_t count = 0;
  codec::bgp::Notification notification{};  // for SendNotification

  void push(Action a) {
    if (count < items.size()) {
      items[count++] = a;
    }
  }
  [[nodiscard]] const Action* begin() const { return items.data(); }
  [[nodiscard]] const Action* end() const { return items.data() + count; }
  [[nodiscard]] bool contains(ActionType t) const;
};

struct Config {
  bool passive = false;           // never initiate connections (RFC 4271 PassiveTcpEstablishment)
  Millis connect_retry{120'000};  // RFC 4271 section 10 suggests 120 s
  std::uint16_t hold_time = 90;   // what we offer in our OPEN
  Millis open_hold{240'000};      // hold timer while waiting for the OPEN (section 8: 4 min)
  Millis delay_open{0};           // 0 = DelayOpen off (section 8.1.1, attribute 23)
  Millis idle_hold{1'000};        // first automatic restart delay after a failure
  Millis idle_hold_max{120'000};  // doubling stops here (DampPeerOscillations)
  // Keepalive interval: 0 means hold_time / 3 of the negotiated hold time.
  Millis keepalive{0};
};

// One connection's FSM. Every event returns the actions to run, in order.
class Fsm {
 public:
  explicit Fsm(const Config& config) : config_(config) {}

  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] const Config& config() const { return config_; }
  // The negotiated hold time in seconds (valid from OpenConfirm).
  [[nodiscard]] std::uint16_t hold_time() const { return hold_time_; }
  [[nodiscard]] Millis keepalive_interval() const;
  // Consecutive failures since the last Established; drives the IdleHold backoff.
  [[nodiscard]] std::uint32_t failures() const { return failures_; }
  // Whether the FSM restarts itself after a failure (false after ManualStop).
  [[nodiscard]] bool enabled() const { return enabled_; }

  // For an inbound connection accepted while this FSM is not running: start it directly in
  // Active so that the following TcpConnected takes it to OpenSent.
  void start_passive_for_inbound();

  Actions handle(const Event& event);

 private:
  void on_idle(const Event& e, Actions& out);
  void on_connect(const Event& e, Actions& out);
  void on_active(const Event& e, Actions& out);
  void on_open_sent(const Event& e, Actions& out);
  void on_open_confirm(const Event& e, Actions& out);
  void on_established(const Event& e, Actions& out);
  // Connect and Active differ only in the connect-retry timer; everything else is here.
  void before_open_common(const Event& e, Actions& out);
  // Events handled alike from OpenSent on (errors, expiry, stale timers); false when `e` is
  // not one of them.
  bool after_open_common(const Event& e, Actions& out);

  // Sends OPEN (unless delayed) once TCP is up; shared by Connect and Active.
  void tcp_up(Actions& out);
  // The OPEN arrived while DelayOpen was running (section 8.2.2, Connect/Active event 20).
  void open_while_delayed(const Event& e, Actions& out);
  void open_accepted(const Event& e, Actions& out);
  // Closes the connection (with a NOTIFICATION when `notify`), stops every timer, and goes
  // Idle; restarts automatically after IdleHold unless stopped.
  void fail(Actions& out, bool notify, const codec::bgp::Notification& n);
  void stop_all_timers(Actions& out);
  void start_timer(Actions& out, Timer t, Millis d);
  void set_state(State s) { state_ = s; }
  [[nodiscard]] Millis hold_duration() const;

  Config config_;
  State state_ = State::Idle;
  bool enabled_ = false;
  bool delay_open_running_ = false;
  std::uint16_t hold_time_ = 0;
  std::uint32_t failures_ = 0;
};

// RFC 4271 section 6.8 (and RFC 6286 section 2.3 for equal identifiers): which of two
// connections to the same peer survives. `local_initiated_existing` says whether the existing
// connection is the one we opened. Returns true when the existing connection is kept (the new
// one is closed with Cease / Connection Collision Resolution).
bool keep_existing_connection(std::uint32_t local_id, std::uint32_t remote_id,
                              std::uint32_t local_as, std::uint32_t remote_as,
                              bool local_initiated_existing);

}  // namespace bgpscribe::speaker::fsm
