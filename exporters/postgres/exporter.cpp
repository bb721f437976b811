#include "exporters/postgres/exporter.hpp"

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <thread>

#include "exporters/api/config.hpp"
#include "exporters/api/files.hpp"
#include "exporters/api/log.hpp"

namespace bgpscribe::exporters::postgres {

namespace fs = std::filesystem;
using exporters::Durability;
using exporters::logf;
using exporters::LogLevel;
using exporters::replace_file;

Options parse_options(const ExporterContext& context, const YAML::Node& node) {
  ConfigMap map(context.config_file, node, "exporter '" + context.instance_name + "'");
  (void)map.string("type");
  (void)map.string("name", context.instance_name);
  Options o;
  o.writer.collector_name = context.collector_name;
  // No DSN: libpq's defaults and the PG* environment (scripts/run-collector points them at the
  // private cluster it starts).
  o.writer.dsn = map.string("dsn", std::string());
  o.writer.migrate = map.boolean("migrate", true);
  o.writer.connect_timeout_s = static_cast<int>(map.seconds("connect_timeout", 5));
  o.spool_directory = map.string(
      "spool_directory",
      (fs::path(context.state_directory) / ("postgres-" + context.instance_name)).string());
  o.batch_interval_us = map.integer("batch_interval_ms", 10, 60'000, 1000) * 1000;
  o.batch_rows = static_cast<std::size_t>(map.integer("batch_rows", 1000, 10'000'000, 200'000));
  o.spool_limit = map.bytes("spool_limit", 8ULL << 30);
  o.checkpoint_interval = std::chrono::seconds(map.seconds("checkpoint_interval", 24 * 3600));
  o.drain_timeout_s = static_cast<double>(map.seconds("drain_timeout", 30));
  o.writer.retention_s = map.seconds("retention", 0);
  o.writer.connections = static_cast<int>(map.integer("connections", 1, kMaxParts, 2));
  map.check_unknown();
  return o;
}

PostgresExporter::PostgresExporter(std::string name, Options options)
    : name_(std::move(name)), options_(std::move(options)) {}

PostgresExporter::~PostgresExporter() {
  if (writer_) {
    writer_->stop(0);
  }
}

void PostgresExporter::start() {
  spool_lock_ =
      DirectoryLock(options_.spool_directory, "postgres exporter '" + name_ + "': spool directory");
  spool_ = std::make_unique<BatchSpool>(options_.spool_directory);
  if (spool_->files() > 0) {
    logf(LogLevel::Info, "postgres " + name_,
         "%llu batches (%llu bytes) left in %s are applied first",
         static_cast<unsigned long long>(spool_->files()),
         static_cast<unsigned long long>(spool_->bytes()), spool_->directory().c_str());
  }
  // Batches set aside by earlier runs are still missing from SQL: the alarm stays up until the
  // operator has dealt with them (docs/postgres-exporter.md).
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(options_.spool_directory) / "failed", ec)) {
    set_aside_earlier_ += e.is_regular_file() ? 1 : 0;
  }
  writer_ = std::make_unique<Writer>(options_.writer, *spool_);
  writer_->start();
  update_alarms(0);
  // The sessions of a previous run (ended cleanly or not) end with the collector's Start
  // record, which comes after what the journal gives again from this position.
  resume_after_ = spool_->position();
  handled_seq_ = durable_seq_ = *resume_after_;
}

void PostgresExporter::seal() {
  if (builder_.empty() || builder_.pending()) {
    return;
  }
  // Full spool: wait for the writer (the collector queues and spools behind this call).
  bool warned = false;
  while (spool_->bytes() >= options_.spool_limit && !interrupted_) {
    if (!warned) {
      logf(LogLevel::Info, "postgres " + name_,
           "spool full (%llu bytes in %s): waiting for the database (%s)",
           static_cast<unsigned long long>(spool_->bytes()), spool_->directory().c_str(),
           writer_->last_error().c_str());
      warned = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  Batch b = builder_.seal(spool_->next_sequence());
  b.parts = parts_for(options_.writer.connections);
  spool_->write(b);
  if (b.last_seq > durable_seq_) {
    spool_->write_position(b.last_seq);  // before the writer may apply and remove the file
    durable_seq_ = b.last_seq;
  }
  writer_->notify(std::move(b));
}

void PostgresExporter::accept(const Record& record) {
  handled_seq_ = std::max(handled_seq_, record.seq);
  // A batch is sealed when it is full, or early when the writer has nothing left to apply (a
  // group commit): the first rows of a table load then reach the database after a few
  // thousand routes instead of a whole batch, and the batches grow back towards batch_rows
  // while the writer is busy. At a few routes a second the time limit (flush) still decides.
  if (builder_.add(record) || builder_.rows() >= options_.batch_rows ||
      (builder_.rows() >= kEagerBatchRows && spool_->files() == 0)) {
    seal();
  }
}

void PostgresExporter::flush(std::int64_t now_us) {
  if (!builder_.empty() && now_us - builder_.first_us() >= options_.batch_interval_us) {
    seal();
  }
  if (now_us - last_status_us_ >= 1'000'000) {
    write_status(now_us);
    last_status_us_ = now_us;
  }
}

void PostgresExporter::update_alarms(std::int64_t now_us) {
  const auto& s = writer_->stats();
  const std::uint64_t set_aside = set_aside_earlier_ + s.quarantined.load();
  set_alarm("batches_set_aside",
            set_aside == 0 ? std::string()
                           : std::to_string(set_aside) + " batches set aside in " +
                                 (fs::path(options_.spool_directory) / "failed").string() +
                                 ": their events are not in SQL (see docs/postgres-exporter.md)");
  if (s.connected) {
    unreachable_since_us_ = 0;
    set_alarm("database", {});
  } else if (now_us > 0) {
    // A few seconds of reconnecting are normal (a restart of the server); longer is an alarm.
    if (unreachable_since_us_ == 0) {
      unreachable_since_us_ = now_us;
    } else if (now_us - unreachable_since_us_ >= 10'000'000) {
      set_alarm("database", "unreachable for " +
                                std::to_string((now_us - unreachable_since_us_) / 1'000'000) +
                                " s (" + writer_->last_error() + "), " +
                                std::to_string(spool_->files()) + " batches waiting in the spool");
    }
  }
}

void PostgresExporter::write_status(std::int64_t now_us) {
  update_alarms(now_us);
  const auto& s = writer_->stats();
  const std::int64_t applied = s.last_applied_us.load();
  // Lag: how old the oldest record not yet in the database is, roughly (0 when all is in).
  const bool waiting = spool_->files() > 0 || !builder_.empty();
  const double lag_s = waiting && applied > 0 ? static_cast<double>(now_us - applied) / 1e6 : 0.0;
  // Logged when something is waiting for a while; the status file always.
  if (spool_->files() > 1 && now_us - last_log_us_ >= 60'000'000) {
    logf(LogLevel::Info, "postgres " + name_, "%llu batches (%llu bytes) spooled, lag %.1f s%s%s",
         static_cast<unsigned long long>(spool_->files()),
         static_cast<unsigned long long>(spool_->bytes()), lag_s,
         s.connected ? "" : ", database unreachable: ", writer_->last_error().c_str());
    last_log_us_ = now_us;
  }
  std::ostringstream o;
  o << "{\"connected\":" << (s.connected ? "true" : "false")
    << ",\"spool_batches\":" << spool_->files() << ",\"spool_bytes\":" << spool_->bytes()
    << ",\"batches_applied\":" << s.batches << ",\"batches_skipped\":" << s.skipped
    << ",\"batches_quarantined\":" << set_aside_earlier_ + s.quarantined.load()
    << ",\"update_rows\":" << s.update_rows << ",\"attr_rows\":" << s.attr_rows
    << ",\"failures\":" << s.failures << ",\"last_applied_us\":" << applied
    << ",\"lag_seconds\":" << lag_s << "}\n";
  try {
    replace_file(spool_->directory() / "status.json", o.str(), Durability::Atomic);
  } catch (const std::system_error&) {
    // a status file is for readers: the next second tries again
  }
}

void PostgresExporter::metrics(std::vector<Metric>& out) const {
  const auto c = [&](const char* name, double v, bool counter, const char* help) {
    out.push_back({name, v, counter, help});
  };
  const auto& b = builder_.stats();
  c("messages", static_cast<double>(b.messages), true, "UPDATE messages turned into rows");
  c("announced", static_cast<double>(b.announced), true, "announcement rows");
  c("withdrawn", static_cast<double>(b.withdrawn), true, "withdrawal rows");
  c("treat_as_withdraw", static_cast<double>(b.treat_as_withdraw), true,
    "UPDATEs whose routes RFC 7606 withdraws");
  c("unparsable", static_cast<double>(b.unparsable), true, "UPDATEs the codec refused (no rows)");
  if (!writer_) {
    return;
  }
  const auto& s = writer_->stats();
  c("batches_applied", static_cast<double>(s.batches.load()), true, "batches committed");
  c("batches_skipped", static_cast<double>(s.skipped.load()), true,
    "batches found already applied");
  c("batches_set_aside", static_cast<double>(set_aside_earlier_ + s.quarantined.load()), true,
    "batches moved to failed/ (their events are not in SQL)");
  c("update_rows", static_cast<double>(s.update_rows.load()), true, "rows of bgp.updates");
  c("attr_rows", static_cast<double>(s.attr_rows.load()), true, "rows of bgp.attr_sets");
  c("failures", static_cast<double>(s.failures.load()), true, "failed attempts");
  c("connected", s.connected.load() ? 1 : 0, false, "1 while the database is reachable");
  c("spool_batches", static_cast<double>(spool_->files()), false, "batches waiting");
  c("spool_bytes", static_cast<double>(spool_->bytes()), false, "bytes of the batches waiting");
}

void PostgresExporter::stop() {
  if (!writer_) {
    return;
  }
  seal();
  const bool drained = writer_->stop(options_.drain_timeout_s);
  write_status(0);
  if (!drained) {
    logf(LogLevel::Info, "postgres " + name_,
         "%llu batches left in %s for the next start (database: %s)",
         static_cast<unsigned long long>(spool_->files()), spool_->directory().c_str(),
         writer_->last_error().c_str());
  }
  writer_.reset();
}

ExporterPtr make(const ExporterContext& context, const YAML::Node& node) {
  return std::make_unique<PostgresExporter>(context.instance_name, parse_options(context, node));
}

}  // namespace bgpscribe::exporters::postgres
