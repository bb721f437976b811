// Config loading: a full example is read as meant, and each kind of mistake is refused with
// the file, line and column and a message that says what to fix.
#include <gtest/gtest.h>

#include "collector/config/config.hpp"

namespace bgpscribe::collector::config {
namespace {

const char* kGood = R"(collector:
  name: rrc99
  local_as: 65000
  bgp_id: 192.0.2.1
  listen: ["127.0.0.1:1179", "[::1]:1179"]
  state_directory: /tmp/state
  queue:
    max_records: 1000
    spool_max_bytes: 1G
peer_defaults:
  hold_time: 90
  families: [ipv4-unicast, ipv6-unicast]
peers:
  - address: 192.0.2.10
    as: 64500
    name: r10
    add_path: [ipv4-unicast]
    graceful_restart: 120
  - address: 2001:db8::10
    as: [64501, 64502]
    md5_password: secret
    max_prefix: 1000000
dynamic_peers:
  - range: 10.0.0.0/8
    allowed_as: [64600-64610, AS64700]
    max_peers: 20
exporters:
  - type: mrt
    preset: ris
  - type: null
    name: counter
)";

TEST(Config, ReadsAFullConfig) {
  auto c = parse(kGood, "good.yaml");
  EXPECT_EQ(c.name, "rrc99");
  EXPECT_EQ(c.local_as, 65000U);
  EXPECT_EQ(c.bgp_id, 0xc0000201U);
  ASSERT_EQ(c.listen.size(), 2U);
  EXPECT_EQ(c.listen[1].address.to_string(), "::1");
  EXPECT_EQ(c.listen[1].port, 1179);
  EXPECT_EQ(c.queue.max_records, 1000U);
  EXPECT_EQ(c.queue.spool_max_bytes, 1ULL << 30);
  ASSERT_EQ(c.peers.size(), 2U);
  EXPECT_EQ(c.peers[0].peer_as, 64500U);
  EXPECT_TRUE(c.peers[0].passive);
  EXPECT_EQ(c.peers[0].hold_time, 90);
  EXPECT_EQ(c.peers[0].name, "r10");
  ASSERT_EQ(c.peers[0].add_path_receive.size(), 1U);
  EXPECT_EQ(c.peers[0].graceful_restart_time, 120);
  EXPECT_EQ(c.peers[1].peer_as, 0U);
  EXPECT_EQ(c.peers[1].allowed_as.size(), 2U);
  EXPECT_EQ(c.peers[1].md5_password, "secret");
  ASSERT_EQ(c.dynamic_peers.size(), 1U);
  EXPECT_EQ(c.dynamic_peers[0].allowed_as.size(), 12U);
  EXPECT_EQ(c.dynamic_peers[0].max_peers, 20U);
  ASSERT_EQ(c.exporters.size(), 2U);
  EXPECT_EQ(c.exporters[0].name, "mrt");
  EXPECT_EQ(c.exporters[1].type, "null");
  EXPECT_EQ(c.exporters[1].name, "counter");
}

// Replaces the first occurrence of `from` in the good config.
std::string with(const std::string& from, const std::string& to) {
  std::string s = kGood;
  auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

std::string error_of(const std::string& text) {
  try {
    (void)parse(text, "c.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(Config, MistakesAreRefusedWithFileLineAndWhatToFix) {
  struct Case {
    std::string text;
    std::string want;
  };
  const Case cases[] = {
      {with("local_as: 65000", "local_as: 0"),
       "c.yaml:3:13: collector: local_as must be a number from 1"},
      {with("bgp_id: 192.0.2.1", "bgp_id: 2001:db8::1"),
       "c.yaml:4:11: collector: the BGP identifier must be a non-zero IPv4"},
      {with("    as: 64500\n", "    as: 64500x\n"),
       "c.yaml:15:9: peer: '64500x' is not an AS number"},
      {with("    name: r10\n", "    nmae: r10\n"), "c.yaml:16:5: peer: unknown option 'nmae'"},
      {with("address: 2001:db8::10", "address: 192.0.2.10"), "is listed twice"},
      {with("add_path: [ipv4-unicast]", "add_path: [ipv4-flowspec]"),
       "c.yaml:17:16: peer: unknown address family 'ipv4-flowspec'"},
      {with("hold_time: 90", "hold_time: 2"),
       "c.yaml:11:14: peer_defaults: hold_time must be 0 or at least 3"},
      {with("graceful_restart: 120", "graceful_restart: 2h"), "at most 4095 seconds"},
      {with("range: 10.0.0.0/8", "range: 10.0.0.0/33"),
       "c.yaml:24:12: dynamic peer range: '10.0.0.0/33' is not a prefix"},
      {with("allowed_as: [64600-64610, AS64700]", "allowed_as: [64610-64600]"),
       "AS range '64610-64600' must be low-high"},
      {with("spool_max_bytes: 1G", "spool_max_bytes: lots"),
       "c.yaml:9:22: collector.queue: 'spool_max_bytes' must be a size"},
      {with("    name: counter", "    name: mrt"), "two exporters are named 'mrt'"},
      {with("listen: [\"127.0.0.1:1179\", \"[::1]:1179\"]", "listen: [\"127.0.0.1:99999\"]"),
       "bad port in listen address"},
      {with("peers:", "peerz:"), "unknown option 'peerz'"},
      {with("  name: rrc99\n", "  name: [rrc99\n"), "c.yaml:3:"},
      {"", "the file is empty"},
      {with("listen: [\"127.0.0.1:1179\", \"[::1]:1179\"]", "listen: [\"[::1]:http\"]"),
       "bad port in listen address '[::1]:http'"},
      // Accepted silently before (issue 14, fault 8).
      {with("    name: r10\n", "    name: r10\n    name: r11\n"),
       "c.yaml:17:5: 'name' appears twice in this mapping"},
      {with("  hold_time: 90\n", "  hold_time: 90\n  hold_time: 30\n"),
       "c.yaml:12:3: 'hold_time' appears twice"},
      {with("listen: [\"127.0.0.1:1179\", \"[::1]:1179\"]", "listen: [\"127.0.0.1:0\"]"),
       "port 0 in listen address '127.0.0.1:0'"},
      {with("range: 10.0.0.0/8", "range: 10.1.2.3/8"),
       "c.yaml:24:12: dynamic peer range: '10.1.2.3/8' has host bits set: did you mean "
       "10.0.0.0/8?"},
      {with("    max_peers: 20\n", "    max_peers: 20\n  - range: 10.0.0.0/8\n"),
       "range 10.0.0.0/8 is listed twice (the first, line 24"},
      {with("    add_path: [ipv4-unicast]", "    add_path: [ipv4-multicast]"),
       "add_path lists ipv4-multicast, which is not in families"},
  };
  for (const auto& c : cases) {
    const auto e = error_of(c.text);
    EXPECT_NE(e.find(c.want), std::string::npos) << "want: " << c.want << "\n got: " << e;
  }
}

TEST(Config, ReadsTheBmpStationInput) {
  const auto cfg = parse(with("exporters:", R"(bmp_listen: ["127.0.0.1:11019", "[::1]:11019"]
bmp_routers:
  - prefix: 192.0.2.9
    name: edge1
  - prefix: 10.0.0.0/8
    name: lab
  - prefix: 2001:db8::/32
exporters:)"),
                         "c.yaml");
  ASSERT_EQ(cfg.bmp_listen.size(), 2U);
  EXPECT_EQ(cfg.bmp_listen[0].address, *codec::bgp::IpAddress::parse("127.0.0.1"));
  EXPECT_EQ(cfg.bmp_listen[1].port, 11019);
  ASSERT_EQ(cfg.bmp_routers.size(), 3U);
  EXPECT_EQ(cfg.bmp_routers[0].prefix.to_string(), "192.0.2.9/32");
  EXPECT_EQ(cfg.bmp_routers[0].name, "edge1");
  EXPECT_EQ(cfg.bmp_routers[1].prefix.to_string(), "10.0.0.0/8");
  EXPECT_EQ(cfg.bmp_routers[2].name, "");

  const std::pair<std::string, std::string> mistakes[] = {
      {"bmp_listen: [\"127.0.0.1\"]\nbmp_routers:\n  - prefix: 192.0.2.9\n",
       "'127.0.0.1' needs a port"},
      {"bmp_listen: [\"127.0.0.1:11019\"]\n", "'bmp_listen' without 'bmp_routers'"},
      {"bmp_routers:\n  - prefix: 192.0.2.9\n", "'bmp_routers' without 'bmp_listen'"},
      {"bmp_listen: 127.0.0.1:11019\nbmp_routers:\n  - prefix: 10.1.0.0/8\n",
       "'10.1.0.0/8' has host bits set"},
      {"bmp_listen: 127.0.0.1:11019\nbmp_routers:\n  - name: x\n", "missing 'prefix'"},
      {"bmp_listen: 127.0.0.1:11019\nbmp_routers:\n  - prefix: 192.0.2.9\n    name: a b\n",
       "must not contain blanks"},
      {"bmp_listen: 127.0.0.1:11019\nbmp_routers:\n  - prefix: 192.0.2.9\n  - prefix: "
       "192.0.2.9/32\n",
       "prefix 192.0.2.9/32 is listed twice"},
  };
  for (const auto& [text, want] : mistakes) {
    const auto e = error_of(with("exporters:", text + "exporters:"));
    EXPECT_NE(e.find(want), std::string::npos) << "want: " << want << "\n got: " << e;
  }
}

TEST(Config, ReadsTheLiveApi) {
  const auto plain = parse(kGood, "c.yaml");
  EXPECT_TRUE(plain.api.enabled);
  EXPECT_EQ(plain.api.socket, "/tmp/state/api.sock");
  EXPECT_FALSE(plain.api.tcp.has_value());

  const auto cfg = parse(with("exporters:", R"(api:
  socket: /run/bgpscribe/api.sock
  listen: 127.0.0.1:50051
  subscriber_queue: 5000
  max_subscribers: 4
exporters:)"),
                         "c.yaml");
  EXPECT_EQ(cfg.api.socket, "/run/bgpscribe/api.sock");
  EXPECT_EQ(cfg.api.listen, "127.0.0.1:50051");
  ASSERT_TRUE(cfg.api.tcp.has_value());
  EXPECT_EQ(cfg.api.tcp->port, 50051);
  EXPECT_EQ(cfg.api.subscriber_queue, 5000U);
  EXPECT_EQ(cfg.api.max_subscribers, 4U);

  const std::pair<std::string, std::string> mistakes[] = {
      {"api:\n  socket: \"\"\n", "'socket' must be a path"},
      {"api:\n  socket: /" + std::string(120, 'x') + "\n", "longer than 107 characters"},
      {"api:\n  listen: 127.0.0.1:99999\n", "99999"},
      {"api:\n  subscriber_queue: 10\n", "subscriber_queue"},
      {"api:\n  sockets: /x\n", "sockets"},
  };
  for (const auto& [text, want] : mistakes) {
    const auto e = error_of(with("exporters:", text + "exporters:"));
    EXPECT_NE(e.find(want), std::string::npos) << "want: " << want << "\n got: " << e;
  }
}

TEST(Config, ReadsTheMetricsEndpoint) {
  EXPECT_FALSE(parse(kGood, "c.yaml").metrics.has_value());  // off unless asked for

  const auto plain = parse(with("exporters:", "metrics: {}\nexporters:"), "c.yaml");
  ASSERT_TRUE(plain.metrics.has_value());
  EXPECT_EQ(plain.metrics->address.to_string(), "127.0.0.1");  // loopback by default
  EXPECT_EQ(plain.metrics->port, 9479);

  const auto v6 =
      parse(with("exporters:", "metrics:\n  listen: \"[::1]:9100\"\nexporters:"), "c.yaml");
  ASSERT_TRUE(v6.metrics.has_value());
  EXPECT_EQ(v6.metrics->address.to_string(), "::1");
  EXPECT_EQ(v6.metrics->port, 9100);
  EXPECT_FALSE(parse(with("exporters:", "metrics:\n  enabled: false\nexporters:"), "c.yaml")
                   .metrics.has_value());

  const std::pair<std::string, std::string> mistakes[] = {
      {"metrics:\n  listen: 127.0.0.1:99999\n", "99999"},
      {"metrics:\n  listen: nowhere:80\n", "not an address"},
      {"metrics:\n  port: 9100\n", "port"},
  };
  for (const auto& [text, want] : mistakes) {
    const auto e = error_of(with("exporters:", text + "exporters:"));
    EXPECT_NE(e.find(want), std::string::npos) << "want: " << want << "\n got: " << e;
  }
}

TEST(Config, ReadsTheLogSection) {
  const auto plain = parse(kGood, "c.yaml");  // info, text, stderr unless asked for
  EXPECT_EQ(plain.log, exporters::LogOptions{});
  EXPECT_EQ(plain.log.level, exporters::LogLevel::Info);
  EXPECT_EQ(plain.log.format, exporters::LogFormat::Text);
  EXPECT_TRUE(plain.log.file.empty());

  const auto json =
      parse(with("exporters:",
                 "log:\n  level: debug\n  format: json\n  file: /var/log/b.log\nexporters:"),
            "c.yaml");
  EXPECT_EQ(json.log.level, exporters::LogLevel::Debug);
  EXPECT_EQ(json.log.format, exporters::LogFormat::Json);
  EXPECT_EQ(json.log.file, "/var/log/b.log");
  EXPECT_EQ(parse(with("exporters:", "log: {level: warning}\nexporters:"), "c.yaml").log.level,
            exporters::LogLevel::Warning);
  EXPECT_EQ(parse(with("exporters:", "log: {level: error}\nexporters:"), "c.yaml").log.level,
            exporters::LogLevel::Error);

  const std::pair<std::string, std::string> mistakes[] = {
      {"log:\n  level: verbose\n", "verbose"},
      {"log:\n  format: xml\n", "xml"},
      {"log:\n  file: \"\"\n", "'file' must be a path"},
      {"log:\n  path: /x\n", "path"},
  };
  for (const auto& [text, want] : mistakes) {
    const auto e = error_of(with("exporters:", text + "exporters:"));
    EXPECT_NE(e.find(want), std::string::npos) << "want: " << want << "\n got: " << e;
  }
}

TEST(Config, ReadsTheRisLiveStream) {
  EXPECT_TRUE(parse(kGood, "c.yaml").api.ris_live.empty());
  EXPECT_FALSE(parse(kGood, "c.yaml").api.ris_live_tcp.has_value());

  const auto cfg =
      parse(with("exporters:", "api:\n  ris_live: 127.0.0.1:8765\nexporters:"), "c.yaml");
  EXPECT_EQ(cfg.api.ris_live, "127.0.0.1:8765");
  ASSERT_TRUE(cfg.api.ris_live_tcp.has_value());
  EXPECT_EQ(cfg.api.ris_live_tcp->address.to_string(), "127.0.0.1");
  EXPECT_EQ(cfg.api.ris_live_tcp->port, 8765);
  // The port defaults to RIS Live's own choice here, 8765; IPv6 in brackets.
  const auto v6 =
      parse(with("exporters:", "api:\n  ris_live: \"[::1]:9000\"\nexporters:"), "c.yaml");
  EXPECT_EQ(v6.api.ris_live_tcp->address.to_string(), "::1");
  EXPECT_EQ(v6.api.ris_live_tcp->port, 9000);
  const auto bare = parse(with("exporters:", "api:\n  ris_live: 127.0.0.1\nexporters:"), "c.yaml");
  EXPECT_EQ(bare.api.ris_live_tcp->port, 8765);
  EXPECT_FALSE(cfg.api == parse(kGood, "c.yaml").api);

  const std::pair<std::string, std::string> mistakes[] = {
      {"api:\n  ris_live: 127.0.0.1:99999\n", "99999"},
      {"api:\n  ris_live: localhost:8765\n", "not an address"},
      {"api:\n  enabled: false\n  ris_live: 127.0.0.1:8765\n", "'ris_live' needs the API"},
  };
  for (const auto& [text, want] : mistakes) {
    const auto e = error_of(with("exporters:", text + "exporters:"));
    EXPECT_NE(e.find(want), std::string::npos) << "want: " << want << "\n got: " << e;
  }
}

TEST(Config, MissingFileIsAClearError) {
  try {
    (void)load("/nonexistent/collector.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/collector.yaml: cannot read the config file");
  }
}

}  // namespace
}  // namespace bgpscribe::collector::config
