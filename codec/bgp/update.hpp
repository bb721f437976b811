// UPDATE messages (RFC 4271 4.3, RFC 4760, RFC 7606, RFC 7911): a validated view with the
// withdrawn routes, the decoded attributes and the NLRI, End-of-RIB recognition (RFC 4724 2),
// and an owning UpdateMessage that encodes.
//
// parse_update checks every length and NLRI once; iteration afterwards never allocates.
// Attribute-level problems do not fail the parse: they are classified in diagnostics() with
// the RFC 7606 reaction. Only errors that leave the message unusable (session reset: the
// message cannot be framed, withdrawn or NLRI fields cannot be parsed) fail it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "codec/bgp/attributes.hpp"
#include "codec/bgp/nlri.hpp"
#include "codec/bgp/parse_context.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::bgp {

struct Update {
  NlriBlock withdrawn{};  // IPv4 unicast Withdrawn Routes field
  PathAttributes attributes{};
  NlriBlock nlri{};  // IPv4 unicast NLRI field
  bool end_of_rib = false;
  AfiSafi end_of_rib_family{};

  // Attribute diagnostics plus missing well-known attributes (RFC 7606 3(d)).
  [[nodiscard]] const Diagnostics& diagnostics() const { return attributes.diagnostics; }
  [[nodiscard]] Reaction reaction() const { return attributes.diagnostics.reaction; }
  // True when the NLRI field or MP_REACH_NLRI announces anything.
  [[nodiscard]] bool has_announcements() const {
    return !nlri.empty() || !attributes.mp_reach.nlri.empty();
  }
  [[nodiscard]] bool has_withdrawals() const {
    return !withdrawn.empty() || !attributes.mp_unreach.withdrawn.empty();
  }
};

// Parses a whole UPDATE message, header included (RFC 4271 4.1, 4.3). The header must already
// have been framed; its length must equal the span size.
Result<Update> parse_update(std::span<const std::uint8_t> message, const ParseContext& ctx);

// The same, decoding into `out`: the hot-path form (no copy of the view on return).
Status parse_update_into(std::span<const std::uint8_t> message, const ParseContext& ctx,
                         Update& out);

// Parses an UPDATE body (after the 19-byte header); `base_offset` is the body's offset in the
// caller's buffer, for error offsets. Used for MRT records that store bodies without headers.
Result<Update> parse_update_body(std::span<const std::uint8_t> body, const ParseContext& ctx,
                                 std::uint32_t base_offset = 19);
Status parse_update_body_into(std::span<const std::uint8_t> body, const ParseContext& ctx,
                              std::uint32_t base_offset, Update& out);

// An UPDATE to build and encode.
struct UpdateMessage {
  struct Route {
    Prefix prefix;
    std::uint32_t path_id = 0;
  };
  std::vector<Route> withdrawn;  // IPv4 unicast, in the Withdrawn Routes field
  AttributeBuilder attributes;
  std::vector<Route> nlri;  // IPv4 unicast, in the NLRI field
  bool add_path = false;    // path identifiers on the IPv4 unicast fields

  // Encodes the whole message with its header (RFC 4271 4.3). Fails with TooLarge when the
  // message would exceed max_size (4096, or 65535 with RFC 8654).
  Status encode(wire::Writer& w, std::size_t max_size = 4096) const;

  // End-of-RIB marker for a family (RFC 4724 2).
  static UpdateMessage end_of_rib(AfiSafi family);
};

}  // namespace bgpscribe::codec::bgp
