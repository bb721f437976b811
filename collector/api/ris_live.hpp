// The RIS Live compatible WebSocket stream of `bgpscribe run` (`api.ris_live`; docs/api.md,
// "RIS Live stream"): RIPE RIS Live's client protocol (ris_subscribe, ris_unsubscribe, ping,
// request_rrc_list) answered with `ris_message` objects that the code of `bgpscribe dump
// --format ris-live` writes (tools/json_format.hpp), so RIS Live clients work unchanged.
//
// Each client is a Feed subscription (feed.hpp) taking every event with its raw UPDATE; the
// route events of one UPDATE become one message again (RisMessageBuilder) and the client's RIS
// Live filters choose among the messages. The server has a thread of its own, never the
// collector's; a client that reads too slowly is cut off by its subscription's bounded queue.
// The request parser, the filter and the builder are pure (the fuzzer and the tests call them).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bgpscribe/v1/events.pb.h"
#include "codec/bgp/ip.hpp"
#include "collector/config/config.hpp"
#include "tools/json_format.hpp"

namespace bgpscribe::collector::api {

class Feed;

// The filters of one ris_subscribe, checked once (RIS Live manual, "ris_subscribe").
struct RisFilter {
  enum class Require : std::uint8_t { Any, Announcements, Withdrawals };
  // "^3356,174": ASNs that follow each other in the AS path; `^` and `$` anchor it.
  struct PathPattern {
    std::vector<std::uint32_t> asns;
    bool at_start = false;
    bool at_end = false;
  };

  std::string host;  // "" any
  std::string type;  // "" any; UPDATE, RIS_PEER_STATE, OPEN, NOTIFICATION, KEEPALIVE
  Require require = Require::Any;
  std::optional<codec::bgp::IpAddress> peer;
  std::optional<PathPattern> path;
  std::vector<codec::bgp::Prefix> prefixes;  // any of them
  bool more_specific = true;
  bool less_specific = false;
  bool include_raw = false;  // socketOptions.includeRaw
  bool acknowledge = false;  // socketOptions.acknowledge

  // Whether a message passes: `update` for an UPDATE, nullptr for other types.
  [[nodiscard]] bool matches(const tools::RisHead& head, const tools::RisUpdate* update) const;
};

enum class RisRequestType : std::uint8_t { Subscribe, Unsubscribe, Ping, RrcList };

struct RisRequest {
  RisRequestType type = RisRequestType::Ping;
  RisFilter filter;  // Subscribe, Unsubscribe
  // The filters as compact JSON, keys sorted and nulls left out: what ris_unsubscribe names
  // a subscription by, and what ris_subscribe_ok echoes.
  std::string subscription;
  std::string socket_options;  // likewise ("{}" when none)
};

// A client's message parsed, or `error`: what is wrong with it, for a ris_error.
struct RisParsed {
  std::optional<RisRequest> request;
  std::string error;
};
RisParsed parse_ris_request(std::string_view text);

// The stream's messages from the feed's events: consecutive RouteEvents of one peer, time,
// journal number and raw UPDATE are one UPDATE; a PeerEvent reaching or leaving Established
// is a RIS_PEER_STATE. A message goes out (without a newline) when any filter passes it, with
// `raw` when such a filter asks for it.
class RisMessageBuilder {
 public:
  explicit RisMessageBuilder(std::string host) : host_(std::move(host)) {}

  void add(const bgpscribe::v1::Event& event, std::span<const RisFilter> filters,
           std::vector<std::string>& out);
  // Ends the UPDATE being gathered (a record's events are never split between batches).
  void flush(std::span<const RisFilter> filters, std::vector<std::string>& out);

 private:
  void start_update(const bgpscribe::v1::RouteEvent& r);
  void add_route(const bgpscribe::v1::RouteEvent& r);
  void emit(const tools::RisHead& head, const tools::RisUpdate* update, std::string_view state,
            std::span<const RisFilter> filters, std::vector<std::string>& out);
  void set_head(std::int64_t time_us, const bgpscribe::v1::Peer& peer, std::uint64_t seq,
                std::string_view type);

  std::string host_;
  std::uint64_t count_ = 0;  // messages made, for ids without a journal number
  // The UPDATE being gathered.
  bool pending_ = false;
  bool attributes_set_ = false;
  std::uint32_t peer_id_ = 0;
  std::int64_t time_us_ = 0;
  std::uint64_t seq_ = 0;
  std::string raw_;
  std::string id_;
  tools::RisHead head_;
  tools::RisUpdate update_;
};

// The WebSocket server: ws://ADDRESS:PORT/v1/ws/ (any path under /v1/ws), its own thread.
class RisLiveServer {
 public:
  // Listens at once; throws std::runtime_error naming the address when it cannot.
  RisLiveServer(Feed& feed, std::string host, const config::ListenAddress& address);
  // Closes every client and joins the thread.
  ~RisLiveServer();
  RisLiveServer(const RisLiveServer&) = delete;
  RisLiveServer& operator=(const RisLiveServer&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bgpscribe::collector::api
