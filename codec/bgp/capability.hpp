// BGP capabilities (RFC 5492) as typed values, and session negotiation from two OPENs.
//
// Each capability of PROTOCOLS.md 2.2 that a speaker acts on has a typed value; every other
// code (ORF, BGPsec, multiple labels, dynamic capability, multisession, CP-ORF and codes we do
// not know) is kept raw and re-encoded unchanged. Parsing checks each value's length against its
// specification and reports a malformed capability with its offset. This module decodes and
// decides; it does not log, keep session state or choose which capabilities a speaker sends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/capability_codes.hpp"
#include "codec/bgp/parse_context.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/result.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::bgp {

struct Open;  // open.hpp

// Code 1, RFC 4760 section 8: one family per capability; the reserved octet is kept so that
// re-encoding is byte-exact.
struct MultiprotocolCapability {
  AfiSafi family{};
  std::uint8_t reserved = 0;
  friend bool operator==(const MultiprotocolCapability&, const MultiprotocolCapability&) = default;
};

// Codes 2 (RFC 2918), 6 (RFC 8654), 70 (RFC 7313) and 128 (Cisco): no value.
struct RouteRefreshCapability {
  friend bool operator==(const RouteRefreshCapability&, const RouteRefreshCapability&) = default;
};
struct ExtendedMessageCapability {
  friend bool operator==(const ExtendedMessageCapability&,
                         const ExtendedMessageCapability&) = default;
};
struct EnhancedRouteRefreshCapability {
  friend bool operator==(const EnhancedRouteRefreshCapability&,
                         const EnhancedRouteRefreshCapability&) = default;
};
struct CiscoRouteRefreshCapability {
  friend bool operator==(const CiscoRouteRefreshCapability&,
                         const CiscoRouteRefreshCapability&) = default;
};

// Code 5, RFC 8950 section 3: the NLRI SAFI is 2 octets here, unlike everywhere else.
struct ExtendedNextHopTuple {
  Afi nlri_afi = Afi::Ipv4;
  std::uint16_t nlri_safi = 1;
  Afi next_hop_afi = Afi::Ipv6;
  friend bool operator==(const ExtendedNextHopTuple&, const ExtendedNextHopTuple&) = default;
};
struct ExtendedNextHopCapability {
  std::vector<ExtendedNextHopTuple> tuples;
  friend bool operator==(const ExtendedNextHopCapability&,
                         const ExtendedNextHopCapability&) = default;
};

// Code 9, RFC 9234 section 4.1. Unknown values are kept raw.
enum class BgpRole : std::uint8_t {
  Provider = 0,
  RouteServer = 1,
  RsClient = 2,
  Customer = 3,
  Peer = 4,
};
struct RoleCapability {
  BgpRole role = BgpRole::Peer;
  friend bool operator==(const RoleCapability&, const RoleCapability&) = default;
};

// Code 64, RFC 4724 section 3 and RFC 8538 section 2.
struct GracefulRestartTuple {
  static constexpr std::uint8_t kForwardingState = 0x80;  // F
  AfiSafi family{};
  std::uint8_t flags = 0;
  [[nodiscard]] bool forwarding_preserved() const { return (flags & kForwardingState) != 0; }
  friend bool operator==(const GracefulRestartTuple&, const GracefulRestartTuple&) = default;
};
struct GracefulRestartCapability {
  static constexpr std::uint8_t kRestartState = 0x8;  // R, the top bit of the 4 flag bits
  static constexpr std::uint8_t kNotification = 0x4;  // N (RFC 8538)
  std::uint8_t flags = 0;          // the high 4 bits of the first word, shifted down
  std::uint16_t restart_time = 0;  // seconds, 12 bits
  std::vector<GracefulRestartTuple> tuples;
  [[nodiscard]] bool restarting() const { return (flags & kRestartState) != 0; }
  [[nodiscard]] bool notification() const { return (flags & kNotification) != 0; }
  friend bool operator==(const GracefulRestartCapability&,
                         const GracefulRestartCapability&) = default;
};

// Code 65, RFC 6793 section 3.
struct FourOctetAsCapability {
  std::uint32_t asn = 0;
  friend bool operator==(const FourOctetAsCapability&, const FourOctetAsCapability&) = default;
};

// Code 69, RFC 7911 section 4. Values other than 1..3 are kept raw (and ignored by negotiate).
enum class AddPathMode : std::uint8_t { Receive = 1, Send = 2, Both = 3 };
struct AddPathTuple {
  AfiSafi family{};
  AddPathMode mode = AddPathMode::Receive;
  [[nodiscard]] bool can_receive() const {
    return mode == AddPathMode::Receive || mode == AddPathMode::Both;
  }
  [[nodiscard]] bool can_send() const {
    return mode == AddPathMode::Send || mode == AddPathMode::Both;
  }
  friend bool operator==(const AddPathTuple&, const AddPathTuple&) = default;
};
struct AddPathCapability {
  std::vector<AddPathTuple> tuples;
  friend bool operator==(const AddPathCapability&, const AddPathCapability&) = default;
};

// Code 71, RFC 9494 section 3.
struct LlgrTuple {
  static constexpr std::uint8_t kForwardingState = 0x80;  // F
  AfiSafi family{};
  std::uint8_t flags = 0;
  std::uint32_t stale_time = 0;  // seconds, 24 bits
  friend bool operator==(const LlgrTuple&, const LlgrTuple&) = default;
};
struct LlgrCapability {
  std::vector<LlgrTuple> tuples;
  friend bool operator==(const LlgrCapability&, const LlgrCapability&) = default;
};

// Code 73, draft-walton-bgp-hostname-capability: ASCII, not NUL-terminated.
struct FqdnCapability {
  std::string hostname;
  std::string domain;
  friend bool operator==(const FqdnCapability&, const FqdnCapability&) = default;
};

// Code 75, draft-abraitis-bgp-version-capability: a length octet and UTF-8 text.
struct SoftwareVersionCapability {
  std::string version;
  friend bool operator==(const SoftwareVersionCapability&,
                         const SoftwareVersionCapability&) = default;
};

// Any other code (and ORF, code 3, whose entries we do not interpret): the value as received.
struct RawCapability {
  std::vector<std::uint8_t> value;
  friend bool operator==(const RawCapability&, const RawCapability&) = default;
};

using CapabilityValue =
    std::variant<MultiprotocolCapability, RouteRefreshCapability, ExtendedNextHopCapability,
                 ExtendedMessageCapability, RoleCapability, GracefulRestartCapability,
                 FourOctetAsCapability, AddPathCapability, EnhancedRouteRefreshCapability,
                 LlgrCapability, FqdnCapability, SoftwareVersionCapability,
                 CiscoRouteRefreshCapability, RawCapability>;

struct Capability {
  CapabilityCode code = CapabilityCode::RouteRefresh;  // raw value kept for unknown codes
  CapabilityValue value = RouteRefreshCapability{};

  // Builds a capability whose code matches its typed value (not for RawCapability).
  template <class T>
  static Capability of(T v);
  static Capability raw(std::uint8_t code, std::vector<std::uint8_t> value) {
    return Capability{static_cast<CapabilityCode>(code), RawCapability{std::move(value)}};
  }

  template <class T>
  [[nodiscard]] const T* get() const {
    return std::get_if<T>(&value);
  }
  friend bool operator==(const Capability&, const Capability&) = default;
};

// The capability code that goes with a typed value.
CapabilityCode capability_code_of(const CapabilityValue& value, CapabilityCode raw_code);

template <class T>
Capability Capability::of(T v) {
  static_assert(!std::is_same_v<T, RawCapability>, "use Capability::raw for raw values");
  CapabilityValue value{std::move(v)};
  const CapabilityCode code = capability_code_of(value, CapabilityCode::RouteRefresh);
  return Capability{code, std::move(value)};
}

// RFC 5492 section 4: parses one capability TLV (Code, Length, Value) from `r`. A value whose
// length disagrees with its specification is 2/0 (RFC 5492 names no subcode) at the offset of
// its length octet, session reset.
[[nodiscard]] Result<Capability> parse_capability(wire::Reader& r);

// Parses a whole Capabilities optional parameter value (one or more TLVs).
[[nodiscard]] Result<std::vector<Capability>> parse_capabilities(wire::Reader& r);

// RFC 5492 section 4: writes one TLV. Fails with TooLarge if the value exceeds 255 octets.
[[nodiscard]] Status encode_capability(const Capability& c, wire::Writer& w);

// Octets encode_capability would write (2 + value length).
std::size_t encoded_capability_size(const Capability& c);

// ---- Negotiation ----------------------------------------------------------------------------

struct NegotiationOptions {
  // RFC 9234 section 4.2 strict mode: a peer without a role is refused with 2/11.
  bool strict_role = false;
};

// What two OPENs agree on (RFC 4271 section 4.2, RFC 5492 and each capability's RFC).
struct NegotiatedSession {
  std::vector<AfiSafi> families;  // both listed in cap 1 (no cap 1 = IPv4 unicast)
  bool four_octet_as = false;     // both sent cap 65
  std::uint32_t local_as = 0;     // our real ASN (cap 65, else My AS)
  std::uint32_t peer_as = 0;      // the peer's real ASN (cap 65, else My AS)
  bool peer_as_mismatch = false;  // cap 65 disagrees with a My AS that is not AS_TRANS
  std::uint32_t peer_bgp_identifier = 0;
  bool ibgp = false;
  std::vector<AfiSafi> add_path_receive;  // the peer sends us path identifiers for these
  std::vector<AfiSafi> add_path_send;     // we send path identifiers for these
  bool extended_message = false;          // both sent cap 6
  bool route_refresh = false;             // peer sent cap 2 (or the Cisco cap 128)
  bool enhanced_route_refresh = false;    // both sent cap 70 (RFC 7313 section 3)
  std::optional<GracefulRestartCapability> peer_graceful_restart;  // last cap 64 of the peer
  std::optional<LlgrCapability> peer_llgr;                         // last cap 71 of the peer
  std::optional<BgpRole> local_role;
  std::optional<BgpRole> peer_role;
  std::uint16_t hold_time = 0;       // min of both offers
  std::uint16_t keepalive_time = 0;  // hold/3, at least 1 s, 0 when hold is 0

  [[nodiscard]] bool has_family(AfiSafi f) const;
  // The context for parsing messages this peer sends us.
  [[nodiscard]] ParseContext receive_context() const;
  // The context for encoding (and re-parsing) messages we send this peer.
  [[nodiscard]] ParseContext send_context() const;
};

// Computes the session's facts from the OPEN we sent and the OPEN we received. Refuses with
// 2/6 when the peer offered hold time 1 or 2, 2/3 when an iBGP peer uses our own BGP
// Identifier, and 2/11 on a role mismatch (RFC 9234 section 4.2); those errors have offset 0
// (they concern values, not a buffer). Checks that need configuration (expected peer AS,
// hold-time floor, required capabilities: 2/2, 2/6, 2/7) are the caller's.
[[nodiscard]] Result<NegotiatedSession> negotiate(const Open& sent, const Open& received,
                                                  const NegotiationOptions& options = {});

// RFC 6793 section 4.1: the speaker's real AS, from capability 65 when it carries one (My AS may
// then be AS_TRANS), else My AS.
std::uint32_t real_as(const Open& open);

// RFC 7911 section 5: path identifiers travel from `sender` to `receiver` on `family` when the
// sender advertised Send and the receiver advertised Receive for it.
bool add_path_on_wire(const Open& sender, const Open& receiver, AfiSafi family);

// The families a speaker lists in cap 1; an OPEN without any cap 1 means IPv4 unicast only.
std::vector<AfiSafi> advertised_families(const Open& open);

// RFC 9234 section 4.2: whether our role and the peer's role may form a session.
bool roles_compatible(BgpRole local, BgpRole peer);

}  // namespace bgpscribe::codec::bgp
