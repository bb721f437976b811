// The command line's conventions, the same in every subcommand (issue 21): a usage error exits
// 2 and says what was wrong and where help is; an unknown command or top-level option is named;
// --help and --version exit 0.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/command.hpp"

namespace bgpscribe::tools {
namespace {

using tests::run_command;

TEST(CommandLine, UsageErrorsExitTwoInEverySubcommand) {
  const std::vector<std::vector<std::string>> cases = {
      {"run"},  // --config missing
      {"run", "-c", "x.yaml", "--bogus"},
      {"replay"},  // FILE missing
      {"dump", "--format", "xml", "f.mrt"},
      {"status", "--bogus"},
      {"rib", "--peer"},  // a value missing
      {"tail", "--count", "many"},
      {"db"},
      {"db", "query", "--bogus"},
  };
  for (const auto& args : cases) {
    const auto r = run_command(BGPSCRIBE_BINARY, args);
    std::string line;
    for (const auto& a : args) {
      line += " " + a;
    }
    EXPECT_EQ(r.status, 2) << "bgpscribe" << line << "\n" << r.err;
    EXPECT_NE(r.err.find("bgpscribe " + args[0]), std::string::npos)
        << "says which subcommand: " << r.err;
    EXPECT_NE(r.err.find("--help"), std::string::npos) << "says where help is: " << r.err;
    EXPECT_TRUE(r.out.empty()) << "nothing on stdout: " << r.out;
  }
}

TEST(CommandLine, AnUnknownCommandOrOptionIsNamed) {
  auto r = run_command(BGPSCRIBE_BINARY, {"frob"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("'frob' is not a command"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("run, db, status, rib, tail, archive"), std::string::npos) << r.err;
  r = run_command(BGPSCRIBE_BINARY, {"--bogus"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown option '--bogus'"), std::string::npos) << r.err;
  r = run_command(BGPSCRIBE_BINARY, {});
  EXPECT_EQ(r.status, 2) << r.err;
}

TEST(CommandLine, HelpAndVersionExitZero) {
  auto r = run_command(BGPSCRIBE_BINARY, {"--version"});
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.find_first_not_of("0123456789.\n"), std::string::npos) << r.out;
  for (const char* sub : {"run", "replay", "dump", "status", "rib", "tail", "db", "archive"}) {
    r = run_command(BGPSCRIBE_BINARY, {sub, "--help"});
    EXPECT_EQ(r.status, 0) << sub << ": " << r.err;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub;
  }
}

}  // namespace
}  // namespace bgpscribe::tools
