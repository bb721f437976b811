// The receiving speaker's side of graceful restart (RFC 4724 section 4.2, RFC 8538), as plain
// code: session ends and returns, End-of-RIB markers and timer expiries go in; which families
// are stale, which timer to start or stop, and which families' stale routes to keep or drop
// come out. It owns no socket, clock, timer or callback: Peer runs the timers and reports the
// events (speaker/peer.cpp), and tests drive it directly, as they do the FSM.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/capability.hpp"

namespace bgpscribe::speaker {

// RFC 4724 helper events, per family.
enum class GracefulRestartEvent : std::uint8_t {
  Stale,      // the session went down with GR: keep the family's routes, marked stale
  Recovered,  // End-of-RIB after the restart: drop the routes still stale
  Expired,    // restart or stale time ran out (or the peer came back without the family):
              // drop every stale route of the family
};
const char* to_string(GracefulRestartEvent e);

class GracefulRestartState {
 public:
  struct Config {
    bool helper = false;        // we announced the capability (PeerConfig::graceful_restart_time)
    bool notification = false;  // our N bit (RFC 8538)
    // The bound on waiting for End-of-RIB once the peer is back (graceful_restart_stale_time).
    std::chrono::milliseconds stale_time{std::chrono::seconds(360)};
  };

  // Restart: the peer's restart time, from the session's end until the peer is back.
  // Stale: our stale time, from its return until its last End-of-RIB. At most one runs.
  enum class Timer : std::uint8_t { Restart, Stale };
  static constexpr std::size_t kTimerCount = 2;

  enum class ActionType : std::uint8_t {
    Report,      // tell the application `event` for `family`
    StartTimer,  // (re)start `timer` for `duration`; its expiry comes back as timer_expired()
    StopTimer,   // stop `timer`
  };
  struct Action {
    ActionType type = ActionType::Report;
    GracefulRestartEvent event = GracefulRestartEvent::Stale;
    codec::bgp::AfiSafi family{};
    Timer timer = Timer::Restart;
    std::chrono::milliseconds duration{0};
    friend bool operator==(const Action&, const Action&) = default;
  };
  // In the order they are to be run.
  using Actions = std::vector<Action>;

  // What a session's end depends on.
  struct SessionEnd {
    const codec::bgp::NegotiatedSession* negotiated = nullptr;  // nullptr: no OPEN agreed
    bool notification_exchanged = false;  // a NOTIFICATION was sent or received on it
    bool hard_reset = false;              // it was Cease / Hard Reset (RFC 8538 section 3)
  };

  explicit GracefulRestartState(const Config& config) : config_(config) {}

  // A session leaves OpenConfirm or Established. Decides, before the state change is reported,
  // which families its end keeps (ending_stale()); session_down() then acts on it.
  void session_ending(const SessionEnd& end);
  // Between session_ending() and session_down(): the families the ending session keeps.
  [[nodiscard]] const std::vector<codec::bgp::AfiSafi>& ending_stale() const { return ending_; }
  // After the state change: the kept families become stale (Stale for those not stale yet)
  // and the peer's restart time starts. Nothing when the end keeps nothing.
  [[nodiscard]] Actions session_down();
  // A session is established, with what it negotiated (nullptr: nothing).
  [[nodiscard]] Actions session_established(const codec::bgp::NegotiatedSession* negotiated);
  // End-of-RIB received for `family`.
  [[nodiscard]] Actions end_of_rib(codec::bgp::AfiSafi family);
  // A timer the last actions started has run out (ignored unless it is the one running).
  [[nodiscard]] Actions timer_expired(Timer timer);
  // The application stops the peer: every stale family expires.
  [[nodiscard]] Actions stop();
  // The peer is removed: the timer stops, nothing is reported.
  [[nodiscard]] Actions remove();

  [[nodiscard]] const std::vector<codec::bgp::AfiSafi>& stale() const { return stale_; }
  [[nodiscard]] std::optional<Timer> running() const { return running_; }
  [[nodiscard]] const Config& config() const { return config_; }

 private:
  void start(Actions& out, Timer t, std::chrono::milliseconds d);
  void stop_timer(Actions& out);
  void expire_all(Actions& out);

  Config config_;
  std::vector<codec::bgp::AfiSafi> stale_;   // in the order they became stale
  std::vector<codec::bgp::AfiSafi> ending_;  // decided by session_ending()
  std::uint16_t ending_restart_time_ = 0;    // seconds, the ending session's peer's
  std::optional<Timer> running_;
};

const char* to_string(GracefulRestartState::Timer t);

}  // namespace bgpscribe::speaker
