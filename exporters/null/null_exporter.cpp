#include "exporters/null/null_exporter.hpp"

#include <cstdio>
#include <stdexcept>
#include <thread>

#include "exporters/api/config.hpp"

namespace bgpscribe::exporters::null {

NullExporter::NullExporter(std::string name, Options options)
    : name_(std::move(name)), options_(std::move(options)) {}

void NullExporter::accept(const Record& record) {
  ++counts_[static_cast<std::size_t>(record.type)];
  message_bytes_ += record.message.size();
  if (record.type == RecordType::RibSnapshot && record.snapshot) {
    snapshot_routes_ += record.snapshot->route_count();
  }
  if (options_.delay.count() > 0) {
    std::this_thread::sleep_for(options_.delay);
  }
}

void NullExporter::stop() {
  if (options_.summary_file.empty()) {
    return;
  }
  std::FILE* f = std::fopen(options_.summary_file.c_str(), "w");
  if (f == nullptr) {
    throw std::runtime_error("null exporter " + name_ + ": cannot write " + options_.summary_file);
  }
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    std::fprintf(f, "%s %llu\n", to_string(static_cast<RecordType>(i)),
                 static_cast<unsigned long long>(counts_[i]));
  }
  std::fprintf(f, "message-bytes %llu\nsnapshot-routes %llu\n",
               static_cast<unsigned long long>(message_bytes_),
               static_cast<unsigned long long>(snapshot_routes_));
  std::fclose(f);
}

ExporterPtr make(const ExporterContext& context, const YAML::Node& node) {
  ConfigMap map(context.config_file, node, "exporter '" + context.instance_name + "'");
  (void)map.node("type");  // "null", which YAML reads as a null value
  (void)map.string("name", context.instance_name);
  Options options;
  auto delay = map.node("delay");
  if (delay) {
    // Microsecond resolution: parse "250us" here, the rest through the shared duration parser.
    const auto& s = delay.Scalar();
    const bool micros = s.size() > 2 && s.ends_with("us");
    const bool millis = s.size() > 2 && s.ends_with("ms");
    if (micros || millis) {
      const std::int64_t n =
          parse_integer(std::string_view(s).substr(0, s.size() - 2)).value_or(-1);
      if (n < 0) {
        map.fail_at(delay, "'delay' must be a duration such as 250us, 2ms or 1s, not '" + s + "'");
      }
      options.delay = micros ? std::chrono::microseconds(n) : std::chrono::milliseconds(n);
    } else {
      options.delay = std::chrono::seconds(map.seconds("delay"));
    }
  }
  options.summary_file = map.string("summary_file", std::string());
  map.check_unknown();
  return std::make_unique<NullExporter>(context.instance_name, std::move(options));
}

}  // namespace bgpscribe::exporters::null
