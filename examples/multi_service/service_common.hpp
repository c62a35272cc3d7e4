// What the demo's three services (gateway, broker, consumer) share: the
// tracer set up from the OTEL_* environment, the HTTP server thread, the
// stop signals, and the port handshake with the launcher.
//
// Each service is an ordinary program: run it by hand with your own
// collector (OTEL_EXPORTER_OTLP_ENDPOINT=...) and it behaves the same. The
// launcher (main.cpp) only sets the environment and reads the port back.
#pragma once

#include <streambus/tracing/http.hpp>
#include <streambus/tracing/otlp_http_exporter.hpp>  // registers "otlp", the default exporter

#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>

namespace demo {

namespace tracing = streambus::tracing;

/// The topic the gateway publishes orders to and the consumer reads.
inline constexpr const char* orders_topic = "orders";

struct options {
  int port = 0;        // --port N; 0: any free port
  std::string broker;  // --broker http://127.0.0.1:N (gateway, consumer)
};

inline bool parse_options(int argc, char** argv, options& out, bool needs_broker) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      out.port = std::atoi(argv[++i]);
    } else if (arg == "--broker" && i + 1 < argc) {
      out.broker = argv[++i];
    } else {
      return false;
    }
  }
  return !needs_broker || !out.broker.empty();
}

/// Call first in main(), before any thread starts. Threads inherit the
/// signal mask, so SIGTERM and SIGINT then reach only wait_for_stop(): no
/// signal handler runs in the middle of a request or an export.
inline sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a peer closing a socket is an error result, not a death
  return set;
}

/// Waits for SIGTERM or SIGINT. Under the launcher at most two minutes (a
/// service the launcher lost track of must not run forever). Returns the
/// signal, 0 on timeout.
inline int wait_for_stop(const sigset_t& set) {
  const std::chrono::minutes limit(std::getenv("DEMO_LAUNCHER_PID") != nullptr ? 2 : 60 * 24 * 365);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return 0;
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(left);
    timespec ts{};
    ts.tv_sec = static_cast<std::time_t>(secs.count());
    ts.tv_nsec = static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(left - secs).count());
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno != EINTR && errno != EAGAIN) return 0;
  }
}

/// Under the launcher: get SIGTERM when it dies, even by SIGKILL (Linux
/// only). False when it is gone already (we were re-parented before prctl).
inline bool follow_launcher() {
#if defined(__linux__)
  const char* parent = std::getenv("DEMO_LAUNCHER_PID");
  if (parent == nullptr) return true;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  return std::to_string(getppid()) == parent;
#else
  return true;
#endif
}

/// The service's tracer. The service name set here is only a fallback:
/// OTEL_SERVICE_NAME wins, so does everything else in the OTEL_* variables.
inline tracing::tracer make_tracer(std::string_view service_name) {
  tracing::config cfg;
  cfg.attributes["service.name"] = std::string(service_name);
  cfg.service_version = "1.0.0";
  cfg.environment = "demo";
  return tracing::tracer::create(cfg);
}

/// Tells the launcher the port (one line on the descriptor it named in
/// DEMO_READY_FD); run by hand, says where the service listens.
inline void report_ready(std::string_view service, int port) {
  const char* fd_text = std::getenv("DEMO_READY_FD");
  if (fd_text == nullptr) {
    if (port > 0)
      std::fprintf(stderr, "%.*s: listening on http://127.0.0.1:%d\n", static_cast<int>(service.size()),
                   service.data(), port);
    else
      std::fprintf(stderr, "%.*s: running\n", static_cast<int>(service.size()), service.data());
    return;
  }
  const int fd = std::atoi(fd_text);
  const std::string line = std::to_string(port) + "\n";
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    std::fprintf(stderr, "%.*s: cannot report the port to the launcher\n", static_cast<int>(service.size()),
                 service.data());
  close(fd);
}

/// One line on stderr with what the tracer did, after shutdown.
inline void report_stopped(std::string_view service, const tracing::tracer& tracer, int signal_number) {
  const tracing::tracer_stats s = tracer.stats();
  std::fprintf(stderr, "%.*s: stopped (%s); spans started=%llu exported=%llu dropped=%llu failed=%llu\n",
               static_cast<int>(service.size()), service.data(),
               signal_number == 0 ? "no stop signal within the time limit" : strsignal(signal_number),
               static_cast<unsigned long long>(s.spans_started), static_cast<unsigned long long>(s.spans_exported),
               static_cast<unsigned long long>(s.spans_dropped), static_cast<unsigned long long>(s.spans_failed));
}

/// An httplib::Server listening on 127.0.0.1 in a thread of its own.
class server_thread {
 public:
  explicit server_thread(httplib::Server& server) : server_(server) {
    server_.set_keep_alive_timeout(1);  // bounds how long stop() waits for idle connections
    server_.set_read_timeout(5, 0);
    server_.set_write_timeout(5, 0);
  }
  server_thread(const server_thread&) = delete;
  server_thread& operator=(const server_thread&) = delete;
  ~server_thread() { stop(); }

  /// Binds (port 0: any free port) and starts serving; the port, or -1.
  int start(int port) {
    port_ = port == 0 ? server_.bind_to_any_port("127.0.0.1")
                      : (server_.bind_to_port("127.0.0.1", port) ? port : -1);
    if (port_ <= 0) return -1;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return server_.is_running() ? port_ : -1;
  }

  void stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

 private:
  httplib::Server& server_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace demo
