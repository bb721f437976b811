#include "collector/core/collector.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <system_error>

#include "codec/bgp/message_types.hpp"
#include "codec/bgp/text.hpp"
#include "codec/bgp/update.hpp"
#include "exporters/api/files.hpp"
#include "exporters/api/log.hpp"
#include "speaker/session.hpp"

namespace bgpscribe::collector {

namespace bgp = codec::bgp;
using exporters::Record;
using exporters::RecordType;
using exporters::SessionState;

namespace {

using exporters::LogLevel;

// A session line: its peer's name, AS and address as context (text prefix or JSON fields), and
// for a BMP-monitored peer the router reporting it.
void log_session(LogLevel level, const exporters::PeerInfo& info, const std::string& text) {
  const std::string address = info.peer_address.to_string();
  const exporters::LogField router[] = {{"router", info.router}};
  exporters::log_peer(level, {info.name, info.peer_as, address}, text,
                      info.router.empty() ? std::span<const exporters::LogField>{} : router);
}

// About the age of the oldest record an exporter has waiting (0: none waiting): the next one
// to go came after the last one it accepted.
std::int64_t lag_of(const WorkerStats& s, std::int64_t now_us) {
  const auto last = s.delivered_time_us.load(std::memory_order_relaxed);
  if ((s.queued == 0 && s.spool_bytes == 0) || last == 0) {
    return 0;
  }
  return std::max<std::int64_t>(now_us - last, 0);
}

SessionState to_session_state(State s) {
  switch (s) {
    case State::Idle:
      return SessionState::Idle;
    case State::Connect:
      return SessionState::Connect;
    case State::Active:
      return SessionState::Active;
    case State::OpenSent:
      return SessionState::OpenSent;
    case State::OpenConfirm:
      return SessionState::OpenConfirm;
    case State::Established:
      return SessionState::Established;
  }
  return SessionState::Idle;
}

std::int64_t to_micros(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// The fields that decide a session; a peer whose fields all match keeps its session on reload.
bool same_session(const PeerConfig& a, const PeerConfig& b) {
  return a.name == b.name && a.local_as == b.local_as && a.local_id == b.local_id &&
         a.peer_as == b.peer_as && a.allowed_as == b.allowed_as &&
         a.peer_address == b.peer_address && a.peer_port == b.peer_port &&
         a.local_address == b.local_address && a.passive == b.passive &&
         a.md5_password == b.md5_password && a.ttl_security_hops == b.ttl_security_hops &&
         a.hold_time == b.hold_time && a.connect_retry == b.connect_retry &&
         a.families == b.families && a.route_refresh == b.route_refresh &&
         a.extended_message == b.extended_message && a.add_path_receive == b.add_path_receive &&
         a.graceful_restart_time == b.graceful_restart_time &&
         a.graceful_restart_notification == b.graceful_restart_notification &&
         a.enforce_first_as == b.enforce_first_as && a.max_prefix == b.max_prefix &&
         a.receive_buffer == b.receive_buffer;
}

void json_string(std::ostringstream& o, const std::string& s) {
  std::string quoted;
  bgp::append_json_string(quoted, s);
  o << quoted;
}

}  // namespace

Collector::Collector(config::CollectorConfig config, std::vector<exporters::ExporterPtr> exporters)
    : config_(std::move(config)),
      state_lock_(config_.state_directory, "state directory"),
      rib_(io_),
      process_(io_),
      signals_(io_),
      tick_timer_(io_),
      stop_timer_(io_),
      status_file_(std::filesystem::path(config_.state_directory) / "status.json") {
  for (std::size_t i = 0; i < exporters.size(); ++i) {
    ExporterSlot slot;
    auto entry = std::make_shared<config::ExporterConfig>();
    if (i < config_.exporters.size()) {
      *entry = config_.exporters[i];
    } else {
      entry->name = std::string(exporters[i]->name());
    }
    slot.entry = std::move(entry);
    slot.worker = make_worker(std::move(exporters[i]));
    exporters_.push_back(std::move(slot));
  }
}

Collector::~Collector() {
  try {
    for (auto& slot : exporters_) {
      slot.worker->stop();
    }
    for (auto& w : retiring_) {
      w->stop();
    }
    for (auto& i : internal_) {
      i.worker->stop();
    }
    exporters_.clear();
    retiring_.clear();
    internal_.clear();
    // Snapshots released by the exporters handed their tables back to the io thread: release
    // them now, while the RIB they reference still exists.
    io_.restart();
    io_.poll();
  } catch (const std::exception& e) {
    exporters::logf(LogLevel::Error, ("collector " + config_.name).c_str(), "while stopping: %s",
                    e.what());
  }
}

std::unique_ptr<ExporterWorker> Collector::make_worker(exporters::ExporterPtr exporter) const {
  const std::string dir =
      (std::filesystem::path(config_.state_directory) / "spool" / std::string(exporter->name()))
          .string();
  return std::make_unique<ExporterWorker>(std::move(exporter), config_.queue, dir);
}

Collector::ExporterSlot* Collector::find_slot(const std::string& name) {
  for (auto& slot : exporters_) {
    if (slot.entry->name == name) {
      return &slot;
    }
  }
  return nullptr;
}

const ExporterWorker* Collector::worker(std::string_view name) const {
  for (const auto& slot : exporters_) {
    if (slot.entry->name == name) {
      return slot.worker.get();
    }
  }
  return nullptr;
}

std::vector<std::string> Collector::exporter_names() const {
  std::vector<std::string> out;
  out.reserve(exporters_.size());
  for (const auto& slot : exporters_) {
    out.push_back(slot.entry->name);
  }
  return out;
}

std::uint32_t Collector::id_for(const bgp::IpAddress& address) {
  auto [it, inserted] = ids_.try_emplace(address, next_id_);
  if (inserted) {
    ++next_id_;
  }
  return it->second;
}

Collector::PeerState& Collector::state_of(Peer& peer) {
  if (&peer == last_peer_) {
    return *last_state_;
  }
  auto [it, inserted] = peers_.try_emplace(&peer);
  last_peer_ = &peer;
  last_state_ = &it->second;
  if (inserted) {
    it->second.id = id_for(peer.config().peer_address);
    refresh_info(peer, it->second);
  }
  return it->second;
}

void Collector::forget(std::unordered_map<const Peer*, PeerState>::iterator it) {
  if (it->first == last_peer_) {
    last_peer_ = nullptr;
    last_state_ = nullptr;
  }
  peers_.erase(it);
}

void Collector::refresh_info(Peer& peer, PeerState& st) {
  auto info = std::make_shared<exporters::PeerInfo>();
  const auto& c = peer.config();
  info->id = st.id;
  info->name = c.label();
  info->peer_address = c.peer_address;
  info->local_address.family = c.peer_address.family;  // unspecified until connected
  info->peer_port = c.peer_port;
  info->peer_as = peer.peer_as();
  info->local_as = c.local_as;
  info->local_bgp_id = c.local_id;
  if (const auto* open = peer.received_open()) {
    info->peer_bgp_id = open->bgp_identifier;
  }
  if (auto ep = peer.endpoints()) {
    info->peer_address = ep->remote;
    info->peer_port = ep->remote_port;
    info->local_address = ep->local;
    info->local_port = ep->local_port;
  }
  st.info = std::move(info);
}

void Collector::replay_journal() {
  if (!journal_) {
    return;
  }
  for (const auto& slot : exporters_) {
    const auto& w = slot.worker;
    if (auto p = w->resume_after(); p && *p > journal_->last_seq()) {
      exporters::logf(LogLevel::Warning, "journal",
                      "exporter %s is at number %llu, beyond the journal's %llu (was "
                      "the journal removed?): new records are numbered after it",
                      w->name().c_str(), static_cast<unsigned long long>(*p),
                      static_cast<unsigned long long>(journal_->last_seq()));
      journal_->number_after(*p);
    }
  }
  std::optional<std::uint64_t> from;
  for (const auto& slot : exporters_) {
    if (auto p = slot.worker->resume_after(); p && *p < journal_->last_seq()) {
      from = std::min(from.value_or(*p), *p);
    }
  }
  if (!from) {
    return;
  }
  std::vector<std::uint64_t> replayed(exporters_.size(), 0);
  const auto bad = journal_->replay(*from, [&](std::uint64_t seq, Record&& r) {
    r.seq = seq;
    for (std::size_t i = 0; i < exporters_.size(); ++i) {
      const auto p = exporters_[i].worker->resume_after();
      if (p && seq > *p) {
        exporters_[i].worker->push(r);
        ++replayed[i];
      }
    }
  });
  for (std::size_t i = 0; i < exporters_.size(); ++i) {
    if (replayed[i] > 0) {
      exporters::logf(LogLevel::Info, "journal",
                      "%llu records after number %llu replayed into exporter %s (what the "
                      "previous run had not made durable)",
                      static_cast<unsigned long long>(replayed[i]),
                      static_cast<unsigned long long>(*exporters_[i].worker->resume_after()),
                      exporters_[i].worker->name().c_str());
    }
  }
  if (bad > 0) {
    exporters::logf(LogLevel::Warning, "journal", "%zu damaged entries in %s skipped", bad,
                    journal_->directory().c_str());
  }
}

void Collector::release_journal() {
  if (!journal_) {
    return;
  }
  // Records the journal could not take (full, or no segment could be made) are only in memory:
  // a crash would lose them. Said once a minute while it goes on, and counted in status.json.
  const auto missed = journal_->stats().not_journaled;
  const auto now_s = unix_micros() / 1'000'000;
  if (missed > not_journaled_logged_ && now_s - not_journaled_log_s_ >= 60) {
    exporters::logf(LogLevel::Error, "journal",
                    "%llu records not journaled so far (%s full at %llu bytes, or a "
                    "segment could not be made): a crash now would lose them",
                    static_cast<unsigned long long>(missed), journal_->directory().c_str(),
                    static_cast<unsigned long long>(journal_->stats().bytes));
    not_journaled_logged_ = missed;
    not_journaled_log_s_ = now_s;
  }
  std::uint64_t upto = journal_->last_seq();
  // Exporters removed by a reload no longer count: nothing will give them these records again.
  for (const auto& slot : exporters_) {
    const auto& w = slot.worker;
    std::uint64_t durable = w->stats().durable_seq.load(std::memory_order_relaxed);
    if (!w->keeps_position()) {
      // It keeps no position: what earlier runs journaled is nothing to it.
      durable = std::max(durable, journal_start_seq_);
    }
    upto = std::min(upto, durable);
  }
  journal_->release(upto);
}

void Collector::fan_out(Record record) {
  if (journal_) {
    journal_->append(record);
  }
  for (auto& i : internal_) {
    if (i.active->load(std::memory_order_relaxed)) {
      i.worker->stage(record);
    }
  }
  for (std::size_t i = 0; i + 1 < exporters_.size(); ++i) {
    exporters_[i].worker->stage(record);
  }
  if (!exporters_.empty()) {
    exporters_.back().worker->stage(std::move(record));
  }
  // One hand-over per round of the event loop: the posted handler runs after the handlers
  // already due (the rest of this read's messages, the other sessions' reads).
  if (!publish_posted_) {
    publish_posted_ = true;
    boost::asio::post(io_, [this] {
      publish_posted_ = false;
      for (auto& slot : exporters_) {
        slot.worker->publish();
      }
      for (auto& i : internal_) {
        i.worker->publish();
      }
    });
  }
}

bool Collector::LogBudget::take(std::int64_t now_s, std::uint64_t& held) {
  if (now_s - window_start_s >= 60) {
    window_start_s = now_s;
    used = 0;
  }
  if (used >= burst) {
    ++held_back;
    return false;
  }
  ++used;
  held = std::exchange(held_back, 0);
  return true;
}

void Collector::log_malformed(Peer& peer, const char* what, const std::string& details) {
  auto& st = state_of(peer);
  std::uint64_t held = 0;
  std::uint64_t held_all = 0;
  const auto now_s = unix_micros() / 1'000'000;
  if (!st.log_budget.take(now_s, held) || !malformed_log_.take(now_s, held_all)) {
    return;
  }
  held += held_all;
  std::string more;
  if (held > 0) {
    more = " (" + std::to_string(held) + " more since the last line, not logged)";
  }
  log_session(LogLevel::Warning, *st.info, std::string(what) + ": " + details + more);
}

void Collector::record_up(Record state_change, exporters::SharedBytes open_received,
                          exporters::SharedBytes open_sent) {
  ++stats_.state_changes;
  fan_out(state_change);
  state_change.type = RecordType::PeerUp;
  state_change.message = std::move(open_received);
  state_change.sent_open = std::move(open_sent);
  fan_out(std::move(state_change));
}

void Collector::record_down(Record state_change, exporters::SharedBytes notification, bool local,
                            std::uint8_t stale_families) {
  ++stats_.state_changes;
  fan_out(state_change);
  state_change.type = RecordType::PeerDown;
  state_change.message = std::move(notification);
  state_change.local_notification = local;
  state_change.stale_families = stale_families;
  fan_out(std::move(state_change));
}

std::uint32_t Collector::source_id(const exporters::PeerInfo& info) {
  std::string key = info.router;
  key += '\0';
  key += static_cast<char>(info.bmp_peer_type);
  key += std::to_string(info.distinguisher);
  key += '\0';
  key += info.peer_address.to_string();
  key += '\0';
  key += info.post_policy ? "post" : "pre";
  auto [it, inserted] = bmp_ids_.try_emplace(std::move(key), next_id_);
  if (inserted) {
    ++next_id_;
  }
  return it->second;
}

void Collector::log_refused(std::string_view source, const bgp::IpAddress& address,
                            std::string_view why) {
  if (!refused_log_.allow(source, why)) {
    return;
  }
  const std::string a = address.to_string();
  const exporters::LogField fields[] = {{"address", a}, {"reason", why}};
  exporters::log(LogLevel::Warning, source,
                 "connection from " + a + " refused: " + std::string(why), fields);
}

void Collector::log_setup_failed(const exporters::PeerInfo& info, std::string_view why) {
  // Held back per kind of failure: the reason up to its first ':' ("hold timer expired",
  // "OPEN: bad peer AS"), so that the keys stay few whatever the details.
  std::string_view kind = why.substr(0, std::min(why.find(':'), std::size_t{48}));
  if (!setup_log_.allow("session setup", kind)) {
    return;
  }
  log_session(LogLevel::Warning, info, "session setup failed: " + std::string(why));
}

void Collector::log_source(const exporters::PeerInfo& info, const char* what,
                           const std::string& details) {
  std::uint64_t held = 0;
  if (!malformed_log_.take(unix_micros() / 1'000'000, held)) {
    return;
  }
  std::string more;
  if (held > 0) {
    more = " (" + std::to_string(held) + " more since the last line, not logged)";
  }
  log_session(LogLevel::Warning, info, std::string(what) + ": " + details + more);
}

void Collector::source_up(const bmp::Source& source, std::int64_t time_us) {
  rib_.session_up(source.info, source.context[0]);
  auto& st = bmp_sources_[source.info->id];
  st.info = source.info;
  st.up = true;
  st.state_since_us = time_us;
  Record r;
  r.type = RecordType::StateChange;
  r.time_us = time_us;
  r.peer = source.info;
  r.context = source.context[0];
  r.old_state = SessionState::OpenConfirm;  // BMP reports only the session's coming up
  r.new_state = SessionState::Established;
  r.reason = "BMP Peer Up from router " + source.info->router;
  record_up(std::move(r), source.open_received, source.open_sent);
  log_session(LogLevel::Info, *source.info, "up (BMP)");
}

void Collector::route_monitoring(const bmp::Source& source, std::span<const std::uint8_t> update,
                                 const bgp::ParseContext& context, std::int64_t time_us) {
  // Archived as the router forwarded it, whatever the decoder makes of it (DESIGN rule 1).
  Record r;
  r.type = RecordType::Message;
  r.time_us = time_us;
  r.peer = source.info;
  r.message = exporters::SharedBytes(update);
  r.context = context;
  ++stats_.messages;
  fan_out(std::move(r));
  if (auto it = bmp_sources_.find(source.info->id); it != bmp_sources_.end()) {
    ++it->second.messages;
    it->second.last_update_us = time_us;
  }
  if (auto st = bgp::parse_update_into(update, context, bmp_update_); !st) {
    ++stats_.bmp_updates_not_applied;
    log_source(*source.info, "UPDATE not applied (it does not parse)",
               speaker::describe_error(st.error()));
    return;
  }
  const auto reaction = bmp_update_.reaction();
  if (reaction == codec::Reaction::SessionReset || reaction == codec::Reaction::AfiSafiDisable) {
    // A direct session would be reset; the router's session is not ours to reset, and what it
    // holds for the peer is unknown: the UPDATE changes nothing.
    ++stats_.bmp_updates_not_applied;
    log_source(*source.info, "UPDATE not applied (a direct session would be reset)",
               speaker::describe_error(bmp_update_.diagnostics().strongest));
    return;
  }
  if (reaction == codec::Reaction::AttributeDiscard) {
    ++stats_.attributes_discarded;
    log_source(*source.info, "UPDATE attribute discarded",
               speaker::describe_error(bmp_update_.diagnostics().strongest));
  } else if (reaction == codec::Reaction::TreatAsWithdraw) {
    log_source(*source.info, "UPDATE treat-as-withdraw",
               speaker::describe_error(bmp_update_.diagnostics().strongest));
  }
  rib_.apply(source.info->id, bmp_update_, context, time_us);
}

void Collector::source_down(const bmp::Source& source, std::int64_t time_us,
                            const std::string& reason, std::span<const std::uint8_t> notification,
                            bool local) {
  rib_.session_down(source.info->id);
  auto& st = bmp_sources_[source.info->id];
  st.info = source.info;
  if (st.up) {
    ++st.sessions_ended;
  }
  st.up = false;
  st.state_since_us = time_us;
  st.last_error = reason;
  Record r;
  r.type = RecordType::StateChange;
  r.time_us = time_us;
  r.peer = source.info;
  r.context = source.context[0];
  r.old_state = SessionState::Established;
  r.new_state = SessionState::Idle;
  r.reason = reason;
  record_down(std::move(r), exporters::SharedBytes(notification), local, 0);
  log_session(LogLevel::Info, *source.info, "down (BMP): " + reason);
}

void Collector::attach(Peer& peer) {
  state_of(peer);
  peer.on_raw([this](Peer& p, const RawMessage& m) {
    auto& st = state_of(p);
    if (m.type == bgp::MessageType::Open) {
      (m.direction == Direction::Received ? st.open_received : st.open_sent) =
          exporters::SharedBytes(m.bytes);
    } else if (m.type == bgp::MessageType::Notification) {
      st.notification = exporters::SharedBytes(m.bytes);
      st.notification_local = m.direction == Direction::Sent;
    }
    if (m.direction != Direction::Received) {
      return;
    }
    st.last_time_us = to_micros(m.time);
    ++st.messages;
    if (m.type == bgp::MessageType::Update) {
      st.last_update_us = st.last_time_us;
    }
    Record r;
    r.type = RecordType::Message;
    r.time_us = st.last_time_us;
    r.peer = st.info;
    r.message = exporters::SharedBytes(m.bytes);
    if (m.context != nullptr) {
      r.context = *m.context;
    }
    ++stats_.messages;
    fan_out(std::move(r));
  });
  peer.on_open([this](Peer& p, const bgp::Open& /*open*/) {
    auto& st = state_of(p);
    refresh_info(p, st);
  });
  peer.on_update([this](Peer& p, const Update& u) {
    auto& st = state_of(p);
    rib_.apply(st.id, u.view(), u.context(), st.last_time_us);
    if (u.reaction() == codec::Reaction::TreatAsWithdraw) {
      // Routes the peer announced that the archive records as withdrawn (RFC 7606): said in
      // the log, not only in the raw message of the MRT archive.
      const auto& v = u.view();
      const std::size_t routes = v.nlri.count() + v.attributes.mp_reach.nlri.count();
      std::string first;
      if (!v.nlri.empty()) {
        first = ", the first " + v.nlri.begin()->prefix().to_string();
      } else if (!v.attributes.mp_reach.nlri.empty()) {
        first = ", the first " + v.attributes.mp_reach.nlri.begin()->prefix().to_string();
      }
      log_malformed(
          p, "UPDATE treat-as-withdraw",
          std::to_string(routes) + " announced routes withdrawn" + first + ": " + st.update_error);
    }
  });
  peer.on_error([this](Peer& p, const PeerError& e) {
    // UPDATE reactions short of a session reset are logged above with their routes.
    if (e.error.reaction == codec::Reaction::TreatAsWithdraw) {
      state_of(p).update_error = e.message;  // on_update, which comes next, logs it
      return;
    }
    if (e.error.reaction == codec::Reaction::AttributeDiscard) {
      ++stats_.attributes_discarded;
      log_malformed(p, "UPDATE attribute discarded", e.message);
      return;
    }
    const bool open = e.bytes.size() > 18 && e.bytes[18] == 1;
    state_of(p).last_error = e.message;
    ++(open ? stats_.opens_refused : stats_.session_resets);
    log_malformed(p, open ? "OPEN refused" : "message refused, session reset", e.message);
  });
  peer.on_state_change([this](Peer& p, State old_state, State new_state, std::string_view why) {
    auto& st = state_of(p);
    const auto now = unix_micros();
    st.state_since_us = now;
    if (old_state == State::Established && new_state != State::Established) {
      ++st.sessions_ended;
    }
    if (new_state == State::Idle && !why.empty()) {
      st.last_error = std::string(why);
    }
    if (new_state == State::Established || new_state == State::OpenConfirm ||
        new_state == State::OpenSent) {
      refresh_info(p, st);
    }
    bgp::ParseContext ctx;
    ctx.four_octet_as = p.four_octet_as();
    for (const auto& f : exporters::kRecordFamilies) {
      ctx.set_add_path(f, p.add_path_receive(f));
    }
    if (new_state == State::Established) {
      st.notification = {};
      rib_.session_up(st.info, ctx);
    }
    if (exporters::log_enabled(LogLevel::Debug)) {
      log_session(LogLevel::Debug, *st.info,
                  std::string("state ") + speaker::fsm::to_string(old_state) + " -> " +
                      speaker::fsm::to_string(new_state) + (why.empty() ? "" : ": ") +
                      std::string(why));
    }
    Record r;
    r.type = RecordType::StateChange;
    r.time_us = now;
    r.peer = st.info;
    r.context = ctx;
    r.old_state = to_session_state(old_state);
    r.new_state = to_session_state(new_state);
    r.reason = std::string(why);
    if (new_state == State::Established) {
      record_up(std::move(r), st.open_received, st.open_sent);
      log_session(LogLevel::Info, *st.info, "up");
    } else if (old_state == State::Established) {
      rib_.session_down(st.id);
      std::uint8_t stale = 0;
      for (const auto& f : p.ending_stale()) {
        stale |= exporters::family_bit(f);
      }
      if (stale != 0) {
        st.stale_since_us = now;  // for the StaleEnd records of its families
      }
      record_down(std::move(r), st.notification, st.notification_local, stale);
      log_session(LogLevel::Info, *st.info, "down: " + std::string(why));
    } else {
      // A connection that got as far as an OPEN and fell back before Established: the setup
      // failed (no OPEN in time, an OPEN refused, the connection closed). Failed connects of
      // active peers (Connect -> Active) are not: they repeat every connect-retry interval.
      if ((old_state == State::OpenSent || old_state == State::OpenConfirm) &&
          new_state != State::OpenConfirm) {
        if (old_state == State::OpenSent && why == "HoldExpired") {
          log_setup_failed(*st.info, "no OPEN within the hold time (HoldExpired)");
        } else {
          log_setup_failed(*st.info, why.empty() ? std::string_view("connection closed") : why);
        }
      }
      ++stats_.state_changes;
      fan_out(std::move(r));
    }
  });
  peer.on_graceful_restart([this](Peer& p, GracefulRestartEvent e, bgp::AfiSafi f) {
    auto& st = state_of(p);
    if (e == GracefulRestartEvent::Stale) {
      rib_.graceful_restart_stale(st.id, f);  // the PeerDown record said it
      return;
    }
    rib_.graceful_restart_end(st.id, f);
    Record r;
    r.type = RecordType::StaleEnd;
    r.time_us = unix_micros();
    r.peer = st.info;
    r.stale_families = exporters::family_bit(f);
    r.stale_since_us = st.stale_since_us;
    r.reason = e == GracefulRestartEvent::Recovered
                   ? "End-of-RIB: the routes not announced again are withdrawn"
                   : "graceful restart timer expired: the stale routes are withdrawn";
    if (r.stale_families != 0) {
      fan_out(std::move(r));
    }
  });
}

void Collector::start() {
  std::filesystem::create_directories(config_.state_directory);
  if (config_.journal) {
    JournalOptions o;
    journal_lock_ = exporters::DirectoryLock(config_.journal_directory, "journal directory");
    o.directory = config_.journal_directory;
    o.max_bytes = config_.journal_max_bytes;
    o.sync_interval = config_.journal_sync;
    journal_ = std::make_unique<Journal>(std::move(o));
    journal_start_seq_ = journal_->last_seq();
  }
  for (auto& slot : exporters_) {
    // Spool segments of an earlier run hold records the journal gives again, unless there is
    // no journal of that run (a first start, or one after an upgrade from a bgpscribe without
    // it): then they are delivered as before.
    if (journal_ && journal_start_seq_ > 0) {
      slot.worker->set_journaled();
    }
    slot.worker->start();
  }
  for (auto& i : internal_) {
    i.worker->start();
  }
  started_us_ = unix_micros();
  replay_journal();
  // Every exporter now has what earlier runs journaled: their sessions are over.
  Record start;
  start.type = RecordType::Start;
  start.time_us = unix_micros();
  fan_out(std::move(start));
  for (const auto& l : config_.listen) {
    ports_.push_back(process_.listen(l.address, l.port));
  }
  if (!config_.bmp_listen.empty()) {
    bmp_station_ = std::make_unique<bmp::Station>(io_, config_.bmp_routers,
                                                  static_cast<bmp::RouterEvents&>(*this));
    bmp_ports_ = bmp_station_->listen(config_.bmp_listen);
  }
  for (const auto& pc : config_.peers) {
    Peer& p = process_.add_peer(pc);
    attach(p);
    p.start();
  }
  process_.on_unmatched([this](const bgp::IpAddress& address) {
    log_refused("listener", address, "no peer or dynamic range matches the address");
  });
  for (const auto& d : config_.dynamic_peers) {
    DynamicPeers dp;
    dp.range = d.range;
    dp.allowed_as = d.allowed_as;
    dp.max_peers = d.max_peers;
    dp.peer_template = d.peer_template;
    dp.max_pending = d.max_pending;
    dp.open_timeout = d.open_timeout;
    dp.on_new_peer = [this](Peer& p) { attach(p); };
    // The session is over and its place in the range free: its state goes (a later Peer of
    // the same address keeps the address's id, see id_for).
    dp.on_peer_removed = [this](Peer& p) {
      if (auto it = peers_.find(&p); it != peers_.end()) {
        rib_.remove_peer(it->second.id);
        forget(it);
      }
    };
    dp.on_refused = [this](const bgp::IpAddress& address, std::string_view why) {
      log_refused("dynamic peers", address, why);
    };
    process_.add_dynamic_peers(std::move(dp));
  }
  wait_signal();
  tick();
  std::string line = "AS" + std::to_string(config_.local_as) + ", " +
                     std::to_string(config_.peers.size()) + " peers, " +
                     std::to_string(config_.dynamic_peers.size()) + " dynamic ranges, " +
                     std::to_string(exporters_.size()) + " exporters, listening on";
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    line += " " + config_.listen[i].address.to_string() + " port " + std::to_string(ports_[i]);
  }
  for (std::size_t i = 0; i < bmp_ports_.size(); ++i) {
    line += ", BMP on " + config_.bmp_listen[i].address.to_string() + " port " +
            std::to_string(bmp_ports_[i]);
  }
  exporters::log(LogLevel::Info, "collector " + config_.name, line);
}

void Collector::wait_signal() {
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  signals_.add(SIGUSR1);
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) {
      return;
    }
    if (signal == SIGHUP) {
      // logrotate's postrotate sends SIGHUP: the log file is reopened whether or not the
      // config reloads (an accepted reload opens it again with the new `log:` settings).
      exporters::reopen_log();
      if (config_source_) {
        if (lifecycle_.reloading) {
          lifecycle_.reloading();
        }
        if (auto next = config_source_()) {
          reload(*next);
        } else {
          ++stats_.reloads_refused;
        }
        if (lifecycle_.reloaded) {
          lifecycle_.reloaded();
        }
      }
    } else if (signal == SIGUSR1) {
      snapshot_now();
    } else {
      exporters::logf(LogLevel::Info, "collector", "signal %d: shutting down", signal);
      shutdown();
      return;
    }
    wait_signal();
  });
}

void Collector::shutdown() {
  boost::asio::post(io_, [this] {
    if (stopping_) {
      return;
    }
    stopping_ = true;
    if (lifecycle_.stopping) {
      lifecycle_.stopping();
    }
    signals_.cancel();
    if (bmp_station_) {
      bmp_station_->stop("collector shutting down");
    }
    for (auto* p : process_.peers()) {
      p->stop("collector shutting down");
    }
    // Give the NOTIFICATIONs a moment to go out, then leave the loop.
    stop_timer_.expires_after(std::chrono::seconds(2));
    stop_timer_.async_wait([this](const boost::system::error_code&) { io_.stop(); });
    auto poll = std::make_shared<std::function<void()>>();
    *poll = [this, poll] {
      bool all_idle = true;
      for (auto* p : process_.peers()) {
        all_idle = all_idle && p->connection_count() == 0;
      }
      if (all_idle) {
        io_.stop();
        return;
      }
      auto t = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(50));
      t->async_wait([poll, t](const boost::system::error_code& ec) {
        if (!ec) {
          (*poll)();
        }
      });
    };
    (*poll)();
  });
}

void Collector::run() {
  io_.run();
  tick_timer_.cancel();
  write_status();
  for (auto& slot : exporters_) {
    slot.worker->stop();
  }
  for (auto& w : retiring_) {
    w->stop();
  }
  for (auto& i : internal_) {
    i.worker->stop();
  }
  write_status();
  status_file_.flush();
  exporters::logf(LogLevel::Info, ("collector " + config_.name).c_str(),
                  "stopped: %llu messages, %llu state changes recorded",
                  static_cast<unsigned long long>(stats_.messages),
                  static_cast<unsigned long long>(stats_.state_changes));
}

void Collector::remove(Peer& peer) {
  // Removal reports the session's last state changes through the callbacks (recorded as
  // usual), so the peer's state goes only afterwards.
  const Peer* key = &peer;
  process_.remove_peer(peer);
  auto it = peers_.find(key);
  if (it != peers_.end()) {
    rib_.remove_peer(it->second.id);
    forget(it);
  }
}

namespace {

// What of `next` differs from `now` in the parts a reload cannot apply: empty when only peers
// (and the status interval) changed.
std::vector<std::string> needs_restart(const config::CollectorConfig& now,
                                       const config::CollectorConfig& next) {
  std::vector<std::string> out;
  const auto check = [&](bool same, const char* what) {
    if (!same) {
      out.emplace_back(what);
    }
  };
  check(next.name == now.name, "collector.name");
  check(next.local_as == now.local_as, "collector.local_as");
  check(next.bgp_id == now.bgp_id, "collector.bgp_id");
  check(next.listen == now.listen, "collector.listen");
  check(next.bmp_listen == now.bmp_listen, "bmp_listen");
  check(next.bmp_routers == now.bmp_routers, "bmp_routers");
  check(next.api == now.api, "api");
  check(next.metrics == now.metrics, "metrics");
  check(next.state_directory == now.state_directory, "collector.state_directory");
  check(next.journal == now.journal && next.journal_directory == now.journal_directory &&
            next.journal_sync == now.journal_sync &&
            next.journal_max_bytes == now.journal_max_bytes,
        "collector.journal");
  check(next.queue.max_records == now.queue.max_records &&
            next.queue.max_bytes == now.queue.max_bytes &&
            next.queue.spool_max_bytes == now.queue.spool_max_bytes &&
            next.queue.spool_buffer_bytes == now.queue.spool_buffer_bytes &&
            next.queue.stop_timeout == now.queue.stop_timeout,
        "collector.queue");
  bool ranges_same = next.dynamic_peers.size() == now.dynamic_peers.size();
  for (std::size_t i = 0; ranges_same && i < now.dynamic_peers.size(); ++i) {
    const auto& a = now.dynamic_peers[i];
    const auto& b = next.dynamic_peers[i];
    ranges_same = a.range == b.range && a.allowed_as == b.allowed_as &&
                  a.max_peers == b.max_peers && a.max_pending == b.max_pending &&
                  a.open_timeout == b.open_timeout &&
                  same_session(a.peer_template, b.peer_template);
  }
  check(ranges_same, "dynamic_peers");
  return out;
}

bool same_options(const YAML::Node& a, const YAML::Node& b) {
  return YAML::Dump(a) == YAML::Dump(b);
}

// The keys of an exporter's mapping whose values differ ("delay, summary_file"): for the log,
// without the values (a DSN holds a password).
std::string changed_keys(const YAML::Node& a, const YAML::Node& b) {
  std::set<std::string> keys;
  for (const auto* node : {&a, &b}) {
    if (node->IsMap()) {
      for (const auto& kv : *node) {
        keys.insert(kv.first.Scalar());
      }
    }
  }
  std::string out;
  for (const auto& k : keys) {
    const YAML::Node va = a[k];
    const YAML::Node vb = b[k];
    if ((va ? YAML::Dump(va) : "") != (vb ? YAML::Dump(vb) : "")) {
      out += (out.empty() ? "" : ", ") + k;
    }
  }
  return out;
}

}  // namespace

// What a reload does to the exporters, decided (and every new instance built) before anything
// is applied.
struct Collector::ExporterPlan {
  struct Change {
    config::ExporterConfig entry;
    exporters::ExporterPtr exporter;  // built from `entry`, not started
    std::string keys;                 // the options that changed
  };
  std::vector<Change> replace;
  std::vector<Change> add;
  std::vector<std::string> remove;
};

std::optional<std::string> Collector::plan_exporters(const config::CollectorConfig& next,
                                                     ExporterPlan& plan) {
  const auto build = [&](const config::ExporterConfig& e) -> exporters::ExporterPtr {
    if (!builder_) {
      throw std::runtime_error("this collector has no exporter factories to build it with");
    }
    return builder_(e);
  };
  // A factory's ConfigError names the exporter after file:line:column already.
  const auto refusal = [](const std::string& who, const std::exception& e) {
    const std::string what = e.what();
    return what.find(who) != std::string::npos ? what : who + ": " + what;
  };
  for (const auto& n : next.exporters) {
    const std::string who = "exporter '" + n.name + "'";
    if (ExporterSlot* slot = find_slot(n.name)) {
      // The settings it runs, or is switching to.
      const auto& now = slot->switching_to ? *slot->switching_to : *slot->entry;
      if (n.type != now.type) {
        return who + " changes its type from " + now.type + " to " + n.type +
               ": an exporter keeps its type (its spool, journal position and output are of "
               "that type); give the new one a name of its own (the old one is then removed "
               "and the new one added)";
      }
      if (same_options(n.options, now.options)) {
        continue;
      }
      if (slot->switching_to) {
        return who +
               " is still switching to the settings of the previous reload (the record "
               "it is on, or its start, takes a while): reload again once the log says "
               "they are in effect";
      }
      try {
        plan.replace.push_back({n, build(n), changed_keys(now.options, n.options)});
      } catch (const std::exception& e) {
        return refusal(who, e);
      }
      continue;
    }
    for (const auto& w : retiring_) {
      if (w->name() == n.name) {
        return who +
               " is still stopping (removed by an earlier reload, it delivers what it "
               "holds first): reload again once the log says it stopped";
      }
    }
    try {
      plan.add.push_back({n, build(n), {}});
    } catch (const std::exception& e) {
      return refusal(who, e);
    }
  }
  for (const auto& slot : exporters_) {
    const bool kept = std::any_of(next.exporters.begin(), next.exporters.end(),
                                  [&](const auto& n) { return n.name == slot.entry->name; });
    if (!kept) {
      plan.remove.push_back(slot.entry->name);
    }
  }
  return std::nullopt;
}

void Collector::apply_exporters(const config::CollectorConfig& next, ExporterPlan& plan) {
  for (auto& c : plan.replace) {
    ExporterSlot& slot = *find_slot(c.entry.name);
    // Should the new settings not start, the worker builds the running ones again.
    // (On the worker thread: with a node of its own, yaml-cpp nodes sharing their memory.)
    config::ExporterConfig running = *slot.entry;
    running.options = YAML::Clone(slot.entry->options);
    slot.worker->replace(std::move(c.exporter), [builder = builder_, running = std::move(running)] {
      return builder(running);
    });
    slot.switching_to = std::make_shared<const config::ExporterConfig>(c.entry);
    exporters::logf(LogLevel::Info, "reload",
                    "exporter '%s': %s changed: its worker switches to the new settings "
                    "after the record it is on",
                    c.entry.name.c_str(), c.keys.c_str());
  }
  for (const auto& name : plan.remove) {
    auto it = std::find_if(exporters_.begin(), exporters_.end(),
                           [&](const ExporterSlot& s) { return s.entry->name == name; });
    it->worker->begin_stop();
    exporters::logf(LogLevel::Info, "reload",
                    "exporter '%s' removed: it delivers what it holds (for at most "
                    "queue.stop_timeout), then stops",
                    name.c_str());
    retiring_.push_back(std::move(it->worker));
    exporters_.erase(it);
  }
  for (auto& c : plan.add) {
    ExporterSlot slot;
    slot.worker = make_worker(std::move(c.exporter));
    // Records numbered so far were never this exporter's: the journal need not keep them.
    slot.worker->set_durable_floor(journal_ ? journal_->last_seq() : 0);
    slot.worker->launch();
    slot.entry = std::make_shared<const config::ExporterConfig>(c.entry);
    slot.added = true;
    exporters::logf(LogLevel::Info, "reload",
                    "exporter '%s' (type %s) added: it gets every record from now on (and "
                    "first a RIB snapshot if it takes them)",
                    c.entry.name.c_str(), c.entry.type.c_str());
    exporters_.push_back(std::move(slot));
  }
  // Config order, as at a start (status.json lists them so).
  const auto position = [&](const ExporterSlot& s) {
    for (std::size_t i = 0; i < next.exporters.size(); ++i) {
      if (next.exporters[i].name == s.entry->name) {
        return i;
      }
    }
    return next.exporters.size();
  };
  std::stable_sort(
      exporters_.begin(), exporters_.end(),
      [&](const ExporterSlot& a, const ExporterSlot& b) { return position(a) < position(b); });
  config_.exporters = next.exporters;
}

void Collector::settle_exporters() {
  for (auto it = exporters_.begin(); it != exporters_.end();) {
    ExporterSlot& slot = *it;
    if (slot.added) {
      if (auto why = slot.worker->start_failed()) {
        exporters::logf(LogLevel::Error, "reload",
                        "exporter '%s' could not start: %s; it is not running (reload "
                        "again to retry)\n",
                        slot.entry->name.c_str(), why->c_str());
        slot.worker->begin_stop();
        retiring_.push_back(std::move(slot.worker));
        it = exporters_.erase(it);
        continue;
      }
    }
    if (slot.switching_to) {
      switch (slot.worker->take_switch_state()) {
        case ExporterWorker::SwitchState::Switched:
          slot.entry = std::move(slot.switching_to);
          slot.switching_to.reset();
          break;
        case ExporterWorker::SwitchState::Reverted:  // the worker logged why
          slot.switching_to.reset();
          break;
        case ExporterWorker::SwitchState::Idle:
        case ExporterWorker::SwitchState::Pending:
          break;
      }
    }
    ++it;
  }
  for (auto it = retiring_.begin(); it != retiring_.end();) {
    if (!(*it)->stopped()) {
      ++it;
      continue;
    }
    (*it)->stop();  // both threads have ended: joins at once
    const auto& s = (*it)->stats();
    exporters::logf(LogLevel::Info, ("exporter " + (*it)->name()).c_str(),
                    "stopped (removed by a reload): %llu records delivered, %llu left "
                    "in its spool",
                    static_cast<unsigned long long>(s.delivered.load()),
                    static_cast<unsigned long long>(s.spool_bytes.load()));
    it = retiring_.erase(it);
  }
}

void Collector::reload(const config::CollectorConfig& next) {
  ++stats_.reloads;
  settle_exporters();
  // A config is applied whole or not at all: one whose listeners changed but that left them as
  // they were would run something other than what its file says.
  if (const auto changed = needs_restart(config_, next); !changed.empty()) {
    std::string list;
    for (const auto& c : changed) {
      list += (list.empty() ? "" : ", ") + c;
    }
    ++stats_.reloads_refused;
    exporters::logf(LogLevel::Error, "reload refused",
                    "%s changed, which needs a restart; nothing was applied (a "
                    "reload applies changes to peers, exporters and status_interval)\n",
                    list.c_str());
    return;
  }
  ExporterPlan plan;
  if (const auto why = plan_exporters(next, plan)) {
    ++stats_.reloads_refused;
    exporters::logf(LogLevel::Error, "reload refused", "%s; nothing was applied", why->c_str());
    return;
  }
  // The log goes first: a `log: file` that cannot be opened refuses the reload whole, and the
  // lines below go where the new config says.
  if (next.log != config_.log) {
    try {
      exporters::configure_log(next.log);
    } catch (const std::exception& e) {
      ++stats_.reloads_refused;
      exporters::logf(LogLevel::Error, "reload refused", "log: %s; nothing was applied", e.what());
      return;
    }
    config_.log = next.log;
  }
  config_.status_interval = next.status_interval;
  std::size_t added = 0;
  std::size_t removed = 0;
  std::size_t changed = 0;
  for (const auto& old : config_.peers) {
    auto match = std::find_if(next.peers.begin(), next.peers.end(), [&](const PeerConfig& n) {
      return n.peer_address == old.peer_address;
    });
    Peer* p = process_.find_peer(old.peer_address);
    if (p == nullptr) {
      continue;
    }
    if (match == next.peers.end()) {
      remove(*p);
      ++removed;
    } else if (!same_session(old, *match)) {
      remove(*p);
      ++changed;
    }
  }
  for (const auto& n : next.peers) {
    auto match = std::find_if(config_.peers.begin(), config_.peers.end(), [&](const PeerConfig& o) {
      return o.peer_address == n.peer_address;
    });
    if (match != config_.peers.end() && same_session(*match, n)) {
      continue;
    }
    try {
      Peer& p = process_.add_peer(n);
      attach(p);
      p.start();
      if (match == config_.peers.end()) {
        ++added;
      }
    } catch (const std::exception& e) {
      exporters::logf(LogLevel::Error, "reload", "peer %s: %s", n.peer_address.to_string().c_str(),
                      e.what());
    }
  }
  config_.peers = next.peers;
  config_.peer_lines = next.peer_lines;
  exporters::logf(LogLevel::Info, "reload", "%zu peers added, %zu removed, %zu changed (restarted)",
                  added, removed, changed);
  apply_exporters(next, plan);
}

void Collector::push_snapshot(const std::vector<ExporterWorker*>& to) {
  if (to.empty()) {
    return;
  }
  Record r;
  r.type = RecordType::RibSnapshot;
  r.time_us = unix_micros();
  r.snapshot = rib_.snapshot(r.time_us);
  ++stats_.snapshots;
  for (auto* w : to) {
    w->push(r);
  }
}

void Collector::snapshot_now() {
  std::vector<ExporterWorker*> to;
  for (auto& slot : exporters_) {
    if (slot.worker->wants_snapshots()) {
      to.push_back(slot.worker.get());
    }
  }
  exporters::logf(LogLevel::Info, "collector", "RIB snapshot (%zu routes) to %zu exporters",
                  rib_.route_count(), to.size());
  push_snapshot(to);
}

void Collector::tick() {
  const auto now_s = unix_micros() / 1'000'000;
  settle_exporters();
  release_journal();
  std::vector<ExporterWorker*> due;
  for (auto& slot : exporters_) {
    auto& w = *slot.worker;
    if (w.take_snapshot_request()) {
      due.push_back(&w);  // asked for by the exporter itself
      continue;
    }
    const auto interval = w.snapshot_interval().count();
    if (interval != slot.snapshot_interval) {
      slot.snapshot_interval = interval;  // new settings (a reload): a new schedule
      slot.next_snapshot = 0;
    }
    if (interval <= 0) {
      continue;
    }
    if (slot.next_snapshot == 0) {
      slot.next_snapshot = (now_s / interval + 1) * interval;  // the next aligned boundary
    } else if (now_s >= slot.next_snapshot) {
      due.push_back(&w);
      slot.next_snapshot = (now_s / interval + 1) * interval;
    }
  }
  for (auto& i : internal_) {
    if (i.worker->take_snapshot_request()) {
      due.push_back(i.worker.get());
    }
  }
  push_snapshot(due);
  write_status();
  if (config_.status_interval.count() > 0 &&
      now_s - last_status_line_ >= config_.status_interval.count()) {
    last_status_line_ = now_s;
    std::size_t up = 0;
    for (auto* p : process_.peers()) {
      up += p->state() == State::Established ? 1 : 0;
    }
    std::string bmp;
    if (bmp_station_) {
      std::size_t monitored = 0;
      const auto routers = bmp_station_->routers();
      for (const auto& r : routers) {
        monitored += r.peers_up;
      }
      bmp = ", " + std::to_string(routers.size()) + " BMP routers with " +
            std::to_string(monitored) + " peers up";
    }
    exporters::logf(LogLevel::Info, "status",
                    "%zu/%zu peers up%s, %zu routes, %zu attribute sets, %llu messages", up,
                    process_.peers().size(), bmp.c_str(), rib_.route_count(),
                    rib_.attributes().size(), static_cast<unsigned long long>(stats_.messages));
  }
  tick_timer_.expires_after(std::chrono::seconds(1));
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      tick();
    }
  });
}

namespace {

// A metric as JSON: counters stay exact integers (a stream's default precision would print
// 11438916 as 1.14389e+07), other values in their shortest exact form.
std::string json_number(double v) {
  if (!std::isfinite(v)) {
    return "null";
  }
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
    return std::to_string(static_cast<std::int64_t>(v));
  }
  std::array<char, 32> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return {buf.data(), r.ptr};
}

}  // namespace

std::string Collector::status_json() const {
  std::ostringstream o;
  std::size_t up = 0;
  for (auto* p : const_cast<Process&>(process_).peers()) {
    up += p->state() == State::Established ? 1 : 0;
  }
  std::size_t total_alarms = 0;
  o << "{\"collector\":";
  json_string(o, config_.name);
  o << ",\"time_us\":" << unix_micros() << ",\"peers\":" << process_.peers().size()
    << ",\"peers_established\":" << up << ",\"messages\":" << stats_.messages
    << ",\"state_changes\":" << stats_.state_changes << ",\"routes\":" << rib_.route_count()
    << ",\"attribute_sets\":" << rib_.attributes().size() << ",\"rib_bytes\":" << rib_.memory()
    << ",\"snapshots\":" << stats_.snapshots
    << ",\"treat_as_withdraw\":" << rib_.stats().treat_as_withdraw
    << ",\"opens_refused\":" << stats_.opens_refused
    << ",\"session_resets\":" << stats_.session_resets
    << ",\"attributes_discarded\":" << stats_.attributes_discarded;
  const auto& ps = process_.stats();
  o << ",\"connections_refused\":" << ps.refused_connections + ps.unmatched_connections
    << ",\"dynamic_refused_range_full\":" << ps.refused_range_full
    << ",\"dynamic_refused_pending_full\":" << ps.refused_pending_full
    << ",\"dynamic_closed_without_open\":" << ps.pending_closed;
  if (bmp_station_) {
    const auto& bs = bmp_station_->stats();
    o << ",\"bmp\":{\"connections\":" << bs.connections << ",\"refused\":" << bs.refused
      << ",\"updates_not_applied\":" << stats_.bmp_updates_not_applied
      << ",\"closed_on_error\":" << bs.closed_on_error << ",\"bytes\":" << bs.bytes
      << ",\"routers\":[";
    const auto routers = bmp_station_->routers();
    for (std::size_t i = 0; i < routers.size(); ++i) {
      const auto& r = routers[i];
      o << (i ? "," : "") << "{\"name\":";
      json_string(o, r.name);
      o << ",\"address\":";
      json_string(o, r.address);
      o << ",\"sys_name\":";
      json_string(o, r.sys_name);
      o << ",\"connected_us\":" << r.connected_us << ",\"peers_up\":" << r.peers_up
        << ",\"messages\":" << r.stats.messages
        << ",\"route_monitoring\":" << r.stats.route_monitoring
        << ",\"adj_rib_out_skipped\":" << r.stats.adj_rib_out
        << ",\"statistics\":" << r.stats.statistics << ",\"mirroring\":" << r.stats.mirroring
        << ",\"peer_downs_unknown\":" << r.stats.peer_downs_unknown << "}";
    }
    o << "]}";
  }
  if (journal_) {
    const auto& js = journal_->stats();
    o << ",\"journal\":{\"last_seq\":" << journal_->last_seq() << ",\"segments\":" << js.segments
      << ",\"bytes\":" << js.bytes << ",\"not_journaled\":" << js.not_journaled << "}";
    total_alarms += js.not_journaled > 0 ? 1 : 0;
  }
  o << ",\"exporters\":[";
  for (std::size_t i = 0; i < exporters_.size(); ++i) {
    const auto& w = *exporters_[i].worker;
    const auto& s = w.stats();
    o << (i ? "," : "") << "{\"name\":";
    json_string(o, w.name());
    o << ",\"pushed\":" << s.pushed << ",\"delivered\":" << s.delivered
      << ",\"queued\":" << s.queued << ",\"spooled\":" << s.spooled
      << ",\"spool_bytes\":" << s.spool_bytes << ",\"dropped\":" << s.dropped
      << ",\"failed\":" << s.failed << ",\"durable_seq\":" << s.durable_seq
      << ",\"lag_us\":" << lag_of(s, unix_micros()) << ",\"metrics\":{";
    const auto metrics = w.metrics();
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      o << (m ? "," : "");
      json_string(o, metrics[m].name);
      o << ":" << json_number(metrics[m].value);
    }
    o << "},\"alarms\":[";
    const auto alarms = w.alarms();
    for (std::size_t a = 0; a < alarms.size(); ++a) {
      o << (a ? "," : "");
      json_string(o, alarms[a]);
    }
    o << "]}";
    total_alarms += alarms.size();
  }
  o << "]";
  // Internal exporters (the live API's feed): their counters, e.g. subscribers cut off.
  o << ",\"internal\":[";
  for (std::size_t i = 0; i < internal_.size(); ++i) {
    const auto& w = *internal_[i].worker;
    o << (i ? "," : "") << "{\"name\":";
    json_string(o, w.name());
    o << ",\"pushed\":" << w.stats().pushed << ",\"dropped\":" << w.stats().dropped
      << ",\"metrics\":{";
    const auto metrics = w.metrics();
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      o << (m ? "," : "");
      json_string(o, metrics[m].name);
      o << ":" << json_number(metrics[m].value);
    }
    o << "}}";
  }
  o << "],\"alarms\":" << total_alarms << "}\n";
  return o.str();
}

namespace {

// The negotiated capabilities by name, as `bgpscribe status` lists them.
std::vector<std::string> capability_names(const bgp::NegotiatedSession& n) {
  std::vector<std::string> out;
  if (n.four_octet_as) {
    out.emplace_back("4-octet-as");
  }
  if (n.route_refresh) {
    out.emplace_back("route-refresh");
  }
  if (n.enhanced_route_refresh) {
    out.emplace_back("enhanced-route-refresh");
  }
  if (n.extended_message) {
    out.emplace_back("extended-message");
  }
  for (const auto& f : n.add_path_receive) {
    out.push_back("add-path-receive " + bgp::family_text(f));
  }
  if (n.peer_graceful_restart) {
    out.emplace_back("graceful-restart");
  }
  if (n.peer_llgr) {
    out.emplace_back("long-lived-graceful-restart");
  }
  if (n.peer_role) {
    out.emplace_back("role");
  }
  return out;
}

}  // namespace

StatusView Collector::status_view() const {
  StatusView v;
  v.name = config_.name;
  v.local_as = config_.local_as;
  v.bgp_id = config_.bgp_id;
  v.started_us = started_us_;
  v.now_us = unix_micros();
  for (std::size_t i = 0; i < config_.listen.size() && i < ports_.size(); ++i) {
    v.listeners.push_back(ListenerView{config_.listen[i].address, ports_[i], "bgp"});
  }
  for (std::size_t i = 0; i < config_.bmp_listen.size() && i < bmp_ports_.size(); ++i) {
    v.listeners.push_back(ListenerView{config_.bmp_listen[i].address, bmp_ports_[i], "bmp"});
  }
  v.messages = stats_.messages;
  v.state_changes = stats_.state_changes;
  v.routes = rib_.route_count();
  v.attribute_sets = rib_.attributes().size();
  v.rib_bytes = rib_.memory();
  for (auto* p : const_cast<Process&>(process_).peers()) {
    auto it = peers_.find(p);
    if (it == peers_.end()) {
      continue;
    }
    const auto& st = it->second;
    PeerView pv;
    pv.info = st.info;
    pv.state = to_session_state(p->state());
    pv.state_since_us = st.state_since_us;
    pv.last_error = st.last_error;
    if (const auto* n = p->negotiated(); n != nullptr && p->state() == State::Established) {
      pv.families = n->families;
      pv.capabilities = capability_names(*n);
    }
    pv.prefixes = rib_.family_counts(st.id);
    pv.messages = st.messages;
    pv.last_update_us = st.last_update_us;
    pv.counters = rib_.counters(st.id);
    pv.sessions_ended = st.sessions_ended;
    v.peers.push_back(std::move(pv));
  }
  for (const auto& [id, st] : bmp_sources_) {
    PeerView pv;
    pv.info = st.info;
    pv.state = st.up ? SessionState::Established : SessionState::Idle;
    pv.state_since_us = st.state_since_us;
    pv.last_error = st.last_error;
    pv.prefixes = rib_.family_counts(id);
    pv.messages = st.messages;
    pv.last_update_us = st.last_update_us;
    pv.counters = rib_.counters(id);
    pv.sessions_ended = st.sessions_ended;
    v.peers.push_back(std::move(pv));
  }
  std::sort(v.peers.begin(), v.peers.end(),
            [](const PeerView& a, const PeerView& b) { return a.info->id < b.info->id; });
  for (const auto& slot : exporters_) {
    const auto& w = *slot.worker;
    const auto& s = w.stats();
    ExporterView e;
    e.name = slot.entry->name;
    e.type = slot.entry->type;
    e.pushed = s.pushed;
    e.delivered = s.delivered;
    e.queued = s.queued;
    e.spooled = s.spooled;
    e.failed = s.failed;
    e.dropped = s.dropped;
    e.lag_us = lag_of(s, v.now_us);
    e.alarms = w.alarms();
    e.details = w.metrics();
    for (const auto& b : s.lag_buckets) {
      e.lag_buckets.push_back(b.load(std::memory_order_relaxed));
    }
    e.lag_sum_us = s.lag_sum_us.load(std::memory_order_relaxed);
    v.exporters.push_back(std::move(e));
  }
  const auto& ps = process_.stats();
  v.refused.unmatched = ps.unmatched_connections;
  v.refused.range_full = ps.refused_range_full;
  v.refused.pending_full = ps.refused_pending_full;
  v.refused.no_open = ps.pending_closed;
  v.refused.open_refused = stats_.opens_refused;
  v.refused.malformed = stats_.session_resets;
  v.attributes_discarded = stats_.attributes_discarded;
  v.reloads = stats_.reloads;
  v.reloads_refused = stats_.reloads_refused;
  v.snapshots = stats_.snapshots;
  return v;
}

void Collector::add_internal(exporters::ExporterPtr exporter, const std::atomic<bool>* active) {
  internal_.push_back(Internal{make_worker(std::move(exporter)), active});
}

void Collector::write_status() {
  status_file_.post(status_json());
}

}  // namespace bgpscribe::collector
