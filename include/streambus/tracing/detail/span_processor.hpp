// Synchronous delivery: exporters that want every span as it ends (console,
// in-memory) get it on the ending thread, under a mutex. Fine for tests and
// development; network exporters go through the batch processor instead.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../exporter.hpp"
#include "../span_data.hpp"
#include "../stats.hpp"
#include "../version.hpp"
#include "diagnostics.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

class sync_delivery {
 public:
  sync_delivery(std::vector<std::shared_ptr<span_exporter>> exporters, const resource& res,
                const instrumentation_scope& scope, std::shared_ptr<diagnostics> diag)
      : exporters_(std::move(exporters)), resource_(res), scope_(scope), diag_(std::move(diag)) {}

  bool empty() const noexcept { return exporters_.empty(); }

  /// Exports one ended span; the caller keeps ownership of the record.
  void deliver(const span_data& record) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_) return;
    const span_data* one[1] = {&record};
    ++ended_;
    for (auto& exporter : exporters_) {
      const span_batch batch(resource_, scope_, one, 1);  // its own rejected tally
      const export_result result = exporter->export_spans(batch);
      const export_tally tally = tally_export(batch, result);
      exported_ += tally.exported;
      failed_ += tally.failed;
      if (result == export_result::failure) {
        ++failures_;
        try {
          diag_->report("exporter '" + std::string(exporter->name()) + "' failed to export a span");
        } catch (...) {
        }
      }
    }
  }

  bool force_flush(std::chrono::milliseconds timeout) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    bool ok = true;
    for (auto& exporter : exporters_) ok = exporter->force_flush(timeout) && ok;
    return ok;
  }

  bool shutdown(std::chrono::milliseconds timeout) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_) return true;
    shut_down_ = true;
    bool ok = true;
    for (auto& exporter : exporters_) {
      ok = exporter->force_flush(timeout) && ok;
      exporter->shutdown(timeout);
    }
    return ok;
  }

  void add_stats(tracer_stats& s, bool count_ended) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (count_ended) s.spans_ended += ended_;
    s.spans_exported += exported_;
    s.spans_failed += failed_;
    s.export_failures += failures_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<span_exporter>> exporters_;
  const resource& resource_;
  const instrumentation_scope& scope_;
  std::shared_ptr<diagnostics> diag_;
  bool shut_down_ = false;
  std::uint64_t ended_ = 0;
  std::uint64_t exported_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t failures_ = 0;
};

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
