// The instrumentation helpers with tracing compiled out
// (STREAMBUS_TRACING_DISABLED): no spans, but the same behaviour otherwise —
// callables run, results and references come back, exceptions propagate
// unchanged, retries retry and wait, invalid arguments are still errors.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#if !defined(STREAMBUS_TRACING_DISABLED)
#error "this test is compiled with STREAMBUS_TRACING_DISABLED"
#endif

#include <chrono>
#include <map>
#include <memory>
#include <ostream>  // doctest prints std::error_code through it
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace st = streambus::tracing;
using namespace std::chrono_literals;

namespace {

struct tagged_error : std::runtime_error {
  explicit tagged_error(const std::string& what) : std::runtime_error(what), self(this) {}
  tagged_error(const tagged_error& other) : std::runtime_error(other), self(other.self) {}
  const tagged_error* self;
};

st::tracer make_tracer() {
  st::config cfg;
  cfg.exporter = "none";
  cfg.read_environment = false;
  return st::tracer::create(cfg);
}

}  // namespace

TEST_CASE("disabled: instrumented_operation calls fn once and returns its value, reference or nothing") {
  auto tracer = make_tracer();
  CHECK_FALSE(tracer.is_enabled());
  int calls = 0;
  CHECK(st::instrumented_operation(tracer, "v", [&] { return ++calls * 10; }) == 10);
  bool got_span = false;
  CHECK(st::instrumented_operation(tracer, "s", [&](st::span& s) {
          got_span = !s.is_recording();
          return std::string("x");
        }) == "x");
  CHECK(got_span);
  int target = 1;
  int& ref = st::instrumented_operation(tracer, "r", [&]() -> int& { return target; });
  CHECK(&ref == &target);
  auto lvalue = [&]() -> int& { return target; };
  static_assert(std::is_same_v<decltype(st::instrumented_operation(tracer, "r", lvalue)), int&>);
  st::instrumented_operation(tracer, "void", [&] { ++calls; });
  CHECK(calls == 2);
  auto owned = st::instrumented_operation(tracer, "u", [] { return std::make_unique<int>(4); });
  CHECK(*owned == 4);
}

TEST_CASE("disabled: instrumented_operation rethrows the same exception object and returns error results") {
  auto tracer = make_tracer();
  bool caught = false;
  try {
    st::instrumented_operation(tracer, "x", []() -> int { throw tagged_error("boom"); });
  } catch (const tagged_error& e) {
    caught = true;
    CHECK(e.self == &e);
    CHECK(std::string(e.what()) == "boom");
  }
  CHECK(caught);
  CHECK_THROWS_AS(st::instrumented_operation(tracer, "y", [] { throw 7; }), int);
  const auto refused = std::make_error_code(std::errc::connection_refused);
  CHECK(st::instrumented_operation(tracer, "ec", [&] { return refused; }) == refused);
  CHECK_FALSE(st::instrumented_operation(tracer, "b", [] { return false; }));
}

TEST_CASE("disabled: trace_with_retry retries, returns the last result and rethrows the last exception") {
  auto tracer = make_tracer();
  std::vector<int> seen;
  CHECK(st::trace_with_retry(tracer, "r", 5, [&](int attempt) {
          seen.push_back(attempt);
          return attempt == 3;
        }));
  CHECK(seen == std::vector<int>{1, 2, 3});

  seen.clear();
  bool caught = false;
  try {
    st::trace_with_retry(tracer, "r", 3, [&](st::span&, int attempt) {
      seen.push_back(attempt);
      throw tagged_error("attempt " + std::to_string(attempt));
    });
  } catch (const tagged_error& e) {
    caught = true;
    CHECK(std::string(e.what()) == "attempt 3");
    CHECK(e.self == &e);
  }
  CHECK(caught);
  CHECK(seen == std::vector<int>{1, 2, 3});

  const auto ec = st::trace_with_retry(tracer, "r", 2, [](int attempt) {
    return attempt == 1 ? std::make_error_code(std::errc::timed_out) : std::make_error_code(std::errc::io_error);
  });
  CHECK(ec == std::errc::io_error);
}

TEST_CASE("disabled: trace_with_retry still rejects max_attempts < 1 and still waits per the backoff") {
  auto tracer = make_tracer();
  int calls = 0;
  CHECK_THROWS_AS(st::trace_with_retry(tracer, "r", 0, [&](int) { ++calls; }), std::invalid_argument);
  CHECK(calls == 0);
  const auto start = std::chrono::steady_clock::now();
  CHECK(st::trace_with_retry(
      tracer, "r", 3, [](int attempt) { return attempt == 3; }, st::retry_backoff{15ms, 2.0, 1000ms, false}));
  CHECK(std::chrono::steady_clock::now() - start >= 45ms);  // 15 + 30
}

TEST_CASE("disabled: messaging helpers return no-op spans and leave the headers alone") {
  auto tracer = make_tracer();
  std::map<std::string, std::string> headers{{"k", "v"}};
  {
    auto send = st::trace_produce_message(tracer, "orders", 1, "key", "value", headers);
    CHECK_FALSE(send.is_recording());
    CHECK_FALSE(send.context().valid());
  }
  CHECK(headers.size() == 1);
  auto process = st::trace_consume_message(tracer, "orders", 1, 9, headers);
  CHECK_FALSE(process.is_recording());
  auto bare = st::trace_consume_message(tracer, "orders", 1, 10);
  CHECK_FALSE(bare.context().valid());
}
