#include "exporters/postgres/batch_spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <system_error>

#include "exporters/api/files.hpp"

namespace bgpscribe::exporters::postgres {

namespace fs = std::filesystem;
using exporters::Durability;
using exporters::replace_file;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

void write_text(const fs::path& path, const std::string& text) {
  replace_file(path, text + "\n", Durability::Durable);
}

}  // namespace

namespace {

// The sequence number of a spool file name ("<20 digits>.batch"); anything else is not ours.
std::optional<std::uint64_t> sequence_of(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.size() != 26 || !name.ends_with(".batch") ||
      !std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::strtoull(name.c_str(), nullptr, 10);
}

}  // namespace

BatchSpool::BatchSpool(fs::path directory) : dir_(std::move(directory)) {
  fs::create_directories(dir_ / "batches");
  const fs::path stream_file = dir_ / "stream";
  if (fs::exists(stream_file)) {
    stream_ = static_cast<std::int32_t>(std::strtol(read_text(stream_file).c_str(), nullptr, 10));
  }
  if (stream_ <= 0) {
    // A random id per spool folder: a new folder (a new machine, a wiped state directory)
    // numbers its batches from 1 again without colliding with the numbers of the old one.
    std::random_device rd;
    stream_ = static_cast<std::int32_t>(1 + (rd() % 0x7FFFFFFE));
    write_text(stream_file, std::to_string(stream_));
  }
  if (fs::exists(dir_ / "sequence")) {
    sequence_ = std::strtoull(read_text(dir_ / "sequence").c_str(), nullptr, 10);
  }
  std::uint64_t bytes = 0;
  std::uint64_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "batches")) {
    const auto name = e.path().filename().string();
    if (name.starts_with(".")) {
      fs::remove(e.path());  // a temporary left by a crash while writing: never renamed
      continue;
    }
    if (const auto seq = sequence_of(e.path())) {
      sequence_ = std::max(sequence_, *seq);
      bytes += e.file_size();
      ++files;
    }
  }
  bytes_ = bytes;
  files_ = files;
}

std::uint64_t BatchSpool::next_sequence() {
  ++sequence_;
  write_text(dir_ / "sequence", std::to_string(sequence_));
  return sequence_;
}

fs::path BatchSpool::path_of(std::uint64_t sequence) const {
  char name[40];
  std::snprintf(name, sizeof name, "%020llu.batch", static_cast<unsigned long long>(sequence));
  return dir_ / "batches" / name;
}

void BatchSpool::write(const Batch& batch) {
  const auto bytes = batch.serialize();
  replace_file(path_of(batch.sequence), bytes, Durability::Durable);
  bytes_ += bytes.size();
  ++files_;
}

std::vector<std::uint64_t> BatchSpool::list() const {
  std::vector<std::uint64_t> v;
  for (const auto& e : fs::directory_iterator(dir_ / "batches")) {
    if (const auto seq = sequence_of(e.path())) {
      v.push_back(*seq);
    }
  }
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::uint8_t> BatchSpool::read(std::uint64_t sequence) const {
  const fs::path p = path_of(sequence);
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "cannot read " + p.string());
  }
  // The file's size up front: one allocation, read straight into it.
  struct stat st {};
  std::vector<std::uint8_t> bytes(::fstat(fd, &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0);
  std::size_t at = 0;
  while (at < bytes.size()) {
    const auto rest = std::span(bytes).subspan(at);
    const ssize_t n = ::read(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      throw std::system_error(e, std::generic_category(), "cannot read " + p.string());
    }
    if (n == 0) {
      break;  // shorter than fstat said: the CRC check refuses what is there
    }
    at += static_cast<std::size_t>(n);
  }
  bytes.resize(at);
  ::close(fd);
  return bytes;
}

void BatchSpool::remove(std::uint64_t sequence) {
  const fs::path p = path_of(sequence);
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (fs::remove(p, ec)) {
    bytes_ -= ec ? 0 : size;
    --files_;
  }
}

void BatchSpool::write_position(std::uint64_t seq) {
  write_text(dir_ / "position", std::to_string(seq));
}

std::uint64_t BatchSpool::position() const {
  std::uint64_t seq = 0;
  if (fs::exists(dir_ / "position")) {
    seq = std::strtoull(read_text(dir_ / "position").c_str(), nullptr, 10);
  }
  const auto batches = list();
  if (!batches.empty()) {
    std::ifstream in(path_of(batches.back()), std::ios::binary);
    std::array<char, Batch::kHeaderBytes> header{};
    in.read(header.data(), header.size());
    std::array<std::uint8_t, Batch::kHeaderBytes> bytes{};
    std::memcpy(bytes.data(), header.data(), header.size());
    const auto n = static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0));
    seq = std::max(seq, Batch::last_seq_of(std::span(bytes).first(n)));
  }
  return seq;
}

fs::path BatchSpool::quarantine(std::uint64_t sequence) {
  const fs::path from = path_of(sequence);
  fs::create_directories(dir_ / "failed");
  fs::path to = dir_ / "failed" / from.filename();
  std::error_code ec;
  const auto size = fs::file_size(from, ec);
  fs::rename(from, to);
  bytes_ -= ec ? 0 : size;
  --files_;
  return to;
}

}  // namespace bgpscribe::exporters::postgres
