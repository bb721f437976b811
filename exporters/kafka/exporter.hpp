// The Kafka exporter (`type: kafka`): every record's Protobuf events (exporters/events) as Kafka
// messages, one message per event, through librdkafka.
//
// Route events go to the routes topic keyed "<peer id>|<prefix>", peer events to the peers topic
// keyed "<peer id>": Kafka's partitioner keeps one key in one partition, so every prefix of a
// peer keeps its order. With a records topic set, every record but RIB snapshots is also
// produced there once, whole, in the collector's record encoding (exporters/api/record_codec.hpp)
// keyed "<peer id>" ("0" for Start), with headers `collector` (the collector's name) and `format`
// (kRecordFormat): what `bgpscribe archive` reads to write MRT and SQL archives. The producer is
// idempotent with acks from all in-sync replicas, so its retries neither reorder nor double a
// message. Delivery reports come back on the exporter's thread (poll in accept and flush): failures
// are counted and logged, and durable_seq() is the last record whose every message the brokers
// acknowledged, so the collector's journal keeps the others.
//
// It never drops a record to keep up: when librdkafka's queue is full (brokers away or slow),
// accept() waits for room, and the collector queues and then spools to disk behind it
// (collector/core/exporter_worker.hpp); the spooled records come back in order once the brokers
// take messages again. stop() waits at most stop_timeout for the queue to drain; what is still
// undelivered then is counted and logged, and, as after a crash, the journal gives it again at
// the next start from the position file (at least once: a message acknowledged after the last
// position write is produced twice).
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bgpscribe/v1/events.pb.h"
#include "codec/wire/writer.hpp"
#include "exporters/api/exporter.hpp"
#include "exporters/kafka/config.hpp"

namespace bgpscribe::exporters::events {
class EventEncoder;
}

namespace bgpscribe::exporters::kafka {

// The `format` header of the records topic's messages: the record encoding and its version (the
// spool segments' version, docs/formats.md).
inline constexpr std::string_view kRecordFormat = "bgpscribe-record/2";

class KafkaExporter final : public Exporter {
 public:
  KafkaExporter(std::string name, Options options);
  ~KafkaExporter() override;
  KafkaExporter(const KafkaExporter&) = delete;
  KafkaExporter& operator=(const KafkaExporter&) = delete;

  [[nodiscard]] std::string_view name() const override { return name_; }
  void start() override;
  void accept(const Record& record) override;
  void flush(std::int64_t now_us) override;
  void stop() override;
  void interrupt() override { interrupted_.store(true); }
  [[nodiscard]] std::optional<std::uint64_t> resume_after() const override { return resume_after_; }
  [[nodiscard]] std::optional<std::uint64_t> durable_seq() const override { return durable_seq_; }
  void metrics(std::vector<Metric>& out) const override;

  // Counters, for metrics() and the tests.
  struct Counts {
    std::uint64_t produced = 0;           // messages handed to librdkafka
    std::uint64_t delivered = 0;          // acknowledged by the brokers
    std::uint64_t failed = 0;             // delivery reports with an error (lost: logged)
    std::uint64_t queue_full = 0;         // times accept() waited for room in librdkafka's queue
    std::uint64_t broker_errors = 0;      // errors librdkafka reported (brokers down, transport)
    std::uint64_t undelivered = 0;        // given up at stop or after an interrupt (logged)
    std::uint64_t skipped_events = 0;     // events of no topic (neither route nor peer)
    std::uint64_t bytes = 0;              // payload bytes produced
    std::uint64_t records = 0;            // messages handed to librdkafka for the records topic
    std::uint64_t producer_restarts = 0;  // producers replaced after a fatal error
  };
  [[nodiscard]] const Counts& counts() const { return counts_; }
  // Messages in librdkafka's queues now (waiting or in flight).
  [[nodiscard]] std::int64_t queued() const;
  // The producer, for tests that fabricate errors (rd_kafka_test_fatal_error).
  [[nodiscard]] rd_kafka_t* producer() const { return producer_.get(); }

 private:
  // One record whose messages are not all acknowledged yet (msg_opaque of its messages).
  struct Pending {
    std::uint64_t seq = 0;
    std::uint32_t outstanding = 0;
    bool undelivered = false;  // some message given up (stop, interrupt): not durable
  };
  struct HandleDeleter {
    void operator()(rd_kafka_t* rk) const;
  };
  struct TopicDeleter {
    void operator()(rd_kafka_topic_t* rkt) const;
  };
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void delivered(const rd_kafka_message_t& message);
  enum class Topic : std::uint8_t { Routes, Peers, Records };
  // Produces key_ and payload_ to `topic` (records: with the headers), waiting for room in the
  // queue; false when interrupted meanwhile.
  bool produce(Topic topic, Pending& pending);
  // One try at producing record_bytes_ keyed key_ to the records topic, with the headers.
  rd_kafka_resp_err_t produce_record(Pending& pending);
  void create_producer();
  // After a fatal error (the idempotent producer cannot go on): what it held is counted and
  // purged, and a new producer takes over.
  void replace_producer();
  void poll(int timeout_ms);
  void advance_durable();
  // durable_seq_ into the position file, if it moved since the last write.
  void write_position();

  std::string name_;
  Options options_;
  std::string source_;  // "kafka <name>", for the log
  std::unique_ptr<events::EventEncoder> encoder_;
  std::unique_ptr<rd_kafka_t, HandleDeleter> producer_;
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> routes_;
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> peers_;
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> records_;  // null: no records topic
  codec::wire::Writer record_bytes_;                         // reused per record
  std::deque<Pending> pending_;  // in record order; stable addresses (push_back, pop_front)
  std::uint64_t durable_seq_ = 0;
  std::uint64_t written_seq_ = 0;  // in the position file
  std::optional<std::uint64_t> resume_after_;
  std::string key_;             // reused per event
  std::string payload_;         // reused per event
  bgpscribe::v1::Event event_;  // reused per event (JSON)
  bool stuck_ = false;          // a record not delivered: durable_seq_ stays before it
  std::optional<std::chrono::steady_clock::time_point> give_up_at_;  // after interrupt()
  std::atomic<bool> interrupted_{false};
  bool brokers_down_ = false;
  bool alarm_raised_ = false;  // the alarm "kafka" is up
  bool fatal_ = false;         // librdkafka reported a fatal error: replace the producer
  std::string last_error_;
  Counts counts_;
};

// `type: kafka` in the config (docs/collector.md, "The Kafka exporter").
ExporterPtr make(const ExporterContext& context, const YAML::Node& options);

}  // namespace bgpscribe::exporters::kafka
