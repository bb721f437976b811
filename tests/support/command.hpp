// Test support: running a program as a shell command and capturing what it says.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bgpscribe::tests {

struct CommandResult {
  int status = -1;  // the exit status; -1 when it could not start or a signal ended it
  std::string out;
  std::string err;
};

// Runs `command` with /bin/sh, capturing stdout and stderr (stderr through a temporary file;
// the command's own redirections, such as 2>&1, apply first).
CommandResult run_command(const std::string& command);
// Runs `program` with `args`, each quoted for the shell.
CommandResult run_command(const std::string& program, const std::vector<std::string>& args);

// `s` in single quotes, safe as one shell word.
std::string shell_quote(std::string_view s);

// Whether `name` is a command the shell finds (`command -v`), e.g. "bgpdump".
bool have_command(const std::string& name);

// The lines of `text`, without their newlines.
std::vector<std::string> lines_of(const std::string& text);

}  // namespace bgpscribe::tests
