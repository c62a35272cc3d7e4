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
// A line cut short (a full disk, a file-size limit, a writer that crashed
// mid-line) is left as it is, but the next line starts on a line of its own:
// a reader loses the broken line only, not the batch written after it.
//
// A write can block for good (a FIFO nobody reads, a pipe to a stalled
// reader, a hung network file system): force_flush and shutdown then give up
// at their timeout instead of waiting for it, and the stuck export closes the
// file when it returns.
#pragma once

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporter.hpp"
#include "otlp_encoder.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

class file_exporter final : public span_exporter {
 public:
  explicit file_exporter(std::string path) : path_(std::move(path)) {}

  file_exporter(const file_exporter&) = delete;
  file_exporter& operator=(const file_exporter&) = delete;

  ~file_exporter() override { close_file(); }

  /// Appends one JSON line per non-empty batch. Open and write errors give
  /// failure (see last_error()); a later call tries to open the file again.
  export_result export_spans(const span_batch& batch) noexcept override {
    if (batch.empty()) return export_result::success;
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return !busy_; });  // one export at a time
    if (shut_down_) {
      error_ = "the exporter is shut down";
      return export_result::failure;
    }
    busy_ = true;  // file_ and line_ are this call's until it clears busy_
    lock.unlock();
    std::string problem;
    const bool ok = write_line(batch, problem);  // may block: without the mutex
    lock.lock();
    busy_ = false;
    if (!ok) {
      try {
        error_ = std::move(problem);
      } catch (...) {
      }
    }
    if (shut_down_) close_file();  // shutdown came while this write was stuck, and did not wait
    idle_.notify_all();
    return ok ? export_result::success : export_result::failure;
  }

  bool force_flush(std::chrono::milliseconds timeout) noexcept override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!idle_.wait_for(lock, detail::bounded_timeout(timeout), [this] { return !busy_; })) return false;  // stuck
    return file_ == nullptr || std::fflush(file_) == 0;
  }

  /// Closes the file (at once, or when a stuck write returns if that takes
  /// longer than `timeout`); later exports fail.
  void shutdown(std::chrono::milliseconds timeout) noexcept override {
    std::unique_lock<std::mutex> lock(mutex_);
    shut_down_ = true;
    if (idle_.wait_for(lock, detail::bounded_timeout(timeout), [this] { return !busy_; })) close_file();
  }

  std::string_view name() const noexcept override { return "file"; }

  const std::string& path() const noexcept { return path_; }

  /// Why the most recent failed export failed (empty before any failure).
  std::string last_error() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return error_;
  }

 private:
  // Encodes the batch and writes it as one line; false with `problem` set.
  bool write_line(const span_batch& batch, std::string& problem) noexcept {
    try {
      otlp::encode_json(batch, line_);
      line_ += '\n';
    } catch (...) {
      describe(problem, "out of memory while encoding a batch", false, 0);
      return false;
    }
    if (file_ == nullptr) {
      errno = 0;
      file_ = std::fopen(path_.c_str(), "ab");
      if (file_ == nullptr) {
        describe(problem, "cannot open ", true, errno);
        return false;
      }
      // Unbuffered: one fwrite = one write(2) of the whole line.
      std::setvbuf(file_, nullptr, _IONBF, 0);
      // Reopened after a failed write, or a file another writer left so.
      if (ends_mid_line()) {
        try {
          line_.insert(line_.begin(), '\n');
        } catch (...) {
          describe(problem, "out of memory while encoding a batch", false, 0);
          return false;
        }
      }
    }
    errno = 0;
    const std::size_t written = std::fwrite(line_.data(), 1, line_.size(), file_);
    if (written != line_.size() || std::fflush(file_) != 0) {
      describe(problem, "cannot write to ", true, errno);
      // Start over with a fresh handle: the stream's error state is sticky and
      // the file may have been replaced (log rotation) or its disk freed.
      close_file();
      return false;
    }
    return true;
  }

  // True if file_ is a regular file whose last byte is not '\n'. Read
  // through a second descriptor: file_ is write-only (a log file may be too,
  // then this cannot tell, and says no).
  bool ends_mid_line() const noexcept {
    struct stat st {};
    if (::fstat(::fileno(file_), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return false;
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char last = '\n';
    const bool mid = ::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n';
    ::close(fd);
    return mid;
  }

  void close_file() noexcept {
    if (file_ != nullptr) std::fclose(file_);
    file_ = nullptr;
  }

  // "<what>[<path>][: <strerror(err)>]".
  void describe(std::string& out, const char* what, bool with_path, int err) const noexcept {
    try {
      out = what;
      if (with_path) out += path_;
      if (err != 0) {
        out += ": ";
        out += std::strerror(err);
      }
    } catch (...) {
    }
  }

  mutable std::mutex mutex_;
  std::condition_variable idle_;
  bool busy_ = false;  // an export is writing (file_ and line_ are its own meanwhile)
  bool shut_down_ = false;
  std::string path_;
  std::FILE* file_ = nullptr;
  std::string line_;  // reused: a steady workload stops allocating
  std::string error_;
};

STREAMBUS_TRACING_END_NAMESPACE
