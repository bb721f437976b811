// The metrics endpoint's text (collector/api/metrics.hpp) without a socket: the exposition
// format's rules (HELP and TYPE once per family before its samples, counters ending in _total,
// label values escaped, histogram buckets cumulative) and the figures of a status view. The
// endpoint itself, promtool and a real Prometheus are metrics_e2e in ../run.
#include "collector/api/metrics.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "collector/core/exporter_worker.hpp"

namespace bgpscribe::collector::api {
namespace {

namespace bgp = codec::bgp;

exporters::PeerInfoPtr peer(std::uint32_t id, std::string name, std::string router = {}) {
  auto p = std::make_shared<exporters::PeerInfo>();
  p->id = id;
  p->name = std::move(name);
  p->peer_address = *bgp::IpAddress::parse("192.0.2." + std::to_string(id));
  p->peer_as = 64500 + id;
  p->router = std::move(router);
  return p;
}

StatusView sample_view() {
  StatusView v;
  v.name = "rrc99";
  v.started_us = 1'700'000'000'000'000;
  v.now_us = v.started_us + 90'000'000;
  v.messages = 1234;
  v.routes = 7;
  v.refused.unmatched = 3;
  v.refused.open_refused = 2;
  PeerView up;
  up.info = peer(1, R"(edge "a"\b)");
  up.state = exporters::SessionState::Established;
  up.state_since_us = v.now_us - 60'000'000;
  up.messages = 40;
  up.counters.families = {{bgp::kIpv4Unicast, 5, 9, 4}, {bgp::kIpv6Unicast, 2, 2, 0}};
  up.counters.treat_as_withdraw_updates = 1;
  up.sessions_ended = 2;
  v.peers.push_back(up);
  PeerView bmp;
  bmp.info = peer(2, "monitored", "router1");
  bmp.state = exporters::SessionState::Idle;
  v.peers.push_back(bmp);
  ExporterView e;
  e.name = "mrt";
  e.type = "mrt";
  e.pushed = 10;
  e.delivered = 10;
  e.lag_buckets.assign(WorkerStats::kLagBoundsUs.size() + 1, 0);
  e.lag_buckets[0] = 6;
  e.lag_buckets[2] = 3;
  e.lag_buckets.back() = 1;
  e.lag_sum_us = 700'250'000;
  e.details.push_back(
      exporters::Metric{.name = "files_written", .value = 3, .counter = true, .help = "files"});
  e.alarms.emplace_back("disk full");
  v.exporters.push_back(e);
  return v;
}

// name{labels} -> value, and the families declared (name -> type), checking the format's
// order rules on the way.
struct Parsed {
  std::map<std::string, std::string> samples;
  std::map<std::string, std::string> types;
};

Parsed parse(const std::string& text) {
  Parsed p;
  std::set<std::string> helped;
  std::string current;  // the family whose samples may follow
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# HELP ", 0) == 0) {
      const auto name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(helped.insert(name).second) << "HELP twice: " << name;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string name;
      std::string type;
      t >> name >> type;
      EXPECT_TRUE(p.types.emplace(name, type).second) << "TYPE twice: " << name;
      EXPECT_TRUE(helped.contains(name)) << "TYPE without HELP: " << name;
      if (type == "counter") {
        EXPECT_TRUE(name.ends_with("_total")) << "a counter's name: " << name;
      }
      current = name;
      continue;
    }
    const auto space = line.rfind(' ');
    if (space == std::string::npos) {
      ADD_FAILURE() << "not a sample: " << line;
      continue;
    }
    const auto key = line.substr(0, space);
    const auto name = key.substr(0, key.find('{'));
    EXPECT_TRUE(name == current || name == current + "_bucket" || name == current + "_sum" ||
                name == current + "_count")
        << "sample outside its family: " << line;
    EXPECT_TRUE(p.samples.emplace(key, line.substr(space + 1)).second) << "twice: " << line;
  }
  return p;
}

TEST(Metrics, FollowsTheExpositionFormat) {
  const auto text = render_metrics(sample_view(), sample_process(), "1.2.3");
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  const auto p = parse(text);
  EXPECT_EQ(p.types.at("bgpscribe_exporter_delivery_lag_seconds"), "histogram");
  EXPECT_EQ(p.types.at("bgpscribe_peer_up"), "gauge");
  EXPECT_EQ(p.types.at("process_cpu_seconds_total"), "counter");
  EXPECT_EQ(p.samples.at(R"(bgpscribe_build_info{version="1.2.3",collector="rrc99"})"), "1");
}

TEST(Metrics, ShowsThePeers) {
  const auto p = parse(render_metrics(sample_view(), std::nullopt, "1"));
  // Quotes and backslashes in a label value are escaped.
  const std::string a = R"({peer="edge \"a\"\\b",address="192.0.2.1",peer_as="64501")";
  EXPECT_EQ(p.samples.at("bgpscribe_peer_up" + a + "}"), "1");
  EXPECT_EQ(p.samples.at("bgpscribe_peer_uptime_seconds" + a + "}"), "60");
  EXPECT_EQ(p.samples.at("bgpscribe_peer_state" + a + R"(,state="Established"})"), "1");
  EXPECT_EQ(p.samples.at("bgpscribe_peer_state" + a + R"(,state="Idle"})"), "0");
  EXPECT_EQ(p.samples.at("bgpscribe_peer_routes" + a + R"(,family="ipv4/unicast"})"), "5");
  EXPECT_EQ(
      p.samples.at("bgpscribe_peer_prefixes_announced_total" + a + R"(,family="ipv4/unicast"})"),
      "9");
  EXPECT_EQ(
      p.samples.at("bgpscribe_peer_prefixes_withdrawn_total" + a + R"(,family="ipv4/unicast"})"),
      "4");
  EXPECT_EQ(
      p.samples.at("bgpscribe_peer_prefixes_announced_total" + a + R"(,family="ipv6/unicast"})"),
      "2");
  EXPECT_EQ(p.samples.at("bgpscribe_peer_session_resets_total" + a + "}"), "2");
  EXPECT_EQ(p.samples.at("bgpscribe_peer_treat_as_withdraw_updates_total" + a + "}"), "1");
  EXPECT_EQ(p.samples.at("bgpscribe_peer_messages_received_total" + a + "}"), "40");
  // A BMP source carries its router; it is not up, so no uptime.
  const std::string b = R"({peer="monitored",address="192.0.2.2",peer_as="64502",router="router1")";
  EXPECT_EQ(p.samples.at("bgpscribe_peer_up" + b + "}"), "0");
  EXPECT_EQ(p.samples.at("bgpscribe_peer_uptime_seconds" + b + "}"), "0");
  // Every state of a peer is there, exactly one of them 1.
  int states = 0;
  int ones = 0;
  for (const auto& [k, v] : p.samples) {
    if (k.rfind("bgpscribe_peer_state" + a, 0) == 0) {
      ++states;
      ones += v == "1" ? 1 : 0;
    }
  }
  EXPECT_EQ(states, 6);
  EXPECT_EQ(ones, 1);
  EXPECT_EQ(p.samples.at(R"(bgpscribe_refused_total{reason="unknown_source"})"), "3");
  EXPECT_EQ(p.samples.at(R"(bgpscribe_refused_total{reason="open_refused"})"), "2");
  EXPECT_EQ(p.samples.at(R"(bgpscribe_refused_total{reason="range_full"})"), "0");
  EXPECT_EQ(p.samples.at("bgpscribe_messages_total"), "1234");
}

TEST(Metrics, TheLagHistogramIsCumulative) {
  const auto p = parse(render_metrics(sample_view(), std::nullopt, "1"));
  const std::string e =
      R"(bgpscribe_exporter_delivery_lag_seconds_bucket{exporter="mrt",type="mrt",le=)";
  EXPECT_EQ(p.samples.at(e + R"("0.001"})"), "6");
  EXPECT_EQ(p.samples.at(e + R"("0.01"})"), "6");
  EXPECT_EQ(p.samples.at(e + R"("0.1"})"), "9");
  EXPECT_EQ(p.samples.at(e + R"("600"})"), "9");
  EXPECT_EQ(p.samples.at(e + R"("+Inf"})"), "10");
  const std::string l = R"({exporter="mrt",type="mrt"})";
  EXPECT_EQ(p.samples.at("bgpscribe_exporter_delivery_lag_seconds_count" + l), "10");
  EXPECT_EQ(p.samples.at("bgpscribe_exporter_delivery_lag_seconds_sum" + l), "700.25");
  EXPECT_EQ(p.samples.at("bgpscribe_exporter_delivered_total" + l), "10");
  EXPECT_EQ(
      p.samples.at(R"(bgpscribe_exporter_alarm{exporter="mrt",type="mrt",alarm="disk full"})"),
      "1");
  EXPECT_EQ(
      p.samples.at(R"(bgpscribe_exporter_detail{exporter="mrt",type="mrt",name="files_written"})"),
      "3");
}

TEST(Metrics, SamplesThisProcess) {
  const auto s = sample_process();
  ASSERT_TRUE(s.has_value());
  EXPECT_GT(s->resident_bytes, 0U);
  EXPECT_GT(s->virtual_bytes, s->resident_bytes / 2);
  EXPECT_GE(s->open_fds, 3U);  // stdin, stdout, stderr at least
  EXPECT_GT(s->max_fds, s->open_fds);
  EXPECT_GE(s->threads, 1U);
  EXPECT_GE(s->cpu_seconds, 0.0);
  // It started in the last hour, not in the future.
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(s->start_time_seconds, now + 1);
  EXPECT_GT(s->start_time_seconds, now - 3600);
}

}  // namespace
}  // namespace bgpscribe::collector::api
