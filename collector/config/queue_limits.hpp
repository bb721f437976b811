// QueueLimits: the `collector.queue` settings, what each exporter's worker may hold in memory
// and on disk (collector/core/exporter_worker.hpp). Its own header so that the config does not
// depend on the core that reads it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace bgpscribe::collector {

struct QueueLimits {
  std::size_t max_records = 1'000'000;
  std::size_t max_bytes = std::size_t{256} << 20;
  std::uint64_t spool_max_bytes = std::uint64_t{10} << 30;
  // Records on their way to the spool thread (the disk is slower than the sessions meanwhile).
  std::size_t spool_buffer_bytes = std::size_t{64} << 20;
  // How long stop() keeps delivering; what is left then stays in the spool for the next run.
  std::chrono::seconds stop_timeout{60};
};

}  // namespace bgpscribe::collector
