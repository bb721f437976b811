#include "exporters/mrt/output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "exporters/api/files.hpp"
#include "exporters/mrt/naming.hpp"

namespace bgpscribe::exporters::mrt {

namespace fs = std::filesystem;
using codec::mrt::Compression;
using exporters::sync_parent;
using exporters::sync_path;

namespace {

std::string describe(const char* what, int error) {
  std::string s = what;
  if (error != 0) {
    s += ": ";
    s += std::strerror(error);
  }
  return s;
}

// Uncompressed bytes the stream of `path` delivers before its end or its first error.
std::uint64_t decompressed_size(const fs::path& path) {
  codec::mrt::ChunkReader chunks;
  codec::mrt::ReaderOptions options;
  options.threaded = false;
  options.parallel_bzip2 = false;
  if (!chunks.open(path.string(), options)) {
    return 0;
  }
  std::uint64_t total = 0;
  codec::wire::Bytes chunk;
  while (chunks.next(chunk)) {
    total += chunk.size();
  }
  return total;
}

}  // namespace

fs::path durable_rename(const fs::path& from, const fs::path& to) {
  fs::path target = to;
  for (int attempt = 1; attempt <= 1000; ++attempt) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) {
      (void)sync_parent(target);
      return target;
    }
    if (errno == EINVAL || errno == ENOSYS) {
      // A file system without RENAME_NOREPLACE: names were checked free just before.
      if (std::rename(from.c_str(), target.c_str()) == 0) {
        (void)sync_parent(target);
        return target;
      }
      return {};
    }
    if (errno != EEXIST) {
      return {};
    }
    target = with_tag(to, std::to_string(attempt));  // taken meanwhile: next continuation
  }
  return {};
}

// --- FileStream -------------------------------------------------------------------------------

FileStream::FileStream(std::string what, codec::mrt::WriterOptions options, LogFn log,
                       Metrics& metrics)
    : what_(std::move(what)),
      options_(options),
      partial_options_(options),
      log_(std::move(log)),
      metrics_(metrics) {
  // A bzip2 stream is readable only up to its last finished stream: flushing ends a block but
  // leaves its last bits unwritten. The temporary of a bzip2 file is gzip (readable at every
  // sync flush) and is compressed to bzip2 when complete.
  if (options_.compression == Compression::Bzip2) {
    partial_options_.compression = Compression::Gzip;
    partial_options_.level = 1;
  }
  pending_.reserve(std::size_t{1} << 20);
}

FileStream::~FileStream() = default;

void FileStream::begin(const fs::path& final_path) {
  if (writer_) {
    (void)finish();
  }
  wanted_ = final_path;
}

bool FileStream::open_file() {
  std::error_code ec;
  fs::create_directories(wanted_.parent_path(), ec);
  if (ec) {
    ++metrics_.write_errors;
    last_error_ = "create directory: " + ec.message();
    log_("cannot create directory " + wanted_.parent_path().string() + ": " + ec.message());
    return false;
  }
  const fs::path name = first_free_name(wanted_);
  auto writer = std::make_unique<codec::mrt::FileWriter>();
  if (!writer->open(partial_path(name).string(), partial_options_)) {
    ++metrics_.write_errors;
    last_error_ = describe("create", writer->system_error());
    log_("cannot create " + partial_path(name).string() + ": " +
         std::strerror(writer->system_error()));
    return false;
  }
  writer_ = std::move(writer);
  final_ = name;
  file_records_ = 0;
  file_bytes_ = 0;
  log_("opened " + partial_path(final_).string());
  return true;
}

void FileStream::abandon(const char* what, int error) {
  ++metrics_.write_errors;
  failing_ = true;
  last_error_ = describe(what, error);
  log_("write error on " + partial_path(final_).string() + " (" + describe(what, error) +
       "): keeping its " + std::to_string(file_records_) +
       " flushed records for recovery, retrying in a new file");
  writer_.reset();  // ends what it can; the temporary stays for recovery
  abandoned_.push_back({partial_path(final_), final_, file_records_});
  final_.clear();
}

bool FileStream::sync() {
  if (pending_.size() == 0) {
    return true;
  }
  if (wanted_.empty()) {
    return false;  // begin() was never called: the exporter's bug, keep the data
  }
  // One retry in a fresh file after a failure of the current one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!writer_ && !open_file()) {
      failing_ = true;
      return false;
    }
    if (before_write_) {
      before_write_(partial_path(final_), file_records_, file_records_ + pending_records_);
    }
    if (!writer_->write(pending_.bytes())) {
      abandon("write", writer_->system_error());
      continue;
    }
    if (!writer_->flush()) {
      abandon("flush", writer_->system_error());
      continue;
    }
    metrics_.records_written += pending_records_;
    metrics_.bytes_written += pending_.size();
    file_records_ += pending_records_;
    file_bytes_ += pending_.size();
    pending_.clear();
    pending_records_ = 0;
    if (failing_) {
      log_("writing again into " + partial_path(final_).string());
    }
    failing_ = false;
    return true;
  }
  return false;
}

bool FileStream::finish() {
  if (!sync() || !writer_) {
    // Nothing was ever opened (no data), or the data stays buffered for the next file.
    return pending_.size() == 0 && !writer_;
  }
  const fs::path partial = partial_path(final_);
  if (!writer_->close()) {
    abandon("close", writer_->system_error());
    return false;
  }
  writer_.reset();
  if (!sync_path(partial)) {
    const int e = errno;
    ++metrics_.write_errors;
    abandoned_.push_back({partial, final_, file_records_});
    log_("cannot fsync " + partial.string() + ": " + std::strerror(e) + "; left for recovery");
    final_.clear();
    return false;
  }
  fs::path done;
  if (options_.compression == Compression::Bzip2) {
    const RecoveryResult r = recover_partial(partial, final_, std::nullopt, options_, true);
    if (!r.ok) {
      ++metrics_.write_errors;
      abandoned_.push_back({partial, final_, file_records_});
      log_("cannot compress " + partial.string() + " to bzip2: " + r.problem +
           "; left for recovery");
      final_.clear();
      return false;
    }
    done = r.output;
  } else {
    done = durable_rename(partial, final_);
  }
  if (done.empty()) {
    const int e = errno;
    ++metrics_.write_errors;
    abandoned_.push_back({partial, final_, file_records_});
    log_("cannot rename " + partial.string() + ": " + std::strerror(e) + "; left for recovery");
    final_.clear();
    return false;
  }
  ++metrics_.files_finished;
  log_("finished " + done.string() + " (" + std::to_string(file_records_) + " records, " +
       std::to_string(file_bytes_) + " bytes uncompressed)");
  final_.clear();
  return true;
}

void FileStream::discard() {
  if (writer_) {
    (void)writer_->close();
    writer_.reset();
    std::error_code ec;
    fs::remove(partial_path(final_), ec);
    log_("removed " + partial_path(final_).string());
  }
  final_.clear();
  pending_.clear();
  pending_records_ = 0;
}

// --- recovery ---------------------------------------------------------------------------------

RecoveryResult recover_partial(const fs::path& partial, const fs::path& final_path,
                               std::optional<std::uint64_t> max_records,
                               const codec::mrt::WriterOptions& options, bool complete) {
  RecoveryResult result;
  codec::mrt::FileReader reader;
  codec::mrt::ReaderOptions ropts;
  ropts.threaded = false;
  ropts.parallel_bzip2 = false;
  if (!reader.open(partial.string(), ropts)) {
    result.problem = describe("cannot open", errno);
    return result;
  }
  codec::mrt::WriterOptions wopts = options;
  if (options.compression != Compression::Bzip2) {
    wopts.compression = reader.compression();
  }

  codec::mrt::FileWriter writer;
  fs::path target;
  fs::path temp;
  codec::mrt::FileRecord rec;
  std::vector<std::uint8_t> batch;
  auto fail_with = [&](const char* what, int error) {
    result.problem = describe(what, error);
    if (!temp.empty()) {
      (void)writer.close();
      std::error_code ec;
      fs::remove(temp, ec);
    }
    return result;
  };
  while ((!max_records || result.records < *max_records) && reader.next(rec)) {
    if (temp.empty()) {
      result.rib = !complete && rec.record.header.type == codec::mrt::Type::TableDumpV2;
      target =
          first_free_name(result.rib ? with_tag(final_path, "incomplete") : final_path, partial);
      temp = recovering_path(target);
      if (!writer.open(temp.string(), wopts)) {
        return fail_with("cannot create the recovered file", writer.system_error());
      }
    }
    batch.insert(batch.end(), rec.record.bytes.begin(), rec.record.bytes.end());
    ++result.records;
    result.bytes += rec.record.bytes.size();
    if (batch.size() >= (std::size_t{1} << 20)) {
      if (!writer.write(batch)) {
        return fail_with("write", writer.system_error());
      }
      batch.clear();
    }
  }
  reader.close();
  const std::uint64_t total = decompressed_size(partial);
  result.dropped_bytes = total > result.bytes ? total - result.bytes : 0;
  if (!temp.empty()) {
    if (!batch.empty() && !writer.write(batch)) {
      return fail_with("write", writer.system_error());
    }
    if (!writer.close()) {
      return fail_with("close", writer.system_error());
    }
    if (!sync_path(temp)) {
      return fail_with("fsync", errno);
    }
    result.output = durable_rename(temp, target);
    if (result.output.empty()) {
      return fail_with("rename", errno);
    }
  }
  std::error_code ec;
  fs::remove(partial, ec);
  (void)sync_parent(partial);
  result.ok = true;
  return result;
}

std::uint64_t count_records(const fs::path& path) {
  codec::mrt::FileReader reader;
  codec::mrt::ReaderOptions ropts;
  ropts.threaded = false;
  ropts.parallel_bzip2 = false;
  if (!reader.open(path.string(), ropts)) {
    return 0;
  }
  std::uint64_t n = 0;
  codec::mrt::FileRecord rec;
  while (reader.next(rec)) {
    ++n;
  }
  return n;
}

void recover_directory(const fs::path& directory, const codec::mrt::WriterOptions& gzip_options,
                       const codec::mrt::WriterOptions& bzip2_options, const LogFn& log,
                       Metrics& metrics, const std::map<fs::path, std::uint64_t>& limits) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return;
  }
  std::vector<fs::path> partials;
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(
           directory, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) {
      continue;
    }
    const std::string name = it->path().filename().string();
    if (name.size() < 2 || name.front() != '.') {
      continue;
    }
    if (name.ends_with(kPartialSuffix)) {
      partials.push_back(it->path());
    } else if (name.ends_with(kRecoveringSuffix)) {
      stale.push_back(it->path());
    }
  }
  if (ec) {
    log("cannot scan " + directory.string() + " for unfinished files: " + ec.message());
  }
  // A ".recovering" file is an interrupted recovery: its ".partial" source is still there.
  for (const auto& p : stale) {
    fs::remove(p, ec);
    log("removed interrupted recovery " + p.string());
  }
  for (const auto& p : partials) {
    const std::string name = p.filename().string();
    const fs::path final_path =
        p.parent_path() / name.substr(1, name.size() - 1 - std::strlen(kPartialSuffix));
    const auto& options = compression_extension(final_path.filename().string()) == ".bz2"
                              ? bzip2_options
                              : gzip_options;
    const auto limit = limits.find(p.lexically_normal());
    const RecoveryResult r = recover_partial(
        p, final_path,
        limit != limits.end() ? std::optional<std::uint64_t>(limit->second) : std::nullopt,
        options);
    if (!r.ok) {
      ++metrics.write_errors;
      log("cannot recover " + p.string() + ": " + r.problem + " (left in place)");
      continue;
    }
    metrics.records_recovered += r.records;
    metrics.recovery_bytes_dropped += r.dropped_bytes;
    if (r.output.empty()) {
      log("recovered nothing from " + p.string() + " (no whole record, " +
          std::to_string(r.dropped_bytes) + " bytes dropped); removed it");
      continue;
    }
    ++metrics.files_recovered;
    log("recovered " + p.string() + " as " + r.output.string() + ": " + std::to_string(r.records) +
        " records (" + std::to_string(r.bytes) + " bytes), " + std::to_string(r.dropped_bytes) +
        " bytes dropped after the last whole record" +
        (r.rib ? "; the RIB dump is incomplete" : ""));
  }
}

}  // namespace bgpscribe::exporters::mrt
