// File exporter: OTLP JSON lines, the format of the OpenTelemetry
// specification's "OTLP File Exporter" (JSON lines, one TracesData object per
// line) that the Collector's otlpjsonfile receiver reads. Each exported batch
// becomes one line: {"resourceSpans":[...]} followed by '\n'.
//
// The file is opened in append mode on the first non-empty batch (so merely
// configuring the exporter creates no file) and every line is handed to the
// operating system before export_spans() returns: a crash loses no exported
// batch. Each line goes out in one unbuffered write, so with O_APPEND several
// processes may share a file without interleaving lines (on local file systems).
//
// A write can block for good (a FIFO nobody reads, a pipe to a stalled
// reader, a hung network file system): force_flush and shutdown then give up
// at their timeout instead of waiting for it, and the stuck export closes the
// file when it returns.
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>

#include "exporter.hpp"
#include "otlp_encoder.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

class file_exporter final : public span_exporter {
 public:
  explicit file_exporter(std::string path) : path_(std::move(path)) {}

  file_exporter(const file_exporter&) = delete;
  file_exporter& operator=(const file_exporter&) = delete;

  ~file_exporter() override { close_locked(); }

  /// Appends one JSON line per non-empty batch. Open and write errors give
  /// failure (see last_error()); a later call tries to open the file again.
  export_result export_spans(const span_batch& batch) noexcept override {
    if (batch.empty()) return export_result::success;
    std::lock_guard<std::timed_mutex> lock(mutex_);
    if (shut_down_.load()) {
      error_ = "the exporter is shut down";
      return export_result::failure;
    }
    try {
      otlp::encode_json(batch, line_);
      line_ += '\n';
    } catch (...) {
      error_ = "out of memory while encoding a batch";
      return export_result::failure;
    }
    if (file_ == nullptr && !open_locked()) return export_result::failure;
    errno = 0;
    const std::size_t written = std::fwrite(line_.data(), 1, line_.size(), file_);
    if (written != line_.size() || std::fflush(file_) != 0) {
      set_error("cannot write to ");
      // Start over with a fresh handle: the stream's error state is sticky and
      // the file may have been replaced (log rotation) or its disk freed.
      close_locked();
      return export_result::failure;
    }
    if (shut_down_.load()) close_locked();  // shutdown came while this write was stuck, and did not wait
    return export_result::success;
  }

  bool force_flush(std::chrono::milliseconds timeout) noexcept override {
    std::unique_lock<std::timed_mutex> lock(mutex_, std::defer_lock);
    if (!lock.try_lock_for(timeout)) return false;  // a write is stuck
    return file_ == nullptr || std::fflush(file_) == 0;
  }

  /// Closes the file (at once, or when a stuck write returns if that takes
  /// longer than `timeout`); later exports fail.
  void shutdown(std::chrono::milliseconds timeout) noexcept override {
    shut_down_.store(true);
    std::unique_lock<std::timed_mutex> lock(mutex_, std::defer_lock);
    if (lock.try_lock_for(timeout)) close_locked();
  }

  std::string_view name() const noexcept override { return "file"; }

  const std::string& path() const noexcept { return path_; }

  /// Why the most recent failed export failed (empty before any failure).
  std::string last_error() const {
    std::lock_guard<std::timed_mutex> lock(mutex_);
    return error_;
  }

 private:
  bool open_locked() noexcept {
    errno = 0;
    file_ = std::fopen(path_.c_str(), "ab");
    if (file_ == nullptr) {
      set_error("cannot open ");
      return false;
    }
    // Unbuffered: one fwrite = one write(2) of the whole line.
    std::setvbuf(file_, nullptr, _IONBF, 0);
    return true;
  }

  void close_locked() noexcept {
    if (file_ != nullptr) std::fclose(file_);
    file_ = nullptr;
  }

  void set_error(const char* what) noexcept {
    const int err = errno;
    try {
      error_ = what + path_;
      if (err != 0) {
        error_ += ": ";
        error_ += std::strerror(err);
      }
    } catch (...) {
    }
  }

  mutable std::timed_mutex mutex_;
  std::string path_;
  std::FILE* file_ = nullptr;
  std::string line_;  // reused: a steady workload stops allocating
  std::string error_;
  std::atomic<bool> shut_down_{false};
};

STREAMBUS_TRACING_END_NAMESPACE
