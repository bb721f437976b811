#include "exporters/mrt/naming.hpp"

#include <ctime>
#include <system_error>
#include <vector>

namespace bgpscribe::exporters::mrt {

namespace fs = std::filesystem;

fs::path expand_template(const std::string& directory, const std::string& tmpl,
                         const std::string& collector, std::int64_t unix_seconds) {
  // {collector} first, with '%' doubled so a collector name never reads as a conversion.
  std::string escaped;
  for (char c : collector) {
    escaped += c;
    if (c == '%') {
      escaped += '%';
    }
  }
  std::string format;
  static constexpr std::string_view kKey = "{collector}";
  for (std::size_t i = 0; i < tmpl.size();) {
    if (tmpl.compare(i, kKey.size(), kKey) == 0) {
      format += escaped;
      i += kKey.size();
    } else {
      format += tmpl[i++];
    }
  }
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::vector<char> out(format.size() * 4 + 64);
  for (;;) {
    const std::size_t n = std::strftime(out.data(), out.size(), format.c_str(), &tm);
    if (n > 0 || format.empty() || out.size() > 65536) {
      return fs::path(directory) / std::string(out.data(), n);
    }
    out.resize(out.size() * 2);
  }
}

std::string compression_extension(const std::string& filename) {
  if (filename.ends_with(".gz")) {
    return ".gz";
  }
  if (filename.ends_with(".bz2")) {
    return ".bz2";
  }
  return "";
}

fs::path with_tag(const fs::path& file, const std::string& tag) {
  const std::string name = file.filename().string();
  const std::string ext = compression_extension(name);
  const std::string stem = name.substr(0, name.size() - ext.size());
  return file.parent_path() / (stem + "." + tag + ext);
}

fs::path partial_path(const fs::path& final_path) {
  return final_path.parent_path() / ("." + final_path.filename().string() + kPartialSuffix);
}

fs::path recovering_path(const fs::path& final_path) {
  return final_path.parent_path() / ("." + final_path.filename().string() + kRecoveringSuffix);
}

bool name_is_free(const fs::path& final_path, const fs::path& own_partial) {
  std::error_code ec;
  const fs::path partial = partial_path(final_path);
  return !fs::exists(final_path, ec) && (partial == own_partial || !fs::exists(partial, ec)) &&
         !fs::exists(recovering_path(final_path), ec);
}

fs::path first_free_name(const fs::path& wanted, const fs::path& own_partial) {
  if (name_is_free(wanted, own_partial)) {
    return wanted;
  }
  for (unsigned n = 1;; ++n) {
    fs::path candidate = with_tag(wanted, std::to_string(n));
    if (name_is_free(candidate, own_partial)) {
      return candidate;
    }
  }
}

}  // namespace bgpscribe::exporters::mrt
