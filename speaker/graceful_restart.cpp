// The graceful restart helper of a Peer (RFC 4724 section 4.2, RFC 8538): which families a
// session's end keeps stale, and when those routes end.
#include <algorithm>

#include "speaker/peer.hpp"
#include "speaker/session.hpp"

namespace bgpscribe::speaker {

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

}  // namespace bgpscribe::speaker
