// `bgpscribe db`: the PostgreSQL archive from the shell. `db migrate` brings a database to this
// binary's schema version, `db status` summarises an archive (version, partitions, row
// estimates, checkpoints), and `db query NAME ARGS...` runs the common query functions of
// schema/sql/0002_queries.sql with readable output (an aligned table like psql's, or CSV).
//
// Arguments are checked before any connection is made, so a typo is a usage error (exit 2)
// that names the query and the argument, never a PostgreSQL error. This tool only reads the
// archive, apart from `migrate`; it must not write archive data. docs/sql.md documents it.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace bgpscribe::tools {

// The words after `db` on the command line; run_db parses them itself so that every usage
// error exits with 2 and `bgpscribe db --help` lists its own subcommands.
struct DbArgs {
  std::vector<std::string> args;
};

// Registers `db` on the main program's parser; it passes everything after `db` into `args`.
void add_db(CLI::App& app, DbArgs& args);

// Runs `bgpscribe db ARGS...`; returns the exit status: 0 done, 1 a database error (no
// connection, a schema too old or too new, a failed query or migration), 2 a usage error.
int run_db(const DbArgs& args, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace bgpscribe::tools
