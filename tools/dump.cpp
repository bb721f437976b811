#include "tools/dump.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include "codec/bmp/message.hpp"
#include "codec/mrt/file.hpp"
#include "codec/mrt/table_dump.hpp"
#include "tools/bmp_input.hpp"
#include "tools/json_format.hpp"

namespace bgpscribe::tools {

namespace mrt = codec::mrt;

namespace {

class Output {
 public:
  bool open(const std::string& path) {
    if (path == "-") {
      file_ = stdout;
      return true;
    }
    file_ = std::fopen(path.c_str(), "wb");
    owned_ = file_ != nullptr;
    return owned_;
  }
  ~Output() {
    if (owned_) {
      std::fclose(file_);
    }
  }
  Output() = default;
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  bool write(std::string& buf) {
    if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), file_) != buf.size()) {
      ok_ = false;
    }
    buf.clear();
    return ok_;
  }
  bool write(Text& text) {
    const auto v = text.view();
    if (!v.empty() && std::fwrite(v.data(), 1, v.size(), file_) != v.size()) {
      ok_ = false;
    }
    text.clear();
    return ok_;
  }
  bool finish() { return std::fflush(file_) == 0 && ok_; }

 private:
  std::FILE* file_ = nullptr;
  bool owned_ = false;
  bool ok_ = true;
};

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO) != 0) {}
  // `total` is the uncompressed size when it is known (a plain regular file), else 0.
  void update(const std::string& file, std::uint64_t bytes, std::uint64_t records,
              std::uint64_t total) {
    if (!enabled_) {
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) {
      return;
    }
    if (!shown_) {
      start_ = now;
    }
    last_ = now;
    shown_ = true;
    const double secs = std::chrono::duration<double>(now - start_).count();
    char percent[16] = "";
    if (total > 0) {
      std::snprintf(percent, sizeof percent, "%3.0f%% ",
                    100.0 * static_cast<double>(bytes) / static_cast<double>(total));
    }
    std::fprintf(stderr, "\r%s: %s%.1f MB, %llu records, %.0f MB/s   ", file.c_str(), percent,
                 static_cast<double>(bytes) / 1e6, static_cast<unsigned long long>(records),
                 secs > 0 ? static_cast<double>(bytes) / 1e6 / secs : 0.0);
  }
  void done() {
    if (shown_) {
      std::fputs("\r\033[K", stderr);
      shown_ = false;
    }
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_{};
  std::chrono::steady_clock::time_point last_{};
};

// A run of whole records handed to a worker thread, and what formatting them produced.
// Formatting is the costly part of a dump and records are independent but for two things: the
// PEER_INDEX_TABLE that RIB records refer to (carried as the table in force at the batch
// start) and bgpdump's -p record index (a dump that shows it formats on one thread).
struct Batch {
  struct Item {
    std::size_t begin = 0;
    std::size_t size = 0;
    std::uint64_t index = 0;
    std::uint64_t offset = 0;
    // What offsets inside the record count from in the stream: `offset` for MRT; for a record
    // made from a BMP message, where the record would start if its BGP message sat where the
    // BMP message has it (modulo 2^64), so that field offsets name stream bytes.
    std::uint64_t base = 0;
    // BMP: members added to each JSON line of the record (in Batch::annotations).
    std::size_t annotation_begin = 0;
    std::size_t annotation_size = 0;
    bool line = false;  // the bytes are a finished JSON line, not a record
  };
  struct Problem {
    std::uint64_t index = 0;
    std::uint64_t offset = 0;
    std::uint64_t field = 0;
    const char* message = "";
    bool warning = false;  // the record was printed (mrt::Verdict::Warning)
  };
  // Records of types and subtypes we do not decode (mrt::Verdict::Unsupported).
  struct Unsupported {
    std::uint64_t count = 0;
    std::uint64_t first_index = 0;
    mrt::Type type = mrt::Type::Null;
    std::uint16_t subtype = 0;
  };
  std::vector<std::uint8_t> bytes;
  std::vector<Item> items;
  std::string annotations;
  std::shared_ptr<const mrt::PeerIndexTable> peers;
  std::string host;  // RIS Live's `host`
  Text text;
  std::string json;
  std::vector<Problem> problems;
  Unsupported unsupported;
};

constexpr std::size_t kBatchBytes = std::size_t{1} << 17;
constexpr std::size_t kMaxInFlight = 4;

// What RIS Live calls the host: MRT files do not name their collector, so the file's name.
std::string host_of(const std::string& file) {
  return file == "-" ? "stdin" : std::filesystem::path(file).filename().string();
}

// Adds `members` (",\"bmp\":{...}") at the end of every JSON line from `from` on.
void annotate(std::string& json, std::size_t from, std::string_view members, std::string& scratch) {
  scratch.assign(json, from, std::string::npos);
  json.resize(from);
  std::size_t start = 0;
  while (start < scratch.size()) {
    std::size_t end = scratch.find('\n', start);
    if (end == std::string::npos) {
      end = scratch.size();
    }
    if (end > start && scratch[end - 1] == '}') {
      json.append(scratch, start, end - 1 - start);
      json += members;
      json += '}';
    } else {
      json.append(scratch, start, end - start);
    }
    if (end < scratch.size()) {
      json += '\n';
    }
    start = end + 1;
  }
}

void format_batch(Batch& b, const DumpOptions& options, BgpdumpFormatter& text, JsonFormatter& json,
                  RisLiveFormatter& ris) {
  std::string scratch;
  for (const auto& item : b.items) {
    if (item.line) {
      b.json.append(b.bytes.begin() + static_cast<std::ptrdiff_t>(item.begin),
                    b.bytes.begin() + static_cast<std::ptrdiff_t>(item.begin + item.size));
      continue;
    }
    auto record =
        mrt::parse_record(std::span<const std::uint8_t>(b.bytes).subspan(item.begin, item.size));
    codec::Status st = record ? codec::Status{} : codec::Status{fail(record.error())};
    const mrt::RecordCheck* check = nullptr;
    if (record) {
      if (options.format == DumpFormat::Json) {
        json.set_record_offset(item.base);
        const std::size_t before = b.json.size();
        st = json.format(*record, b.json);
        check = &json.check();
        if (item.annotation_size > 0) {
          annotate(
              b.json, before,
              std::string_view(b.annotations).substr(item.annotation_begin, item.annotation_size),
              scratch);
        }
      } else if (options.format == DumpFormat::RisLive) {
        ris.set_record(item.index, b.host);
        st = ris.format(*record, b.json);
        check = &ris.check();
      } else {
        st = text.format(*record, b.text);
        check = &text.check();
      }
    }
    // Every format follows the one mrt::check_record decision, so the reports agree too.
    if (!st) {
      b.problems.push_back(
          {item.index, item.offset, item.base + st.error().offset, st.error().message, false});
    } else if (check->verdict == mrt::Verdict::Warning) {
      b.problems.push_back({item.index, item.offset, item.base + check->problem.offset,
                            check->problem.message, true});
    } else if (check->verdict == mrt::Verdict::Unsupported) {
      if (b.unsupported.count++ == 0) {
        b.unsupported.first_index = item.index;
        b.unsupported.type = record->header.type;
        b.unsupported.subtype = record->header.subtype;
      }
    }
  }
}

// Worker threads that live for the whole dump, each with its own formatters, so that a batch
// costs neither a thread start nor fresh formatter buffers.
class FormatPool {
 public:
  FormatPool(const DumpOptions& options, unsigned threads) : options_(options) {
    for (unsigned i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { work(); });
    }
  }
  ~FormatPool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) {
      t.join();
    }
  }
  FormatPool(const FormatPool&) = delete;
  FormatPool& operator=(const FormatPool&) = delete;

  std::future<std::unique_ptr<Batch>> submit(std::unique_ptr<Batch> batch) {
    Job job{std::move(batch), {}};
    auto future = job.done.get_future();
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
    return future;
  }

 private:
  struct Job {
    std::unique_ptr<Batch> batch;
    std::promise<std::unique_ptr<Batch>> done;
  };
  void work() {
    BgpdumpFormatter text(options_.bgpdump);
    JsonFormatter json;
    RisLiveFormatter ris;
    while (true) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) {
          return;
        }
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      text.set_peer_table(job.batch->peers);
      json.set_peer_table(job.batch->peers);
      ris.set_peer_table(job.batch->peers);
      format_batch(*job.batch, options_, text, json, ris);
      job.done.set_value(std::move(job.batch));
    }
  }

  const DumpOptions& options_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// The first uncompressed bytes of `file` start a BMP message (looks_like_bmp). Reads a few
// kilobytes on the caller's thread; a file that cannot be read is left for the real open to
// report.
bool detect_bmp(const std::string& file) {
  mrt::ChunkReader probe;
  mrt::ReaderOptions o;
  o.threaded = false;
  o.parallel_bzip2 = false;
  o.chunk_size = 4096;
  if (!probe.open(file, o)) {
    return false;
  }
  std::vector<std::uint8_t> head;
  mrt::Bytes chunk;
  while (head.size() < codec::bmp::kCommonHeaderSize && probe.next(chunk)) {
    head.insert(head.end(), chunk.begin(), chunk.end());
  }
  return looks_like_bmp(head);
}

}  // namespace

bool parse_dump_format(std::string_view name, DumpFormat& format) {
  if (name == "bgpdump") {
    format = DumpFormat::Bgpdump;
  } else if (name == "json") {
    format = DumpFormat::Json;
  } else if (name == "ris-live") {
    format = DumpFormat::RisLive;
  } else {
    return false;
  }
  return true;
}

bool parse_dump_input(std::string_view name, DumpInput& input) {
  if (name == "mrt") {
    input = DumpInput::Mrt;
  } else if (name == "bmp") {
    input = DumpInput::Bmp;
  } else {
    return false;
  }
  return true;
}

int run_dump(const DumpOptions& options, DumpStats* stats_out) {
  DumpStats stats;
  Output output;
  if (!output.open(options.output)) {
    std::fprintf(stderr, "bgpscribe dump: cannot open %s for writing: %s\n", options.output.c_str(),
                 std::strerror(errno));
    return 2;
  }
  Progress progress(options.progress);
  bool io_failure = false;
  // "FILE: record N at byte R: MESSAGE[: DETAIL][ (byte F)]": R is where the record starts in
  // the uncompressed stream, F the offending field when it is known.
  auto report = [&](const std::string& file, std::uint64_t index, std::uint64_t offset,
                    const char* message, const char* detail, std::uint64_t field,
                    bool warning = false) {
    ++(warning ? stats.warnings : stats.errors);
    if (options.quiet) {
      return;
    }
    progress.done();
    std::string where;
    if (field != offset) {
      where = " (byte " + std::to_string(field) + ")";
    }
    std::fprintf(stderr, "bgpscribe dump: %s: record %llu at byte %llu: %s%s%s%s%s\n", file.c_str(),
                 static_cast<unsigned long long>(index), static_cast<unsigned long long>(offset),
                 warning ? "warning: " : "", message,
                 (detail != nullptr && *detail != '\0') ? ": " : "",
                 detail != nullptr ? detail : "", where.c_str());
  };

  // Two formatting threads: the machines this runs on have two cores or more, and the reader
  // has its own decompression thread.
  FormatPool pool(options, 2);
  for (const auto& file : options.files) {
    const bool bmp_input = options.input == DumpInput::Bmp ||
                           (options.input == DumpInput::Auto && file != "-" && detect_bmp(file));
    mrt::FileReader reader;
    mrt::ChunkReader chunks;  // a BMP stream's bytes
    // Chunks of 256 KiB keep the reader's ring small (a 1 MiB ring costs a few milliseconds of
    // page faults, which is the whole run for a small file) and still amortise each read.
    mrt::ReaderOptions reader_options;
    reader_options.chunk_size = std::size_t{1} << 18;
    if (auto st = bmp_input ? chunks.open(file, reader_options) : reader.open(file, reader_options);
        !st) {
      progress.done();
      std::fprintf(stderr, "bgpscribe dump: %s: %s%s%s\n", file.c_str(), st.error().message,
                   errno != 0 ? ": " : "", errno != 0 ? std::strerror(errno) : "");
      ++stats.errors;
      io_failure = true;
      continue;
    }
    // Each file is dumped on its own, like one bgpdump run per file. Batches of records are
    // formatted on worker threads and written in order.
    const bool parallel = !options.bgpdump.packet_index;
    std::uint64_t total = 0;
    std::error_code size_error;
    if (file != "-" &&
        (bmp_input ? chunks.compression() : reader.compression()) == mrt::Compression::None) {
      total = std::filesystem::file_size(file, size_error);
    }
    std::uint64_t file_bytes = 0;
    std::uint64_t file_records = 0;
    BgpdumpFormatter serial_text(options.bgpdump);  // the one formatter when not parallel
    JsonFormatter serial_json;
    RisLiveFormatter serial_ris;
    const std::string host = host_of(file);
    std::deque<std::future<std::unique_ptr<Batch>>> in_flight;
    std::shared_ptr<const mrt::PeerIndexTable> peers;
    // Finished batches are reused: fresh megabyte buffers per batch cost more in page faults
    // than formatting them.
    std::vector<std::unique_ptr<Batch>> spare;
    auto new_batch = [&] {
      std::unique_ptr<Batch> b;
      if (spare.empty()) {
        b = std::make_unique<Batch>();
        b->bytes.reserve(kBatchBytes + 65536);
      } else {
        b = std::move(spare.back());
        spare.pop_back();
      }
      b->peers = peers;
      b->host = host;
      return b;
    };
    auto batch = new_batch();
    Batch::Unsupported unsupported;
    auto finish = [&](std::unique_ptr<Batch> done) {
      for (const auto& p : done->problems) {
        report(file, p.index, p.offset, p.message, "", p.field, p.warning);
      }
      if (done->unsupported.count > 0 && unsupported.count == 0) {
        unsupported = done->unsupported;
      } else {
        unsupported.count += done->unsupported.count;
      }
      done->unsupported = {};
      if (!output.write(done->json) || !output.write(done->text)) {
        io_failure = true;
      }
      progress.update(file, file_bytes, file_records, total);
      done->bytes.clear();
      done->items.clear();
      done->annotations.clear();
      done->problems.clear();
      done->peers.reset();
      spare.push_back(std::move(done));
    };
    auto drain = [&](std::size_t keep) {
      while (in_flight.size() > keep) {
        finish(in_flight.front().get());
        in_flight.pop_front();
      }
    };
    auto submit = [&] {
      if (batch->items.empty()) {
        return;
      }
      if (parallel) {
        in_flight.push_back(pool.submit(std::move(batch)));
        drain(kMaxInFlight);
      } else {
        format_batch(*batch, options, serial_text, serial_json, serial_ris);
        finish(std::move(batch));
      }
      batch = new_batch();
    };
    if (bmp_input) {
      // A BMP stream: messages framed here (bmp::frame), each turned into the MRT record of its
      // monitored peer on this thread (peer state is sequential), formatted in batches.
      BmpConverter converter(options.format == DumpFormat::Json);
      BmpConversion conversion;
      std::string line;
      std::vector<std::uint8_t> pending;
      std::size_t pos = 0;
      std::uint64_t offset = 0;  // of pending[pos] in the stream
      std::uint64_t index = 0;
      bool broken = false;
      // Messages per BMP type (index 7: other types and versions), for --summary.
      std::array<std::uint64_t, 8> per_type{};
      mrt::Bytes chunk;
      while (!io_failure && !broken) {
        if (!chunks.next(chunk)) {
          if (const mrt::StreamError* e = chunks.error()) {
            submit();
            drain(0);
            report(file, index, offset, e->message, e->detail, offset);
            io_failure = e->system_error != 0;
            broken = true;
          }
          break;
        }
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(pos));
        pos = 0;
        pending.insert(pending.end(), chunk.begin(), chunk.end());
        while (pos < pending.size()) {
          const auto rest = mrt::Bytes(pending).subspan(pos);
          const auto f = codec::bmp::frame(rest);
          if (f.status == codec::bgp::FrameStatus::NeedMore) {
            break;
          }
          if (f.status == codec::bgp::FrameStatus::Broken) {
            // No length to trust: the rest of the file cannot be framed.
            submit();
            drain(0);
            report(file, index, offset, "broken BMP stream, the rest of the file is not read",
                   f.error.message, offset + f.error.offset);
            broken = true;
            break;
          }
          const auto message = rest.subspan(0, f.size);
          // The draft version 4 is kept raw whatever its type: "other".
          ++per_type[f.header.version == codec::bmp::kVersion
                         ? std::min<std::size_t>(static_cast<std::size_t>(f.header.type), 7)
                         : 7];
          ++stats.records;
          ++file_records;
          stats.bytes += f.size;
          file_bytes += f.size;
          line.clear();
          const std::size_t begin = batch->bytes.size();
          converter.convert(message, batch->bytes, line, conversion);
          if (conversion.has_problem) {
            report(file, index, offset, conversion.problem.message, "",
                   offset + conversion.problem.offset, conversion.warning);
          }
          if (conversion.kind == BmpConversion::Kind::Record) {
            Batch::Item item;
            item.begin = begin;
            item.size = batch->bytes.size() - begin;
            item.index = index;
            item.offset = offset;
            item.base = offset + conversion.bmp_message_at - conversion.record_message_at;
            if (!conversion.json_members.empty()) {
              item.annotation_begin = batch->annotations.size();
              item.annotation_size = conversion.json_members.size();
              batch->annotations += conversion.json_members;
            }
            batch->items.push_back(item);
          } else if (conversion.kind == BmpConversion::Kind::Line) {
            Batch::Item item;
            item.begin = begin;
            item.size = line.size();
            item.index = index;
            item.offset = offset;
            item.base = offset;
            item.line = true;
            batch->bytes.insert(batch->bytes.end(), line.begin(), line.end());
            batch->items.push_back(item);
          }
          pos += f.size;
          offset += f.size;
          ++index;
          if (batch->bytes.size() >= kBatchBytes) {
            submit();
          }
        }
      }
      if (!broken && !io_failure && pos < pending.size()) {
        submit();
        drain(0);
        report(file, index, offset, "BMP stream ends inside a message", "", offset);
      }
      if (options.summary) {
        submit();
        drain(0);
        progress.done();
        std::string counts;
        for (std::size_t t = 0; t < per_type.size(); ++t) {
          const char* name =
              t < 7 ? codec::bmp::to_string(static_cast<codec::bmp::MessageType>(t)) : "other";
          counts += std::string(t == 0 ? "" : ", ") + name + " " + std::to_string(per_type[t]);
        }
        std::fprintf(stderr, "bgpscribe dump: %s: %llu BMP messages: %s\n", file.c_str(),
                     static_cast<unsigned long long>(index), counts.c_str());
      }
    }
    mrt::FileRecord rec;
    while (!io_failure && !bmp_input) {
      if (!reader.next(rec)) {
        const mrt::StreamError* e = reader.error();
        if (e == nullptr) {
          break;
        }
        submit();
        drain(0);
        report(file, e->record_index, e->offset, e->message, e->detail, e->offset);
        if (e->system_error != 0) {
          io_failure = true;
        }
        if (e->skippable && reader.skip()) {
          continue;
        }
        break;
      }
      ++stats.records;
      ++file_records;
      const auto bytes = rec.record.bytes;
      stats.bytes += bytes.size();
      file_bytes += bytes.size();
      batch->items.push_back(
          {batch->bytes.size(), bytes.size(), rec.index, rec.offset, rec.offset, 0, 0, false});
      batch->bytes.insert(batch->bytes.end(), bytes.begin(), bytes.end());
      if (rec.record.header.type == mrt::Type::TableDumpV2 &&
          rec.record.header.subtype ==
              static_cast<std::uint16_t>(mrt::TableDumpV2Subtype::PeerIndexTable)) {
        // Later batches start from this table (the worker of this batch reads it itself).
        if (auto t = mrt::parse_peer_index_table(rec.record)) {
          peers = std::make_shared<const mrt::PeerIndexTable>(std::move(*t));
        }
      }
      if (batch->bytes.size() >= kBatchBytes) {
        submit();
      }
    }
    submit();
    drain(0);
    progress.done();
    if (unsupported.count > 0 && !options.quiet) {
      // Not errors: the records are well framed, of kinds we keep as bytes (docs/dump.md).
      const char* type = mrt::to_string(unsupported.type);
      const char* subtype = mrt::subtype_name(unsupported.type, unsupported.subtype);
      std::string kind = type != nullptr
                             ? type
                             : "type " + std::to_string(static_cast<unsigned>(unsupported.type));
      kind += subtype != nullptr ? std::string(" ") + subtype
                                 : " subtype " + std::to_string(unsupported.subtype);
      std::fprintf(stderr,
                   "bgpscribe dump: %s: %llu records of unsupported types not decoded (the "
                   "first is record %llu, %s)\n",
                   file.c_str(), static_cast<unsigned long long>(unsupported.count),
                   static_cast<unsigned long long>(unsupported.first_index), kind.c_str());
    }
  }
  if (!output.finish()) {
    std::fprintf(stderr, "bgpscribe dump: writing output failed: %s\n", std::strerror(errno));
    io_failure = true;
  }
  if (options.summary || stats.errors > 0 || stats.warnings > 0) {
    std::fprintf(stderr, "bgpscribe dump: %llu records, %llu errors",
                 static_cast<unsigned long long>(stats.records),
                 static_cast<unsigned long long>(stats.errors));
    if (stats.warnings > 0) {
      std::fprintf(stderr, ", %llu warnings", static_cast<unsigned long long>(stats.warnings));
    }
    std::fputc('\n', stderr);
  }
  if (stats_out != nullptr) {
    *stats_out = stats;
  }
  if (io_failure) {
    return 2;
  }
  return stats.errors > 0 ? 1 : 0;
}

}  // namespace bgpscribe::tools
