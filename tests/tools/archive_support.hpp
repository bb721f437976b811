// The parts of the archiver tests (archive_test.cpp, archive_pg_test.cpp) that set up Kafka:
// librdkafka's mock cluster with the records topic, a collector's Kafka exporter producing to
// it, the group's offsets, and the `bgpscribe archive` binary as a process of its own.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spawn.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "exporters/api/record.hpp"
#include "exporters/kafka/exporter.hpp"
#include "tests/support/kafka_mock.hpp"

namespace bgpscribe::tests::archive {

inline const std::string kRecordsTopic = "bgpscribe.records";
inline constexpr int kPartitions = 4;

// The records topic and the exporter's event topics, on three brokers.
class MockCluster : public KafkaMockCluster {
 public:
  MockCluster()
      : KafkaMockCluster(3, {{kRecordsTopic, kPartitions},
                             {"bgpscribe.routes", kPartitions},
                             {"bgpscribe.peers", 1}}) {}
};

// The bootstrap servers as the items of a YAML list ("host:port, host:port").
inline std::string brokers_yaml(const MockCluster& cluster) {
  std::string brokers = cluster.bootstraps();
  for (std::size_t at = 0; (at = brokers.find(',', at)) != std::string::npos; at += 2) {
    brokers.replace(at, 1, ", ");
  }
  return brokers;
}

// The records to the records topic through a collector's Kafka exporter.
inline void produce(const std::vector<exporters::Record>& records, const std::string& collector,
                    const MockCluster& cluster) {
  exporters::kafka::Options options;
  options.collector_name = collector;
  options.brokers = {cluster.bootstraps()};
  options.records_topic = kRecordsTopic;
  options.stop_timeout = std::chrono::seconds(30);
  exporters::kafka::KafkaExporter exporter("kafka", options);
  exporter.start();
  for (const auto& r : records) {
    exporter.accept(r);
  }
  exporter.stop();
  ASSERT_EQ(exporter.counts().records, records.size());
  ASSERT_EQ(exporter.counts().failed + exporter.counts().undelivered, 0U);
}

// Per partition of the records topic: the low and high watermarks, and the group's committed
// offset.
struct PartitionOffsets {
  std::int64_t low = -1;
  std::int64_t high = -1;
  std::int64_t committed = -1;
};
inline std::vector<PartitionOffsets> offsets(const MockCluster& cluster) {
  std::vector<PartitionOffsets> out(kPartitions);
  std::array<char, 256> error{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  EXPECT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", cluster.bootstraps().c_str(), error.data(),
                              error.size()),
            RD_KAFKA_CONF_OK);
  EXPECT_EQ(rd_kafka_conf_set(conf, "group.id", "archive-test", error.data(), error.size()),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error.data(), error.size());
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(kPartitions);
  for (int p = 0; p < kPartitions; ++p) {
    auto& o = out.at(static_cast<std::size_t>(p));
    EXPECT_EQ(rd_kafka_query_watermark_offsets(rk, kRecordsTopic.c_str(), p, &o.low, &o.high, 5000),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_add(parts, kRecordsTopic.c_str(), p);
  }
  EXPECT_EQ(rd_kafka_committed(rk, parts, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
  for (int p = 0; p < kPartitions; ++p) {
    out.at(static_cast<std::size_t>(p)).committed =
        std::span(parts->elems, static_cast<std::size_t>(parts->cnt))[static_cast<std::size_t>(p)]
            .offset;
  }
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_destroy(rk);
  return out;
}

// `bgpscribe archive` (the binary) on `config`, its output appended to `log`.
inline pid_t spawn_archiver(const std::filesystem::path& config, const std::filesystem::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args{BGPSCRIBE_BINARY, "archive", "-c", config.string()};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, BGPSCRIBE_BINARY, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

}  // namespace bgpscribe::tests::archive
