# bgpscribe::exporter_postgres: batches of rows, their spool and the writer (libpq, binary COPY).
add_library(bgpscribe_exporter_postgres STATIC
  batch.cpp
  applier.cpp
  batch_spool.cpp
  copy.cpp
  exporter.cpp
  partition.cpp
  pg.cpp
  rows.cpp
  writer.cpp)
add_library(bgpscribe::exporter_postgres ALIAS bgpscribe_exporter_postgres)
target_compile_options(bgpscribe_exporter_postgres PRIVATE ${BGPSCRIBE_WARNINGS})
find_package(ZLIB REQUIRED)
find_package(absl REQUIRED)
target_link_libraries(bgpscribe_exporter_postgres
  PUBLIC bgpscribe::exporter_api bgpscribe::schema
  PRIVATE PkgConfig::PQ PkgConfig::XXHASH ZLIB::ZLIB absl::flat_hash_map absl::flat_hash_set absl::hash)
