#include "speaker/peer.hpp"

#include "speaker/session.hpp"

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

const char* to_string(Direction d) {
  return d == Direction::Received ? "received" : "sent";
}

// ---- Peer ----------------------------------------------------------------------------------

Peer::Peer(Process& process, PeerConfig config, bool dynamic)
    : process_(process),
      config_(std::move(config)),
      dynamic_(dynamic),
      sent_open_(make_open(config_)),
      max_prefix_(config_.max_prefix),
      graceful_restart_(GracefulRestartState::Config{config_.graceful_restart_time.has_value(),
                                                     config_.graceful_restart_notification,
                                                     config_.graceful_restart_stale_time}),
      self_(std::make_shared<Peer*>(this)) {
  for (auto& t : gr_timers_) {
    t = std::make_unique<asio::steady_timer>(process.io());
  }
}

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
  run_graceful_restart(graceful_restart_.stop());
  check_unused();
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
  run_graceful_restart(graceful_restart_.remove());
  recompute_state(why);  // a passive peer without connections was Active until now
}

void Peer::check_unused() {
  if (!dynamic_) {
    return;
  }
  auto unused = [](const Peer& p) {
    // stop() keeps the Peer (its address stays refused) until the application removes it.
    return p.started_ && !p.removed_ && !p.outbound_ && p.inbound_.empty() &&
           p.graceful_restart_.stale().empty();
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
  max_prefix_.clear();
  run_graceful_restart(
      graceful_restart_.session_established(s.negotiated ? &*s.negotiated : nullptr));
  if (on_established_) {
    on_established_(*this);
  }
  if (config_.auto_end_of_rib && s.state() == State::Established && s.negotiated) {
    for (const auto& f : s.negotiated->families) {
      send_end_of_rib(f);
    }
  }
}

void Peer::session_down(Session& /*s*/) {
  max_prefix_.clear();
  // What the session's end keeps was decided in Session::dispatch, before the state change
  // was reported (ending_stale()).
  run_graceful_restart(graceful_restart_.session_down());
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
  if (max_prefix_.enabled()) {
    const MaxPrefixDecision d = max_prefix_.account(update_);
    if (d.action == MaxPrefixDecision::Action::TearDown) {
      if (on_error_) {
        PeerError pe;
        pe.error = codec::Error{codec::ErrorKind::TooLarge,
                                d.notification.code,
                                d.notification.subcode,
                                codec::Reaction::SessionReset,
                                0,
                                "maximum number of prefixes reached"};
        pe.message =
            "maximum number of prefixes reached (" + std::to_string(max_prefix_.limit()) + ")";
        on_error_(*this, pe);
      }
      fsm::Event e{fsm::EventType::CeaseRequested};
      e.notification = d.notification;
      s.dispatch(e, "maximum number of prefixes reached");
    }
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
    run_graceful_restart(graceful_restart_.end_of_rib(f));
  }
}

// ---- Graceful restart helper -------------------------------------------------------------

void Peer::run_graceful_restart(const GracefulRestartState::Actions& actions) {
  gr_pending_.insert(gr_pending_.end(), actions.begin(), actions.end());
  if (gr_running_) {
    return;  // called back from one of the callbacks below: runs after what it interrupted
  }
  gr_running_ = true;
  while (!gr_pending_.empty()) {
    const GracefulRestartState::Action a = gr_pending_.front();
    gr_pending_.pop_front();
    const auto i = static_cast<std::size_t>(a.timer);
    switch (a.type) {
      case GracefulRestartState::ActionType::Report:
        if (on_graceful_restart_) {
          on_graceful_restart_(*this, a.event, a.family);
        }
        break;
      case GracefulRestartState::ActionType::StartTimer: {
        const std::uint64_t gen = ++gr_generation_[i];
        gr_timers_[i]->expires_after(a.duration);
        gr_timers_[i]->async_wait([w = std::weak_ptr<Peer*>(self_), t = a.timer,
                                   gen](const boost::system::error_code& ec) {
          if (auto p = w.lock(); p && !ec) {
            (*p)->graceful_restart_timer_expired(t, gen);
          }
        });
        break;
      }
      case GracefulRestartState::ActionType::StopTimer:
        ++gr_generation_[i];
        gr_timers_[i]->cancel();
        break;
    }
  }
  gr_running_ = false;
}

void Peer::graceful_restart_timer_expired(GracefulRestartState::Timer t, std::uint64_t generation) {
  if (generation != gr_generation_[static_cast<std::size_t>(t)]) {
    return;  // stopped or restarted after this wait completed
  }
  run_graceful_restart(graceful_restart_.timer_expired(t));
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
