// Test support: librdkafka's mock cluster (real Kafka protocol on loopback, no broker to run)
// with the topics a test needs, for the Kafka exporter's and the archiver's tests.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <array>
#include <initializer_list>
#include <string>
#include <utility>

namespace bgpscribe::tests {

class KafkaMockCluster {
 public:
  // `brokers` brokers; each topic (name, partitions) replicated on all of them.
  KafkaMockCluster(int brokers, std::initializer_list<std::pair<std::string, int>> topics) {
    std::array<char, 256> error{};
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), error.data(), error.size());
    cluster_ = rd_kafka_mock_cluster_new(rk_, brokers);
    for (const auto& [name, partitions] : topics) {
      rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, brokers);
    }
  }
  ~KafkaMockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(rk_);
  }
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

  // "host:port,host:port,..."
  [[nodiscard]] std::string bootstraps() const {
    return rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  // For rd_kafka_mock_* calls (brokers down, leaders moved).
  [[nodiscard]] rd_kafka_mock_cluster_t* get() const { return cluster_; }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

}  // namespace bgpscribe::tests
