#include "collector/config/config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "codec/bgp/afi_safi.hpp"

namespace bgpscribe::collector::config {

namespace bgp = codec::bgp;
using exporters::ConfigMap;

namespace {

// The metrics endpoint's port when its `listen` gives none (docs/metrics.md).
constexpr std::uint16_t kDefaultMetricsPort = 9479;

int line_of(const YAML::Node& n) {
  return n.IsDefined() ? n.Mark().line + 1 : 0;
}

std::uint32_t parse_u32(const ConfigMap& m, const YAML::Node& n, const std::string& what,
                        std::uint64_t min = 0) {
  const auto& s = n.Scalar();
  const std::optional<std::uint64_t> v = exporters::parse_unsigned(s);
  if (!v || *v > 0xffffffffULL || *v < min) {
    m.fail_at(n, what + " must be a number from " + std::to_string(min) + " to 4294967295, not '" +
                     s + "'");
  }
  return static_cast<std::uint32_t>(*v);
}

// "64500", "AS64500", "64500.10" (asdot, RFC 5396) or a range "64500-64510".
std::vector<std::uint32_t> parse_as_list(ConfigMap& m, std::string_view key) {
  std::vector<std::uint32_t> out;
  auto node = m.node(key);
  if (!node) {
    return out;
  }
  std::vector<YAML::Node> items;
  if (node.IsSequence()) {
    for (const auto& i : node) {
      items.push_back(i);
    }
  } else {
    items.push_back(node);
  }
  for (const auto& item : items) {
    if (!item.IsScalar()) {
      m.fail_at(item, "each AS must be a number or a range such as 64500-64510");
    }
    std::string s = item.Scalar();
    auto dash = s.find('-');
    auto one = [&](std::string t) -> std::uint32_t {
      if (t.starts_with("AS") || t.starts_with("as")) {
        t = t.substr(2);
      }
      if (auto dot = t.find('.'); dot != std::string::npos) {
        const std::string_view whole(t);
        const auto hi = exporters::parse_unsigned(whole.substr(0, dot));
        const auto lo = exporters::parse_unsigned(whole.substr(dot + 1));
        if (!hi || !lo || *hi > 0xffff || *lo > 0xffff) {
          m.fail_at(item, "'" + s + "' is not an AS number");
        }
        return static_cast<std::uint32_t>(*hi << 16 | *lo);
      }
      const auto v = exporters::parse_unsigned(t);
      if (!v || *v == 0 || *v > 0xffffffffULL) {
        m.fail_at(item, "'" + s + "' is not an AS number (1 to 4294967295)");
      }
      return static_cast<std::uint32_t>(*v);
    };
    if (dash == std::string::npos) {
      out.push_back(one(s));
      continue;
    }
    const auto lo = one(s.substr(0, dash));
    const auto hi = one(s.substr(dash + 1));
    if (hi < lo || hi - lo > 100'000) {
      m.fail_at(item, "AS range '" + s + "' must be low-high with at most 100000 ASes");
    }
    for (std::uint64_t a = lo; a <= hi; ++a) {
      out.push_back(static_cast<std::uint32_t>(a));
    }
  }
  return out;
}

bgp::AfiSafi parse_family(const ConfigMap& m, const YAML::Node& n) {
  const auto& s = n.Scalar();
  if (s == "ipv4-unicast" || s == "ipv4") {
    return bgp::kIpv4Unicast;
  }
  if (s == "ipv6-unicast" || s == "ipv6") {
    return bgp::kIpv6Unicast;
  }
  if (s == "ipv4-multicast") {
    return bgp::kIpv4Multicast;
  }
  if (s == "ipv6-multicast") {
    return bgp::kIpv6Multicast;
  }
  m.fail_at(n, "unknown address family '" + s +
                   "' (ipv4-unicast, ipv6-unicast, ipv4-multicast, ipv6-multicast)");
}

std::vector<bgp::AfiSafi> parse_families(ConfigMap& m, std::string_view key) {
  std::vector<bgp::AfiSafi> out;
  auto node = m.node(key);
  if (!node) {
    return out;
  }
  if (node.IsScalar()) {
    out.push_back(parse_family(m, node));
    return out;
  }
  if (!node.IsSequence()) {
    m.fail_at(node, "'" + std::string(key) + "' must be a list of address families");
  }
  for (const auto& i : node) {
    if (!i.IsScalar()) {
      m.fail_at(i, "each address family must be a name such as ipv4-unicast");
    }
    auto f = parse_family(m, i);
    if (std::find(out.begin(), out.end(), f) == out.end()) {
      out.push_back(f);
    }
  }
  return out;
}

bgp::IpAddress parse_address(const ConfigMap& m, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) {
    m.fail_at(n, what + " must be an IP address");
  }
  auto a = bgp::IpAddress::parse(n.Scalar());
  if (!a) {
    m.fail_at(n, what + " '" + n.Scalar() + "' is not an IPv4 or IPv6 address");
  }
  return *a;
}

std::uint32_t parse_router_id(const ConfigMap& m, const YAML::Node& n) {
  auto a = parse_address(m, n, "the BGP identifier");
  if (!a.is_v4() || a.v4_host_order() == 0) {
    m.fail_at(n, "the BGP identifier must be a non-zero IPv4 address such as 192.0.2.1");
  }
  return a.v4_host_order();
}

// Peer options shared by `peer_defaults`, `peers` and `dynamic_peers`; sets only what is
// present, so a peer's options refine the defaults.
void apply_peer_options(ConfigMap& m, PeerConfig& c) {
  if (m.has("name")) {
    c.name = m.string("name");
  }
  if (m.has("passive")) {
    c.passive = m.boolean("passive");
  }
  if (m.has("port")) {
    c.peer_port = static_cast<std::uint16_t>(m.integer("port", 1, 65535));
  }
  if (m.has("local_address")) {
    c.local_address = parse_address(m, m.node("local_address"), "local_address");
  }
  if (m.has("hold_time")) {
    c.hold_time = static_cast<std::uint16_t>(m.integer("hold_time", 0, 65535));
    if (c.hold_time == 1 || c.hold_time == 2) {
      m.fail("hold_time", "hold_time must be 0 or at least 3 seconds (RFC 4271 section 4.2)");
    }
  }
  if (m.has("connect_retry")) {
    c.connect_retry = std::chrono::seconds(m.seconds("connect_retry"));
  }
  if (m.has("families")) {
    c.families = parse_families(m, "families");
    if (c.families.empty()) {
      m.fail("families", "at least one address family is needed");
    }
  }
  if (m.has("add_path")) {
    c.add_path_receive = parse_families(m, "add_path");
  }
  if (m.has("graceful_restart")) {
    auto n = m.node("graceful_restart");
    const auto& s = n.Scalar();
    if (s == "false" || s == "off" || s == "no") {
      c.graceful_restart_time.reset();
    } else if (s == "true" || s == "on" || s == "yes") {
      c.graceful_restart_time = 120;
    } else {
      const auto t = m.seconds("graceful_restart");
      if (t > 4095) {
        m.fail("graceful_restart", "graceful_restart is at most 4095 seconds (RFC 4724)");
      }
      c.graceful_restart_time = static_cast<std::uint16_t>(t);
    }
  }
  if (m.has("graceful_restart_notification")) {
    c.graceful_restart_notification = m.boolean("graceful_restart_notification");
  }
  if (m.has("md5_password")) {
    c.md5_password = m.string("md5_password");
    if (c.md5_password.size() > 80) {
      m.fail("md5_password", "md5_password is at most 80 characters (TCP_MD5SIG)");
    }
  }
  if (m.has("ttl_security")) {
    c.ttl_security_hops = static_cast<std::uint8_t>(m.integer("ttl_security", 0, 254));
  }
  if (m.has("max_prefix")) {
    c.max_prefix = static_cast<std::uint32_t>(m.integer("max_prefix", 0, 0xffffffffLL));
  }
  if (m.has("route_refresh")) {
    c.route_refresh = m.boolean("route_refresh");
  }
  if (m.has("extended_message")) {
    c.extended_message = m.boolean("extended_message");
  }
  if (m.has("enforce_first_as")) {
    c.enforce_first_as = m.boolean("enforce_first_as");
  }
  if (m.has("receive_buffer")) {
    c.receive_buffer = static_cast<std::size_t>(m.bytes("receive_buffer"));
  }
}

// The port of a listen address `whole`.
std::uint16_t parse_port(const ConfigMap& m, const YAML::Node& n, const std::string& whole,
                         const std::string& text) {
  const auto port = exporters::parse_unsigned(text);
  if (!port || *port > 65535) {
    m.fail_at(n, "bad port in listen address '" + whole + "'");
  }
  if (*port == 0) {
    // The kernel would pick a random port that no router is configured to reach.
    m.fail_at(n, "port 0 in listen address '" + whole + "': give the port routers connect to");
  }
  return static_cast<std::uint16_t>(*port);
}

// A listen address: "address", "address:port", "[v6]:port" or "v6" alone; without a port,
// `default_port` (0: a port must be given).
ListenAddress parse_listen(const ConfigMap& m, const YAML::Node& n, std::uint16_t default_port) {
  if (!n.IsScalar()) {
    m.fail_at(n, "a listen address must be a string such as 192.0.2.1:179 or [2001:db8::1]:179");
  }
  const std::string& s = n.Scalar();
  ListenAddress l;
  l.port = default_port;
  std::string addr = s;
  if (s.starts_with("[")) {
    auto close = s.find(']');
    if (close == std::string::npos) {
      m.fail_at(n, "bad listen address '" + s + "'");
    }
    addr = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':') {
        m.fail_at(n, "bad listen address '" + s + "'");
      }
      l.port = parse_port(m, n, s, s.substr(close + 2));
    }
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    auto colon = s.find(':');
    addr = s.substr(0, colon);
    l.port = parse_port(m, n, s, s.substr(colon + 1));
  }
  auto a = bgp::IpAddress::parse(addr);
  if (!a) {
    m.fail_at(n, "'" + s + "' is not an address or address:port ([v6]:port for IPv6)");
  }
  if (l.port == 0) {
    m.fail_at(n, "'" + s + "' needs a port (address:port, [v6]:port for IPv6)");
  }
  l.address = *a;
  return l;
}

// The list of listen addresses under `key` (one string, or a list of them).
std::vector<ListenAddress> parse_listen_list(ConfigMap& m, std::string_view key,
                                             std::uint16_t default_port) {
  std::vector<ListenAddress> out;
  auto node = m.node(key);
  if (!node) {
    return out;
  }
  if (node.IsScalar()) {
    out.push_back(parse_listen(m, node, default_port));
  } else if (node.IsSequence()) {
    for (const auto& i : node) {
      out.push_back(parse_listen(m, i, default_port));
    }
  } else {
    m.fail_at(node, "'" + std::string(key) + "' must be a list of addresses such as 127.0.0.1:" +
                        std::to_string(default_port == 0 ? 11019 : default_port));
  }
  return out;
}

// A prefix without host bits, for `what`.
bgp::Prefix parse_range(const ConfigMap& m, const std::string& key, const std::string& range) {
  auto prefix = bgp::Prefix::parse(range);
  if (!prefix) {
    m.fail(key, "'" + range + "' is not a prefix such as 192.0.2.0/24 or 2001:db8::/32");
  }
  if (bgp::IpAddress::parse(range.substr(0, range.find('/'))) != prefix->address) {
    m.fail(key, "'" + range + "' has host bits set: did you mean " + prefix->to_string() + "?");
  }
  return *prefix;
}

void check_peer(const ConfigMap& m, const PeerConfig& c) {
  auto problems = validate(c);
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) {
      all += (all.empty() ? "" : "; ") + p;
    }
    m.fail_at(m.self(), all);
  }
}

// YAML allows a key twice in a mapping and yaml-cpp keeps the first value: an operator who
// adds `hold_time: 30` below an old `hold_time: 180` would silently keep 180. Refused.
void check_duplicate_keys(const std::string& file, const YAML::Node& node) {
  if (node.IsMap()) {
    std::set<std::string> keys;
    for (const auto& kv : node) {
      if (kv.first.IsScalar() && !keys.insert(kv.first.Scalar()).second) {
        throw ConfigError(
            file, kv.first,
            "'" + kv.first.Scalar() + "' appears twice in this mapping (only one value can hold)");
      }
      check_duplicate_keys(file, kv.second);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      check_duplicate_keys(file, item);
    }
  }
}

}  // namespace

CollectorConfig parse(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  if (!root || root.IsNull()) {
    throw ConfigError(file, 0, 0, "the file is empty: see collector.example.yaml");
  }
  check_duplicate_keys(file, root);
  ConfigMap top(file, root, "config");
  CollectorConfig cfg;
  cfg.file = file;

  // collector: identity, listeners, state, queues.
  auto cnode = top.node("collector");
  if (!cnode) {
    throw ConfigError(file, root, "missing the 'collector' section (name, local_as, bgp_id)");
  }
  ConfigMap c(file, cnode, "collector");
  cfg.name = c.string("name");
  if (cfg.name.empty() || cfg.name.find('/') != std::string::npos) {
    c.fail("name", "collector name must be non-empty and contain no '/'");
  }
  cfg.local_as = parse_u32(c, c.node("local_as"), "local_as", 1);
  if (!c.has("bgp_id")) {
    c.fail_at(cnode, "collector: missing 'bgp_id' (an IPv4 address such as 192.0.2.1)");
  }
  cfg.bgp_id = parse_router_id(c, c.node("bgp_id"));
  cfg.listen = parse_listen_list(c, "listen", 179);
  if (cfg.listen.empty()) {
    cfg.listen.push_back(ListenAddress{*bgp::IpAddress::parse("::"), 179});
  }
  cfg.state_directory = c.string("state_directory", std::string("state"));
  cfg.status_interval = std::chrono::seconds(c.seconds("status_interval", 60));
  cfg.journal = c.boolean("journal", true);
  cfg.journal_directory = c.string(
      "journal_directory", (std::filesystem::path(cfg.state_directory) / "journal").string());
  cfg.journal_sync = std::chrono::seconds(c.seconds("journal_sync", 0));
  cfg.journal_max_bytes = c.bytes("journal_max_bytes", cfg.journal_max_bytes);
  if (c.has("queue")) {
    ConfigMap q(file, c.node("queue"), "collector.queue");
    cfg.queue.max_records = static_cast<std::size_t>(q.integer(
        "max_records", 1, 1'000'000'000, static_cast<std::int64_t>(cfg.queue.max_records)));
    cfg.queue.max_bytes = static_cast<std::size_t>(q.bytes("max_bytes", cfg.queue.max_bytes));
    cfg.queue.spool_max_bytes = q.bytes("spool_max_bytes", cfg.queue.spool_max_bytes);
    cfg.queue.spool_buffer_bytes =
        static_cast<std::size_t>(q.bytes("spool_buffer", cfg.queue.spool_buffer_bytes));
    cfg.queue.stop_timeout = std::chrono::seconds(q.seconds("stop_timeout", 60));
    q.check_unknown();
  }
  c.check_unknown();

  // peer_defaults: the base of every peer and dynamic range.
  PeerConfig base;
  base.local_as = cfg.local_as;
  base.local_id = cfg.bgp_id;
  base.passive = true;  // a collector waits for its peers by default
  base.hold_time = 180;
  if (auto d = top.node("peer_defaults")) {
    ConfigMap m(file, d, "peer_defaults");
    apply_peer_options(m, base);
    m.check_unknown();
  }

  std::set<bgp::IpAddress> addresses;
  if (auto peers = top.node("peers")) {
    if (!peers.IsSequence()) {
      throw ConfigError(file, peers, "'peers' must be a list of peers (- address: ..., as: ...)");
    }
    for (const auto& pn : peers) {
      ConfigMap m(file, pn, "peer");
      PeerConfig p = base;
      if (!m.has("address")) {
        m.fail_at(pn, "peer: missing 'address'");
      }
      p.peer_address = parse_address(m, m.node("address"), "address");
      if (!m.has("as")) {
        m.fail_at(pn, "peer " + p.peer_address.to_string() + ": missing 'as' (its AS number)");
      }
      const auto as_list = parse_as_list(m, "as");
      if (as_list.size() == 1) {
        p.peer_as = as_list.front();
      } else {
        p.peer_as = 0;
        p.allowed_as = as_list;
      }
      apply_peer_options(m, p);
      m.check_unknown();
      if (!addresses.insert(p.peer_address).second) {
        m.fail("address", "peer " + p.peer_address.to_string() + " is listed twice");
      }
      check_peer(m, p);
      cfg.peers.push_back(std::move(p));
      cfg.peer_lines.push_back(line_of(pn));
    }
  }

  if (auto dyn = top.node("dynamic_peers")) {
    if (!dyn.IsSequence()) {
      throw ConfigError(file, dyn, "'dynamic_peers' must be a list of ranges (- range: ...)");
    }
    for (const auto& dn : dyn) {
      ConfigMap m(file, dn, "dynamic peer range");
      DynamicRange r;
      r.line = line_of(dn);
      const auto range = m.string("range");
      r.range = parse_range(m, "range", range);
      for (const auto& other : cfg.dynamic_peers) {
        if (other.range == r.range) {
          m.fail("range", "range " + range + " is listed twice (the first, line " +
                              std::to_string(other.line) + ", would take every connection)");
        }
      }
      r.allowed_as = parse_as_list(m, "allowed_as");
      r.max_peers = static_cast<std::size_t>(m.integer("max_peers", 1, 1'000'000, 4096));
      r.max_pending = static_cast<std::size_t>(
          m.integer("max_pending", 1, 1'000'000,
                    static_cast<std::int64_t>(std::min<std::size_t>(r.max_peers, 64))));
      r.open_timeout = std::chrono::seconds(m.seconds("open_timeout", 5));
      if (r.open_timeout.count() <= 0) {
        m.fail("open_timeout", "'open_timeout' must be at least 1s");
      }
      r.peer_template = base;
      apply_peer_options(m, r.peer_template);
      m.check_unknown();
      check_peer(m, r.peer_template);
      cfg.dynamic_peers.push_back(std::move(r));
    }
  }

  cfg.bmp_listen = parse_listen_list(top, "bmp_listen", 0);
  if (auto routers = top.node("bmp_routers")) {
    if (!routers.IsSequence()) {
      throw ConfigError(file, routers,
                        "'bmp_routers' must be a list of routers (- prefix: ..., name: ...)");
    }
    std::set<std::string> router_names;
    for (const auto& rn : routers) {
      ConfigMap m(file, rn, "BMP router");
      config::BmpRouter r;
      r.line = line_of(rn);
      if (!m.has("prefix")) {
        m.fail_at(rn, "BMP router: missing 'prefix' (the addresses it connects from)");
      }
      const auto prefix = m.string("prefix");
      // A single address is a prefix of its full length.
      const auto as_address = bgp::IpAddress::parse(prefix);
      r.prefix = as_address ? bgp::Prefix::host(*as_address) : parse_range(m, "prefix", prefix);
      r.name = m.string("name", std::string());
      if (r.name.find_first_of(" /\t\n") != std::string::npos) {
        m.fail("name", "BMP router name '" + r.name + "' must not contain blanks or '/'");
      }
      if (!r.name.empty() && !router_names.insert(r.name).second) {
        m.fail("name", "two BMP routers are named '" + r.name + "'");
      }
      for (const auto& other : cfg.bmp_routers) {
        if (other.prefix == r.prefix) {
          m.fail("prefix",
                 "prefix " + prefix + " is listed twice (line " + std::to_string(other.line) + ")");
        }
      }
      m.check_unknown();
      cfg.bmp_routers.push_back(std::move(r));
    }
  }
  if (!cfg.bmp_listen.empty() && cfg.bmp_routers.empty()) {
    throw ConfigError(file, top.node("bmp_listen"),
                      "'bmp_listen' without 'bmp_routers': no router would be allowed to connect "
                      "(add - prefix: <router address>)");
  }
  if (cfg.bmp_listen.empty() && !cfg.bmp_routers.empty()) {
    throw ConfigError(file, top.node("bmp_routers"),
                      "'bmp_routers' without 'bmp_listen': routers have nowhere to connect "
                      "(add bmp_listen: [127.0.0.1:11019])");
  }

  cfg.api.socket = (std::filesystem::path(cfg.state_directory) / "api.sock").string();
  if (auto an = top.node("api")) {
    ConfigMap a(file, an, "api");
    cfg.api.enabled = a.boolean("enabled", true);
    cfg.api.socket = a.string("socket", cfg.api.socket);
    if (cfg.api.socket.empty()) {
      a.fail("socket", "'socket' must be a path (or set enabled: false)");
    }
    // sockaddr_un holds 107 characters and the NUL.
    if (cfg.api.socket.size() > 107) {
      a.fail("socket", "socket path '" + cfg.api.socket + "' is longer than 107 characters, " +
                           "the limit of a unix socket address");
    }
    if (a.has("listen")) {
      cfg.api.listen = a.string("listen");
      cfg.api.tcp = parse_listen(a, a.node("listen"), 50051);
    }
    if (a.has("ris_live")) {
      if (!cfg.api.enabled) {
        a.fail("ris_live", "'ris_live' needs the API ('enabled: false' turns it off)");
      }
      cfg.api.ris_live = a.string("ris_live");
      cfg.api.ris_live_tcp = parse_listen(a, a.node("ris_live"), 8765);
    }
    cfg.api.subscriber_queue =
        static_cast<std::size_t>(a.integer("subscriber_queue", 1024, 100'000'000,
                                           static_cast<std::int64_t>(cfg.api.subscriber_queue)));
    cfg.api.max_subscribers = static_cast<std::size_t>(
        a.integer("max_subscribers", 1, 1024, static_cast<std::int64_t>(cfg.api.max_subscribers)));
    a.check_unknown();
  }

  if (auto mn = top.node("metrics")) {
    ConfigMap m(file, mn, "metrics");
    if (m.boolean("enabled", true)) {
      ListenAddress l{bgp::IpAddress::v4(0x7f000001), kDefaultMetricsPort};
      if (m.has("listen")) {
        l = parse_listen(m, m.node("listen"), kDefaultMetricsPort);
      }
      cfg.metrics = l;
    }
    m.check_unknown();
  }

  if (auto ln = top.node("log")) {
    ConfigMap l(file, ln, "log");
    const auto level = l.choice("level", {"debug", "info", "warning", "error"}, "info");
    cfg.log.level = level == "debug"     ? exporters::LogLevel::Debug
                    : level == "info"    ? exporters::LogLevel::Info
                    : level == "warning" ? exporters::LogLevel::Warning
                                         : exporters::LogLevel::Error;
    cfg.log.format = l.choice("format", {"text", "json"}, "text") == "json"
                         ? exporters::LogFormat::Json
                         : exporters::LogFormat::Text;
    if (l.has("file")) {
      cfg.log.file = l.string("file");
      if (cfg.log.file.empty()) {
        l.fail("file", "'file' must be a path (leave it out for stderr)");
      }
    }
    l.check_unknown();
  }

  if (auto ex = top.node("exporters")) {
    cfg.exporters = parse_exporters(file, ex);
  }
  if (cfg.exporters.empty()) {
    throw ConfigError(file, root,
                      "no exporters: add at least one (e.g. '- type: mrt') or nothing is kept");
  }
  (void)top.node("peer_defaults");
  top.check_unknown();
  return cfg;
}

std::vector<ExporterConfig> parse_exporters(const std::string& file, const YAML::Node& ex) {
  std::vector<ExporterConfig> out;
  std::set<std::string> names;
  if (!ex.IsSequence()) {
    throw ConfigError(file, ex, "'exporters' must be a list (- type: mrt, ...)");
  }
  for (const auto& en : ex) {
    if (!en.IsMap() || !en["type"]) {
      throw ConfigError(file, en, "each exporter needs a 'type' (mrt, null, ...)");
    }
    ExporterConfig e;
    // `type: null` reads as a YAML null, not the string: take it as the null exporter.
    e.type = en["type"].IsNull() ? std::string("null") : en["type"].Scalar();
    e.name = en["name"] ? en["name"].Scalar() : e.type;
    if (e.name.empty() || e.name.find('/') != std::string::npos) {
      throw ConfigError(file, en, "exporter name '" + e.name + "' must be non-empty, no '/'");
    }
    if (!names.insert(e.name).second) {
      throw ConfigError(file, en,
                        "two exporters are named '" + e.name + "': give each a unique 'name'");
    }
    e.options = static_cast<const YAML::Node&>(en);
    out.push_back(std::move(e));
  }
  return out;
}

CollectorConfig load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw ConfigError(path, 0, 0, "cannot read the config file");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

}  // namespace bgpscribe::collector::config
