// Options of the MRT exporter: bad values and unknown keys are refused with file:line:column.
#include <gtest/gtest.h>

#include "exporters/api/config.hpp"
#include "tests/exporters/mrt/test_util.hpp"

namespace bgpscribe::exporters::mrt::test {
namespace {

// The message parse_options gives for `yaml` (a block mapping, so lines are meaningful).
std::string error_for(const std::string& yaml) {
  try {
    (void)options_from(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(MrtConfig, ErrorsNameFileLineAndWhat) {
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\ncompresion: gzip\n"),
            "test.yaml:3:1: exporter 'mrt': unknown option 'compresion'");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\ncompression: zip\n"),
            "test.yaml:3:14: exporter 'mrt': 'compression' must be one of gzip, bzip2, none, "
            "not 'zip'");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\n\nupdates_interval: soon\n"),
            "test.yaml:4:19: exporter 'mrt': 'updates_interval' must be a duration such as 90, "
            "90s, 5m or 8h, not 'soon'");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\npreset: ripe\n"),
            "test.yaml:3:9: exporter 'mrt': 'preset' must be one of ris, routeviews, none, not "
            "'ripe'");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\npreset: none\n"),
            "test.yaml:3:9: exporter 'mrt': 'preset: none' needs 'updates_file'");
  EXPECT_EQ(error_for("type: mrt\n"), "test.yaml:1:1: exporter 'mrt': missing 'directory'");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\nformat: et\n"),
            "test.yaml:3:9: exporter 'mrt': 'format' must be one of bgp4mp_et, bgp4mp, not 'et'");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\nupdates_file: u.%H%M.gz\ncompression: bzip2\n"),
            "test.yaml:3:15: exporter 'mrt': 'updates_file' ends in .gz but 'compression' is "
            "bzip2");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\nrib_file: /abs/rib\n"),
            "test.yaml:3:11: exporter 'mrt': 'rib_file' must be relative to 'directory', not "
            "'/abs/rib'");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\nupdates_file: ../u.%H%M\n"),
            "test.yaml:3:15: exporter 'mrt': 'updates_file' must not contain '..'");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\nflush_interval: 0ms\n"),
            "test.yaml:3:17: exporter 'mrt': 'flush_interval' must be a duration from 1ms to 1h "
            "such as 500ms or 1s, not '0ms'");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\ngzip_level: 11\n"),
            "test.yaml:3:13: exporter 'mrt': 'gzip_level' must be an integer from 1 to 9, not "
            "'11'");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\nstate_changes: maybe\n"),
            "test.yaml:3:16: exporter 'mrt': 'state_changes' must be true or false, not 'maybe'");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\ncollector_bgp_id: 300.1.1.1\n"),
            "test.yaml:3:19: exporter 'mrt': 'collector_bgp_id' must be a dotted-quad IPv4 "
            "address such as 192.0.2.1");
  EXPECT_EQ(error_for("type: mrt\ndirectory: /d\nupdates_interval: 30s\n"),
            "test.yaml:3:19: exporter 'mrt': 'updates_interval' below 1m needs %S in "
            "'updates_file' (names would repeat)");
}

TEST(MrtConfig, FactoryBuildsTheExporter) {
  ExporterContext ctx;
  ctx.instance_name = "archive";
  ctx.collector_name = "rrc99";
  ctx.config_file = "c.yaml";
  auto e = make(ctx, YAML::Load("{type: mrt, name: archive, directory: /tmp/x, "
                                "preset: routeviews, gzip_level: 6, compression: gzip, "
                                "collector_bgp_id: 192.0.2.9, state_changes: off}"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name(), "archive");
  auto* m = dynamic_cast<MrtExporter*>(e.get());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->options().updates_file, "{collector}/bgpdata/%Y.%m/UPDATES/updates.%Y%m%d.%H%M.gz");
  EXPECT_EQ(m->options().updates_interval, 900);
  EXPECT_EQ(m->options().gzip_level, 6);
  EXPECT_EQ(m->options().collector_bgp_id, 0xC0000209U);
  EXPECT_FALSE(m->options().state_changes);
}

}  // namespace
}  // namespace bgpscribe::exporters::mrt::test
