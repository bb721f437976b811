// Measures how fast MRT files decompress and frame: not a test, a tool to quote numbers with.
//
// Usage: mrt_throughput FILE [--sequential] [--direct] [--threads N] [--records]
//   --sequential  bzip2 with plain libbz2 (default: parallel block decoding)
//   --direct      decompress on the calling thread (default: a producer thread)
//   --threads N   bzip2 block workers (default: hardware concurrency, at least 2)
//   --records     frame records with FileReader (default: chunks from ChunkReader only)
// Prints wall time, CPU time and uncompressed MB/s.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "codec/mrt/file.hpp"

namespace {

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bgpscribe::codec::mrt;
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: mrt_throughput FILE [--sequential] [--direct] [--threads N] "
                 "[--records]\n");
    return 2;
  }
  ReaderOptions options;
  bool records = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--sequential") {
      options.parallel_bzip2 = false;
    } else if (arg == "--direct") {
      options.threaded = false;
    } else if (arg == "--records") {
      records = true;
    } else if (arg == "--threads" && i + 1 < argc) {
      options.threads = static_cast<unsigned>(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "mrt_throughput: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  std::uint64_t bytes = 0;
  std::uint64_t items = 0;
  const StreamError* error = nullptr;
  bool parallel = false;
  Compression compression = Compression::None;
  FileReader reader;
  ChunkReader chunks;
  if (records) {
    if (!reader.open(argv[1], options)) {
      std::fprintf(stderr, "mrt_throughput: cannot open %s\n", argv[1]);
      return 1;
    }
    FileRecord rec;
    while (reader.next(rec)) {
      bytes += rec.record.bytes.size();
      ++items;
    }
    error = reader.error();
    parallel = reader.chunks().parallel();
    compression = reader.compression();
  } else {
    if (!chunks.open(argv[1], options)) {
      std::fprintf(stderr, "mrt_throughput: cannot open %s\n", argv[1]);
      return 1;
    }
    Bytes chunk;
    while (chunks.next(chunk)) {
      bytes += chunk.size();
      ++items;
    }
    error = chunks.error();
    parallel = chunks.parallel();
    compression = chunks.compression();
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu_start;
  std::printf("%s: %s%s, %llu bytes in %llu %s, %.3f s wall, %.3f s cpu, %.1f MB/s\n", argv[1],
              to_string(compression), parallel ? " (parallel)" : "",
              static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(items),
              records ? "records" : "chunks", wall, cpu, static_cast<double>(bytes) / wall / 1e6);
  if (error != nullptr) {
    std::printf("error at %llu: %s (%s)\n", static_cast<unsigned long long>(error->offset),
                error->message, error->detail);
  }
  return 0;
}
