#include "tests/support/command.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

namespace bgpscribe::tests {

CommandResult run_command(const std::string& command) {
  CommandResult r;
  const TempDir dir("bgpscribe-command");
  const std::string err_path = (dir / "stderr").string();
  // In a group, so that a redirection of the command's own (2>&1, 2>file) still wins.
  std::FILE* p = ::popen(("{ " + command + "\n} 2>" + shell_quote(err_path)).c_str(), "r");
  if (p == nullptr) {
    return r;
  }
  std::array<char, 65536> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
    r.out.append(buf.data(), n);
  }
  const int st = ::pclose(p);
  r.status = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = read_file(err_path);
  return r;
}

CommandResult run_command(const std::string& program, const std::vector<std::string>& args) {
  std::string command = shell_quote(program);
  for (const auto& a : args) {
    command += " " + shell_quote(a);
  }
  return run_command(command);
}

std::string shell_quote(std::string_view s) {
  std::string q = "'";
  for (const char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

bool have_command(const std::string& name) {
  return std::system(("command -v " + shell_quote(name) + " >/dev/null 2>&1").c_str()) == 0;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    v.push_back(line);
  }
  return v;
}

}  // namespace bgpscribe::tests
