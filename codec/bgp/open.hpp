// The BGP OPEN message (RFC 4271 section 4.2) with optional parameters in the classic and the
// RFC 9072 extended form, and Capabilities parameters (RFC 5492).
//
// Open is an owning value: OPENs are rare, small and kept for the life of a session. The
// parameter structure is preserved (one Capabilities parameter with many capabilities, or many
// with one each) so that re-encoding a received OPEN gives back its bytes. Parsing validates
// what RFC 4271 section 6.2 asks of a receiver that needs no local configuration; checks that
// need our own settings (peer AS, hold-time floor, required capabilities) belong to the caller
// or to negotiate() in capability.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/bgp/capability.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/result.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::bgp {

inline constexpr std::uint8_t kBgpVersion = 4;

// Optional parameter types (RFC 4271 section 4.2, RFC 5492, RFC 9072).
namespace open_parameter {
inline constexpr std::uint8_t kAuthentication = 1;  // deprecated (RFC 5492)
inline constexpr std::uint8_t kCapabilities = 2;
inline constexpr std::uint8_t kExtendedLength = 255;  // RFC 9072 marker
}  // namespace open_parameter

struct OptionalParameter {
  std::uint8_t type = open_parameter::kCapabilities;
  std::vector<Capability> capabilities;  // type 2
  std::vector<std::uint8_t> value;       // any other type, raw (parse refuses those: 2/4)
  friend bool operator==(const OptionalParameter&, const OptionalParameter&) = default;
};

struct Open {
  std::uint8_t version = kBgpVersion;
  std::uint16_t my_as = 0;
  std::uint16_t hold_time = 0;
  std::uint32_t bgp_identifier = 0;  // host order
  std::vector<OptionalParameter> parameters;
  // The RFC 9072 form. parse sets it when the peer used that form; encode uses it when this is
  // set or when the parameters do not fit the classic form.
  bool extended_parameters = false;

  // Appends to the last Capabilities parameter, creating one if needed.
  void add_capability(Capability c);

  // The last capability of type T (RFC 5492 section 4 lets a code repeat; for GR and LLGR only
  // the last instance counts), or nullptr.
  template <class T>
  [[nodiscard]] const T* find_last() const {
    const T* found = nullptr;
    for (const auto& p : parameters) {
      for (const auto& c : p.capabilities) {
        if (const T* v = c.get<T>()) {
          found = v;
        }
      }
    }
    return found;
  }
  // Every capability of type T, in order.
  template <class T>
  [[nodiscard]] std::vector<const T*> find_all() const {
    std::vector<const T*> out;
    for (const auto& p : parameters) {
      for (const auto& c : p.capabilities) {
        if (const T* v = c.get<T>()) {
          out.push_back(v);
        }
      }
    }
    return out;
  }
  [[nodiscard]] bool has_capability(CapabilityCode code) const;

  friend bool operator==(const Open&, const Open&) = default;
};

// RFC 4271 sections 4.2 and 6.2, RFC 9072 section 2, RFC 5492 section 4: parses a complete
// OPEN message (header included; `message` must be exactly one message). Errors, with offsets
// from the start of `message` plus `base_offset`, all session reset:
//   1/x header errors as split_message; 2/1 version not 4 (data: unsupported_version_data());
//   2/2 My AS 0 (RFC 7607); 2/6 hold time 1 or 2; 2/3 BGP Identifier 0;
//   2/4 optional parameter other than Capabilities; 2/0 parameter or capability lengths that
//   do not add up; malformed capability values as parse_capability.
[[nodiscard]] Result<Open> parse_open(wire::Bytes message, std::uint32_t base_offset = 0);

// RFC 4271 section 4.2, RFC 9072 section 2: writes a complete OPEN message. Uses the extended
// parameter form only when asked or needed; fails with TooLarge past 4096 octets or when a
// parameter cannot be represented.
[[nodiscard]] Status encode_open(const Open& open, wire::Writer& w);

}  // namespace bgpscribe::codec::bgp
