#include "speaker/peer.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <utility>

#include "codec/bgp/notification_codes.hpp"
#include "codec/bgp/route_refresh.hpp"
#include "codec/bgp/update.hpp"
#include "codec/wire/writer.hpp"
#include "speaker/address.hpp"
#include "speaker/process.hpp"
#include "speaker/socket_options.hpp"

namespace bgpscribe::speaker {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

const char* to_string(Direction d) {
  return d == Direction::Received ? "received" : "sent";
}

const char* to_string(GracefulRestartEvent e) {
  switch (e) {
    case GracefulRestartEvent::Stale:
      return "stale";
    case GracefulRestartEvent::Recovered:
      return "recovered";
    case GracefulRestartEvent::Expired:
      return "expired";
  }
  return "?";
}

namespace {

fsm::Config fsm_config(const PeerConfig& c, bool passive, Millis open_hold) {
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

int state_rank(State s) {
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
std::string describe_error(const codec::Error& e) {
  std::string s = e.message;
  s += " (byte " + std::to_string(e.offset) + ", NOTIFICATION " + std::to_string(e.code) + "/" +
       std::to_string(e.subcode) + ", " + codec::to_string(e.reaction) + ")";
  return s;
}

// RFC 4271 section 6.3: UPDATE attribute errors carry the offending attribute (type, length,
// value) as NOTIFICATION data. `offset` is that attribute's flags octet in `message`.
std::vector<std::uint8_t> attribute_at(std::span<const std::uint8_t> message,
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

}  // namespace

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
        peer.ending_stale_ = peer.graceful_restart_families(*this);
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

// ---- Peer ----------------------------------------------------------------------------------

Peer::Peer(Process& process, PeerConfig config, bool dynamic)
    : process_(process),
      config_(std::move(config)),
      dynamic_(dynamic),
      sent_open_(make_open(config_)),
      gr_timer_(process.io()),
      self_(std::make_shared<Peer*>(this)) {}

Peer::~Peer() {
  self_.reset();
  for (auto* s : sessions()) {
    if (s->conn) {
      s->conn->detach();
      s->conn->close();
    }
  }
}

Peer& Peer::on_open(std::function<void(Peer&, const codec::bgp::Open&)> f) {
  on_open_ = std::move(f);
  return *this;
}
Peer& Peer::on_established(std::function<void(Peer&)> f) {
  on_established_ = std::move(f);
  return *this;
}
Peer& Peer::on_keepalive(std::function<void(Peer&)> f) {
  on_keepalive_ = std::move(f);
  return *this;
}
Peer& Peer::on_update(std::function<void(Peer&, const Update&)> f) {
  on_update_ = std::move(f);
  return *this;
}
Peer& Peer::on_refresh(std::function<void(Peer&, const codec::bgp::RouteRefresh&)> f) {
  on_refresh_ = std::move(f);
  return *this;
}
Peer& Peer::on_notification(
    std::function<void(Peer&, const codec::bgp::Notification&, Direction)> f) {
  on_notification_ = std::move(f);
  return *this;
}
Peer& Peer::on_error(std::function<void(Peer&, const PeerError&)> f) {
  on_error_ = std::move(f);
  return *this;
}
Peer& Peer::on_state_change(std::function<void(Peer&, State, State, std::string_view)> f) {
  on_state_change_ = std::move(f);
  return *this;
}
Peer& Peer::on_raw(std::function<void(Peer&, const RawMessage&)> f) {
  on_raw_ = std::move(f);
  return *this;
}
Peer& Peer::on_end_of_rib(std::function<void(Peer&, codec::bgp::AfiSafi)> f) {
  on_end_of_rib_ = std::move(f);
  return *this;
}
Peer& Peer::on_graceful_restart(
    std::function<void(Peer&, GracefulRestartEvent, codec::bgp::AfiSafi)> f) {
  on_graceful_restart_ = std::move(f);
  return *this;
}

std::vector<Peer::Session*> Peer::sessions() const {
  std::vector<Session*> out;
  if (outbound_) {
    out.push_back(outbound_.get());
  }
  for (const auto& s : inbound_) {
    out.push_back(s.get());
  }
  return out;
}

Peer::Session* Peer::established_session() const {
  for (auto* s : sessions()) {
    if (s->state() == State::Established) {
      return s;
    }
  }
  return nullptr;
}

void Peer::start() {
  if (removed_) {
    return;
  }
  started_ = true;
  if (!config_.passive) {
    if (!outbound_) {
      outbound_ = std::make_shared<Session>(*this, true, false);
    }
    if (outbound_->state() == State::Idle) {
      outbound_->dispatch(fsm::Event{fsm::EventType::ManualStart}, "started");
    }
  }
  recompute_state("started");
}

void Peer::stop(std::string_view shutdown_text) {
  started_ = false;
  fsm::Event e{fsm::EventType::ManualStop};
  e.notification =
      NotificationInfo::cease(codec::bgp::cease_subcode::kAdministrativeShutdown, shutdown_text);
  for (auto* s : sessions()) {
    s->dispatch(e, "stopped");
  }
  graceful_restart_expire();
  recompute_state("stopped");
}

void Peer::shutdown_for_removal(std::string_view why) {
  started_ = false;
  removed_ = true;
  fsm::Event e{fsm::EventType::ManualStop};
  e.notification = NotificationInfo::cease(codec::bgp::cease_subcode::kPeerDeconfigured);
  for (auto* s : sessions()) {
    s->dispatch(e, why);
  }
  timers_.clear();
  gr_timer_.cancel();
  recompute_state(why);  // a passive peer without connections was Active until now
}

void Peer::check_unused() {
  if (!dynamic_) {
    return;
  }
  auto unused = [](const Peer& p) {
    // stop() keeps the Peer (its address stays refused) until the application removes it.
    return p.started_ && !p.removed_ && !p.outbound_ && p.inbound_.empty() && p.stale_.empty();
  };
  if (!unused(*this)) {
    return;
  }
  asio::post(process_.io(), [w = std::weak_ptr<Peer*>(self_), unused] {
    if (auto p = w.lock(); p && unused(**p)) {
      (*p)->process_.dynamic_peer_unused(**p);
    }
  });
}

std::uint32_t Peer::peer_as() const {
  return config_.peer_as != 0 ? config_.peer_as : learned_as_;
}

const codec::bgp::NegotiatedSession* Peer::negotiated() const {
  for (auto* s : sessions()) {
    if ((s->state() == State::Established || s->state() == State::OpenConfirm) && s->negotiated) {
      if (s->state() == State::Established || established_session() == nullptr) {
        return &*s->negotiated;
      }
    }
  }
  return nullptr;
}

const codec::bgp::Open* Peer::received_open() const {
  for (auto* s : sessions()) {
    if (s->received_open &&
        (s->state() == State::Established || s->state() == State::OpenConfirm)) {
      return &*s->received_open;
    }
  }
  return nullptr;
}

bool Peer::has_family(codec::bgp::AfiSafi f) const {
  const auto* n = negotiated();
  return n != nullptr && n->has_family(f);
}

bool Peer::add_path_receive(codec::bgp::AfiSafi f) const {
  const auto* n = negotiated();
  return n != nullptr && std::find(n->add_path_receive.begin(), n->add_path_receive.end(), f) !=
                             n->add_path_receive.end();
}

bool Peer::route_refresh() const {
  const auto* n = negotiated();
  return n != nullptr && n->route_refresh;
}

bool Peer::four_octet_as() const {
  const auto* n = negotiated();
  return n != nullptr && n->four_octet_as;
}

std::optional<codec::bgp::IpAddress> Peer::remote_address() const {
  if (auto* s = established_session()) {
    return s->remote;
  }
  return std::nullopt;
}

std::optional<Peer::Endpoints> Peer::endpoints() const {
  Session* best = nullptr;
  for (auto* s : sessions()) {
    if (s->conn && (best == nullptr || state_rank(s->state()) > state_rank(best->state()))) {
      best = s;
    }
  }
  if (best == nullptr) {
    return std::nullopt;
  }
  boost::system::error_code ec1;
  boost::system::error_code ec2;
  const auto local = best->conn->socket().local_endpoint(ec1);
  const auto remote = best->conn->socket().remote_endpoint(ec2);
  if (ec1 || ec2) {
    return std::nullopt;
  }
  return Endpoints{net::from_asio(local.address()), local.port(), net::from_asio(remote.address()),
                   remote.port()};
}

std::optional<bool> Peer::established_outbound() const {
  if (auto* s = established_session()) {
    return s->outbound;
  }
  return std::nullopt;
}

std::size_t Peer::connection_count() const {
  std::size_t n = 0;
  for (auto* s : sessions()) {
    n += s->conn ? 1 : 0;
  }
  return n;
}

void Peer::accept(net::tcp::socket socket) {
  boost::system::error_code ignored;
  if (!started_ || removed_ || inbound_.size() >= kMaxInbound) {
    socket.close(ignored);
    return;
  }
  auto s = std::make_shared<Session>(*this, false, true);
  inbound_.push_back(s);
  s->adopt(std::move(socket));
}

void Peer::session_state_changed(Session& /*s*/, State /*from*/, std::string_view why) {
  recompute_state(why);
}

void Peer::recompute_state(std::string_view why) {
  State best = State::Idle;
  for (auto* s : sessions()) {
    if (state_rank(s->state()) > state_rank(best)) {
      best = s->state();
    }
  }
  if (best == State::Idle && started_ && (config_.passive || outbound_ == nullptr)) {
    best = State::Active;  // waiting for the peer to connect
  }
  if (best == State::Idle && started_ && outbound_ && outbound_->machine.enabled()) {
    // Between attempts (IdleHold running) the peer is still trying: report Active, as
    // routers do, rather than flapping through Idle.
    best = State::Active;
  }
  if (best != state_) {
    const State old = state_;
    state_ = best;
    if (on_state_change_) {
      on_state_change_(*this, old, best, why);
    }
  }
}

bool Peer::resolve_collision(Session& s, const codec::bgp::Open& open) {
  for (auto* other : sessions()) {
    if (other == &s || other->state() == State::Idle) {
      continue;
    }
    switch (other->state()) {
      case State::Established:
        if (open.find_last<codec::bgp::GracefulRestartCapability>() != nullptr) {
          // RFC 4724 section 4.2: a new connection from a peer that restarts gracefully
          // replaces the established one, which is closed without a NOTIFICATION.
          other->dispatch(fsm::Event{fsm::EventType::TcpFailed},
                          "peer reconnected (graceful restart)");
          continue;
        }
        // RFC 4271 section 6.8: a collision with an Established connection closes the new one.
        s.dispatch(fsm::Event{fsm::EventType::CollisionDump},
                   "connection collision with the established session");
        return false;
      case State::OpenSent:
      case State::OpenConfirm:
        if (fsm::keep_existing_connection(config_.local_id, open.bgp_identifier, config_.local_as,
                                          peer_as(), other->outbound)) {
          s.dispatch(fsm::Event{fsm::EventType::CollisionDump}, "connection collision: lost");
          return false;
        }
        other->dispatch(fsm::Event{fsm::EventType::CollisionDump}, "connection collision: lost");
        continue;
      case State::Connect:
      case State::Active:
        // Our own attempt has not reached OpenSent: pause it while this one proceeds.
        other->dispatch(fsm::Event{fsm::EventType::ManualStop}, "connection from the peer");
        continue;
      case State::Idle:
        continue;
    }
  }
  return true;
}

void Peer::session_established(Session& s) {
  ++established_count_;
  for (auto* other : sessions()) {
    if (other == &s || other->state() == State::Idle) {
      continue;
    }
    if (state_rank(other->state()) >= state_rank(State::OpenSent)) {
      other->dispatch(fsm::Event{fsm::EventType::CollisionDump},
                      "connection collision: another connection is established");
    } else {
      other->dispatch(fsm::Event{fsm::EventType::ManualStop}, "another connection is established");
    }
  }
  routes_.clear();
  graceful_restart_established(s);
  if (on_established_) {
    on_established_(*this);
  }
  if (config_.auto_end_of_rib && s.state() == State::Established && s.negotiated) {
    for (const auto& f : s.negotiated->families) {
      send_end_of_rib(f);
    }
  }
}

void Peer::session_down(Session& s) {
  routes_.clear();
  graceful_restart_begin(s);
}

void Peer::session_idle(Session& s) {
  if (!s.outbound) {
    retire(s);
  }
  if (!started_ || config_.passive || !outbound_ || outbound_->machine.enabled()) {
    return;
  }
  for (auto* other : sessions()) {
    if (state_rank(other->state()) >= state_rank(State::OpenSent)) {
      return;  // another connection is still in progress
    }
  }
  restart_outbound();
}

void Peer::restart_outbound() {
  // The paused outbound attempt resumes after the configured delay, so that a peer that keeps
  // dropping inbound connections does not make us reconnect in a tight loop.
  auto w = std::weak_ptr<Peer*>(self_);
  auto timer = std::make_shared<asio::steady_timer>(process_.io(), config_.idle_hold);
  timer->async_wait([w, timer](const boost::system::error_code& ec) {
    auto p = w.lock();
    if (ec || !p) {
      return;
    }
    Peer& peer = **p;
    if (peer.started_ && peer.outbound_ && peer.outbound_->state() == State::Idle &&
        !peer.outbound_->machine.enabled() && peer.established_session() == nullptr) {
      peer.outbound_->dispatch(fsm::Event{fsm::EventType::ManualStart}, "reconnecting");
    }
  });
}

void Peer::retire(Session& s) {
  auto it =
      std::find_if(inbound_.begin(), inbound_.end(), [&](const auto& p) { return p.get() == &s; });
  if (it == inbound_.end()) {
    return;
  }
  retired_.push_back(std::move(*it));
  inbound_.erase(it);
  // Destroyed after the current callback chain unwinds (the session may be on the stack).
  asio::post(process_.io(), [w = std::weak_ptr<Peer*>(self_)] {
    if (auto p = w.lock()) {
      (*p)->retired_.clear();
    }
  });
  recompute_state("connection closed");
  check_unused();
}

void Peer::message_error(Session& s, const codec::Error& e, std::span<const std::uint8_t> bytes,
                         std::span<const std::uint8_t> data) {
  if (on_error_) {
    PeerError pe{e, bytes, describe_error(e)};
    on_error_(*this, pe);
  }
  fsm::Event ev{fsm::EventType::MessageError};
  ev.notification.code = e.code;
  ev.notification.subcode = e.subcode;
  if (!data.empty()) {
    ev.notification.data.assign(data.begin(), data.end());
  } else if (e.code == codec::bgp::error_code::kUpdateMessage && e.offset > 0 &&
             e.subcode != codec::bgp::update_subcode::kMalformedAttributeList &&
             e.subcode != codec::bgp::update_subcode::kInvalidNetworkField &&
             e.subcode != codec::bgp::update_subcode::kMissingWellKnownAttribute) {
    ev.notification.data = attribute_at(bytes, e.offset);
  }
  if (ev.notification.code == 0) {
    ev.notification.code = codec::bgp::error_code::kCease;  // never send code 0
  }
  s.dispatch(ev, describe_error(e));
}

void Peer::deliver_update(Session& s, std::span<const std::uint8_t> bytes, SystemTime /*t*/) {
  if (auto st = codec::bgp::parse_update_into(bytes, s.rx_ctx, update_); !st) {
    message_error(s, st.error(), bytes);
    return;
  }
  const codec::Reaction reaction = update_.reaction();
  if (reaction == codec::Reaction::SessionReset || reaction == codec::Reaction::AfiSafiDisable) {
    // RFC 7606 section 5.2/2: AFI/SAFI disable is allowed to be a session reset; we keep one
    // behaviour for both.
    message_error(s, update_.diagnostics().strongest, bytes);
    return;
  }
  s.dispatch(fsm::Event{fsm::EventType::UpdateReceived}, "UPDATE received");
  if (update_.reaction() != codec::Reaction::None && on_error_) {
    PeerError pe{update_.diagnostics().strongest, bytes,
                 describe_error(update_.diagnostics().strongest)};
    on_error_(*this, pe);
  }
  if (config_.max_prefix != 0) {
    account_routes(s, update_);
    if (s.state() != State::Established) {
      return;
    }
  }
  if (on_update_) {
    const Update u(bytes, update_, s.rx_ctx);
    on_update_(*this, u);
  }
  if (update_.end_of_rib) {
    const auto f = update_.end_of_rib_family;
    if (on_end_of_rib_) {
      on_end_of_rib_(*this, f);
    }
    graceful_restart_end_of_rib(f);
  }
}

std::size_t Peer::RouteKeyHash::operator()(const RouteKey& k) const {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 1099511628211ULL; };
  for (auto b : k.bytes) {
    mix(b);
  }
  mix(k.path_id);
  mix(k.length);
  mix(static_cast<std::uint64_t>(k.afi) << 8 | k.safi);
  return h;
}

void Peer::account_routes(Session& s, const codec::bgp::Update& u) {
  auto key = [](codec::bgp::AfiSafi f, const codec::bgp::Nlri& n) {
    RouteKey k;
    const auto p = n.prefix();
    k.bytes = p.address.bytes;
    k.length = p.length;
    k.path_id = n.path_id;
    k.afi = static_cast<std::uint8_t>(f.afi);
    k.safi = static_cast<std::uint8_t>(f.safi);
    return k;
  };
  const bool withdraw_all = u.reaction() == codec::Reaction::TreatAsWithdraw;
  for (const auto& n : u.withdrawn) {
    routes_.erase(key(codec::bgp::kIpv4Unicast, n));
  }
  for (const auto& n : u.attributes.mp_unreach.withdrawn) {
    routes_.erase(key(u.attributes.mp_unreach.family, n));
  }
  codec::bgp::AfiSafi last{};
  bool added = false;
  for (const auto& n : u.nlri) {
    if (withdraw_all) {
      routes_.erase(key(codec::bgp::kIpv4Unicast, n));
    } else {
      added |= routes_.insert(key(codec::bgp::kIpv4Unicast, n)).second;
      last = codec::bgp::kIpv4Unicast;
    }
  }
  const auto& reach = u.attributes.mp_reach.nlri;
  for (const auto& n : reach) {
    if (withdraw_all) {
      routes_.erase(key(reach.family(), n));
    } else {
      added |= routes_.insert(key(reach.family(), n)).second;
      last = reach.family();
    }
  }
  if (added && routes_.size() > config_.max_prefix) {
    // RFC 4486 section 4: Cease / Maximum Number of Prefixes Reached, with AFI, SAFI and limit.
    const auto data = codec::bgp::max_prefixes_data(last, config_.max_prefix);
    fsm::Event e{fsm::EventType::CeaseRequested};
    e.notification = codec::bgp::Notification{codec::bgp::error_code::kCease,
                                              codec::bgp::cease_subcode::kMaxPrefixesReached,
                                              std::vector<std::uint8_t>(data.begin(), data.end())};
    if (on_error_) {
      PeerError pe;
      pe.error = codec::Error{codec::ErrorKind::TooLarge,
                              codec::bgp::error_code::kCease,
                              codec::bgp::cease_subcode::kMaxPrefixesReached,
                              codec::Reaction::SessionReset,
                              0,
                              "maximum number of prefixes reached"};
      pe.message =
          "maximum number of prefixes reached (" + std::to_string(config_.max_prefix) + ")";
      on_error_(*this, pe);
    }
    s.dispatch(e, "maximum number of prefixes reached");
  }
}

// ---- Graceful restart helper (RFC 4724 section 4.2, RFC 8538) -------------------------------

std::vector<codec::bgp::AfiSafi> Peer::graceful_restart_families(const Session& s) const {
  if (!config_.graceful_restart_time || !s.negotiated || !s.negotiated->peer_graceful_restart) {
    return {};
  }
  const auto& gr = *s.negotiated->peer_graceful_restart;
  // RFC 8538 section 4: with the N bit on both sides, a NOTIFICATION other than Hard Reset
  // also keeps the routes; without it any NOTIFICATION ends the session for good.
  const bool both_n = gr.notification() && config_.graceful_restart_notification;
  if (s.notification_exchanged && (!both_n || s.hard_reset)) {
    return {};
  }
  if (gr.restart_time == 0) {
    return {};
  }
  std::vector<codec::bgp::AfiSafi> out;
  for (const auto& t : gr.tuples) {
    if (std::find(out.begin(), out.end(), t.family) == out.end()) {
      out.push_back(t.family);
    }
  }
  return out;
}

void Peer::graceful_restart_begin(Session& s) {
  // Decided in Session::dispatch, before the state change was reported.
  auto families = std::move(ending_stale_);
  ending_stale_.clear();
  if (families.empty()) {
    return;
  }
  for (const auto& f : families) {
    if (std::find(stale_.begin(), stale_.end(), f) == stale_.end()) {
      stale_.push_back(f);
      if (on_graceful_restart_) {
        on_graceful_restart_(*this, GracefulRestartEvent::Stale, f);
      }
    }
  }
  gr_timer_.expires_after(std::chrono::seconds(s.negotiated->peer_graceful_restart->restart_time));
  gr_timer_.async_wait([w = std::weak_ptr<Peer*>(self_)](const boost::system::error_code& ec) {
    if (auto p = w.lock(); p && !ec) {
      (*p)->graceful_restart_expire();
    }
  });
}

void Peer::graceful_restart_established(Session& s) {
  if (stale_.empty()) {
    return;
  }
  gr_timer_.cancel();
  const auto* gr = s.negotiated ? &s.negotiated->peer_graceful_restart : nullptr;
  std::vector<codec::bgp::AfiSafi> keep;
  for (const auto& f : stale_) {
    bool preserved = false;
    if (gr != nullptr && *gr) {
      for (const auto& t : (*gr)->tuples) {
        preserved |= t.family == f && t.forwarding_preserved();
      }
    }
    if (preserved) {
      keep.push_back(f);
    } else if (on_graceful_restart_) {
      // RFC 4724 section 4.2: a family missing from the new capability, or without the F bit,
      // loses its stale routes at once.
      on_graceful_restart_(*this, GracefulRestartEvent::Expired, f);
    }
  }
  stale_ = std::move(keep);
  if (stale_.empty()) {
    return;
  }
  gr_timer_.expires_after(config_.graceful_restart_stale_time);
  gr_timer_.async_wait([w = std::weak_ptr<Peer*>(self_)](const boost::system::error_code& ec) {
    if (auto p = w.lock(); p && !ec) {
      (*p)->graceful_restart_expire();
    }
  });
}

void Peer::graceful_restart_end_of_rib(codec::bgp::AfiSafi f) {
  auto it = std::find(stale_.begin(), stale_.end(), f);
  if (it == stale_.end()) {
    return;
  }
  stale_.erase(it);
  if (on_graceful_restart_) {
    on_graceful_restart_(*this, GracefulRestartEvent::Recovered, f);
  }
  if (stale_.empty()) {
    gr_timer_.cancel();
  }
}

void Peer::graceful_restart_expire() {
  auto families = std::move(stale_);
  stale_.clear();
  for (const auto& f : families) {
    if (on_graceful_restart_) {
      on_graceful_restart_(*this, GracefulRestartEvent::Expired, f);
    }
  }
  check_unused();  // a dynamic peer that did not come back
}

// ---- Sending -----------------------------------------------------------------------------------

bool Peer::send_bytes(std::span<const std::uint8_t> bytes, codec::bgp::MessageType type) {
  Session* s = established_session();
  if (s == nullptr) {
    return false;
  }
  return s->send(bytes, type);
}

bool Peer::send_update(const UpdateBuilder& b) {
  Session* s = established_session();
  if (s == nullptr) {
    return false;
  }
  std::vector<std::vector<std::uint8_t>> messages;
  if (!b.encode(s->tx_ctx, s->max_size, messages)) {
    return false;
  }
  for (const auto& m : messages) {
    if (!s->send(m, codec::bgp::MessageType::Update)) {
      return false;
    }
  }
  return true;
}

bool Peer::send_raw(std::span<const std::uint8_t> message) {
  Session* s = established_session();
  if (s == nullptr) {
    return false;
  }
  const auto f = codec::bgp::frame(message, s->max_size);
  if (f.status != codec::bgp::FrameStatus::Message || f.size != message.size()) {
    return false;
  }
  return s->send(message, f.header.type);
}

bool Peer::send_refresh(codec::bgp::AfiSafi family, codec::bgp::RouteRefreshSubtype subtype) {
  Session* s = established_session();
  if (s == nullptr || !s->negotiated || !s->negotiated->route_refresh) {
    return false;
  }
  codec::bgp::RouteRefresh rr;
  rr.family = family;
  rr.subtype = subtype;
  codec::wire::Writer w;
  if (!codec::bgp::encode_route_refresh(rr, w, s->max_size)) {
    return false;
  }
  return s->send(w.bytes(), codec::bgp::MessageType::RouteRefresh);
}

std::size_t Peer::send_queue_bytes() const {
  const Session* s = established_session();
  return s != nullptr && s->conn ? s->conn->queued_bytes() : 0;
}

bool Peer::send_end_of_rib(codec::bgp::AfiSafi family) {
  Session* s = established_session();
  if (s == nullptr || !s->negotiated || !s->negotiated->has_family(family)) {
    return false;
  }
  codec::wire::Writer w;
  if (!codec::bgp::UpdateMessage::end_of_rib(family).encode(w, s->max_size)) {
    return false;
  }
  return s->send(w.bytes(), codec::bgp::MessageType::Update);
}

// ---- User timers ----------------------------------------------------------------------------

TimerId Peer::add_timer(Millis interval, std::function<void(Peer&)> f) {
  const TimerId id = next_timer_++;
  UserTimer t{std::max(interval, Millis{1}), std::move(f),
              std::make_unique<asio::steady_timer>(process_.io())};
  timers_.emplace(id, std::move(t));
  arm_user_timer(id);
  return id;
}

void Peer::remove_timer(TimerId id) {
  timers_.erase(id);
}

void Peer::arm_user_timer(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) {
    return;
  }
  it->second.timer->expires_after(it->second.interval);
  it->second.timer->async_wait(
      [w = std::weak_ptr<Peer*>(self_), id](const boost::system::error_code& ec) {
        auto p = w.lock();
        if (ec || !p) {
          return;
        }
        Peer& peer = **p;
        auto found = peer.timers_.find(id);
        if (found == peer.timers_.end()) {
          return;
        }
        // Copy: the callback may remove this timer.
        auto f = found->second.f;
        f(peer);
        if (peer.self_ && peer.timers_.count(id) != 0) {
          peer.arm_user_timer(id);
        }
      });
}

}  // namespace bgpscribe::speaker
