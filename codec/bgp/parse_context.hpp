// ParseContext: the per-session facts that decoding a BGP message depends on.
//
// It travels explicitly into every parser (never globals). A speaker derives it from the two
// OPENs; an MRT reader from the record subtype; a BMP reader from the Peer Up OPENs and flags.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "codec/bgp/afi_safi.hpp"

namespace bgpscribe::codec::bgp {

struct ParseContext {
  // AS_PATH and AGGREGATOR carry 4-octet ASNs (both OPENs had capability 65; TABLE_DUMP_V2;
  // MRT *_AS4 subtypes; BMP without the A flag).
  bool four_octet_as = true;
  // Both sides advertised Extended Message (RFC 8654): UPDATE may be up to 65535 bytes.
  bool extended_message = false;
  // The session kind decides LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST handling (RFC 7606
  // 7.5, 7.9, 7.10). Both false when unknown (MRT, BMP): then only lengths are checked.
  bool ibgp = false;
  bool ebgp = false;
  // Nonzero (an external session with enforce-first-as, RFC 4271 section 6.3): the AS an
  // AS_PATH must begin with (AS_TRANS stands for it on a 2-octet session).
  std::uint32_t first_as = 0;

  // ADD-PATH (RFC 7911): families whose received NLRI carry a 4-byte path identifier.
  [[nodiscard]] bool add_path(AfiSafi f) const {
    if (add_path_all_) {
      return true;
    }
    for (std::size_t i = 0; i < add_path_count_; ++i) {
      if (add_path_[i] == f) {
        return true;
      }
    }
    return false;
  }
  // Whether any family has ADD-PATH (false: no NLRI of the session carries a path identifier).
  [[nodiscard]] bool any_add_path() const { return add_path_all_ || add_path_count_ > 0; }
  void set_add_path(AfiSafi f, bool on) {
    for (std::size_t i = 0; i < add_path_count_; ++i) {
      if (add_path_[i] == f) {
        if (!on) {
          add_path_[i] = add_path_[--add_path_count_];
        }
        return;
      }
    }
    if (on && add_path_count_ < add_path_.size()) {
      add_path_[add_path_count_++] = f;
    }
  }
  // Convenience for MRT *_ADDPATH subtypes, which say "every family carries path ids".
  void set_add_path_all(bool on) { add_path_all_ = on; }

 private:
  std::array<AfiSafi, 16> add_path_{};
  std::size_t add_path_count_ = 0;
  bool add_path_all_ = false;
};

}  // namespace bgpscribe::codec::bgp
