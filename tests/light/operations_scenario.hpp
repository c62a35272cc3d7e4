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

}  // namespace scenario
