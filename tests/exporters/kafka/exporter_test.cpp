// The Kafka exporter (exporters/kafka) against librdkafka's mock cluster: real Kafka protocol
// on loopback, brokers in this process.
//
// The records are the UPDATEs of a real update file (the 2015 full table from one peer) from
// two peers taking turns, with session steps between them for peer events. Every test reads
// the topics back with a consumer of its own (librdkafka's, or kcat) and checks each message
// against what EventEncoder makes of the same records: every event exactly once, each key's
// events in their order, the same bytes. One test takes a broker down mid-feed and moves the
// partition leaders, with the collector's worker and spool in front of the exporter.
#include "exporters/kafka/exporter.hpp"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/file.hpp"
#include "collector/core/exporter_worker.hpp"
#include "exporters/api/config.hpp"
#include "exporters/api/record_codec.hpp"
#include "exporters/events/convert.hpp"
#include "tests/support/command.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/real_records.hpp"
#include "tests/support/records.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace bgpscribe::exporters::kafka {
namespace {

namespace mrt = codec::mrt;
using namespace std::chrono_literals;

const std::string kUpdates =
    std::string(BGPSCRIBE_SHARED_DATA) + "/mrt/bgpdump/test_data/updates.et-header.2015.gz";
const std::string kRoutes = "bgpscribe.routes";
const std::string kPeers = "bgpscribe.peers";
// The mock cluster keeps about 5 MB per partition (older messages go): the feeds below stay
// well under that.
constexpr int kRoutePartitions = 8;

// The first `updates` UPDATEs of the real file from two peers, with session steps.
std::vector<Record> load_records(std::size_t updates) {
  return tests::real_update_records(kUpdates, updates, 0, 5000);
}

// What the exporter must produce: per topic, per key, the serialized events in order.
using Expected = std::map<std::string, std::map<std::string, std::vector<std::string>>>;

Expected expected_of(const std::vector<Record>& records, std::size_t& total) {
  Expected out;
  total = 0;
  events::EventEncoder encoder(events::Options{"rrc99"});
  for (const auto& r : records) {
    events::EventBlock block;
    const auto n = encoder.append(r, block);
    for (std::size_t i = 0; i < n; ++i) {
      const auto view = block.view(i);
      std::string key = std::to_string(r.peer->id);
      std::string topic = kPeers;
      if (view.kind == events::EventView::Kind::Route) {
        key += "|" + view.prefix->to_string();
        topic = kRoutes;
      }
      std::string bytes;
      block.append_event(i, false, bytes);
      out[topic][key].push_back(std::move(bytes));
      ++total;
    }
  }
  return out;
}

// A mock cluster of `brokers` brokers with the two topics, replicated on each.
// The routes and peers topics on `brokers` brokers.
class MockCluster : public tests::KafkaMockCluster {
 public:
  explicit MockCluster(int brokers)
      : KafkaMockCluster(brokers, {{kRoutes, kRoutePartitions}, {kPeers, 1}}) {}
};

Options options_for(const MockCluster& cluster) {
  Options o;
  o.collector_name = "rrc99";
  o.brokers = {cluster.bootstraps()};
  o.stop_timeout = 30s;
  return o;
}

// Reads every partition of both topics from the beginning, checking each message against
// `expected` as it comes; ends once `total` messages came and nothing more for a second, or
// after `timeout`.
struct ConsumeResult {
  std::size_t messages = 0;
  std::size_t mismatched = 0;  // not the key's next event (wrong bytes, order or a double)
  std::size_t unexpected = 0;  // a key or topic not expected at all
  std::size_t split_keys = 0;  // a key seen in two partitions
  std::string first_problem;
};

ConsumeResult consume(const std::string& bootstraps, const Expected& expected, std::size_t total,
                      std::chrono::seconds timeout) {
  ConsumeResult out;
  std::array<char, 256> error{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : std::map<std::string, std::string>{{"bootstrap.servers", bootstraps},
                                                               {"group.id", "kafka_exporter_test"},
                                                               {"enable.auto.commit", "false"}}) {
    EXPECT_EQ(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), error.data(), error.size()),
              RD_KAFKA_CONF_OK)
        << error.data();
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error.data(), error.size());
  EXPECT_NE(rk, nullptr) << error.data();
  if (rk == nullptr) {
    return out;
  }
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(kRoutePartitions + 1);
  for (int p = 0; p < kRoutePartitions; ++p) {
    rd_kafka_topic_partition_list_add(parts, kRoutes.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_topic_partition_list_add(parts, kPeers.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  EXPECT_EQ(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);

  std::map<std::string, std::size_t> next;  // topic/key -> index of its next event
  std::map<std::string, std::int32_t> partition_of;
  const auto problem = [&out](const std::string& text) {
    if (out.first_problem.empty()) {
      out.first_problem = text;
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto quiet_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) {
      if (out.messages >= total && std::chrono::steady_clock::now() - quiet_since > 1s) {
        break;
      }
      continue;
    }
    quiet_since = std::chrono::steady_clock::now();
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        problem(std::string("consumer: ") + rd_kafka_err2str(m->err));
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    ++out.messages;
    const std::string topic = rd_kafka_topic_name(m->rkt);
    const std::string key(static_cast<const char*>(m->key), m->key_len);
    const std::string payload(static_cast<const char*>(m->payload), m->len);
    std::string id = topic;
    id += '/';
    id += key;
    const auto [at, fresh] = partition_of.emplace(id, m->partition);
    if (!fresh && at->second != m->partition) {
      ++out.split_keys;
    }
    const auto t = expected.find(topic);
    const auto k = t == expected.end() ? decltype(t->second.end()){} : t->second.find(key);
    if (t == expected.end() || k == t->second.end()) {
      ++out.unexpected;
      problem("unexpected key " + id);
    } else {
      auto& i = next[id];
      if (i >= k->second.size() || k->second[i] != payload) {
        ++out.mismatched;
        problem("key " + id + ": message " + std::to_string(i) + " is not the expected event");
      }
      ++i;
    }
    rd_kafka_message_destroy(m);
  }
  // A partition whose log no longer starts at 0 lost messages to the mock's size limit.
  for (int p = 0; p < kRoutePartitions; ++p) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(rk, kRoutes.c_str(), p, &low, &high, 5000) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        low != 0) {
      problem("partition " + std::to_string(p) + " starts at offset " + std::to_string(low) +
              ": the mock cluster dropped older messages (feed fewer)");
    }
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

std::uint64_t metric(const std::vector<Metric>& metrics, const std::string& name) {
  for (const auto& m : metrics) {
    if (m.name == name) {
      return static_cast<std::uint64_t>(m.value);
    }
  }
  ADD_FAILURE() << "no metric " << name;
  return 0;
}

TEST(KafkaExporter, EveryEventOfARealUpdateFileExactlyOnceInOrderPerKey) {
  if (!std::filesystem::exists(kUpdates)) {
    GTEST_SKIP() << "shared data not found: " << kUpdates;
  }
  const auto records = load_records(4000);
  std::size_t total = 0;
  const auto expected = expected_of(records, total);
  ASSERT_GT(expected.at(kPeers).size(), 0U);
  ASSERT_GT(total, 20'000U);

  MockCluster cluster(3);
  KafkaExporter exporter("kafka", options_for(cluster));
  exporter.start();
  for (const auto& r : records) {
    exporter.accept(r);
  }
  exporter.flush(0);
  exporter.stop();
  EXPECT_EQ(exporter.counts().produced, total);
  EXPECT_EQ(exporter.counts().delivered, total);
  EXPECT_EQ(exporter.counts().failed, 0U);
  EXPECT_EQ(exporter.counts().undelivered, 0U);
  EXPECT_EQ(exporter.durable_seq(), records.back().seq);

  const auto got = consume(cluster.bootstraps(), expected, total, 60s);
  EXPECT_EQ(got.messages, total) << got.first_problem;
  EXPECT_EQ(got.mismatched, 0U) << got.first_problem;
  EXPECT_EQ(got.unexpected, 0U) << got.first_problem;
  EXPECT_EQ(got.split_keys, 0U);
}

// A broker down mid-feed and every partition's leader moved off it: librdkafka's queue fills,
// accept() waits, the worker spools behind it, and once the partitions have leaders again
// everything arrives, once, in order per key.
TEST(KafkaExporter, BrokerDownAndLeadersMovedLoseNothingThroughTheSpool) {
  if (!std::filesystem::exists(kUpdates)) {
    GTEST_SKIP() << "shared data not found: " << kUpdates;
  }
  const auto records = load_records(4000);
  std::size_t total = 0;
  const auto expected = expected_of(records, total);

  MockCluster cluster(3);
  auto options = options_for(cluster);
  options.queue_messages = 2000;  // small: the outage fills it soon
  tests::TempDir dir("bgpscribe-kafka");
  collector::QueueLimits limits;
  limits.max_records = 1000;  // small: the worker spools soon
  limits.stop_timeout = 60s;
  collector::ExporterWorker worker(std::make_unique<KafkaExporter>("kafka", options), limits,
                                   (dir / "spool").string());
  worker.start();

  const std::size_t third = records.size() / 3;
  std::size_t i = 0;
  for (; i < third; ++i) {
    ASSERT_TRUE(worker.push(records[i]));
  }
  rd_kafka_mock_broker_set_down(cluster.get(), 1);
  for (; i < 2 * third; ++i) {
    ASSERT_TRUE(worker.push(records[i]));
  }
  // With broker 1's partitions stalled, the records pile up behind the exporter.
  EXPECT_TRUE(tests::wait_until([&] { return worker.stats().spooled.load() > 0; }, 20s));
  // Every partition led by broker 2 or 3 from now on.
  for (int p = 0; p < kRoutePartitions; ++p) {
    rd_kafka_mock_partition_set_leader(cluster.get(), kRoutes.c_str(), p, 2 + p % 2);
  }
  rd_kafka_mock_partition_set_leader(cluster.get(), kPeers.c_str(), 0, 3);
  for (; i < records.size(); ++i) {
    ASSERT_TRUE(worker.push(records[i]));
  }
  std::this_thread::sleep_for(1s);
  rd_kafka_mock_broker_set_up(cluster.get(), 1);
  EXPECT_TRUE(tests::wait_until(
      [&] {
        const auto m = worker.metrics();
        return !m.empty() && metric(m, "delivered") >= total;
      },
      60s, 100ms));
  const auto metrics = worker.metrics();
  worker.stop();

  EXPECT_EQ(worker.stats().dropped.load(), 0U);
  EXPECT_EQ(worker.stats().failed.load(), 0U);
  EXPECT_EQ(worker.stats().delivered.load(), records.size());
  EXPECT_GT(worker.stats().spooled.load(), 0U);
  EXPECT_EQ(metric(metrics, "produced"), total);
  EXPECT_EQ(metric(metrics, "delivered"), total);
  EXPECT_EQ(metric(metrics, "failed"), 0U);
  EXPECT_GT(metric(metrics, "queue_full"), 0U) << "the outage does not show";

  const auto got = consume(cluster.bootstraps(), expected, total, 60s);
  EXPECT_EQ(got.messages, total) << got.first_problem;
  EXPECT_EQ(got.mismatched, 0U) << got.first_problem;
  EXPECT_EQ(got.unexpected, 0U) << got.first_problem;
  EXPECT_EQ(got.split_keys, 0U);
}

// kcat, an independent consumer, reads the JSON encoding: as many messages as events, each
// the JSON of the expected event.
TEST(KafkaExporter, KcatReadsTheJsonEncoding) {
  if (!std::filesystem::exists(kUpdates)) {
    GTEST_SKIP() << "shared data not found: " << kUpdates;
  }
  if (!tests::have_command("kcat")) {
    GTEST_SKIP() << "kcat is not installed (scripts/install-deps installs it)";
  }
  const auto records = load_records(600);
  std::size_t total = 0;
  const auto expected = expected_of(records, total);

  MockCluster cluster(1);
  auto options = options_for(cluster);
  options.encoding = Encoding::Json;
  KafkaExporter exporter("kafka", options);
  exporter.start();
  for (const auto& r : records) {
    exporter.accept(r);
  }
  exporter.stop();
  ASSERT_EQ(exporter.counts().delivered, total);

  std::size_t lines = 0;
  std::size_t mismatched = 0;
  std::string first_problem;
  for (const auto& topic : {kRoutes, kPeers}) {
    // One line per message: the key, a tab, the value (one line of JSON).
    const auto r = tests::run_command("kcat", {"-C", "-b", cluster.bootstraps(), "-t", topic, "-o",
                                               "beginning", "-e", "-q", "-f", "%k\t%s\n"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::map<std::string, std::size_t> next;
    for (const auto& line : tests::lines_of(r.out)) {
      ++lines;
      const auto tab = line.find('\t');
      ASSERT_NE(tab, std::string::npos) << line;
      const auto key = line.substr(0, tab);
      bgpscribe::v1::Event event;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line.substr(tab + 1), &event).ok())
          << line;
      const auto& events = expected.at(topic).at(key);
      auto& i = next[key];
      if (i >= events.size() || event.SerializeAsString() != events[i]) {
        ++mismatched;
        if (first_problem.empty()) {
          first_problem = line;
        }
      }
      ++i;
    }
  }
  EXPECT_EQ(lines, total);
  EXPECT_EQ(mismatched, 0U) << first_problem;
}

// A stop with the broker away gives up after stop_timeout: what is left is counted, and the
// position file stays at the last record delivered whole, where the next start resumes.
TEST(KafkaExporter, StopWithTheBrokerAwayCountsWhatIsLeftAndKeepsThePosition) {
  if (!std::filesystem::exists(kUpdates)) {
    GTEST_SKIP() << "shared data not found: " << kUpdates;
  }
  const auto records = load_records(300);
  MockCluster cluster(1);
  tests::TempDir dir("bgpscribe-kafka");
  auto options = options_for(cluster);
  options.position_file = (dir / "kafka-k.position").string();
  options.stop_timeout = 1s;
  constexpr std::size_t kBefore = 150;
  {
    KafkaExporter exporter("k", options);
    exporter.start();
    EXPECT_EQ(exporter.resume_after(), 0U);
    for (std::size_t i = 0; i < kBefore; ++i) {
      exporter.accept(records[i]);
    }
    ASSERT_TRUE(tests::wait_until(
        [&] {
          exporter.flush(0);
          return exporter.durable_seq() == records[kBefore - 1].seq;
        },
        20s));
    rd_kafka_mock_broker_set_down(cluster.get(), 1);
    for (std::size_t i = kBefore; i < records.size(); ++i) {
      exporter.accept(records[i]);
    }
    exporter.stop();
    EXPECT_GT(exporter.counts().undelivered, 0U);
    EXPECT_EQ(exporter.counts().failed, 0U);
    EXPECT_EQ(exporter.counts().delivered + exporter.counts().undelivered,
              exporter.counts().produced);
    EXPECT_EQ(exporter.durable_seq(), records[kBefore - 1].seq);
  }
  KafkaExporter again("k", options);
  again.start();
  EXPECT_EQ(again.resume_after(), records[kBefore - 1].seq);
  rd_kafka_mock_broker_set_up(cluster.get(), 1);
  again.stop();
}

// A fatal error of the idempotent producer (fabricated: a real one is a broker that lost
// acknowledged data) mid-feed: a new producer takes over, nothing is lost or doubled.
TEST(KafkaExporter, AFatalProducerErrorIsSurvivedWithANewProducer) {
  if (!std::filesystem::exists(kUpdates)) {
    GTEST_SKIP() << "shared data not found: " << kUpdates;
  }
  const auto records = load_records(1000);
  std::size_t total = 0;
  const auto expected = expected_of(records, total);
  MockCluster cluster(3);
  KafkaExporter exporter("kafka", options_for(cluster));
  exporter.start();
  const std::size_t half = records.size() / 2;
  for (std::size_t i = 0; i < half; ++i) {
    exporter.accept(records[i]);
  }
  ASSERT_TRUE(tests::wait_until(
      [&] {
        exporter.flush(0);
        return exporter.durable_seq() == records[half - 1].seq;
      },
      20s));
  ASSERT_EQ(rd_kafka_test_fatal_error(exporter.producer(),
                                      RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "test"),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  for (std::size_t i = half; i < records.size(); ++i) {
    exporter.accept(records[i]);
  }
  exporter.stop();
  EXPECT_EQ(exporter.counts().producer_restarts, 1U);
  EXPECT_EQ(exporter.counts().failed, 0U);
  EXPECT_EQ(exporter.counts().undelivered, 0U);
  EXPECT_EQ(exporter.counts().delivered, total);
  EXPECT_EQ(exporter.durable_seq(), records.back().seq);

  const auto got = consume(cluster.bootstraps(), expected, total, 30s);
  EXPECT_EQ(got.messages, total) << got.first_problem;
  EXPECT_EQ(got.mismatched, 0U) << got.first_problem;
}

// The records topic: every record but RIB snapshots once, in the collector's record encoding,
// keyed by the peer id with the collector's name and the format in headers, each peer's
// records in their order (in one partition); the event topics as without it.
TEST(KafkaExporter, TheRecordsTopicCarriesEveryRecordOnceInOrderPerPeer) {
  if (!std::filesystem::exists(kUpdates)) {
    GTEST_SKIP() << "shared data not found: " << kUpdates;
  }
  const auto records = load_records(2000);
  std::size_t total = 0;
  const auto expected = expected_of(records, total);
  MockCluster cluster(3);
  const std::string records_topic = "bgpscribe.records";
  constexpr int kRecordPartitions = 4;
  rd_kafka_mock_topic_create(cluster.get(), records_topic.c_str(), kRecordPartitions, 3);
  auto options = options_for(cluster);
  options.records_topic = records_topic;
  KafkaExporter exporter("kafka", options);
  exporter.start();
  Record snapshot;  // not produced
  snapshot.type = RecordType::RibSnapshot;
  snapshot.seq = records.back().seq;
  for (const auto& r : records) {
    exporter.accept(r);
  }
  exporter.accept(snapshot);
  exporter.stop();
  EXPECT_EQ(exporter.counts().records, records.size());
  EXPECT_EQ(exporter.counts().delivered, total + records.size());
  EXPECT_EQ(exporter.counts().failed, 0U);
  EXPECT_EQ(exporter.durable_seq(), records.back().seq);

  // Per peer id, the encodings of its records in order.
  std::map<std::string, std::vector<std::vector<std::uint8_t>>> want;
  std::map<std::string, std::vector<const Record*>> records_of;
  std::map<std::string, PeerInfoPtr> peer_of;
  for (const auto& r : records) {
    codec::wire::Writer w;
    encode_record(r, 0, w);
    const auto b = w.bytes();
    const auto key = std::to_string(r.peer->id);
    want[key].emplace_back(b.begin(), b.end());
    records_of[key].push_back(&r);
    peer_of[key] = r.peer;
  }

  std::array<char, 256> error{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", cluster.bootstraps().c_str(), error.data(),
                              error.size()),
            RD_KAFKA_CONF_OK);
  ASSERT_EQ(rd_kafka_conf_set(conf, "group.id", "records_test", error.data(), error.size()),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error.data(), error.size());
  ASSERT_NE(rk, nullptr) << error.data();
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(kRecordPartitions);
  for (int p = 0; p < kRecordPartitions; ++p) {
    rd_kafka_topic_partition_list_add(parts, records_topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  ASSERT_EQ(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);
  std::map<std::string, std::size_t> next;
  std::map<std::string, std::int32_t> partition_of;
  std::size_t got = 0;
  std::size_t mismatched = 0;
  std::size_t bad_headers = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (got < records.size() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) {
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++got;
      const std::string key(static_cast<const char*>(m->key), m->key_len);
      const auto [at, fresh] = partition_of.emplace(key, m->partition);
      EXPECT_TRUE(fresh || at->second == m->partition) << "peer " << key << " split";
      rd_kafka_headers_t* headers = nullptr;
      const void* value = nullptr;
      std::size_t size = 0;
      if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
          rd_kafka_header_get_last(headers, "collector", &value, &size) !=
              RD_KAFKA_RESP_ERR_NO_ERROR ||
          std::string(static_cast<const char*>(value), size) != "rrc99" ||
          rd_kafka_header_get_last(headers, "format", &value, &size) !=
              RD_KAFKA_RESP_ERR_NO_ERROR ||
          std::string(static_cast<const char*>(value), size) != kRecordFormat) {
        ++bad_headers;
      }
      const std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(m->payload),
                                                m->len);
      const std::vector<std::uint8_t> payload(bytes.begin(), bytes.end());
      auto& i = next[key];
      const auto w = want.find(key);
      if (w == want.end() || i >= w->second.size() || w->second[i] != payload) {
        ++mismatched;
      } else {
        // Decodes to the same record, peer included.
        std::uint64_t snapshot_id = 1;
        const auto back = decode_record(payload, snapshot_id);
        if (!back || back->peer == nullptr || *back->peer != *peer_of.at(key) ||
            back->seq != records_of.at(key).at(i)->seq) {
          ++mismatched;
        }
      }
      ++i;
    }
    rd_kafka_message_destroy(m);
  }
  for (int p = 0; p < kRecordPartitions; ++p) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    ASSERT_EQ(rd_kafka_query_watermark_offsets(rk, records_topic.c_str(), p, &low, &high, 5000),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ(low, 0) << "the mock cluster dropped messages of partition " << p;
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  EXPECT_EQ(got, records.size());
  EXPECT_EQ(mismatched, 0U);
  EXPECT_EQ(bad_headers, 0U);

  const auto events = consume(cluster.bootstraps(), expected, total, 30s);
  EXPECT_EQ(events.messages, total) << events.first_problem;
  EXPECT_EQ(events.mismatched, 0U) << events.first_problem;
}

TEST(KafkaExporter, BadOptionsAreRefusedNamingTheKey) {
  const ExporterContext context{"k", "rrc99", "collector.yaml", "state"};
  const auto refused = [&](const std::string& yaml, const std::string& words) {
    try {
      (void)parse_options(context, YAML::Load(yaml));
      ADD_FAILURE() << "accepted: " << yaml;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos)
          << e.what() << " (wanted: " << words << ")";
    }
  };
  refused("{type: kafka}", "brokers");
  refused("{type: kafka, brokers: []}", "brokers");
  refused("{type: kafka, brokers: [a:9092], encoding: xml}", "encoding");
  refused("{type: kafka, brokers: [a:9092], topics: {routes: 'a b'}}", "routes");
  refused("{type: kafka, brokers: [a:9092], topics: {route: x}}", "route");
  refused("{type: kafka, brokers: [a:9092], topics: {records: ''}}", "records");
  refused("{type: kafka, brokers: [a:9092], properties: {no.such.property: 1}}",
          "properties.no.such.property");
  refused("{type: kafka, brokers: [a:9092], properties: {acks: 1}}", "properties.acks");
  refused("{type: kafka, brokers: [a:9092], queue_messages: 0}", "queue_messages");
  refused("{type: kafka, brokers: [a:9092], colour: red}", "colour");

  const auto o = parse_options(
      context, YAML::Load("{type: kafka, brokers: [a:9092, b:9092], encoding: json, topics: "
                          "{routes: r, peers: p}, client_id: c, queue_messages: 5, "
                          "delivery_timeout: 5m, stop_timeout: 3s, "
                          "properties: {compression.type: zstd}}"));
  EXPECT_EQ(o.brokers.size(), 2U);
  EXPECT_EQ(o.encoding, Encoding::Json);
  EXPECT_EQ(o.routes_topic, "r");
  EXPECT_EQ(o.peers_topic, "p");
  EXPECT_TRUE(o.records_topic.empty());  // not produced unless named
  EXPECT_EQ(o.client_id, "c");
  EXPECT_EQ(o.queue_messages, 5);
  EXPECT_EQ(o.delivery_timeout, 300s);
  EXPECT_EQ(o.stop_timeout, 3s);
  EXPECT_EQ(o.properties.at("compression.type"), "zstd");
}

}  // namespace
}  // namespace bgpscribe::exporters::kafka
