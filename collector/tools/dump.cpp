#include "collector/tools/dump.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "codec/mrt/file.hpp"
#include "collector/tools/json_format.hpp"

namespace bgpscribe::collector::tools {

namespace mrt = codec::mrt;

namespace {

constexpr std::size_t kFlushAt = std::size_t{1} << 20;

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
  void update(const std::string& file, std::uint64_t bytes, std::uint64_t records) {
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
    std::fprintf(stderr, "\r%s: %.1f MB, %llu records, %.0f MB/s   ", file.c_str(),
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

}  // namespace

int run_dump(const DumpOptions& options, DumpStats* stats_out) {
  DumpStats stats;
  Output output;
  if (!output.open(options.output)) {
    std::fprintf(stderr, "bgpscribe dump: cannot open %s for writing: %s\n", options.output.c_str(),
                 std::strerror(errno));
    return 2;
  }
  Progress progress(options.progress);
  std::string buf;  // JSON lines
  buf.reserve(kFlushAt + 65536);
  Text text_buf;  // bgpdump lines
  bool io_failure = false;
  // "FILE: record N at byte R: MESSAGE[: DETAIL][ (byte F)]": R is where the record starts in
  // the uncompressed stream, F the offending field when it is known.
  auto report = [&](const std::string& file, std::uint64_t index, std::uint64_t offset,
                    const char* message, const char* detail, std::uint64_t field) {
    ++stats.errors;
    if (options.quiet) {
      return;
    }
    progress.done();
    std::string where;
    if (field != offset) {
      where = " (byte " + std::to_string(field) + ")";
    }
    std::fprintf(stderr, "bgpscribe dump: %s: record %llu at byte %llu: %s%s%s%s\n", file.c_str(),
                 static_cast<unsigned long long>(index), static_cast<unsigned long long>(offset),
                 message, (detail != nullptr && *detail != '\0') ? ": " : "",
                 detail != nullptr ? detail : "", where.c_str());
  };

  for (const auto& file : options.files) {
    mrt::FileReader reader;
    if (auto st = reader.open(file); !st) {
      progress.done();
      std::fprintf(stderr, "bgpscribe dump: %s: %s%s%s\n", file.c_str(), st.error().message,
                   errno != 0 ? ": " : "", errno != 0 ? std::strerror(errno) : "");
      ++stats.errors;
      io_failure = true;
      continue;
    }
    // Each file is dumped on its own, like one bgpdump run per file.
    BgpdumpFormatter text(options.bgpdump);
    JsonFormatter json;
    mrt::FileRecord rec;
    while (true) {
      if (!reader.next(rec)) {
        const mrt::StreamError* e = reader.error();
        if (e == nullptr) {
          break;
        }
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
      stats.bytes += rec.record.bytes.size();
      auto st = options.format == DumpFormat::Json ? json.format(rec.record, buf)
                                                   : text.format(rec.record, text_buf);
      if (!st) {
        report(file, rec.index, rec.offset, st.error().message, "", rec.offset + st.error().offset);
      }
      if (buf.size() >= kFlushAt || text_buf.size() >= kFlushAt) {
        if (!output.write(buf) || !output.write(text_buf)) {
          io_failure = true;
          break;
        }
        progress.update(file, stats.bytes, stats.records);
      }
    }
    if (!output.write(buf) || !output.write(text_buf)) {
      io_failure = true;
    }
    progress.done();
  }
  if (!output.finish()) {
    std::fprintf(stderr, "bgpscribe dump: writing output failed: %s\n", std::strerror(errno));
    io_failure = true;
  }
  if (options.summary || stats.errors > 0) {
    std::fprintf(stderr, "bgpscribe dump: %llu records, %llu errors\n",
                 static_cast<unsigned long long>(stats.records),
                 static_cast<unsigned long long>(stats.errors));
  }
  if (stats_out != nullptr) {
    *stats_out = stats;
  }
  if (io_failure) {
    return 2;
  }
  return stats.errors > 0 ? 1 : 0;
}

}  // namespace bgpscribe::collector::tools
