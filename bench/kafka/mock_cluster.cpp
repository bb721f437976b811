// mock_cluster: librdkafka's mock cluster (rdkafka_mock.h) as a process of its own, the broker of
// bench/kafka/run. In its own process so that the brokers' CPU is not counted as the collector's
// Kafka exporter's. Creates the topics, prints one line "bootstrap HOST:PORT,..." and serves
// until SIGTERM or SIGINT. The mock keeps only a few MB per partition (older messages go): fine
// for a throughput bench, not for checking what was stored.
//
//   mock_cluster [--brokers N] [--partitions N] [--topic NAME]...
//   (default 3 brokers; topics bgpscribe.routes with the partitions given, default 32, and
//   bgpscribe.peers with 1; --topic replaces the first, then the second)
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

int usage() {
  std::fputs(
      "usage: mock_cluster [--brokers N] [--partitions N] [--topic ROUTES [--topic PEERS]]\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  int partitions = 32;
  std::vector<std::string> topics;
  const std::span<char*> args(argv, static_cast<std::size_t>(argc));
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (i + 1 >= args.size()) {
      return usage();
    }
    const char* value = args[++i];
    if (arg == "--brokers") {
      brokers = std::atoi(value);
    } else if (arg == "--partitions") {
      partitions = std::atoi(value);
    } else if (arg == "--topic") {
      topics.emplace_back(value);
    } else {
      return usage();
    }
  }
  if (brokers < 1 || partitions < 1 || topics.size() > 2) {
    return usage();
  }
  if (topics.empty()) {
    topics.emplace_back("bgpscribe.routes");
  }
  if (topics.size() == 1) {
    topics.emplace_back("bgpscribe.peers");
  }

  // Signals are taken by sigwait below: blocked before librdkafka starts its threads, which
  // inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::array<char, 512> error{};
  // The handle only hosts the cluster: it connects nowhere (no bootstrap.servers warning).
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "4", error.data(), error.size());
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
  if (rk == nullptr) {
    std::fprintf(stderr, "mock_cluster: rd_kafka_new: %s\n", error.data());
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    std::fputs("mock_cluster: rd_kafka_mock_cluster_new failed\n", stderr);
    rd_kafka_destroy(rk);
    return 1;
  }
  for (std::size_t t = 0; t < topics.size(); ++t) {
    const int n = t == 0 ? partitions : 1;
    const rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(cluster, topics[t].c_str(), n, brokers);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "mock_cluster: topic %s: %s\n", topics[t].c_str(),
                   rd_kafka_err2str(err));
      rd_kafka_mock_cluster_destroy(cluster);
      rd_kafka_destroy(rk);
      return 1;
    }
  }
  std::printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  std::fflush(stdout);

  int signal = 0;
  sigwait(&signals, &signal);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
