// A driver for instruction-level profiles of the hot paths, independent of
// machine load (valgrind counts instructions, not time):
//
//   valgrind --tool=callgrind '--toggle-collect=(anonymous namespace)::run_*'
//            build/bench/bench/bench_profile case1 100000        (one command line)
//   callgrind_annotate callgrind.out.<pid>          (divide by the span count)
//
// Cases as in bench_span: case1 (sampled), case2 (+ 4 attributes + 1 event),
// case3 (child), case4 (ratio 0), case4p (unsampled parent), case5 (runtime
// disabled), case8 (inject + extract through the tracer), case8f (the W3C
// functions alone). Sampled spans are ended in rounds of
// 1000 with a flush between rounds, outside the measured functions, so none
// is dropped even though valgrind runs one thread at a time.
#include "bench_pipeline.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace {

namespace st = streambus::tracing;

[[gnu::noinline]] void run_spans(st::tracer& t, int n) {
  for (int i = 0; i < n; ++i) {
    auto s = t.start("op");
    benchmark::DoNotOptimize(s);
  }
}

[[gnu::noinline]] void run_spans_4_attributes_1_event(st::tracer& t, int n) {
  for (int i = 0; i < n; ++i) {
    auto s = t.start("op");
    bench::record_4_attributes_1_event(s);
  }
}

[[gnu::noinline]] void run_inject_extract(st::tracer& t, std::map<std::string, std::string>& headers, int n) {
  for (int i = 0; i < n; ++i) {
    t.inject(headers);
    auto ctx = t.extract(headers);
    benchmark::DoNotOptimize(ctx);
  }
}

[[gnu::noinline]] void run_inject_extract_functions(const st::span_context& ctx,
                                                   std::map<std::string, std::string>& headers, int n) {
  for (int i = 0; i < n; ++i) {
    st::inject(ctx, headers);
    auto got = st::extract(headers);
    benchmark::DoNotOptimize(got);
  }
}

template <class F>
void in_rounds(st::tracer& t, int n, F&& run) {
  for (int done = 0; done < n; done += 1000) {
    run(n - done < 1000 ? n - done : 1000);
    t.force_flush();
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "case1";
  const int n = argc > 2 ? std::atoi(argv[2]) : 100000;
  if (which == "case1" || which == "case2" || which == "case3") {
    auto t = bench::make_tracer("always_on");
    bench::warm_up(t);
    st::span parent;
    if (which == "case3") parent = t.start("parent");
    const st::tracer_stats before = t.stats();
    if (which == "case2")
      in_rounds(t, n, [&](int k) { run_spans_4_attributes_1_event(t, k); });
    else
      in_rounds(t, n, [&](int k) { run_spans(t, k); });
    const st::tracer_stats after = t.stats();
    std::printf("%s: %d spans, %llu dropped\n", which.c_str(), n,
                static_cast<unsigned long long>(after.spans_dropped - before.spans_dropped));
  } else if (which == "case4") {
    auto t = bench::make_tracer("traceidratio", 0.0);
    run_spans(t, n);
  } else if (which == "case4p") {
    auto t = bench::make_tracer("parentbased_always_on");
    const std::map<std::string, std::string> headers{
        {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}};
    auto parent = t.start("remote-parent-unsampled", t.extract(headers));
    run_spans(t, n);
  } else if (which == "case5") {
    st::config cfg;
    cfg.enabled = false;
    cfg.read_environment = false;
    auto t = st::tracer::create(cfg);
    run_spans(t, n);
  } else if (which == "case8") {
    auto t = bench::make_tracer("always_on");
    auto parent = t.start("parent");
    std::map<std::string, std::string> headers;
    t.inject(headers);
    run_inject_extract(t, headers, n);
  } else if (which == "case8f") {
    auto t = bench::make_tracer("always_on");
    auto parent = t.start("parent");
    std::map<std::string, std::string> headers;
    st::inject(parent.context(), headers);
    run_inject_extract_functions(parent.context(), headers, n);
  } else {
    std::fprintf(stderr, "usage: bench_profile case1|case2|case3|case4|case4p|case5|case8|case8f [count]\n");
    return 2;
  }
  return 0;
}
