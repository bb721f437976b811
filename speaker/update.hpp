// Update and Notification objects of the speaker library (in the spirit of Perl's Net::BGP):
// easy accessors over the codec for reading a received message, and builders for sending.
//
// Update wraps the codec's validated view and the message bytes. The Update a callback receives
// borrows the session's receive buffer and is valid only during the call; owned() makes a copy
// that may be kept. Accessors decode on demand and return plain values (vectors, optionals):
// convenient, not the hot path (collectors use the raw-message hook and the codec view).
// UpdateBuilder collects attributes and routes of any family (IPv4 unicast in the classic
// fields, everything else in MP_REACH/MP_UNREACH, RFC 4760) and encodes them into as many
// messages as the size limit needs.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attributes.hpp"
#include "codec/bgp/notification.hpp"
#include "codec/bgp/update.hpp"

namespace bgpscribe::speaker {

namespace bgp = codec::bgp;

// One route of an UPDATE: family, prefix (host bits cleared) and ADD-PATH identifier.
struct Route {
  bgp::AfiSafi family{};
  bgp::Prefix prefix{};
  std::uint32_t path_id = 0;
  friend bool operator==(const Route&, const Route&) = default;
};

class Update {
 public:
  // Borrows `bytes` and `view` (both must outlive the Update).
  Update(std::span<const std::uint8_t> bytes, const bgp::Update& view, const bgp::ParseContext& ctx)
      : bytes_(bytes), view_(&view), ctx_(ctx) {}
  Update(const Update&) = delete;
  Update& operator=(const Update&) = delete;
  Update(Update&&) = default;
  Update& operator=(Update&&) = default;

  // Parses a whole UPDATE message (header included) into an owning Update.
  static codec::Result<Update> parse(std::span<const std::uint8_t> message,
                                     const bgp::ParseContext& ctx);
  // A copy that owns its bytes.
  [[nodiscard]] Update owned() const;

  [[nodiscard]] std::span<const std::uint8_t> bytes() const { return bytes_; }
  [[nodiscard]] const bgp::Update& view() const { return *view_; }
  [[nodiscard]] const bgp::ParseContext& context() const { return ctx_; }
  [[nodiscard]] const bgp::Diagnostics& diagnostics() const { return view_->diagnostics(); }
  // RFC 7606: None, AttributeDiscard or TreatAsWithdraw for a delivered update.
  [[nodiscard]] codec::Reaction reaction() const { return view_->reaction(); }

  // Routes of every family: the NLRI field and MP_REACH_NLRI; Withdrawn Routes and
  // MP_UNREACH_NLRI. Under treat-as-withdraw, announced() is empty and withdrawn() holds them.
  [[nodiscard]] std::vector<Route> announced() const;
  [[nodiscard]] std::vector<Route> withdrawn() const;
  [[nodiscard]] std::optional<bgp::AfiSafi> end_of_rib() const;

  [[nodiscard]] std::optional<bgp::Origin> origin() const;
  // The path as the peer means it (AS4_PATH merged per RFC 6793 on 2-octet sessions).
  [[nodiscard]] bgp::AsPath as_path() const;
  [[nodiscard]] std::string as_path_string() const;
  // NEXT_HOP, or the MP_REACH global next hop.
  [[nodiscard]] std::optional<bgp::IpAddress> next_hop() const;
  [[nodiscard]] std::optional<std::uint32_t> med() const;
  [[nodiscard]] std::optional<std::uint32_t> local_pref() const;
  [[nodiscard]] bool atomic_aggregate() const;
  [[nodiscard]] std::optional<bgp::Aggregator> aggregator() const;
  [[nodiscard]] std::vector<std::uint32_t> communities() const;
  [[nodiscard]] std::vector<std::uint64_t> extended_communities() const;
  [[nodiscard]] std::vector<std::array<std::uint32_t, 3>> large_communities() const;

 private:
  struct Owned;
  Update() = default;
  std::shared_ptr<const Owned> owned_;
  std::span<const std::uint8_t> bytes_{};
  const bgp::Update* view_ = nullptr;
  bgp::ParseContext ctx_{};
};

// Builds UPDATE messages. Attributes apply to every announced route.
class UpdateBuilder {
 public:
  UpdateBuilder& origin(bgp::Origin o);
  UpdateBuilder& as_path(std::vector<std::uint32_t> sequence);
  UpdateBuilder& as_path_segments(bgp::AsPath path);  // with sets or confederation segments
  // IPv4 next hop for IPv4 routes; an IPv6 global (and optional link-local) for IPv6 routes.
  UpdateBuilder& next_hop(const bgp::IpAddress& address);
  UpdateBuilder& next_hop_link_local(const bgp::IpAddress& address);
  UpdateBuilder& med(std::uint32_t v);
  UpdateBuilder& local_pref(std::uint32_t v);
  UpdateBuilder& atomic_aggregate();
  UpdateBuilder& aggregator(std::uint32_t asn, std::uint32_t address_host_order);
  UpdateBuilder& community(std::uint32_t value);
  UpdateBuilder& community(std::uint16_t high, std::uint16_t low);
  UpdateBuilder& large_community(std::uint32_t global, std::uint32_t data1, std::uint32_t data2);
  UpdateBuilder& extended_community(std::uint64_t value);
  // Any other attribute, raw (kept in the order added, after the typed ones).
  UpdateBuilder& attribute(std::uint8_t flags, std::uint8_t type,
                           std::span<const std::uint8_t> value);
  // Removes an attribute (typed or raw), e.g. LOCAL_PREF before passing a route to eBGP.
  UpdateBuilder& erase(bgp::AttributeType type);
  // Starts from the attributes of a received update (for relays); routes are not copied.
  // Optional transitive attributes without a typed field are kept (unrecognised ones with the
  // Partial bit, RFC 4271 section 5); optional non-transitive ones are dropped.
  static UpdateBuilder from(const Update& update);

  // Unicast by default; multicast through `family`.
  UpdateBuilder& announce(const bgp::Prefix& prefix, std::uint32_t path_id = 0);
  UpdateBuilder& announce(const Route& route);
  UpdateBuilder& withdraw(const bgp::Prefix& prefix, std::uint32_t path_id = 0);
  UpdateBuilder& withdraw(const Route& route);

  [[nodiscard]] const std::vector<Route>& announcements() const { return announce_; }
  [[nodiscard]] const std::vector<Route>& withdrawals() const { return withdraw_; }

  // Encodes into `out` (appending) as many messages as needed under `max_size`, using the
  // session's send context (4-octet AS, ADD-PATH per family). Withdrawals go first. AS numbers
  // above 65535 become AS_TRANS with an AS4_PATH on 2-octet sessions (RFC 6793 section 4.2.2).
  [[nodiscard]] codec::Status encode(const bgp::ParseContext& ctx, std::size_t max_size,
                                     std::vector<std::vector<std::uint8_t>>& out) const;

 private:
  struct Typed {
    std::optional<bgp::Origin> origin;
    std::optional<bgp::AsPath> as_path;
    std::optional<bgp::IpAddress> next_hop;
    std::optional<bgp::IpAddress> link_local;
    std::optional<std::uint32_t> med;
    std::optional<std::uint32_t> local_pref;
    bool atomic_aggregate = false;
    std::optional<bgp::Aggregator> aggregator;
    std::vector<std::uint32_t> communities;
    std::vector<std::array<std::uint32_t, 3>> large_communities;
    std::vector<std::uint64_t> extended_communities;
    std::vector<bgp::AttributeBuilder::Item> raw;
  };
  // The attributes shared by every message, without NEXT_HOP and MP attributes.
  [[nodiscard]] bgp::AttributeBuilder common_attributes(const bgp::ParseContext& ctx) const;
  Typed attrs_;
  std::vector<Route> announce_;
  std::vector<Route> withdraw_;
};

// NOTIFICATION helpers over the codec's value: what it means and how to build the usual ones.
struct NotificationInfo {
  // "Cease / Administrative Shutdown (6/2): \"maintenance\"": codec::bgp::notification_text, the
  // code and subcode, and the shutdown communication (RFC 9003) when there is one.
  static std::string describe(const bgp::Notification& n);
  // Cease with a subcode and, for 6/2 and 6/4, a shutdown communication (RFC 9003).
  static bgp::Notification cease(std::uint8_t subcode, std::string_view text = {});
};

}  // namespace bgpscribe::speaker
