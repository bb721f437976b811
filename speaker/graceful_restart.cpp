#include "speaker/graceful_restart.hpp"

#include <algorithm>

namespace bgpscribe::speaker {

namespace bgp = codec::bgp;

namespace {

bool contains(const std::vector<bgp::AfiSafi>& v, bgp::AfiSafi f) {
  return std::find(v.begin(), v.end(), f) != v.end();
}

}  // namespace

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

const char* to_string(GracefulRestartState::Timer t) {
  switch (t) {
    case GracefulRestartState::Timer::Restart:
      return "Restart";
    case GracefulRestartState::Timer::Stale:
      return "Stale";
  }
  return "?";
}

void GracefulRestartState::session_ending(const SessionEnd& end) {
  ending_.clear();
  ending_restart_time_ = 0;
  if (!config_.helper || end.negotiated == nullptr || !end.negotiated->peer_graceful_restart) {
    return;  // RFC 4724 section 4.2: only with the capability on both sides
  }
  const auto& gr = *end.negotiated->peer_graceful_restart;
  // RFC 8538 section 4: with the N bit on both sides, a NOTIFICATION other than Hard Reset
  // also keeps the routes; without it any NOTIFICATION ends the session for good.
  const bool both_n = gr.notification() && config_.notification;
  if (end.notification_exchanged && (!both_n || end.hard_reset)) {
    return;
  }
  if (gr.restart_time == 0) {
    return;  // nothing can come back within a restart time of 0
  }
  // RFC 4724 section 4.2: the families of the peer's capability, F bit or not.
  for (const auto& t : gr.tuples) {
    if (!contains(ending_, t.family)) {
      ending_.push_back(t.family);
    }
  }
  ending_restart_time_ = gr.restart_time;
}

GracefulRestartState::Actions GracefulRestartState::session_down() {
  Actions out;
  const auto families = std::move(ending_);
  ending_.clear();
  if (families.empty()) {
    return out;
  }
  for (const auto& f : families) {
    if (!contains(stale_, f)) {
      stale_.push_back(f);
      out.push_back(Action{ActionType::Report, GracefulRestartEvent::Stale, f});
    }
  }
  // RFC 4724 section 4.2: the peer has its restart time to come back (counted again from now
  // when it goes down a second time before its End-of-RIB: the section does not say).
  start(out, Timer::Restart, std::chrono::seconds(ending_restart_time_));
  return out;
}

GracefulRestartState::Actions GracefulRestartState::session_established(
    const bgp::NegotiatedSession* negotiated) {
  Actions out;
  if (stale_.empty()) {
    return out;
  }
  stop_timer(out);
  const auto* gr = negotiated != nullptr && negotiated->peer_graceful_restart
                       ? &*negotiated->peer_graceful_restart
                       : nullptr;
  std::vector<bgp::AfiSafi> keep;
  for (const auto& f : stale_) {
    bool preserved = false;
    if (gr != nullptr) {
      for (const auto& t : gr->tuples) {
        preserved |= t.family == f && t.forwarding_preserved();
      }
    }
    if (preserved) {
      keep.push_back(f);
    } else {
      // RFC 4724 section 4.2: a family missing from the new capability (or no capability at
      // all), or without the F bit, loses its stale routes at once.
      out.push_back(Action{ActionType::Report, GracefulRestartEvent::Expired, f});
    }
  }
  stale_ = std::move(keep);
  if (!stale_.empty()) {
    // RFC 4724 section 4.2: the optional upper bound on keeping stale routes.
    start(out, Timer::Stale, config_.stale_time);
  }
  return out;
}

GracefulRestartState::Actions GracefulRestartState::end_of_rib(bgp::AfiSafi family) {
  Actions out;
  auto it = std::find(stale_.begin(), stale_.end(), family);
  if (it == stale_.end()) {
    return out;
  }
  // RFC 4724 section 4.2: End-of-RIB ends the family's stale routes that were not replaced.
  stale_.erase(it);
  out.push_back(Action{ActionType::Report, GracefulRestartEvent::Recovered, family});
  if (stale_.empty()) {
    stop_timer(out);
  }
  return out;
}

GracefulRestartState::Actions GracefulRestartState::timer_expired(Timer timer) {
  Actions out;
  if (running_ != timer) {
    return out;  // stopped or replaced after it ran out
  }
  running_.reset();
  // RFC 4724 section 4.2: not back within its restart time, or no End-of-RIB within the stale
  // time: every stale route goes.
  expire_all(out);
  return out;
}

GracefulRestartState::Actions GracefulRestartState::stop() {
  Actions out;
  expire_all(out);
  stop_timer(out);
  return out;
}

GracefulRestartState::Actions GracefulRestartState::remove() {
  Actions out;
  stop_timer(out);
  return out;
}

void GracefulRestartState::start(Actions& out, Timer t, std::chrono::milliseconds d) {
  if (running_ && *running_ != t) {
    stop_timer(out);
  }
  running_ = t;
  out.push_back(Action{ActionType::StartTimer, GracefulRestartEvent::Stale, {}, t, d});
}

void GracefulRestartState::stop_timer(Actions& out) {
  if (running_) {
    out.push_back(Action{ActionType::StopTimer, GracefulRestartEvent::Stale, {}, *running_});
    running_.reset();
  }
}

void GracefulRestartState::expire_all(Actions& out) {
  for (const auto& f : stale_) {
    out.push_back(Action{ActionType::Report, GracefulRestartEvent::Expired, f});
  }
  stale_.clear();
}

}  // namespace bgpscribe::speaker
