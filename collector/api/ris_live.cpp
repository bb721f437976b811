#include "collector/api/ris_live.hpp"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "bgpscribe/v1/api.pb.h"
#include "collector/api/feed.hpp"
#include "collector/api/listen.hpp"
#include "exporters/events/filter.hpp"

namespace bgpscribe::collector::api {

namespace bgp = codec::bgp;
namespace v1 = bgpscribe::v1;
using nlohmann::json;

namespace {

// A client's message is a short JSON object; RIS Live's own largest, a subscription to many
// prefixes, is a few kilobytes. The limits keep one client from costing the server much.
constexpr std::size_t kMaxRequest = std::size_t{64} * 1024;
constexpr int kMaxDepth = 8;
constexpr std::size_t kMaxPrefixes = 1024;
constexpr std::size_t kMaxPathAsns = 64;

// The deepest nesting of arrays and objects in `text`, outside strings; stops counting past
// kMaxDepth, so that the JSON parser never sees input that would recurse deep.
int nesting(std::string_view text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > kMaxDepth) {
        return deepest;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// A JSON value quoted for an error message, cut short when long.
std::string shown(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) {
    s.resize(77);
    s += "...";
  }
  return s;
}

std::optional<bool> boolean(const json& v) {
  if (!v.is_boolean()) {
    return std::nullopt;
  }
  return v.get<bool>();
}

std::optional<std::uint32_t> asn(std::string_view text) {
  if (text.empty() || text.size() > 10) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(v);
}

// RIS Live's path syntax: "174", "^3356,174", "3356,174$"; or a number.
std::optional<RisFilter::PathPattern> path_pattern(const json& v) {
  RisFilter::PathPattern p;
  if (v.is_number_unsigned()) {
    const auto n = v.get<std::uint64_t>();
    if (n > UINT32_MAX) {
      return std::nullopt;
    }
    p.asns.push_back(static_cast<std::uint32_t>(n));
    return p;
  }
  if (!v.is_string()) {
    return std::nullopt;
  }
  std::string_view s = v.get_ref<const std::string&>();
  if (s.starts_with('^')) {
    p.at_start = true;
    s.remove_prefix(1);
  }
  if (s.ends_with('$')) {
    p.at_end = true;
    s.remove_suffix(1);
  }
  while (true) {
    const auto comma = s.find(',');
    const auto n = asn(s.substr(0, comma));
    if (!n || p.asns.size() == kMaxPathAsns) {
      return std::nullopt;
    }
    p.asns.push_back(*n);
    if (comma == std::string_view::npos) {
      break;
    }
    s.remove_prefix(comma + 1);
  }
  return p;
}

std::optional<bgp::Prefix> prefix_of(const json& v) {
  if (!v.is_string()) {
    return std::nullopt;
  }
  const std::string& s = v.get_ref<const std::string&>();
  if (auto p = bgp::Prefix::parse(s)) {
    return p;
  }
  // An address alone is its host prefix, as in the gRPC filter.
  if (auto a = bgp::IpAddress::parse(s)) {
    return bgp::Prefix::host(*a);
  }
  return std::nullopt;
}

// Fills `f` from a ris_subscribe's data; returns what is wrong, or "".
std::string read_filter(const json& data, RisFilter& f, json& subscription, json& options) {
  for (const auto& [key, v] : data.items()) {
    if (v.is_null()) {
      continue;  // some clients send every filter, the unused ones null
    }
    const std::string where = key + " " + shown(v) + ": ";
    if (key == "socketOptions") {
      if (!v.is_object()) {
        return where + "must be an object such as {\"includeRaw\": true}";
      }
      for (const auto& [okey, ov] : v.items()) {
        const auto b = boolean(ov);
        if (okey == "includeRaw" && b) {
          f.include_raw = *b;
        } else if (okey == "acknowledge" && b) {
          f.acknowledge = *b;
        } else if (okey == "includeRaw" || okey == "acknowledge") {
          return "socketOptions." + okey + " " + shown(ov) + ": must be true or false";
        } else {
          return "socketOptions." + okey + ": unknown option (includeRaw, acknowledge)";
        }
      }
      options = v;
      continue;
    }
    subscription[key] = v;
    if (key == "host") {
      if (!v.is_string()) {
        return where + "must be a string, the collector's name";
      }
      f.host = v.get<std::string>();
    } else if (key == "type") {
      static constexpr std::string_view kTypes[] = {"UPDATE", "OPEN", "NOTIFICATION", "KEEPALIVE",
                                                    "RIS_PEER_STATE"};
      if (!v.is_string() ||
          std::ranges::find(kTypes, v.get_ref<const std::string&>()) == std::end(kTypes)) {
        return where + "must be UPDATE, OPEN, NOTIFICATION, KEEPALIVE or RIS_PEER_STATE";
      }
      f.type = v.get<std::string>();
    } else if (key == "require") {
      if (v == "announcements") {
        f.require = RisFilter::Require::Announcements;
      } else if (v == "withdrawals") {
        f.require = RisFilter::Require::Withdrawals;
      } else {
        return where + "must be \"announcements\" or \"withdrawals\"";
      }
    } else if (key == "peer") {
      auto a =
          v.is_string() ? bgp::IpAddress::parse(v.get_ref<const std::string&>()) : std::nullopt;
      if (!a) {
        return where + "not an IP address";
      }
      f.peer = *a;
    } else if (key == "path") {
      f.path = path_pattern(v);
      if (!f.path) {
        return where +
               "expected ASNs separated by commas, optionally anchored with ^ and $ "
               "(\"^3356,174\", at most 64), or one ASN";
      }
    } else if (key == "prefix") {
      const bool list = v.is_array();
      if (list && (v.empty() || v.size() > kMaxPrefixes)) {
        return where + "a list of 1 to 1024 prefixes";
      }
      for (const auto& one : list ? v : json::array({v})) {
        const auto p = prefix_of(one);
        if (!p) {
          return "prefix " + shown(one) + ": not a prefix such as 192.0.2.0/24 or 2001:db8::/32";
        }
        f.prefixes.push_back(*p);
      }
    } else if (key == "moreSpecific" || key == "lessSpecific") {
      const auto b = boolean(v);
      if (!b) {
        return where + "must be true or false";
      }
      (key == "moreSpecific" ? f.more_specific : f.less_specific) = *b;
    } else {
      return key +
             ": unknown filter (host, type, require, peer, path, prefix, moreSpecific, "
             "lessSpecific, socketOptions)";
    }
  }
  return {};
}

bool same_address(const bgp::IpAddress& a, const bgp::IpAddress& b) {
  return a.family == b.family && std::ranges::equal(a.span(), b.span());
}

// Whether `q`, a prefix of a message, is the filter's `p` or, as asked, inside or around it.
bool prefix_matches(const bgp::Prefix& p, const bgp::Prefix& q, bool more, bool less) {
  if (p.family() != q.family()) {
    return false;
  }
  if (p == q) {
    return true;
  }
  return (more && p.covers(q)) || (less && q.covers(p));
}

// The AS path as RIS Live's path filter sees it: the ASNs of its sequences in order; a set
// stands in as one member that no ASN matches (kNoAsn is not a valid 32-bit ASN here).
constexpr std::uint64_t kNoAsn = std::uint64_t{1} << 32;

bool path_matches(const RisFilter::PathPattern& pattern, const tools::RisUpdate& u) {
  std::vector<std::uint64_t> flat;
  flat.reserve(u.path_asns.size());
  std::size_t at = 0;
  for (const auto& seg : u.path) {
    const std::size_t end = std::min(u.path_asns.size(), at + seg.asns);
    if (seg.set) {
      flat.push_back(kNoAsn);
    } else {
      flat.insert(flat.end(), u.path_asns.begin() + static_cast<std::ptrdiff_t>(at),
                  u.path_asns.begin() + static_cast<std::ptrdiff_t>(end));
    }
    at = end;
  }
  const auto& want = pattern.asns;
  if (flat.size() < want.size()) {
    return false;
  }
  const auto equal_at = [&](std::size_t from) {
    return std::equal(want.begin(), want.end(), flat.begin() + static_cast<std::ptrdiff_t>(from));
  };
  if (pattern.at_start && pattern.at_end) {
    return flat.size() == want.size() && equal_at(0);
  }
  if (pattern.at_start) {
    return equal_at(0);
  }
  if (pattern.at_end) {
    return equal_at(flat.size() - want.size());
  }
  return std::search(flat.begin(), flat.end(), want.begin(), want.end()) != flat.end();
}

void append_hex_upper(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
}

std::optional<bgp::Prefix> event_prefix(const std::string& text) {
  return bgp::Prefix::parse(text);
}

}  // namespace

// ---- The filter --------------------------------------------------------------------------------

bool RisFilter::matches(const tools::RisHead& head, const tools::RisUpdate* update) const {
  // RIS Live hosts are "rrc00.ripe.net" and clients often write "rrc00": both are accepted.
  if (!host.empty() && head.host != host &&
      head.host.substr(0, head.host.find('.')) != std::string_view(host)) {
    return false;
  }
  if (!type.empty() && head.type != type) {
    return false;
  }
  if (peer && !same_address(*peer, head.peer)) {
    return false;
  }
  if (require != Require::Any) {
    if (update == nullptr) {
      return false;
    }
    if (require == Require::Announcements ? update->announced.empty() : update->withdrawn.empty()) {
      return false;
    }
  }
  if (path && (update == nullptr || !path_matches(*path, *update))) {
    return false;
  }
  if (!prefixes.empty()) {
    if (update == nullptr) {
      return false;
    }
    const auto any = [&](const std::vector<bgp::Prefix>& in) {
      return std::ranges::any_of(in, [&](const bgp::Prefix& q) {
        return std::ranges::any_of(prefixes, [&](const bgp::Prefix& p) {
          return prefix_matches(p, q, more_specific, less_specific);
        });
      });
    };
    return any(update->announced) || any(update->withdrawn);
  }
  return true;
}

// ---- The request parser ------------------------------------------------------------------------

RisParsed parse_ris_request(std::string_view text) {
  RisParsed out;
  if (text.size() > kMaxRequest) {
    out.error = "message of " + std::to_string(text.size()) + " bytes: at most 65536";
    return out;
  }
  if (nesting(text) > kMaxDepth) {
    out.error = "message nested deeper than 8 levels";
    return out;
  }
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    out.error = "not JSON (expected {\"type\": \"ris_subscribe\", \"data\": {...}})";
    return out;
  }
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    out.error = "expected a JSON object with a \"type\" (ris_subscribe, ris_unsubscribe, ping)";
    return out;
  }
  const auto& type = j["type"].get_ref<const std::string&>();
  RisRequest r;
  if (type == "ping") {
    r.type = RisRequestType::Ping;
  } else if (type == "request_rrc_list") {
    r.type = RisRequestType::RrcList;
  } else if (type == "ris_subscribe" || type == "ris_unsubscribe") {
    r.type = type == "ris_subscribe" ? RisRequestType::Subscribe : RisRequestType::Unsubscribe;
    const json* data = j.contains("data") ? &j["data"] : nullptr;
    if (data != nullptr && !data->is_null() && !data->is_object()) {
      out.error = type + ": \"data\" must be an object of filters";
      return out;
    }
    json subscription = json::object();
    json options = json::object();
    if (data != nullptr && data->is_object()) {
      if (auto e = read_filter(*data, r.filter, subscription, options); !e.empty()) {
        out.error = type + ": " + e;
        return out;
      }
    }
    r.subscription = subscription.dump(-1, ' ', false, json::error_handler_t::replace);
    r.socket_options = options.dump(-1, ' ', false, json::error_handler_t::replace);
  } else {
    out.error = "unknown message type " + shown(j["type"]) +
                " (ris_subscribe, ris_unsubscribe, ping, request_rrc_list)";
    return out;
  }
  out.request = std::move(r);
  return out;
}

// ---- Messages from events ----------------------------------------------------------------------

void RisMessageBuilder::set_head(std::int64_t time_us, const v1::Peer& peer, std::uint64_t seq,
                                 std::string_view type) {
  ++count_;
  id_ = std::to_string(seq != 0 ? seq : count_);
  head_ = tools::RisHead{};
  head_.seconds = time_us / 1'000'000;
  head_.microseconds = static_cast<std::uint32_t>(time_us % 1'000'000);
  if (auto a = bgp::IpAddress::parse(peer.address())) {
    head_.peer = *a;
  }
  head_.peer_asn = peer.asn();
  head_.id = id_;
  head_.host = host_;
  head_.type = type;
}

void RisMessageBuilder::start_update(const v1::RouteEvent& r) {
  pending_ = true;
  attributes_set_ = false;
  peer_id_ = r.peer().id();
  time_us_ = r.time_us();
  seq_ = r.update_seq();
  raw_ = r.raw_update();
  update_.clear();
  set_head(r.time_us(), r.peer(), r.update_seq(), "UPDATE");
}

void RisMessageBuilder::add_route(const v1::RouteEvent& r) {
  const auto prefix = event_prefix(r.prefix());
  if (!prefix) {
    return;
  }
  if (r.action() == v1::RouteEvent::WITHDRAW) {
    update_.withdrawn.push_back(*prefix);
    return;
  }
  const auto& a = r.attributes();
  if (!attributes_set_) {
    // Every announcement of the UPDATE has the same attributes.
    attributes_set_ = true;
    for (const auto& seg : a.as_path()) {
      update_.path.push_back({seg.type() == v1::AsPathSegment::AS_SET ||
                                  seg.type() == v1::AsPathSegment::AS_CONFED_SET,
                              static_cast<std::uint32_t>(seg.asns_size())});
      update_.path_asns.insert(update_.path_asns.end(), seg.asns().begin(), seg.asns().end());
    }
    for (const auto& c : a.communities()) {
      const auto colon = c.find(':');
      const auto hi = asn(std::string_view(c).substr(0, colon));
      const auto lo =
          colon == std::string::npos ? std::nullopt : asn(std::string_view(c).substr(colon + 1));
      if (hi && lo && *hi <= 0xFFFF && *lo <= 0xFFFF) {
        update_.communities.push_back(*hi << 16 | *lo);
      }
    }
    if (a.has_origin()) {
      update_.origin = static_cast<bgp::Origin>(a.origin());
    }
    if (a.has_med()) {
      update_.med = a.med();
    }
    if (a.has_aggregator_asn()) {
      update_.aggregator_asn = a.aggregator_asn();
      const auto address = bgp::IpAddress::parse(a.aggregator_address());
      update_.aggregator_address = address && address->is_v4() ? address->v4_host_order() : 0;
    }
  }
  // Announcements grouped by next hop, as the UPDATE's NLRI and MP_REACH_NLRI group them.
  const auto nh = bgp::IpAddress::parse(a.next_hop()).value_or(bgp::IpAddress::v4(0U));
  const auto ll = a.next_hop_link_local().empty() ? std::nullopt
                                                  : bgp::IpAddress::parse(a.next_hop_link_local());
  if (update_.announcements.empty() || update_.announcements.back().next_hop != nh ||
      update_.announcements.back().link_local != ll) {
    update_.announcements.push_back({nh, ll, 0});
  }
  ++update_.announcements.back().prefixes;
  update_.announced.push_back(*prefix);
}

void RisMessageBuilder::emit(const tools::RisHead& head, const tools::RisUpdate* update,
                             std::string_view state, std::span<const RisFilter> filters,
                             std::vector<std::string>& out) {
  bool pass = false;
  bool raw = false;
  for (const auto& f : filters) {
    if (f.matches(head, update)) {
      pass = true;
      raw = raw || f.include_raw;
    }
  }
  if (!pass) {
    return;
  }
  std::string m;
  tools::open_ris_message(m, head);
  if (update != nullptr) {
    tools::append_ris_update(m, *update);
  }
  if (!state.empty()) {
    m += "\"state\":\"";
    m += state;
    m += "\",";
  }
  if (raw && update != nullptr && !raw_.empty()) {
    m += "\"raw\":\"";
    append_hex_upper(m, raw_);
    m += "\",";
  }
  tools::close_ris_message(m);
  m.pop_back();  // the newline: a WebSocket message needs none
  out.push_back(std::move(m));
}

void RisMessageBuilder::add(const v1::Event& event, std::span<const RisFilter> filters,
                            std::vector<std::string>& out) {
  if (event.has_route()) {
    const auto& r = event.route();
    if (!pending_ || r.peer().id() != peer_id_ || r.time_us() != time_us_ ||
        r.update_seq() != seq_ || r.raw_update() != raw_) {
      flush(filters, out);
      start_update(r);
    }
    add_route(r);
    return;
  }
  flush(filters, out);
  if (event.has_peer()) {
    // RIS Live reports a session coming up or going down, not each FSM step.
    const auto& p = event.peer();
    std::string_view state;
    if (p.new_state() == v1::PeerEvent::ESTABLISHED) {
      state = "connected";
    } else if (p.old_state() == v1::PeerEvent::ESTABLISHED) {
      state = "down";
    } else {
      return;
    }
    set_head(p.time_us(), p.peer(), p.seq(), "RIS_PEER_STATE");
    emit(head_, nullptr, state, filters, out);
  }
}

void RisMessageBuilder::flush(std::span<const RisFilter> filters, std::vector<std::string>& out) {
  if (!pending_) {
    return;
  }
  pending_ = false;
  emit(head_, &update_, {}, filters, out);
}

// ---- The server --------------------------------------------------------------------------------

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// How often a client with nothing to send looks into its subscription. Subscription::take
// blocks a thread; a poll on the server's own thread serves every client from one thread with
// no hand-over. 50 ms is well under RIS Live's own delay (about a second) and costs an idle
// client 20 wake-ups a second.
constexpr auto kPoll = std::chrono::milliseconds(50);
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

std::string error_message(std::string_view text) {
  std::string m = "{\"type\":\"ris_error\",\"data\":{\"message\":";
  tools::append_json_string(m, text);
  m += "}}";
  return m;
}

class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(tcp::socket socket, Feed& feed, std::string host)
      : ws_(std::move(socket)),
        timer_(ws_.get_executor()),
        feed_(feed),
        host_(std::move(host)),
        builder_(host_) {}

  ~Client() {
    if (sub_) {
      feed_.unsubscribe(sub_);
    }
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void start() {
    beast::get_lowest_layer(ws_).expires_after(kHandshakeTimeout);
    http::async_read(
        ws_.next_layer(), buffer_, request_,
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_request(ec); });
  }

  // From the server's stop: ends every operation of this client.
  void stop() {
    closing_ = true;
    timer_.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

 private:
  void on_request(error_code ec) {
    if (ec) {
      return;
    }
    if (!websocket::is_upgrade(request_) || !request_.target().starts_with("/v1/ws")) {
      auto res = std::make_shared<http::response<http::string_body>>(http::status::not_found,
                                                                     request_.version());
      res->set(http::field::content_type, "text/plain");
      res->body() = "bgpscribe: the RIS Live WebSocket is ws://HOST:PORT/v1/ws/\n";
      res->prepare_payload();
      res->keep_alive(false);
      http::async_write(ws_.next_layer(), *res,
                        [self = shared_from_this(), res](error_code, std::size_t) {
                          error_code ignored;
                          beast::get_lowest_layer(self->ws_).socket().shutdown(
                              tcp::socket::shutdown_both, ignored);
                        });
      return;
    }
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(kMaxRequest);
    ws_.text(true);
    ws_.async_accept(request_, [self = shared_from_this()](error_code e) {
      if (!e) {
        self->read();
      }
    });
  }

  void read() {
    buffer_.clear();
    ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) {
        self->closing_ = true;  // the client closed, or sent what we do not take
        self->timer_.cancel();
        return;
      }
      const auto data = self->buffer_.cdata();
      self->handle(std::string_view(static_cast<const char*>(data.data()), data.size()));
      if (!self->closing_) {
        self->read();
      }
    });
  }

  void handle(std::string_view text) {
    auto parsed = parse_ris_request(text);
    if (!parsed.request) {
      send(error_message(parsed.error));
      return;
    }
    auto& r = *parsed.request;
    switch (r.type) {
      case RisRequestType::Ping:
        send("{\"type\":\"pong\",\"data\":null}");
        return;
      case RisRequestType::RrcList: {
        std::string m = "{\"type\":\"ris_rrc_list\",\"data\":[";
        tools::append_json_string(m, host_);
        m += "]}";
        send(std::move(m));
        return;
      }
      case RisRequestType::Subscribe:
        subscribe(r);
        return;
      case RisRequestType::Unsubscribe:
        unsubscribe(r.subscription);
        return;
    }
  }

  void subscribe(const RisRequest& r) {
    if (!sub_) {
      sub_ = feed_.subscribe(exporters::events::Filter::from(v1::SubscribeRequest()), false, true);
      if (!sub_) {
        send(error_message("too many subscribers (api.max_subscribers)"));
        closing_ = true;
        return;
      }
    }
    // The same filters again replace the subscription (its socketOptions may differ).
    const auto at = std::ranges::find(names_, r.subscription);
    if (at != names_.end()) {
      filters_[static_cast<std::size_t>(at - names_.begin())] = r.filter;
    } else {
      names_.push_back(r.subscription);
      filters_.push_back(r.filter);
    }
    if (r.filter.acknowledge) {
      send("{\"type\":\"ris_subscribe_ok\",\"data\":{\"subscription\":" + r.subscription +
           ",\"socketOptions\":" + r.socket_options + "}}");
    }
    pump();
  }

  void unsubscribe(const std::string& name) {
    const auto at = std::ranges::find(names_, name);
    if (at == names_.end()) {
      return;  // as RIS Live: unsubscribing from what was not subscribed is no error
    }
    filters_.erase(filters_.begin() + (at - names_.begin()));
    names_.erase(at);
    if (filters_.empty() && sub_) {
      feed_.unsubscribe(sub_);
      sub_.reset();
      builder_ = RisMessageBuilder(host_);
    }
  }

  void send(std::string message) {
    outbox_.push_back(std::move(message));
    if (!writing_) {
      write_next();
    }
  }

  void write_next() {
    if (outbox_.empty()) {
      if (closing_) {
        close();
      } else {
        pump();
      }
      return;
    }
    writing_ = true;
    ws_.async_write(asio::buffer(outbox_.front()),
                    [self = shared_from_this()](error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (ec) {
                        self->closing_ = true;
                        self->timer_.cancel();
                        return;
                      }
                      self->outbox_.pop_front();
                      self->write_next();
                    });
  }

  // Takes what the subscription has once everything before it went out: the socket's pace,
  // not ours, empties the subscription's queue, and that queue alone bounds what waits.
  void pump() {
    if (closing_ || !sub_ || writing_ || waiting_ || !outbox_.empty()) {
      return;
    }
    auto taken = sub_->take(0);
    made_.clear();
    for (const auto& block : taken.blocks) {
      for (std::size_t i = 0; i < block->size(); ++i) {
        // JSON is made from the event's fields: parsed back from the stream's bytes.
        block->parse(i, true, event_);
        builder_.add(event_, filters_, made_);
      }
    }
    builder_.flush(filters_, made_);
    for (auto& m : made_) {
      outbox_.push_back(std::move(m));
    }
    if (taken.dropped > 0) {
      outbox_.push_back(error_message(
          "lagging: " + std::to_string(taken.dropped) +
          " events dropped (each route of an UPDATE counts one): the client read too slowly "
          "for api.subscriber_queue; closing"));
      closing_ = true;
      close_code_ = websocket::close_code::try_again_later;
    } else if (taken.closed) {
      outbox_.push_back(error_message("the collector is stopping"));
      closing_ = true;
      close_code_ = websocket::close_code::going_away;
    }
    if (!outbox_.empty()) {
      write_next();
      return;
    }
    waiting_ = true;
    timer_.expires_after(kPoll);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      self->waiting_ = false;
      if (!ec) {
        self->pump();
      }
    });
  }

  void close() {
    if (closed_) {
      return;
    }
    closed_ = true;
    timer_.cancel();
    ws_.async_close(close_code_, [self = shared_from_this()](error_code) {});
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  asio::steady_timer timer_;
  Feed& feed_;
  std::string host_;
  SubscriptionPtr sub_;
  std::vector<RisFilter> filters_;
  std::vector<std::string> names_;  // each filter's subscription JSON
  RisMessageBuilder builder_;
  std::vector<std::string> made_;
  v1::Event event_;  // scratch: one event parsed back
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool waiting_ = false;
  bool closing_ = false;
  bool closed_ = false;
  websocket::close_code close_code_ = websocket::close_code::policy_error;
};

}  // namespace

struct RisLiveServer::Impl {
  Impl(Feed& f, std::string h) : feed(f), host(std::move(h)) {}

  Feed& feed;
  std::string host;
  std::vector<std::weak_ptr<Client>> clients;  // the server thread's
  std::optional<ServerThread> server;
  std::string url;
};

RisLiveServer::RisLiveServer(Feed& feed, std::string host, const config::ListenAddress& address)
    : impl_(std::make_unique<Impl>(feed, std::move(host))) {
  auto* impl = impl_.get();
  impl->server.emplace(address, "RIS Live", [impl](tcp::socket socket) {
    std::erase_if(impl->clients, [](const std::weak_ptr<Client>& c) { return c.expired(); });
    auto c = std::make_shared<Client>(std::move(socket), impl->feed, impl->host);
    impl->clients.push_back(c);
    c->start();
  });
  impl->url = "ws://" + shown_address(address, impl->server->port()) + "/v1/ws/";
}

RisLiveServer::~RisLiveServer() {
  // What is still pending (closing handshakes) is dropped with the io_context, which releases
  // the clients and their subscriptions.
  impl_->server->stop([impl = impl_.get()] {
    for (const auto& w : impl->clients) {
      if (auto c = w.lock()) {
        c->stop();
      }
    }
  });
}

std::uint16_t RisLiveServer::port() const {
  return impl_->server->port();
}

std::string RisLiveServer::url() const {
  return impl_->url;
}

}  // namespace bgpscribe::collector::api
