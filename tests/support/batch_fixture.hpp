// A batch of spans the test owns, for the encoders' tests: span_batch only
// points to its resource, scope and spans. Included inside a file's anonymous
// namespace, after <streambus/tracing.hpp>, <memory> and <vector>, with
// `namespace st = streambus::tracing;` in scope.
#pragma once

// Owns what a span_batch points to.
struct batch_fixture {
  st::resource res;
  st::instrumentation_scope scope;
  std::vector<std::unique_ptr<st::span_data>> spans;
  std::vector<const st::span_data*> pointers;

  st::span_data& add() {
    spans.push_back(std::make_unique<st::span_data>());
    pointers.push_back(spans.back().get());
    return *spans.back();
  }
  st::span_batch batch() const { return st::span_batch(res, scope, pointers.data(), pointers.size()); }
};
