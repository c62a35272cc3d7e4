// What happens to a span record once the span ends.
//
// This is the synchronous processor: it hands each ended span to every
// exporter on the ending thread, under a mutex, then recycles the record.
// Good for tests, the console and in-memory exporters; the asynchronous
// batch pipeline (ring buffer + export thread) replaces it for network
// exporters.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "../exporter.hpp"
#include "../span_data.hpp"
#include "../version.hpp"
#include "diagnostics.hpp"
#include "record_pool.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

class span_processor {
 public:
  virtual ~span_processor() = default;
  /// Takes ownership of an ended record.
  virtual void on_end(span_data* record) noexcept = 0;
  virtual bool force_flush(std::chrono::milliseconds timeout) noexcept = 0;
  virtual bool shutdown(std::chrono::milliseconds timeout) noexcept = 0;
};

class simple_processor final : public span_processor {
 public:
  simple_processor(std::vector<std::shared_ptr<span_exporter>> exporters, const resource& res,
                   const instrumentation_scope& scope, diagnostics& diag)
      : exporters_(std::move(exporters)), resource_(res), scope_(scope), diag_(diag) {}

  void on_end(span_data* record) noexcept override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!shut_down_) {
        const span_data* one[1] = {record};
        const span_batch batch(resource_, scope_, one, 1);
        for (auto& exporter : exporters_) {
          if (exporter->export_spans(batch) == export_result::failure) {
            ++failed_;
            diag_.report(std::string("exporter '") + std::string(exporter->name()) + "' failed to export a span");
          }
        }
      }
    }
    thread_record_pool().release(record);
  }

  bool force_flush(std::chrono::milliseconds timeout) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    bool ok = true;
    for (auto& exporter : exporters_) ok = exporter->force_flush(timeout) && ok;
    return ok;
  }

  bool shutdown(std::chrono::milliseconds timeout) noexcept override {
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

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<span_exporter>> exporters_;
  const resource& resource_;
  const instrumentation_scope& scope_;
  diagnostics& diag_;
  bool shut_down_ = false;
  std::uint64_t failed_ = 0;
};

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
