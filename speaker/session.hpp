// Peer::Session, one TCP connection of a Peer and its FSM: internal to the speaker library
// (peer.cpp), not part of its API.
#pragma once

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "codec/bgp/notification_codes.hpp"
#include "codec/bgp/route_refresh.hpp"
#include "codec/bgp/update.hpp"
#include "codec/wire/writer.hpp"
#include "speaker/address.hpp"
#include "speaker/connection.hpp"
#include "speaker/fsm.hpp"
#include "speaker/peer.hpp"
#include "speaker/process.hpp"
#include "speaker/socket_options.hpp"

namespace bgpscribe::speaker {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

namespace detail {

inline fsm::Config fsm_config(const PeerConfig& c, bool passive, Millis open_hold) {
  fsm::Config f;
  f.passive = passive;
  f.open_hold = open_hold;
  f.connect_retry = c.connect_retry;
  f.hold_time = c.hold_time;
  f.delay_open = c.delay_open;
  f.idle_hold = c.idle_hold;
  f.idle_hold_max = c.idle_hold_max;
  f.keepalive = c.keepalive;
  return f;
}

inline int state_rank(State s) {
  switch (s) {
    case State::Idle:
      return 0;
    case State::Connect:
      return 1;
    case State::Active:
      return 2;
    case State::OpenSent:
      return 3;
    case State::OpenConfirm:
      return 4;
    case State::Established:
      return 5;
  }
  return 0;
}

// "what (byte N)" for errors shown to the application.
inline std::string describe_error(const codec::Error& e) {
  std::string s = e.message;
  s += " (byte " + std::to_string(e.offset) + ", NOTIFICATION " + std::to_string(e.code) + "/" +
       std::to_string(e.subcode) + ", " + codec::to_string(e.reaction) + ")";
  return s;
}

// RFC 4271 section 6.3: UPDATE attribute errors carry the offending attribute (type, length,
// value) as NOTIFICATION data. `offset` is that attribute's flags octet in `message`.
inline std::vector<std::uint8_t> attribute_at(std::span<const std::uint8_t> message,
                                              std::uint32_t offset) {
  if (offset + 3 > message.size()) {
    return {};
  }
  const std::uint8_t flags = message[offset];
  const bool extended = (flags & codec::bgp::attr_flag::kExtendedLength) != 0;
  const std::size_t header = extended ? 4 : 3;
  if (offset + header > message.size()) {
    return {};
  }
  const std::size_t length = extended
                                 ? (std::size_t{message[offset + 2]} << 8) | message[offset + 3]
                                 : message[offset + 2];
  const std::size_t end = std::min(message.size(), offset + header + length);
  return {message.begin() + offset, message.begin() + static_cast<std::ptrdiff_t>(end)};
}

}  // namespace detail

using detail::attribute_at;
using detail::describe_error;
using detail::fsm_config;
using detail::state_rank;

// ---- Session: one TCP connection and its FSM -----------------------------------------------

struct Peer::Session : net::ConnectionHandler, std::enable_shared_from_this<Session> {
  Session(Peer& p, bool out, bool passive)
      : peer(p), outbound(out), machine(fsm_config(p.config_, passive, p.open_hold_)) {
    for (auto& t : timers) {
      t = std::make_unique<asio::steady_timer>(p.process_.io());
    }
  }
  ~Session() override {
    if (conn) {
      conn->detach();
      conn->close();
    }
  }

  Peer& peer;
  bool outbound;
  fsm::Fsm machine;
  std::shared_ptr<net::Connection> conn;
  std::array<std::unique_ptr<asio::steady_timer>, fsm::kTimerCount> timers;
  std::array<std::uint64_t, fsm::kTimerCount> generation{};
  SteadyClock::time_point hold_deadline = SteadyClock::time_point::max();
  SteadyClock::time_point hold_armed_at = SteadyClock::time_point::max();
  std::optional<codec::bgp::Open> received_open;
  std::optional<codec::bgp::NegotiatedSession> negotiated;
  codec::bgp::ParseContext rx_ctx{};
  codec::bgp::ParseContext tx_ctx{};
  std::size_t max_size = codec::bgp::kMaxMessageSize;
  bool notification_exchanged = false;
  bool hard_reset = false;
  std::optional<codec::bgp::IpAddress> remote;
  codec::wire::Writer scratch;
  std::uint64_t sent_at_check = 0;          // send hold check: bytes written at last check
  SteadyClock::time_point stalled_since{};  // and since when nothing was written

  [[nodiscard]] State state() const { return machine.state(); }

  void dispatch(const fsm::Event& e, std::string_view why) {
    const State before = machine.state();
    const fsm::Actions actions = machine.handle(e);
    run(actions);
    for (const auto& a : actions) {
      if (a.type == fsm::ActionType::SessionDown) {
        peer.graceful_restart_.session_ending(GracefulRestartState::SessionEnd{
            negotiated ? &*negotiated : nullptr, notification_exchanged, hard_reset});
      }
    }
    if (machine.state() != before) {
      peer.session_state_changed(*this, before, why);
    }
    // Reported after the state change so that the application sees Established (or the drop)
    // in its state callback before the session-level callback.
    for (const auto& a : actions) {
      if (a.type == fsm::ActionType::Established) {
        peer.session_established(*this);
      } else if (a.type == fsm::ActionType::SessionDown) {
        peer.session_down(*this);
      }
    }
    if (machine.state() == State::Idle && before != State::Idle) {
      peer.session_idle(*this);
    }
  }

  // Runs an event later, outside the current call chain (used from places that must not
  // re-enter the FSM, such as a failed send inside an action).
  void dispatch_later(fsm::Event e, std::string why) {
    asio::post(peer.process_.io(), [w = weak_from_this(), e = std::move(e), why = std::move(why)] {
      if (auto s = w.lock()) {
        s->dispatch(e, why);
      }
    });
  }

  void run(const fsm::Actions& actions) {
    for (const auto& a : actions) {
      switch (a.type) {
        case fsm::ActionType::StartTimer:
          start_timer(a.timer, a.duration);
          break;
        case fsm::ActionType::StopTimer:
          stop_timer(a.timer);
          break;
        case fsm::ActionType::Connect:
          connect();
          break;
        case fsm::ActionType::Disconnect:
          if (conn) {
            conn->close_gracefully();
            conn.reset();
          }
          break;
        case fsm::ActionType::SendOpen:
          scratch.clear();
          if (codec::bgp::encode_open(peer.sent_open_, scratch)) {
            send(scratch.bytes(), codec::bgp::MessageType::Open);
          }
          break;
        case fsm::ActionType::SendKeepalive:
          scratch.clear();
          codec::bgp::encode_keepalive(scratch);
          send(scratch.bytes(), codec::bgp::MessageType::Keepalive);
          break;
        case fsm::ActionType::SendNotification: {
          scratch.clear();
          codec::bgp::Notification n = actions.notification;
          if (!codec::bgp::encode_notification(n, scratch, max_size)) {
            n.data.clear();  // data too long for the message: send code and subcode only
            scratch.clear();
            (void)codec::bgp::encode_notification(n, scratch, max_size);
          }
          send(scratch.bytes(), codec::bgp::MessageType::Notification);
          notification_exchanged = true;
          if (peer.on_notification_) {
            peer.on_notification_(peer, n, Direction::Sent);
          }
          break;
        }
        case fsm::ActionType::Established:
        case fsm::ActionType::SessionDown:
          break;  // reported by dispatch after the state change
      }
    }
  }

  // ---- timers ----
  void start_timer(fsm::Timer t, fsm::Millis d) {
    const auto now = SteadyClock::now();
    if (t == fsm::Timer::Hold) {
      // The hold timer restarts on every UPDATE and KEEPALIVE; re-arming an Asio timer that
      // often is costly, so only the deadline moves and the timer re-arms itself when it fires
      // early. It still fires at the deadline however busy the connection is.
      hold_deadline = now + d;
      if (hold_armed_at <= hold_deadline) {
        return;
      }
      hold_armed_at = hold_deadline;
    }
    arm(t, now + d);
  }

  // RFC 9687: data has been waiting to be written for a whole hold time without any of it
  // leaving (the peer's receive window stays closed).
  bool send_hold_expired() {
    const auto now = SteadyClock::now();
    if (!conn || conn->queued_bytes() == 0 || conn->bytes_sent() != sent_at_check) {
      sent_at_check = conn ? conn->bytes_sent() : 0;
      stalled_since = now;
      return false;
    }
    return machine.hold_time() > 0 &&
           now - stalled_since >= std::chrono::seconds(machine.hold_time());
  }

  void arm(fsm::Timer t, SteadyClock::time_point at) {
    // Keepalive and hold timers of many sessions share wakeups on a 100 ms grid: keepalives a
    // little early, hold expiry a little late (both far inside RFC 4271's tolerance). With
    // 1,000 idle sessions this cuts wakeups from about 620 to 7 a second (bench/results).
    using Tick = std::chrono::duration<SteadyClock::rep, std::ratio<1, 10>>;
    if (t == fsm::Timer::Keepalive) {
      at = std::max(SteadyClock::now(), SteadyClock::time_point(std::chrono::floor<Tick>(at)));
    } else if (t == fsm::Timer::Hold) {
      at = std::chrono::ceil<Tick>(at);
    }
    const auto i = static_cast<std::size_t>(t);
    const std::uint64_t gen = ++generation[i];
    timers[i]->expires_at(at);
    timers[i]->async_wait([w = weak_from_this(), t, gen](const boost::system::error_code& ec) {
      if (ec) {
        return;
      }
      if (auto s = w.lock()) {
        s->on_timer(t, gen);
      }
    });
  }

  void stop_timer(fsm::Timer t) {
    const auto i = static_cast<std::size_t>(t);
    ++generation[i];
    timers[i]->cancel();
    if (t == fsm::Timer::Hold) {
      hold_deadline = SteadyClock::time_point::max();
      hold_armed_at = SteadyClock::time_point::max();
    }
  }

  void on_timer(fsm::Timer t, std::uint64_t gen) {
    const auto i = static_cast<std::size_t>(t);
    if (gen != generation[i]) {
      return;  // stopped or re-armed after this wait completed
    }
    fsm::EventType type = fsm::EventType::ConnectRetryExpired;
    switch (t) {
      case fsm::Timer::ConnectRetry:
        type = fsm::EventType::ConnectRetryExpired;
        break;
      case fsm::Timer::Hold: {
        hold_armed_at = SteadyClock::time_point::max();
        const auto now = SteadyClock::now();
        if (now < hold_deadline) {
          hold_armed_at = hold_deadline;
          arm(t, hold_deadline);
          return;
        }
        type = fsm::EventType::HoldExpired;
        break;
      }
      case fsm::Timer::Keepalive:
        if (send_hold_expired()) {
          fsm::Event e{fsm::EventType::CeaseRequested};
          e.notification =
              codec::bgp::Notification{codec::bgp::error_code::kSendHoldTimerExpired, 0, {}};
          dispatch(e, "send hold timer expired: the peer has not read for the hold time");
          return;
        }
        type = fsm::EventType::KeepaliveExpired;
        break;
      case fsm::Timer::DelayOpen:
        type = fsm::EventType::DelayOpenExpired;
        break;
      case fsm::Timer::IdleHold:
        type = fsm::EventType::IdleHoldExpired;
        break;
    }
    dispatch(fsm::Event{type}, fsm::to_string(type));
  }

  // ---- transport ----
  void connect() {
    const PeerConfig& c = peer.config_;
    const auto remote_ep = net::tcp::endpoint(net::to_asio(c.peer_address), c.peer_port);
    net::tcp::socket socket(peer.process_.io());
    boost::system::error_code ec;
    socket.open(remote_ep.protocol(), ec);
    if (!ec && c.local_address) {
      socket.set_option(asio::socket_base::reuse_address(true), ec);
      socket.bind(net::tcp::endpoint(net::to_asio(*c.local_address), 0), ec);
    }
    std::error_code opt;
    if (!ec && !c.md5_password.empty()) {
      opt = net::set_tcp_md5(socket.native_handle(), c.peer_address,
                             c.peer_address.is_v4() ? 32 : 128, c.md5_password);
    }
    if (!ec && !opt && c.ttl_security_hops > 0) {
      opt = net::set_ttl_security(socket.native_handle(), !c.peer_address.is_v4(),
                                  c.ttl_security_hops);
    }
    if (ec || opt) {
      const std::string why = "cannot open connection: " + (ec ? ec.message() : opt.message());
      if (peer.on_error_) {
        PeerError pe;
        pe.message = why;
        peer.on_error_(peer, pe);
      }
      dispatch_later(fsm::Event{fsm::EventType::TcpFailed}, why);
      return;
    }
    conn = std::make_shared<net::Connection>(std::move(socket), limits());
    conn->attach(this);
    conn->connect(remote_ep);
  }

  [[nodiscard]] net::ConnectionLimits limits() const {
    net::ConnectionLimits l;
    l.receive_buffer = peer.config_.receive_buffer;
    l.max_send_queue = peer.config_.max_send_queue;
    return l;
  }

  void adopt(net::tcp::socket socket) {
    boost::system::error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    if (!ec) {
      remote = net::from_asio(ep.address());
    }
    socket.set_option(net::tcp::no_delay(true), ec);
    if (peer.config_.ttl_security_hops > 0) {
      (void)net::set_ttl_security(socket.native_handle(), ep.address().is_v6(),
                                  peer.config_.ttl_security_hops);
    }
    conn = std::make_shared<net::Connection>(std::move(socket), limits());
    conn->attach(this);
    machine.start_passive_for_inbound();
    conn->start_reading();
    dispatch(fsm::Event{fsm::EventType::TcpConnected}, "connection accepted");
  }

  bool send(std::span<const std::uint8_t> bytes, codec::bgp::MessageType type) {
    // A full queue refuses the message and the session stays up: the application paces itself
    // (send_queue_bytes) and a peer that stops reading altogether is caught by the send hold
    // check (RFC 9687) on the keepalive timer.
    if (!conn || !conn->send(bytes)) {
      return false;
    }
    if (peer.on_raw_) {
      RawMessage m;
      m.direction = Direction::Sent;
      m.time = std::chrono::system_clock::now();
      m.bytes = bytes;
      m.type = type;
      m.context = &tx_ctx;
      peer.on_raw_(peer, m);
    }
    return true;
  }

  // ---- ConnectionHandler ----
  void on_connected(net::Connection& /*c*/, boost::system::error_code ec) override {
    if (ec) {
      conn.reset();
      dispatch(fsm::Event{fsm::EventType::TcpFailed}, "connect failed: " + ec.message());
      return;
    }
    boost::system::error_code ignored;
    const auto ep = conn->socket().remote_endpoint(ignored);
    remote = net::from_asio(ep.address());
    conn->socket().set_option(net::tcp::no_delay(true), ignored);
    conn->start_reading();
    dispatch(fsm::Event{fsm::EventType::TcpConnected}, "connected");
  }

  void on_closed(net::Connection& /*c*/, boost::system::error_code ec) override {
    conn.reset();
    const std::string why = ec == asio::error::eof ? std::string("connection closed by peer")
                                                   : "connection lost: " + ec.message();
    dispatch(fsm::Event{fsm::EventType::TcpFailed}, why);
    if (!outbound && state() != State::Idle) {
      // Before the OPEN, TcpFailed leaves the FSM in Active, waiting for a connection that for
      // an inbound session never comes (the next one is a session of its own): end it, or it
      // keeps one of the Peer's two inbound places (and a dynamic range's place) for good.
      dispatch(fsm::Event{fsm::EventType::ManualStop}, why);
    }
  }

  void on_frame_error(net::Connection& /*c*/, const codec::bgp::Frame& f,
                      std::span<const std::uint8_t> bytes) override {
    peer.message_error(*this, f.error, bytes, f.data());
  }

  void on_message(net::Connection& /*c*/, std::span<const std::uint8_t> message,
                  const codec::bgp::MessageHeader& header, SystemTime received) override {
    if (peer.on_raw_) {
      RawMessage m;
      m.direction = Direction::Received;
      m.time = received;
      m.bytes = message;
      m.type = header.type;
      m.context = &rx_ctx;
      peer.on_raw_(peer, m);
      if (!conn) {
        return;  // the hook stopped the session
      }
    }
    switch (header.type) {
      case codec::bgp::MessageType::Open:
        on_open_message(message);
        return;
      case codec::bgp::MessageType::Keepalive:
        if (auto st = codec::bgp::parse_keepalive(message); !st) {
          peer.message_error(*this, st.error(), message);
          return;
        }
        dispatch(fsm::Event{fsm::EventType::KeepaliveReceived}, "KEEPALIVE received");
        if (peer.on_keepalive_ && state() == State::Established) {
          peer.on_keepalive_(peer);
        }
        return;
      case codec::bgp::MessageType::Update:
        if (state() != State::Established) {
          dispatch(fsm::Event{fsm::EventType::UpdateReceived}, "UPDATE before Established");
          return;
        }
        peer.deliver_update(*this, message, received);
        return;
      case codec::bgp::MessageType::Notification:
        on_notification_message(message);
        return;
      case codec::bgp::MessageType::RouteRefresh:
      case codec::bgp::MessageType::CiscoRouteRefresh:
        on_refresh_message(message);
        return;
    }
    // frame() only passes the types above.
  }

  void on_open_message(std::span<const std::uint8_t> message) {
    auto parsed = codec::bgp::parse_open(message);
    if (!parsed) {
      peer.message_error(*this, parsed.error(), message);
      return;
    }
    codec::bgp::Open open = std::move(*parsed);
    if (state() != State::OpenSent && !(state() == State::Connect || state() == State::Active)) {
      // A second OPEN: the FSM answers with the FSM error of the state.
      dispatch(fsm::Event{fsm::EventType::OpenReceived}, "unexpected OPEN");
      return;
    }
    const PeerConfig& c = peer.config_;
    const auto* cap = open.find_last<codec::bgp::FourOctetAsCapability>();
    const std::uint32_t their_as = cap != nullptr ? cap->asn : open.my_as;
    bool as_ok = true;
    if (c.peer_as != 0) {
      as_ok = their_as == c.peer_as;
    } else if (!c.allowed_as.empty()) {
      as_ok = std::find(c.allowed_as.begin(), c.allowed_as.end(), their_as) != c.allowed_as.end();
    }
    if (!as_ok) {
      const codec::Error e{codec::ErrorKind::BadValue,
                           codec::bgp::error_code::kOpenMessage,
                           codec::bgp::open_subcode::kBadPeerAs,
                           codec::Reaction::SessionReset,
                           20,
                           "the peer's AS is not the configured one"};
      // RFC 4271 section 6.2: the data is the peer's My AS field as received.
      const std::array<std::uint8_t, 2> data{message[20], message[21]};
      peer.message_error(*this, e, message, data);
      return;
    }
    codec::bgp::NegotiationOptions options;
    options.strict_role = c.strict_role;
    auto n = codec::bgp::negotiate(peer.sent_open_, open, options);
    if (!n) {
      peer.message_error(*this, n.error(), message);
      return;
    }
    received_open = open;
    negotiated = std::move(*n);
    rx_ctx = negotiated->receive_context();
    if (!negotiated->ibgp && peer.config_.enforce_first_as) {
      rx_ctx.first_as = negotiated->peer_as;  // the decoder checks it (codec/bgp/update.cpp)
    }
    tx_ctx = negotiated->send_context();
    max_size = negotiated->extended_message ? codec::bgp::kMaxExtendedMessageSize
                                            : codec::bgp::kMaxMessageSize;
    conn->set_max_message_size(max_size);
    peer.learned_as_ = negotiated->peer_as;
    if (peer.dynamic_ && !peer.process_.admit_dynamic(peer)) {
      // The range reached max_peers while this connection waited (RFC 4486 section 4).
      fsm::Event e{fsm::EventType::MessageError};
      e.notification = NotificationInfo::cease(codec::bgp::cease_subcode::kConnectionRejected);
      dispatch(e, "dynamic range full (max_peers)");
      return;
    }
    if (peer.on_open_) {
      peer.on_open_(peer, open);
      if (!conn) {
        return;
      }
    }
    if (!peer.resolve_collision(*this, open)) {
      return;
    }
    dispatch(fsm::Event{fsm::EventType::OpenReceived, negotiated->hold_time}, "OPEN received");
  }

  void on_notification_message(std::span<const std::uint8_t> message) {
    auto n = codec::bgp::parse_notification(message);
    notification_exchanged = true;
    std::string why = "NOTIFICATION received";
    if (n) {
      hard_reset = n->code == codec::bgp::error_code::kCease &&
                   n->subcode == codec::bgp::cease_subcode::kHardReset;
      why += ": " + NotificationInfo::describe(*n);
      if (peer.on_notification_) {
        peer.on_notification_(peer, *n, Direction::Received);
      }
    }
    // RFC 4271 section 6.4: never answer a NOTIFICATION with one, even a malformed one.
    dispatch(fsm::Event{fsm::EventType::NotificationReceived}, why);
  }

  void on_refresh_message(std::span<const std::uint8_t> message) {
    if (state() != State::Established) {
      dispatch(fsm::Event{fsm::EventType::RouteRefreshReceived},
               "ROUTE-REFRESH before Established");
      return;
    }
    auto rr = codec::bgp::parse_route_refresh(message);
    if (!rr) {
      peer.message_error(*this, rr.error(), message);
      return;
    }
    dispatch(fsm::Event{fsm::EventType::RouteRefreshReceived}, "ROUTE-REFRESH received");
    if (peer.on_refresh_) {
      peer.on_refresh_(peer, *rr);
    }
  }
};

}  // namespace bgpscribe::speaker
