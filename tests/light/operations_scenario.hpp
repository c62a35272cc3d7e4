// One sequence of instrumented operations, run by light_spans.cpp through
// light::instrumented_operation and by test_light.cpp through the full
// header's, so that the two can be compared span by span. Needs no tracing
// header: `run(name, fn)` is either API's instrumented_operation.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "../support/fake_expected.hpp"

namespace scenario {

struct custom_error {
  int code = 0;
};

/// Runs the operations; "ok", or which result did not come back unchanged.
template <class Run>
std::string operations(Run&& run) {
  if (run("op.value", [] { return 42; }) != 42) return "op.value";
  static int target = 0;
  int& ref = run("op.reference", []() -> int& { return target; });
  if (&ref != &target) return "op.reference";
  run("op.void", [](auto& span) { span.set_attribute("op.step", "done"); });
  if (run("op.false", [] { return false; })) return "op.false";
  const std::error_code refused = std::make_error_code(std::errc::connection_refused);
  if (run("op.code", [&] { return refused; }) != refused) return "op.code";
  if (run("op.code.zero", [] { return std::error_code(); })) return "op.code.zero";
  if (run("op.errc", [] { return std::errc::permission_denied; }) != std::errc::permission_denied) return "op.errc";
  if (run("op.errc.zero", [] { return std::errc(); }) != std::errc()) return "op.errc.zero";
  using code_result = fake_expected<int, std::error_code>;
  if (run("op.expected.code", [] { return code_result::failure(std::make_error_code(std::errc::timed_out)); })
          .has_value())
    return "op.expected.code";
  run("op.expected.errc", [] { return fake_expected<int, std::errc>::failure(std::errc::io_error); });
  run("op.expected.text", [] { return fake_expected<int, std::string>::failure("no such user"); });
  run("op.expected.ptr", [] {
    return fake_expected<int, std::exception_ptr>::failure(std::make_exception_ptr(std::length_error("too long")));
  });
  if (run("op.expected.custom", [] { return fake_expected<int, custom_error>::failure(custom_error{7}); }).error().code != 7)
    return "op.expected.custom";
  if (run("op.expected.fine", [] { return code_result(3); }).value() != 3) return "op.expected.fine";
  try {
    run("op.throw", []() -> int { throw std::out_of_range("index 9 of 3"); });
    return "op.throw: nothing thrown";
  } catch (const std::out_of_range& e) {
    if (std::string(e.what()) != "index 9 of 3") return "op.throw";
  }
  try {
    run("op.throw.int", [] { throw 7; });
    return "op.throw.int: nothing thrown";
  } catch (int v) {
    if (v != 7) return "op.throw.int";
  }
  return "ok";
}

/// Retried operations, through `run(name, max_attempts, fn, initial_backoff_ms)`
/// (either API's trace_with_retry, backoff multiplier 2, no jitter); "ok",
/// or which result or exception did not come back unchanged.
template <class Run>
std::string retries(Run&& run) {
  int calls = 0;
  const int seven = run("retry.exceptions", 3, [&](int attempt) {
    ++calls;
    if (attempt < 3) throw std::runtime_error("attempt " + std::to_string(attempt) + " failed");
    return 7;
  }, 1);
  if (seven != 7 || calls != 3) return "retry.exceptions";
  const std::error_code timed_out = std::make_error_code(std::errc::timed_out);
  if (run("retry.codes", 2, [&] { return timed_out; }, 0) != timed_out) return "retry.codes";
  if (!run("retry.bools", 3, [](int attempt) { return attempt == 2; }, 0)) return "retry.bools";
  calls = 0;
  run("retry.void", 3, [&](auto& span, int attempt) {
    span.set_attribute("retry.seen", attempt);
    ++calls;
  }, 0);
  if (calls != 1) return "retry.void";
  try {
    run("retry.rethrow", 2, [](int attempt) -> int { throw std::out_of_range("attempt " + std::to_string(attempt)); }, 0);
    return "retry.rethrow: nothing thrown";
  } catch (const std::out_of_range& e) {
    if (std::string(e.what()) != "attempt 2") return "retry.rethrow";
  }
  static int target = 0;
  int& ref = run("retry.reference", 1, []() -> int& { return target; }, 0);
  if (&ref != &target) return "retry.reference";
  using text_result = fake_expected<int, std::string>;
  const auto expected = run("retry.expected", 2, [](int attempt) {
    return attempt == 1 ? text_result::failure("not yet") : text_result(5);
  }, 0);
  if (!expected.has_value() || expected.value() != 5) return "retry.expected";
  calls = 0;
  try {
    run("retry.invalid", 0, [&] { ++calls; }, 0);
    return "retry.invalid: nothing thrown";
  } catch (const std::invalid_argument&) {
    if (calls != 0) return "retry.invalid: fn ran";
  }
  return "ok";
}

}  // namespace scenario
