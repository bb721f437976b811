// CPU time and memory of processes, for the speaker benchmarks: our own through getrusage,
// another one (a forked passive side, BIRD) through /proc/PID. Linux only; nothing here
// touches sockets.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace bgpscribe::bench {

// User + system CPU seconds of this process (every thread).
double self_cpu_seconds();
// Peak resident set of this process, KiB.
long self_peak_rss_kib();

// User + system CPU seconds of process `pid` (every thread), from /proc/PID/stat.
std::optional<double> process_cpu_seconds(pid_t pid);
// A number of /proc/PID/status: VmRSS and VmHWM in KiB, voluntary_ctxt_switches...; nullopt
// when absent.
std::optional<long> process_status_value(pid_t pid, const char* field);

// Seconds since the epoch with microseconds: "1764280800.123456", comparable across processes.
std::string epoch_text(std::chrono::system_clock::time_point t);

// Pins the calling process to one CPU; false when the kernel refuses.
bool pin_to_cpu(int cpu);

}  // namespace bgpscribe::bench
