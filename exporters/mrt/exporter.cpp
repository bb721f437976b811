#include "exporters/mrt/exporter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "codec/bgp/attribute_types.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "exporters/api/log.hpp"
#include "exporters/mrt/naming.hpp"
#include "exporters/mrt/rib.hpp"
#include "exporters/mrt/subtype.hpp"

namespace bgpscribe::exporters::mrt {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMicro = 1'000'000;
// After a write error, abandoned temporaries are recovered again at most this often.
constexpr std::int64_t kSalvageRetryUs = 10 * kMicro;

std::int64_t floor_seconds(std::int64_t time_us) {
  return time_us >= 0 ? time_us / kMicro : -((-time_us + kMicro - 1) / kMicro);
}

codec::mrt::Timestamp timestamp_of(std::int64_t time_us, bool extended) {
  const std::int64_t s = floor_seconds(time_us);
  return {static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(time_us - s * kMicro),
          extended};
}

// RFC 6396 section 4.4: the common part from the session's PeerInfo. Peer and local address
// share one AFI field, so an unknown local address takes the peer's family; a 2-octet subtype
// carries AS_TRANS for an AS that does not fit (RFC 6793 section 4.2.3).
codec::mrt::Bgp4mpPeer bgp4mp_peer(const PeerInfo& p, bool as4) {
  codec::mrt::Bgp4mpPeer out;
  out.peer_as = p.peer_as;
  out.local_as = p.local_as;
  if (!as4) {
    out.peer_as = out.peer_as > 0xFFFF ? codec::bgp::kAsTrans : out.peer_as;
    out.local_as = out.local_as > 0xFFFF ? codec::bgp::kAsTrans : out.local_as;
  }
  out.peer_ip = p.peer_address;
  out.local_ip = p.local_address;
  if (out.local_ip.family != out.peer_ip.family) {
    out.local_ip = codec::bgp::IpAddress{};
    out.local_ip.family = out.peer_ip.family;
  }
  return out;
}

}  // namespace

MrtExporter::MrtExporter(std::string name, Options options, LogFn log)
    : name_(std::move(name)), options_(std::move(options)), log_(std::move(log)) {
  if (!log_) {
    log_ = [source = "bgpscribe mrt[" + name_ + "]"](const std::string& line) {
      exporters::log(exporters::LogLevel::Info, source, line);
    };
  }
  updates_ = std::make_unique<FileStream>("updates", writer_options(options_.updates_compression),
                                          log_, metrics_);
}

MrtExporter::~MrtExporter() {
  if (position_fd_ >= 0) {
    ::close(position_fd_);
  }
}

codec::mrt::WriterOptions MrtExporter::writer_options(codec::mrt::Compression c) const {
  codec::mrt::WriterOptions w;
  w.compression = c;
  w.level = c == codec::mrt::Compression::Bzip2 ? options_.bzip2_block : options_.gzip_level;
  return w;
}

std::chrono::seconds MrtExporter::snapshot_interval() const {
  return options_.rib_enabled() ? std::chrono::seconds(options_.rib_interval)
                                : std::chrono::seconds(0);
}

void MrtExporter::start() {
  std::error_code ec;
  fs::create_directories(options_.directory, ec);
  if (ec || !fs::is_directory(options_.directory)) {
    throw std::runtime_error("mrt exporter '" + name_ + "': cannot create directory '" +
                             options_.directory + "': " + ec.message());
  }
  // Before recovery: another writer's live .partial files are not ours to recover.
  directory_lock_ = DirectoryLock(options_.directory, "mrt exporter '" + name_ + "': directory");
  std::map<fs::path, std::uint64_t> limits;
  if (!options_.position_file.empty()) {
    resume_after_ = read_position(limits);
    handled_seq_ = durable_seq_ = *resume_after_;
  }
  recover_directory(options_.directory, writer_options(codec::mrt::Compression::Gzip),
                    writer_options(codec::mrt::Compression::Bzip2), log_, metrics_, limits);
  if (!options_.position_file.empty()) {
    position_fd_ = ::open(options_.position_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (position_fd_ < 0) {
      throw std::runtime_error("mrt exporter '" + name_ + "': cannot open " +
                               options_.position_file + ": " + std::strerror(errno));
    }
    updates_->set_before_write(
        [this](const fs::path& partial, std::uint64_t before, std::uint64_t after) {
          write_position(partial, before, after);
        });
  }
}

// The position file: one line, padded to a fixed size so that each write replaces it whole
// (a pwrite of one block: the process dies before or after it, never inside):
// "<seq before> <seq after> <records before> <records after> <temporary>". It is written before
// the records from after `seq before` up to `seq after` go into the temporary, which then holds
// `records before`, and `records after` once they are in.
constexpr std::size_t kPositionBytes = 4096;

void MrtExporter::write_position(const fs::path& partial, std::uint64_t records_before,
                                 std::uint64_t records_after) {
  std::string line = std::to_string(durable_seq_) + " " + std::to_string(handled_seq_) + " " +
                     std::to_string(records_before) + " " + std::to_string(records_after) + " " +
                     partial.lexically_normal().string();
  line.resize(kPositionBytes - 1, ' ');
  line += '\n';
  if (::pwrite(position_fd_, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) {
    log_("cannot write " + options_.position_file + ": " + std::strerror(errno));
  }
  intent_after_ = handled_seq_;
}

std::uint64_t MrtExporter::read_position(std::map<fs::path, std::uint64_t>& limits) const {
  std::ifstream in(options_.position_file);
  std::uint64_t seq_before = 0;
  std::uint64_t seq_after = 0;
  std::uint64_t records_before = 0;
  std::uint64_t records_after = 0;
  std::string partial;
  if (!(in >> seq_before >> seq_after >> records_before >> records_after >> partial)) {
    return 0;  // no position yet: everything the journal holds is new to this exporter
  }
  std::error_code ec;
  if (!fs::exists(partial, ec)) {
    return seq_after;  // the file was finished (renamed): the write had completed
  }
  // The write completed if the temporary holds all its records; else it is cut back to what it
  // held before, and those records come again from the journal.
  const bool complete = count_records(partial) >= records_after;
  limits[fs::path(partial).lexically_normal()] = complete ? records_after : records_before;
  log_("journal position: " + partial + " holds records up to number " +
       std::to_string(complete ? seq_after : seq_before) +
       (complete ? "" : " (the last write was cut short: the journal gives it again)"));
  return complete ? seq_after : seq_before;
}

void MrtExporter::accept(const Record& record) {
  switch (record.type) {
    case RecordType::Message:
      write_message(record);
      break;
    case RecordType::StateChange:
      if (options_.state_changes) {
        write_state_change(record);
      } else {
        ++metrics_.ignored_records;
      }
      break;
    case RecordType::RibSnapshot:
      write_snapshot(record);
      break;
    case RecordType::PeerUp:
    case RecordType::PeerDown:
    case RecordType::Start:
    case RecordType::StaleEnd:
      // The OPEN and NOTIFICATION arrive as Message records, the transitions as StateChange;
      // MRT has no record of graceful restarts (the End-of-RIB is in the update stream).
      ++metrics_.ignored_records;
      break;
  }
  note_handled(record.seq);
}

void MrtExporter::metrics(std::vector<exporters::Metric>& out) const {
  const auto& m = metrics_;
  const auto c = [&](const char* name, std::uint64_t v, const char* help) {
    out.push_back({name, static_cast<double>(v), true, help});
  };
  c("records_written", m.records_written, "MRT records handed to files (updates and RIB)");
  c("bytes_written", m.bytes_written, "uncompressed bytes of those records");
  c("files_finished", m.files_finished, "files renamed to their final name");
  c("write_errors", m.write_errors, "failed writes, flushes, closes and renames");
  c("disk_waits", m.disk_waits, "times a record waited for a disk refusing writes");
  c("records_refused", m.records_refused, "records that could not be kept");
  c("messages", m.messages, "BGP4MP message records");
  c("add_path_messages", m.add_path_messages, "of which ADDPATH subtypes");
  c("state_changes", m.state_changes, "STATE_CHANGE records");
  c("rib_dumps", m.rib_dumps, "RIB dump files finished");
  c("rib_records", m.rib_records, "RIB records written");
  c("rib_routes_skipped", m.rib_routes_skipped, "routes TABLE_DUMP_V2 cannot hold");
  c("files_recovered", m.files_recovered, "temporary files finished after a crash");
}

void MrtExporter::after_sync() {
  if (updates_->pending_bytes() == 0) {
    durable_seq_ = handled_seq_;  // everything handled is in a file now
  }
}

void MrtExporter::note_handled(std::uint64_t seq) {
  if (seq == 0) {
    return;
  }
  handled_seq_ = std::max(handled_seq_, seq);
  if (updates_->pending_bytes() == 0) {
    durable_seq_ = handled_seq_;  // nothing of it waits in memory
  }
}

void MrtExporter::check_buffer_limit() {
  if (!updates_->failing() || updates_->pending_bytes() < options_.max_buffer) {
    return;
  }
  // The disk refuses writes and the memory buffer is full: wait for the disk, retrying every
  // second. Meanwhile the collector's queue and then its spool (on the state disk) take the
  // records, so nothing is lost and no session waits. When the collector stops, waiting ends:
  // the buffer then grows past the limit, and stop() writes what it can.
  log_("the disk refuses writes (" + updates_->last_error() + ") and " +
       std::to_string(updates_->pending_bytes()) +
       " bytes wait in memory: waiting for the disk; the collector spools the records behind");
  ++metrics_.disk_waits;
  while (updates_->failing() && updates_->pending_bytes() >= options_.max_buffer && !interrupted_) {
    update_disk_alarm();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    (void)updates_->sync();
    after_sync();
  }
  update_disk_alarm();
  if (!updates_->failing()) {
    log_("the disk takes writes again: carrying on");
  }
}

void MrtExporter::update_disk_alarm() {
  set_alarm("disk", updates_->failing() ? "cannot write into " + options_.directory + " (" +
                                              updates_->last_error() +
                                              "): " + std::to_string(updates_->pending_records()) +
                                              " records wait in memory" +
                                              (updates_->pending_bytes() >= options_.max_buffer
                                                   ? ", the rest in the collector's spool"
                                                   : "")
                                        : std::string());
}

void MrtExporter::write_message(const Record& record) {
  if (!record.peer) {
    ++metrics_.records_refused;
    throw ExportError("mrt exporter '" + name_ + "': message record without a peer");
  }
  check_buffer_limit();
  rotate_for(record.time_us);
  const auto bytes = record.message.span();
  const SubtypeChoice choice = choose_subtype(bytes, record.context);
  metrics_.malformed_updates += choice.malformed ? 1 : 0;
  metrics_.add_path_conflicts += choice.add_path_conflict ? 1 : 0;
  codec::mrt::Bgp4mpMessage m;
  m.subtype = choice.subtype;
  m.peer = bgp4mp_peer(*record.peer, record.context.four_octet_as);
  m.message = bytes;
  if (!codec::mrt::encode(m, timestamp_of(record.time_us, options_.format == Format::Bgp4mpEt),
                          updates_->buffer())) {
    ++metrics_.records_refused;
    throw ExportError("mrt exporter '" + name_ + "': cannot encode a BGP4MP record");
  }
  updates_->added();
  note_handled(record.seq);  // before the sync below writes its bytes
  ++metrics_.messages;
  metrics_.add_path_messages += m.add_path() ? 1 : 0;
  // At max_buffer too: a disk that refuses writes is then known before more than that waits
  // in memory, and accept() can make the collector spool the rest.
  if (updates_->pending_bytes() >= std::min<std::uint64_t>(kSyncBytes, options_.max_buffer) &&
      !updates_->failing()) {
    (void)updates_->sync();
    after_sync();
  }
}

void MrtExporter::write_state_change(const Record& record) {
  if (!record.peer) {
    ++metrics_.records_refused;
    throw ExportError("mrt exporter '" + name_ + "': state change record without a peer");
  }
  check_buffer_limit();
  rotate_for(record.time_us);
  codec::mrt::Bgp4mpStateChange c;
  c.subtype = codec::mrt::Bgp4mpSubtype::StateChangeAs4;
  c.peer = bgp4mp_peer(*record.peer, true);
  c.old_state = static_cast<std::uint16_t>(record.old_state);
  c.new_state = static_cast<std::uint16_t>(record.new_state);
  if (!codec::mrt::encode(c, timestamp_of(record.time_us, options_.format == Format::Bgp4mpEt),
                          updates_->buffer())) {
    ++metrics_.records_refused;
    throw ExportError("mrt exporter '" + name_ + "': cannot encode a STATE_CHANGE record");
  }
  updates_->added();
  note_handled(record.seq);
  ++metrics_.state_changes;
}

void MrtExporter::rotate_for(std::int64_t time_us) {
  const std::int64_t t = floor_seconds(time_us);
  if (options_.updates_interval <= 0) {
    if (!interval_open_) {
      updates_->begin(
          expand_template(options_.directory, options_.updates_file, options_.collector_name, t));
      interval_open_ = true;
      interval_start_ = t;
    }
    return;
  }
  std::int64_t start = interval_start(t, options_.updates_interval);
  // Never reopen an interval: late records (a backlog, a clock step back) join the open file,
  // or the next one when their own was already closed.
  start = std::max(start, closed_until_);
  if (interval_open_ && start <= interval_start_) {
    return;
  }
  if (interval_open_) {
    close_updates();
  }
  updates_->begin(
      expand_template(options_.directory, options_.updates_file, options_.collector_name, start));
  interval_open_ = true;
  interval_start_ = start;
  interval_end_us_ = (start + options_.updates_interval) * kMicro;
}

void MrtExporter::close_updates() {
  if (!interval_open_) {
    return;
  }
  (void)updates_->finish();
  after_sync();
  for (auto& a : updates_->take_abandoned()) {
    abandoned_.push_back(std::move(a));
  }
  interval_open_ = false;
  if (options_.updates_interval > 0) {
    closed_until_ = std::max(closed_until_, interval_start_ + options_.updates_interval);
  }
}

void MrtExporter::flush(std::int64_t now_us) {
  if (interval_open_ && options_.updates_interval > 0 && now_us >= interval_end_us_) {
    close_updates();
  }
  if (!interval_open_ && updates_->pending_bytes() > 0) {
    rotate_for(now_us);  // records a failed file left behind: into the file of now
  }
  if (interval_open_ && now_us - last_sync_us_ >= options_.flush_interval.count() * 1000) {
    last_sync_us_ = now_us;
    (void)updates_->sync();
    after_sync();
  }
  for (auto& a : updates_->take_abandoned()) {
    abandoned_.push_back(std::move(a));
  }
  salvage(false, now_us);
  update_disk_alarm();
}

void MrtExporter::salvage(bool force, std::int64_t now_us) {
  if (abandoned_.empty() || (!force && now_us < next_salvage_us_)) {
    return;
  }
  next_salvage_us_ = now_us + kSalvageRetryUs;
  std::vector<Abandoned> left;
  for (auto& a : abandoned_) {
    const auto c = compression_extension(a.final_path.filename().string()) == ".bz2"
                       ? codec::mrt::Compression::Bzip2
                       : codec::mrt::Compression::Gzip;
    const RecoveryResult r = recover_partial(a.partial, a.final_path, a.records, writer_options(c));
    if (!r.ok) {
      log_("cannot recover " + a.partial.string() + " yet: " + r.problem);
      left.push_back(std::move(a));
      continue;
    }
    if (!r.output.empty()) {
      ++metrics_.files_recovered;
      ++metrics_.files_finished;
      metrics_.records_recovered += r.records;
      log_("recovered " + a.partial.string() + " as " + r.output.string() + ": " +
           std::to_string(r.records) + " records");
    }
  }
  abandoned_ = std::move(left);
}

void MrtExporter::write_snapshot(const Record& record) {
  if (!options_.rib_enabled() || !record.snapshot) {
    ++metrics_.ignored_records;
    return;
  }
  const RibSnapshot& snapshot = *record.snapshot;
  const std::int64_t t = floor_seconds(snapshot.time_us());
  const fs::path wanted =
      expand_template(options_.directory, options_.rib_file, options_.collector_name, t);
  // A dump is written whole or not at all: on an error the temporary is removed and the dump
  // tried once more before the snapshot is refused.
  for (int attempt = 0; attempt < 2; ++attempt) {
    FileStream stream("rib", writer_options(options_.rib_compression), log_, metrics_);
    stream.begin(wanted);
    const RibDumpResult r = write_rib(snapshot, options_.collector_name, options_.collector_bgp_id,
                                      stream, kSyncBytes, metrics_);
    auto abandoned = stream.take_abandoned();
    if (r.ok && abandoned.empty()) {
      if (stream.finish() && stream.take_abandoned().empty()) {
        ++metrics_.rib_dumps;
        log_("RIB dump: " + std::to_string(r.prefixes) + " prefixes, " + std::to_string(r.routes) +
             " routes, " + std::to_string(r.records) + " records");
        return;
      }
    }
    ++metrics_.write_errors;
    stream.discard();
    for (const auto& a : stream.take_abandoned()) {
      abandoned.push_back(a);
    }
    std::error_code ec;
    for (const auto& a : abandoned) {
      fs::remove(a.partial, ec);
    }
    log_("RIB dump into " + wanted.string() + " failed" +
         (attempt == 0 ? ", trying once more" : ", snapshot not kept"));
  }
  ++metrics_.records_refused;
  throw ExportError("mrt exporter '" + name_ + "': cannot write the RIB dump " + wanted.string());
}

void MrtExporter::stop() {
  close_updates();
  if (updates_->pending_bytes() > 0) {
    // The disk refused the last records: one more try in a file of their own.
    rotate_for(std::max<std::int64_t>(last_sync_us_, 0));
    close_updates();
  }
  for (auto& a : updates_->take_abandoned()) {
    abandoned_.push_back(std::move(a));
  }
  salvage(true, 0);
  if (updates_->pending_records() > 0) {
    metrics_.records_refused += updates_->pending_records();
    log_(std::to_string(updates_->pending_records()) +
         " records could not be written at stop (write errors)");
  }
  for (const auto& a : abandoned_) {
    log_("left " + a.partial.string() + " for recovery at the next start");
  }
}

ExporterPtr make(const ExporterContext& context, const YAML::Node& node) {
  Options o = parse_options(context, node);
  if (!context.state_directory.empty()) {
    o.position_file =
        (fs::path(context.state_directory) / ("mrt-" + context.instance_name + ".position"))
            .string();
  }
  return std::make_unique<MrtExporter>(context.instance_name, std::move(o));
}

}  // namespace bgpscribe::exporters::mrt
