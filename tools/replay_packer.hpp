// Packing routes into UPDATE messages for `bgpscribe replay`, like a router does: every route of
// one attribute set goes into as few UPDATEs as the session's maximum message size allows
// (RFC 4271 section 4.3; RFC 8654 extended messages), IPv4 unicast in the NLRI and Withdrawn
// Routes fields, IPv6 unicast in MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760), path identifiers
// where ADD-PATH send is on (RFC 7911).
//
// Per run of routes the message head (header, attributes, the MP_REACH prefix) is built once from
// the canonical attribute set for the session (2-octet sessions get AS_TRANS with AS4_PATH /
// AS4_AGGREGATOR, RFC 6793 section 4.2.2; eBGP sessions lose LOCAL_PREF, ORIGINATOR_ID and
// CLUSTER_LIST; a missing next hop is synthesized from the source address); per route only its
// NLRI is written, through the codec's encode_nlri. Complete messages go to a callback; nothing
// here touches sockets.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/ip.hpp"
#include "codec/bgp/nlri.hpp"
#include "codec/wire/writer.hpp"
#include "tools/replay_input.hpp"

namespace bgpscribe::tools {

// What the session agreed on, as the packer needs it.
struct PackContext {
  bool four_octet_as = true;
  bool add_path_ipv4 = false;
  bool add_path_ipv6 = false;
  bool strip_ibgp_attributes = false;  // eBGP session: no LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST
  std::size_t max_size = 4096;
  codec::bgp::IpAddress source;  // for synthesized next hops
  // --diversify: an AS prepended to every AS_PATH (0: none), and one next hop for every route
  // in place of the recorded ones (IPv4 NEXT_HOP, IPv6 MP_REACH_NLRI global address).
  std::uint32_t prepend_as = 0;
  bool own_next_hop = false;
  std::array<std::uint8_t, 4> next_hop_v4{};
  std::array<std::uint8_t, 16> next_hop_v6{};

  [[nodiscard]] bool add_path(codec::bgp::AfiSafi f) const {
    return f == codec::bgp::kIpv6Unicast ? add_path_ipv6 : add_path_ipv4;
  }
};

class Packer {
 public:
  // Receives each complete message with its family and whether its NLRI carry path ids.
  using Emit = std::function<void(std::span<const std::uint8_t> message, codec::bgp::AfiSafi family,
                                  bool add_path)>;
  explicit Packer(Emit emit) : emit_(std::move(emit)) {}

  // Starts a run of announcements with `set`'s attributes (a pending message is emitted first).
  // False when the attributes leave no room for a route within the maximum size.
  bool begin_announce(const AttributeSet& set, const PackContext& ctx);
  // Starts a run of withdrawals of `family` (IPv4 or IPv6 unicast).
  bool begin_withdraw(codec::bgp::AfiSafi family, const PackContext& ctx);

  // Adds a route to the current message; a full message is emitted first.
  void add(const codec::bgp::Prefix& prefix, std::uint32_t path_id) {
    const std::size_t n = (add_path_ ? 5U : 1U) + (prefix.length + 7U) / 8U;
    if (nlri_bytes_ + n > capacity_) {
      flush();
    }
    codec::bgp::encode_nlri(w_, prefix, path_id, add_path_);
    nlri_bytes_ += n;
    ++count_;
  }
  // Emits the pending message, if it holds a route.
  void flush();

  [[nodiscard]] bool add_path() const { return add_path_; }

 private:
  struct Patch {
    std::size_t at = 0;
    std::size_t base = 0;  // the 16-bit field is base + NLRI bytes
  };
  void start(codec::bgp::AfiSafi family, const PackContext& ctx);
  bool finish_template();

  Emit emit_;
  codec::wire::Writer w_;
  std::vector<std::uint8_t> head_;
  std::vector<std::uint8_t> tail_;
  std::vector<Patch> patches_;
  std::vector<std::uint8_t> before_;
  std::vector<std::uint8_t> after_;
  codec::bgp::AfiSafi family_{};
  bool add_path_ = false;
  std::size_t max_size_ = 4096;
  std::size_t capacity_ = 0;
  std::size_t nlri_bytes_ = 0;
  std::size_t count_ = 0;
};

// An AS_PATH value (4-octet ASNs, validated) with `asn` prepended as a speaker does on eBGP
// (RFC 4271 section 5.1.2): leading confederation segments are removed (RFC 5065 section 5.3),
// then `asn` joins a leading AS_SEQUENCE of fewer than 255 ASNs or starts a new one.
void prepend_as_path(std::span<const std::uint8_t> as_path, std::uint32_t asn,
                     std::vector<std::uint8_t>& out);

// The attributes of `set` as this session sends them: `before` goes ahead of MP_REACH_NLRI,
// `after` behind it (IPv4: everything in `before`, NEXT_HOP included).
void session_attributes(const AttributeSet& set, const PackContext& ctx,
                        std::vector<std::uint8_t>& before, std::vector<std::uint8_t>& after);

}  // namespace bgpscribe::tools
