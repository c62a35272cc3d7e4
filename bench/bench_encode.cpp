// Case 9 of the Performance issue: encoding 512-span batches, each span with 4
// attributes (2 strings, an int64, a double), as the export thread does it:
// OTLP protobuf and OTLP JSON, Jaeger Thrift and Jaeger UI JSON, Zipkin v2
// JSON. Reported: "time/span" (ns per span), "bytes/span" of the output,
// "allocs/span" with the output buffer reused (as the exporters reuse it).
//
//   bench_encode --dump-otlp=FILE [benchmark flags]
// also writes the OTLP protobuf request of the batch to FILE, so that
// tools/run bench can compare its size with protoc's canonical encoding of
// the same message.
#include "bench_common.hpp"

#include <streambus/tracing.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace st = streambus::tracing;

constexpr std::size_t batch_spans = 512;

// 512 spans of one service: a few traces, server spans with a parent, times
// in 2024, case 2's attributes with varying values.
struct test_batch {
  st::resource resource;
  st::instrumentation_scope scope;
  std::vector<std::unique_ptr<st::span_data>> spans;
  std::vector<const st::span_data*> pointers;

  test_batch() {
    const std::size_t no_limit = static_cast<std::size_t>(-1);
    resource.attributes.set("service.name", "orders", no_limit);
    resource.attributes.set("service.version", "1.4.2", no_limit);
    resource.attributes.set("telemetry.sdk.name", st::sdk_name, no_limit);
    resource.attributes.set("telemetry.sdk.language", "cpp", no_limit);
    resource.attributes.set("telemetry.sdk.version", st::version_string, no_limit);
    std::uint64_t x = 0x9e3779b97f4a7c15ULL;
    const auto next = [&x] {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      return x;
    };
    const std::uint64_t t0 = 1'717'171'717'000'000'000ULL;
    for (std::size_t i = 0; i < batch_spans; ++i) {
      auto d = std::make_unique<st::span_data>();
      const std::uint64_t trace_hi = 0x4bf92f3577b34da6ULL + i / 8;  // 8 spans per trace
      d->context = st::span_context(st::trace_id::from_u64(trace_hi, 0xa3ce929d0e0e4736ULL), st::span_id::from_u64(next()),
                                    st::trace_flags(st::trace_flags::sampled_bit | st::trace_flags::random_bit));
      d->parent_span_id = st::span_id::from_u64(next());
      d->name = "GET /api/v1/orders/{id}";
      d->kind = st::span_kind::server;
      d->start_time_unix_nano = t0 + i * 1'000'000;
      d->end_time_unix_nano = d->start_time_unix_nano + 250'000 + (next() % 100'000);
      d->attributes.set("http.request.method", "GET");
      d->attributes.set("url.path", "/api/v1/orders/" + std::to_string(10000 + i));
      d->attributes.set("http.response.status_code", std::int64_t{200});
      d->attributes.set("load", 0.25 + static_cast<double>(i % 7) / 8.0);
      pointers.push_back(d.get());
      spans.push_back(std::move(d));
    }
  }

  st::span_batch view() const { return st::span_batch(resource, scope, pointers.data(), pointers.size()); }
};

const test_batch& the_batch() {
  static const test_batch batch;
  return batch;
}

template <void (*Encode)(const st::span_batch&, std::string&)>
void encode(benchmark::State& state) {
  const st::span_batch batch = the_batch().view();
  std::string out;
  Encode(batch, out);  // the buffer grows once, as an exporter's does
  bench::alloc_counter allocs(state, batch_spans);
  for (auto _ : state) {
    Encode(batch, out);
    benchmark::DoNotOptimize(out.data());
  }
  const double spans = static_cast<double>(state.iterations()) * batch_spans;
  state.counters["time/span"] = benchmark::Counter(spans, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["bytes/span"] = static_cast<double>(out.size()) / batch_spans;
  state.SetItemsProcessed(static_cast<std::int64_t>(spans));
}

void case9_otlp_protobuf(benchmark::State& state) { encode<st::otlp::encode_protobuf>(state); }
void case9_otlp_json(benchmark::State& state) { encode<st::otlp::encode_json>(state); }
void case9_jaeger_thrift(benchmark::State& state) { encode<st::jaeger::encode_thrift_batch>(state); }
void case9_jaeger_ui_json(benchmark::State& state) { encode<st::jaeger::encode_ui_json>(state); }
void case9_zipkin_json_v2(benchmark::State& state) { encode<st::zipkin::encode_json_v2>(state); }
BENCHMARK(case9_otlp_protobuf)->UseRealTime();
BENCHMARK(case9_otlp_json)->UseRealTime();
BENCHMARK(case9_jaeger_thrift)->UseRealTime();
BENCHMARK(case9_jaeger_ui_json)->UseRealTime();
BENCHMARK(case9_zipkin_json_v2)->UseRealTime();

bool dump_otlp(const char* path) {
  std::string out;
  st::otlp::encode_protobuf(the_batch().view(), out);
  std::FILE* f = std::fopen(path, "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(out.data(), 1, out.size(), f) == out.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

// Like BENCHMARK_MAIN(), plus --dump-otlp=FILE.
int main(int argc, char** argv) {
  constexpr const char* dump_flag = "--dump-otlp=";
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], dump_flag, std::strlen(dump_flag)) == 0) {
      if (!dump_otlp(argv[i] + std::strlen(dump_flag))) {
        std::fprintf(stderr, "bench_encode: cannot write %s\n", argv[i] + std::strlen(dump_flag));
        return 1;
      }
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
