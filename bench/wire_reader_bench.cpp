// Benchmarks of codec/wire/reader.hpp: the cost of the checked reads every parser is built on.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/wire/reader.hpp"

namespace {

using bgpscribe::codec::wire::Reader;

std::vector<std::uint8_t> make_buffer(std::size_t size) {
  std::vector<std::uint8_t> buffer(size);
  for (std::size_t i = 0; i < size; ++i) {
    buffer[i] = static_cast<std::uint8_t>(i * 31U + 7U);
  }
  return buffer;
}

// Sequential u32 reads over a 4 KiB message: the inner loop of NLRI and attribute walks.
void bm_read_u32(benchmark::State& state) {
  const auto buffer = make_buffer(4096);
  for (auto _ : state) {
    Reader r(buffer);
    std::uint32_t sum = 0;
    while (auto v = r.u32()) {
      sum += *v;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 4096);
}
BENCHMARK(bm_read_u32);

// TLV walk: type, length, then a child reader per value, as attribute and capability parsers do.
void bm_tlv_walk(benchmark::State& state) {
  std::vector<std::uint8_t> buffer;
  const auto value_size = static_cast<std::uint8_t>(state.range(0));
  while (buffer.size() + 2 + value_size <= 4096) {
    buffer.push_back(1);
    buffer.push_back(value_size);
    buffer.insert(buffer.end(), value_size, 0xab);
  }
  for (auto _ : state) {
    Reader r(buffer);
    std::size_t count = 0;
    while (!r.empty()) {
      auto type = r.u8();
      auto length = r.u8();
      if (!type || !length) {
        break;
      }
      auto value = r.sub(*length);
      if (!value) {
        break;
      }
      count += value->remaining();
    }
    benchmark::DoNotOptimize(count);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buffer.size()));
}
BENCHMARK(bm_tlv_walk)->Arg(4)->Arg(32)->Arg(200);

}  // namespace
