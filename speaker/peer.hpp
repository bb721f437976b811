// Peer: one BGP neighbour, as the application sees it, whatever happens to its TCP connections.
//
// A Peer owns up to two connections at a time (one we opened, one the peer opened), each with
// its own RFC 4271 FSM; connection collisions (RFC 4271 section 6.8) are resolved here and the
// application keeps the one Peer object throughout (the flaw of Perl's Net::BGP, which handed
// the application a second object). The state the application sees is the most advanced state
// of those connections. Callbacks run on the Process's io_context thread; they may call any
// method of the Peer or the Process (stop, send, remove_peer): teardown is deferred until the
// callback returns. Nothing here stores routes: the raw-message hook and update callback give
// each message to the application, which keeps what it needs (the collector's Adj-RIB-In).
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/bgp/capability.hpp"
#include "codec/bgp/message.hpp"
#include "codec/bgp/notification.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bgp/route_refresh.hpp"
#include "codec/wire/result.hpp"
#include "speaker/connection.hpp"
#include "speaker/fsm.hpp"
#include "speaker/graceful_restart.hpp"
#include "speaker/max_prefix.hpp"
#include "speaker/peer_config.hpp"
#include "speaker/update.hpp"

namespace bgpscribe::speaker {

class Process;
using State = fsm::State;
using SystemTime = std::chrono::system_clock::time_point;

enum class Direction : std::uint8_t { Received, Sent };
const char* to_string(Direction d);

// Every message in both directions, as it was on the wire.
struct RawMessage {
  Direction direction = Direction::Received;
  SystemTime time{};                    // receive time (or send time)
  std::span<const std::uint8_t> bytes;  // the whole message, header included
  codec::bgp::MessageType type = codec::bgp::MessageType::Keepalive;
  const codec::bgp::ParseContext* context = nullptr;  // how this session decodes it
};

// A problem with something the peer sent: what the decoder found, the reaction taken (RFC 7606:
// session reset with the NOTIFICATION sent, treat-as-withdraw, attribute discard), and the raw
// message (or unframeable bytes).
struct PeerError {
  codec::Error error{};
  std::span<const std::uint8_t> bytes;
  std::string message;  // human-readable, with the offset
};

using TimerId = std::uint64_t;

class Peer {
 public:
  // Created by Process::add_peer and by dynamic-peer acceptance.
  Peer(Process& process, PeerConfig config, bool dynamic);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // ---- Callbacks (set before start; each may be empty) -------------------------------------
  Peer& on_open(std::function<void(Peer&, const codec::bgp::Open&)> f);
  Peer& on_established(std::function<void(Peer&)> f);
  Peer& on_keepalive(std::function<void(Peer&)> f);
  Peer& on_update(std::function<void(Peer&, const Update&)> f);
  Peer& on_refresh(std::function<void(Peer&, const codec::bgp::RouteRefresh&)> f);
  Peer& on_notification(std::function<void(Peer&, const codec::bgp::Notification&, Direction)> f);
  Peer& on_error(std::function<void(Peer&, const PeerError&)> f);
  // Old and new state, and why (the event or the NOTIFICATION in words).
  Peer& on_state_change(std::function<void(Peer&, State, State, std::string_view)> f);
  Peer& on_raw(std::function<void(Peer&, const RawMessage&)> f);
  Peer& on_end_of_rib(std::function<void(Peer&, codec::bgp::AfiSafi)> f);
  Peer& on_graceful_restart(
      std::function<void(Peer&, GracefulRestartEvent, codec::bgp::AfiSafi)> f);

  // ---- Control ------------------------------------------------------------------------------
  void start();
  // Cease / Administrative Shutdown (6/2) with an optional shutdown communication (RFC 9003),
  // and no automatic restart.
  void stop(std::string_view shutdown_text = {});
  // Sends UPDATEs built by `b` (split as needed); false when not Established or when the send
  // queue (max_send_queue) is full. A refusal keeps the session up: pace large tables with
  // send_queue_bytes() and a timer. A peer that reads nothing for a whole hold time while
  // data waits is reset with Send Hold Timer Expired (RFC 9687).
  bool send_update(const UpdateBuilder& b);
  // Sends one complete, pre-encoded message (any type) as is; false as above.
  bool send_raw(std::span<const std::uint8_t> message);
  // ROUTE-REFRESH (RFC 2918, RFC 7313 subtypes); false unless Established and the peer
  // announced route refresh.
  bool send_refresh(codec::bgp::AfiSafi family, codec::bgp::RouteRefreshSubtype subtype =
                                                    codec::bgp::RouteRefreshSubtype::Normal);
  // End-of-RIB for a family (RFC 4724 section 2); false when not Established, the family was
  // not negotiated, or the send queue is full.
  bool send_end_of_rib(codec::bgp::AfiSafi family);
  // Periodic user timer, first firing after `interval`; runs until removed or the Peer goes.
  TimerId add_timer(Millis interval, std::function<void(Peer&)> f);
  void remove_timer(TimerId id);

  // ---- Queries ------------------------------------------------------------------------------
  [[nodiscard]] const PeerConfig& config() const { return config_; }
  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] bool dynamic() const { return dynamic_; }
  [[nodiscard]] Process& process() { return process_; }
  // The peer's AS: configured, or learned from its OPEN (dynamic peers); 0 before that.
  [[nodiscard]] std::uint32_t peer_as() const;
  // What the two OPENs agreed on; nullptr unless OpenConfirm or Established.
  [[nodiscard]] const codec::bgp::NegotiatedSession* negotiated() const;
  [[nodiscard]] const codec::bgp::Open* received_open() const;
  [[nodiscard]] const codec::bgp::Open& sent_open() const { return sent_open_; }
  [[nodiscard]] bool has_family(codec::bgp::AfiSafi f) const;
  [[nodiscard]] bool add_path_receive(codec::bgp::AfiSafi f) const;
  [[nodiscard]] bool route_refresh() const;
  [[nodiscard]] bool four_octet_as() const;
  [[nodiscard]] std::optional<codec::bgp::IpAddress> remote_address() const;
  // Both ends of the TCP connection that is furthest along (Established first); nullopt when
  // there is none.
  struct Endpoints {
    codec::bgp::IpAddress local{};
    std::uint16_t local_port = 0;
    codec::bgp::IpAddress remote{};
    std::uint16_t remote_port = 0;
  };
  [[nodiscard]] std::optional<Endpoints> endpoints() const;
  // Whether the established connection is the one we opened (nullopt when not Established).
  [[nodiscard]] std::optional<bool> established_outbound() const;
  // Connections currently open or being opened (at most one outbound and two inbound).
  [[nodiscard]] std::size_t connection_count() const;
  // Routes held for max-prefix accounting (only counted when max_prefix is set).
  [[nodiscard]] std::size_t prefix_count() const { return max_prefix_.count(); }
  // Bytes queued on the established session and not yet written; 0 when not Established.
  [[nodiscard]] std::size_t send_queue_bytes() const;
  [[nodiscard]] std::uint64_t established_count() const { return established_count_; }
  // In the state-change callback of a session leaving Established: the families whose routes
  // its end keeps, stale, for a graceful restart (their Stale callbacks follow that callback).
  // Lets an application record the end of a session with what it keeps in one record.
  [[nodiscard]] const std::vector<codec::bgp::AfiSafi>& ending_stale() const {
    return graceful_restart_.ending_stale();
  }

  // ---- Used by Process ----------------------------------------------------------------------
  // An inbound connection from this peer's address.
  void accept(net::tcp::socket socket);
  // Stops without NOTIFICATION callbacks (peer removed), drops every timer and reports Idle.
  void shutdown_for_removal(std::string_view why = "removed");
  // How long each connection waits for the peer's OPEN (the OpenSent hold timer); set before
  // the first connection. Dynamic peers use their range's open_timeout.
  void set_open_hold(Millis d) { open_hold_ = d; }

 private:
  struct Session;
  friend struct Session;

  void session_state_changed(Session& s, State from, std::string_view why);
  void recompute_state(std::string_view why);
  bool resolve_collision(Session& s, const codec::bgp::Open& open);
  void session_established(Session& s);
  void session_down(Session& s);
  void session_idle(Session& s);
  void retire(Session& s);
  [[nodiscard]] Session* established_session() const;
  [[nodiscard]] std::vector<Session*> sessions() const;
  void message_error(Session& s, const codec::Error& e, std::span<const std::uint8_t> bytes,
                     std::span<const std::uint8_t> data = {});
  void restart_outbound();
  void deliver_update(Session& s, std::span<const std::uint8_t> bytes, SystemTime t);
  // Runs what the graceful restart state decided: its timers and the application's callbacks.
  // Actions decided inside one of those callbacks run after the ones before them.
  void run_graceful_restart(const GracefulRestartState::Actions& actions);
  void graceful_restart_timer_expired(GracefulRestartState::Timer t, std::uint64_t generation);
  bool send_bytes(std::span<const std::uint8_t> bytes, codec::bgp::MessageType type);
  // A dynamic peer left without connections or stale routes tells the Process (which removes
  // it), once the current callback chain has returned.
  void check_unused();

  Process& process_;
  PeerConfig config_;
  bool dynamic_;
  codec::bgp::Open sent_open_;
  State state_ = State::Idle;
  bool started_ = false;
  bool removed_ = false;
  std::shared_ptr<Session> outbound_;              // the connection we open (active peers)
  std::vector<std::shared_ptr<Session>> inbound_;  // connections the peer opened
  std::vector<std::shared_ptr<Session>> retired_;  // closed, destroyed after the callback
  static constexpr std::size_t kMaxInbound = 2;
  std::uint32_t learned_as_ = 0;
  std::uint64_t established_count_ = 0;
  Millis open_hold_ = fsm::Config{}.open_hold;

  MaxPrefixCounter max_prefix_;  // counts only with config_.max_prefix set

  // The graceful restart helper (RFC 4724 section 4.2) and the timers it asks for; an expiry
  // counts only when its generation is still the timer's (not stopped or restarted since).
  GracefulRestartState graceful_restart_;
  std::array<std::unique_ptr<boost::asio::steady_timer>, GracefulRestartState::kTimerCount>
      gr_timers_;
  std::array<std::uint64_t, GracefulRestartState::kTimerCount> gr_generation_{};
  std::deque<GracefulRestartState::Action> gr_pending_;
  bool gr_running_ = false;

  struct UserTimer {
    Millis interval;
    std::function<void(Peer&)> f;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  std::map<TimerId, UserTimer> timers_;
  TimerId next_timer_ = 1;
  void arm_user_timer(TimerId id);

  // Liveness token: asynchronous handlers hold a weak_ptr and do nothing once the Peer is gone.
  std::shared_ptr<Peer*> self_;

  std::function<void(Peer&, const codec::bgp::Open&)> on_open_;
  std::function<void(Peer&)> on_established_;
  std::function<void(Peer&)> on_keepalive_;
  std::function<void(Peer&, const Update&)> on_update_;
  std::function<void(Peer&, const codec::bgp::RouteRefresh&)> on_refresh_;
  std::function<void(Peer&, const codec::bgp::Notification&, Direction)> on_notification_;
  std::function<void(Peer&, const PeerError&)> on_error_;
  std::function<void(Peer&, State, State, std::string_view)> on_state_change_;
  std::function<void(Peer&, const RawMessage&)> on_raw_;
  std::function<void(Peer&, codec::bgp::AfiSafi)> on_end_of_rib_;
  std::function<void(Peer&, GracefulRestartEvent, codec::bgp::AfiSafi)> on_graceful_restart_;

  codec::bgp::Update update_;  // reused decode target (hot path)
};

}  // namespace bgpscribe::speaker
