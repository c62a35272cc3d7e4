// A batched exporter (it runs on the export thread) that only counts the
// spans it receives. Include after <streambus/tracing.hpp>.
#pragma once

#include <atomic>
#include <cstddef>
#include <string_view>

class counting_exporter final : public streambus::tracing::span_exporter {
 public:
  streambus::tracing::export_result export_spans(const streambus::tracing::span_batch& batch) noexcept override {
    spans.fetch_add(batch.size());
    return streambus::tracing::export_result::success;
  }
  std::string_view name() const noexcept override { return "counting"; }
  std::atomic<std::size_t> spans{0};
};
