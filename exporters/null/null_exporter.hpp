// The null exporter: the smallest complete Exporter, and a tool for testing the collector.
//
// It keeps nothing. It counts what it gets and can be slowed down on purpose (`delay`, per
// record) so that tests and benchmarks can show that a slow exporter never stalls a BGP
// session: the collector queues, spools and catches up. Its counters can be written to a file
// at stop, for tests to compare with what was sent.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "exporters/api/exporter.hpp"

namespace bgpscribe::exporters::null {

struct Options {
  std::chrono::microseconds delay{0};  // sleep this long in every accept()
  std::string summary_file;            // written at stop: one "type count" line per type
};

class NullExporter final : public Exporter {
 public:
  NullExporter(std::string name, Options options);
  [[nodiscard]] std::string_view name() const override { return name_; }
  void start() override {}
  void accept(const Record& record) override;
  void flush(std::int64_t /*now_us*/) override {}
  void stop() override;
  [[nodiscard]] bool wants_snapshots() const override { return true; }

  [[nodiscard]] std::uint64_t count(RecordType t) const {
    return counts_[static_cast<std::size_t>(t)];
  }
  [[nodiscard]] std::uint64_t snapshot_routes() const { return snapshot_routes_; }

 private:
  std::string name_;
  Options options_;
  std::array<std::uint64_t, 6> counts_{};  // per RecordType
  std::uint64_t snapshot_routes_ = 0;
  std::uint64_t message_bytes_ = 0;
};

// `type: null` in the config: options `delay` (e.g. "2ms") and `summary_file`.
ExporterPtr make(const ExporterContext& context, const YAML::Node& options);

}  // namespace bgpscribe::exporters::null
