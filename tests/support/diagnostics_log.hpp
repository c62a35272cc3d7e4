// Collects a tracer's diagnostics (config::on_diagnostic) for tests that
// check what the library said. Thread-safe: the export thread reports too.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

struct diagnostics_log {
  std::mutex mutex;
  std::vector<std::string> messages;

  // For config::on_diagnostic; the log must outlive the tracer's use of it.
  auto callback() {
    return [this](std::string_view m) {
      std::lock_guard<std::mutex> lock(mutex);
      messages.emplace_back(m);
    };
  }
  std::size_t count(std::string_view text) {
    std::lock_guard<std::mutex> lock(mutex);
    std::size_t n = 0;
    for (const auto& m : messages)
      if (m.find(text) != std::string::npos) ++n;
    return n;
  }
  bool mentions(std::string_view text) { return count(text) != 0; }
};
