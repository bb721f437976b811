#include "exporters/kafka/exporter.hpp"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "exporters/api/config.hpp"
#include "exporters/api/files.hpp"
#include "exporters/api/log.hpp"
#include "exporters/api/record_codec.hpp"
#include "exporters/events/convert.hpp"
#include "exporters/kafka/rdkafka.hpp"

namespace bgpscribe::exporters::kafka {

namespace {

// Poll interval while accept() waits for room in librdkafka's queue.
constexpr int kWaitPollMs = 50;
// Delivery failures logged one by one before only every 10,000th is.
constexpr std::uint64_t kLoggedFailures = 10;

}  // namespace

void KafkaExporter::HandleDeleter::operator()(rd_kafka_t* rk) const {
  rd_kafka_destroy(rk);
}
void KafkaExporter::TopicDeleter::operator()(rd_kafka_topic_t* rkt) const {
  rd_kafka_topic_destroy(rkt);
}

KafkaExporter::KafkaExporter(std::string name, Options options)
    : name_(std::move(name)), options_(std::move(options)), source_("kafka " + name_) {}

KafkaExporter::~KafkaExporter() {
  // stop() was not called (start failed, or a test): release without waiting.
  if (producer_) {
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(producer_.get(), 0);
  }
  routes_.reset();
  peers_.reset();
  records_.reset();
  producer_.reset();
}

void KafkaExporter::start() {
  if (!options_.position_file.empty()) {
    // No file yet: a first start, every record the journal holds is new to this exporter.
    std::uint64_t position = 0;
    if (std::ifstream in(options_.position_file); in) {
      std::string line;
      std::getline(in, line);
      const auto n = parse_unsigned(line);
      if (!n) {
        throw std::runtime_error(source_ + ": " + options_.position_file +
                                 " holds no record number: '" + line + "'");
      }
      position = *n;
    }
    resume_after_ = position;
    durable_seq_ = position;
    written_seq_ = position;
  }
  encoder_ = std::make_unique<events::EventEncoder>(events::Options{options_.collector_name});
  create_producer();
  logf(LogLevel::Info, source_, "producing to %s (topics %s, %s; %s)%s%s",
       join(options_.brokers).c_str(), options_.routes_topic.c_str(), options_.peers_topic.c_str(),
       options_.encoding == Encoding::Json ? "json" : "protobuf",
       options_.records_topic.empty() ? "" : ", records to ", options_.records_topic.c_str());
}

void KafkaExporter::create_producer() {
  ConfPtr conf(rd_kafka_conf_new());
  set_property(*conf, "bootstrap.servers", join(options_.brokers), source_);
  set_property(*conf, "client.id", options_.client_id, source_);
  // Exactly once and in order per partition, acknowledged by every in-sync replica.
  set_property(*conf, "enable.idempotence", "true", source_);
  set_property(*conf, "acks", "all", source_);
  set_property(*conf, "queue.buffering.max.messages", std::to_string(options_.queue_messages),
               source_);
  set_property(*conf, "message.timeout.ms", std::to_string(options_.delivery_timeout.count()),
               source_);
  for (const auto& [key, value] : options_.properties) {
    set_property(*conf, key, value, source_);
  }
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaExporter::on_delivery);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaExporter::on_error);
  std::array<char, 512> error{};
  // rd_kafka_new takes the configuration only when it succeeds.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error.data(), error.size());
  if (rk == nullptr) {
    throw std::runtime_error(source_ +
                             ": cannot create the producer: " + std::string(error.data()));
  }
  (void)conf.release();
  producer_.reset(rk);
  routes_.reset(rd_kafka_topic_new(rk, options_.routes_topic.c_str(), nullptr));
  peers_.reset(rd_kafka_topic_new(rk, options_.peers_topic.c_str(), nullptr));
  if (!options_.records_topic.empty()) {
    records_.reset(rd_kafka_topic_new(rk, options_.records_topic.c_str(), nullptr));
  }
  if (!routes_ || !peers_ || (!options_.records_topic.empty() && !records_)) {
    throw std::runtime_error(source_ + ": cannot create the topic handles: " +
                             std::string(rd_kafka_err2str(rd_kafka_last_error())));
  }
}

void KafkaExporter::replace_producer() {
  const auto left = rd_kafka_outq_len(producer_.get());
  counts_.undelivered += static_cast<std::uint64_t>(left);
  ++counts_.producer_restarts;
  logf(LogLevel::Error, source_, "the producer failed (%s): a new producer takes over%s",
       last_error_.c_str(),
       left == 0 ? ""
                 : (", " + std::to_string(left) +
                    " messages undelivered (the journal keeps their records for the next start)")
                       .c_str());
  // Their delivery reports (purged) mark their records undelivered: durable_seq stops there.
  rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  (void)rd_kafka_poll(producer_.get(), 0);
  routes_.reset();
  peers_.reset();
  records_.reset();
  producer_.reset();
  fatal_ = false;  // after the last poll of the old producer, which may report it again
  create_producer();
}

void KafkaExporter::on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message,
                                void* opaque) {
  static_cast<KafkaExporter*>(opaque)->delivered(*message);
}

void KafkaExporter::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto& self = *static_cast<KafkaExporter*>(opaque);
  ++self.counts_.broker_errors;
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  std::string text = reason;
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    std::array<char, 512> fatal{};
    (void)rd_kafka_fatal_error(rk, fatal.data(), fatal.size());
    text = "fatal: " + std::string(fatal.data());
    self.fatal_ = true;  // replaced by the next poll()
    self.set_alarm("kafka", "producer failed: " + text);
    self.alarm_raised_ = true;
  } else if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    self.brokers_down_ = true;
    self.set_alarm("kafka", "all brokers down: messages wait (then records spool)");
    self.alarm_raised_ = true;
  }
  if (text != self.last_error_) {
    log(LogLevel::Warning, self.source_, text);
    self.last_error_ = text;
  }
}

void KafkaExporter::delivered(const rd_kafka_message_t& message) {
  auto& pending = *static_cast<Pending*>(message._private);
  --pending.outstanding;
  if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++counts_.delivered;
    if (alarm_raised_) {
      brokers_down_ = false;
      alarm_raised_ = false;
      last_error_.clear();
      set_alarm("kafka", "");
      log(LogLevel::Info, source_, "brokers take messages again");
    }
    return;
  }
  if (message.err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
      message.err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
    pending.undelivered = true;  // counted by stop()
    return;
  }
  ++counts_.failed;
  if (counts_.failed <= kLoggedFailures || counts_.failed % 10000 == 0) {
    logf(LogLevel::Error, source_, "message of record %llu lost: %s (%llu lost so far)",
         static_cast<unsigned long long>(pending.seq), rd_kafka_err2str(message.err),
         static_cast<unsigned long long>(counts_.failed));
  }
}

rd_kafka_resp_err_t KafkaExporter::produce_record(Pending& pending) {
  // rd_kafka_produceva rather than rd_kafka_producev: its RD_KAFKA_V_ macros are statement
  // expressions under GNU compilers. The value is copied (RD_KAFKA_MSG_F_COPY), never written.
  const auto value = record_bytes_.bytes();
  std::array<rd_kafka_vu_t, 8> vu{};
  vu[0].vtype = RD_KAFKA_VTYPE_RKT;
  vu[0].u.rkt = records_.get();
  vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
  vu[1].u.i32 = RD_KAFKA_PARTITION_UA;
  vu[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vu[2].u.i = RD_KAFKA_MSG_F_COPY;
  vu[3].vtype = RD_KAFKA_VTYPE_VALUE;
  vu[3].u.mem.ptr = const_cast<std::uint8_t*>(value.data());
  vu[3].u.mem.size = value.size();
  vu[4].vtype = RD_KAFKA_VTYPE_KEY;
  vu[4].u.mem.ptr = key_.data();
  vu[4].u.mem.size = key_.size();
  vu[5].vtype = RD_KAFKA_VTYPE_HEADER;
  vu[5].u.header.name = "collector";
  vu[5].u.header.val = options_.collector_name.data();
  vu[5].u.header.size = static_cast<ssize_t>(options_.collector_name.size());
  vu[6].vtype = RD_KAFKA_VTYPE_HEADER;
  vu[6].u.header.name = "format";
  vu[6].u.header.val = kRecordFormat.data();
  vu[6].u.header.size = static_cast<ssize_t>(kRecordFormat.size());
  vu[7].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vu[7].u.ptr = &pending;
  rd_kafka_error_t* error = rd_kafka_produceva(producer_.get(), vu.data(), vu.size());
  if (error == nullptr) {
    return RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  const auto err = rd_kafka_error_code(error);
  rd_kafka_error_destroy(error);
  return err;
}

bool KafkaExporter::produce(Topic topic, Pending& pending) {
  bool waited = false;
  for (;;) {
    // The topic handle is looked up on each try: a fatal error replaces the producer.
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (topic == Topic::Records) {
      err = produce_record(pending);
    } else if (rd_kafka_produce(topic == Topic::Routes ? routes_.get() : peers_.get(),
                                RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload_.data(),
                                payload_.size(), key_.data(), key_.size(), &pending) != 0) {
      err = rd_kafka_last_error();
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      break;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      fatal_ = true;
      poll(0);  // reports the error, replaces the producer; then try again
      continue;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // Refused for good (a message larger than message.max.bytes, a fatal producer error).
      ++counts_.failed;
      if (counts_.failed <= kLoggedFailures || counts_.failed % 10000 == 0) {
        logf(LogLevel::Error, source_, "message of record %llu refused: %s (%llu lost so far)",
             static_cast<unsigned long long>(pending.seq), rd_kafka_err2str(err),
             static_cast<unsigned long long>(counts_.failed));
      }
      return true;
    }
    if (!waited) {
      ++counts_.queue_full;
      waited = true;
    }
    if (interrupted_.load()) {
      const auto now = std::chrono::steady_clock::now();
      if (!give_up_at_) {
        give_up_at_ = now + options_.stop_timeout;
      }
      if (now >= *give_up_at_) {
        return false;
      }
    }
    poll(kWaitPollMs);
  }
  ++pending.outstanding;
  ++counts_.produced;
  if (topic == Topic::Records) {
    ++counts_.records;
    counts_.bytes += record_bytes_.size();
  } else {
    counts_.bytes += payload_.size();
  }
  return true;
}

void KafkaExporter::accept(const Record& record) {
  if (record.type == RecordType::RibSnapshot) {
    return;
  }
  events::EventBlock block;
  const std::size_t n = encoder_->append(record, block);
  auto& pending = pending_.emplace_back();
  pending.seq = record.seq;
  const std::string peer_id = record.peer ? std::to_string(record.peer->id) : "0";
  for (std::size_t i = 0; i < n; ++i) {
    const auto view = block.view(i);
    const bool route = view.kind == events::EventView::Kind::Route;
    key_ = peer_id;
    if (route) {
      key_ += '|';
      if (view.prefix != nullptr) {
        key_ += view.prefix->to_string();
      }
    } else if (view.kind != events::EventView::Kind::Peer) {
      ++counts_.skipped_events;
      continue;
    }
    payload_.clear();
    if (options_.encoding == Encoding::Json) {
      block.parse(i, false, event_);
      google::protobuf::util::JsonPrintOptions json;
      json.preserve_proto_field_names = true;
      if (!google::protobuf::util::MessageToJsonString(event_, &payload_, json).ok()) {
        ++counts_.failed;
        continue;
      }
    } else {
      block.append_event(i, false, payload_);
    }
    if (!produce(route ? Topic::Routes : Topic::Peers, pending)) {
      // Stopping with the brokers away: this record and the later ones wait in the journal.
      if (!pending.undelivered && counts_.undelivered == 0) {
        logf(LogLevel::Error, source_,
             "stopping with the brokers away: records from number %llu on are not produced",
             static_cast<unsigned long long>(record.seq));
      }
      counts_.undelivered += n - i;
      pending.undelivered = true;
      break;
    }
  }
  if (records_ && !pending.undelivered) {
    key_ = peer_id;
    record_bytes_.clear();
    encode_record(record, 0, record_bytes_);
    if (!produce(Topic::Records, pending)) {
      ++counts_.undelivered;
      pending.undelivered = true;
    }
  }
  poll(0);
}

void KafkaExporter::poll(int timeout_ms) {
  (void)rd_kafka_poll(producer_.get(), timeout_ms);
  if (fatal_) {
    replace_producer();
  }
  advance_durable();
}

void KafkaExporter::advance_durable() {
  while (!pending_.empty() && pending_.front().outstanding == 0) {
    if (pending_.front().undelivered) {
      // The journal keeps this record and every later one for the next start.
      stuck_ = true;
    }
    if (!stuck_) {
      durable_seq_ = std::max(durable_seq_, pending_.front().seq);
    }
    pending_.pop_front();
  }
}

void KafkaExporter::flush(std::int64_t /*now_us*/) {
  if (producer_) {
    poll(0);
    write_position();
  }
}

void KafkaExporter::write_position() {
  if (options_.position_file.empty() || durable_seq_ == written_seq_) {
    return;
  }
  try {
    replace_file(options_.position_file, std::to_string(durable_seq_) + "\n", Durability::Atomic);
    written_seq_ = durable_seq_;
  } catch (const std::system_error& e) {
    set_alarm("position", e.what());  // the journal keeps more meanwhile; nothing is lost
    return;
  }
  set_alarm("position", "");
}

std::int64_t KafkaExporter::queued() const {
  return producer_ ? rd_kafka_outq_len(producer_.get()) : 0;
}

void KafkaExporter::stop() {
  if (!producer_) {
    return;
  }
  const auto left_before = rd_kafka_outq_len(producer_.get());
  if (left_before > 0) {
    (void)rd_kafka_flush(producer_.get(), static_cast<int>(options_.stop_timeout.count()));
  }
  poll(0);
  const auto left = rd_kafka_outq_len(producer_.get());
  if (left > 0) {
    counts_.undelivered += static_cast<std::uint64_t>(left);
    logf(LogLevel::Error, source_,
         "%d messages undelivered after %lld ms at stop (kept by the journal, if any)", left,
         static_cast<long long>(options_.stop_timeout.count()));
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    poll(0);
  }
  write_position();
  logf(LogLevel::Info, source_, "stopped: %llu messages delivered, %llu failed, %llu undelivered",
       static_cast<unsigned long long>(counts_.delivered),
       static_cast<unsigned long long>(counts_.failed),
       static_cast<unsigned long long>(counts_.undelivered));
  routes_.reset();
  peers_.reset();
  records_.reset();
  producer_.reset();
}

void KafkaExporter::metrics(std::vector<Metric>& out) const {
  const auto counter = [&out](const char* name, std::uint64_t value, const char* help) {
    out.push_back(Metric{name, static_cast<double>(value), true, help});
  };
  counter("produced", counts_.produced, "messages handed to librdkafka");
  counter("delivered", counts_.delivered, "messages the brokers acknowledged");
  counter("failed", counts_.failed, "messages lost: delivery failed (logged)");
  counter("undelivered", counts_.undelivered,
          "messages not delivered when the exporter stopped (logged; the journal keeps them)");
  counter("queue_full", counts_.queue_full, "times a record waited for room in the queue");
  counter("broker_errors", counts_.broker_errors, "errors librdkafka reported");
  counter("skipped_events", counts_.skipped_events, "events of no topic");
  counter("producer_restarts", counts_.producer_restarts,
          "producers replaced after a fatal error (idempotence state lost)");
  counter("bytes", counts_.bytes, "payload bytes produced");
  counter("records", counts_.records, "records produced to the records topic");
  out.push_back(Metric{"queued", static_cast<double>(queued()), false,
                       "messages waiting in librdkafka's queue or in flight"});
  out.push_back(Metric{"brokers_down", brokers_down_ ? 1.0 : 0.0, false,
                       "1 while librdkafka reports every broker down"});
}

ExporterPtr make(const ExporterContext& context, const YAML::Node& options) {
  return std::make_unique<KafkaExporter>(context.instance_name, parse_options(context, options));
}

}  // namespace bgpscribe::exporters::kafka
