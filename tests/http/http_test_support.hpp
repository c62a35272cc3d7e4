// What the OTLP/HTTP tests share: a real cpp-httplib receiver on 127.0.0.1,
// span batches to export, and a decoder for what arrives (nanopb code
// generated in tests/otlp from the hand-written .proto files: it shares no
// code with the encoder).
#pragma once

#include <doctest/doctest.h>
#include <streambus/tracing/otlp_http_exporter.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pb_decode.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "trace.pb.h"
#include "trace_service.pb.h"

namespace http_test {

namespace st = streambus::tracing;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

inline std::chrono::milliseconds since(steady::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
}

// ============================================================ the receiver

struct received {
  std::string method;
  std::string path;
  std::string body;  // inflated by httplib when it arrived gzip-encoded
  httplib::Headers headers;
  int remote_port = 0;
  int status = 0;  // what the receiver answered (0: not answered yet)

  std::string header(const char* name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_header(const char* name) const { return headers.find(name) != headers.end(); }
};

/// An OTLP/HTTP receiver: records every request, then answers as told.
class receiver {
 public:
  /// Sets the response to request number `index` (0-based, all paths). The
  /// default answer is 200 with an empty body.
  using responder = std::function<void(std::size_t index, const httplib::Request&, httplib::Response&)>;

  /// port 0: any free port. A fixed port may fail to bind: check ok().
  explicit receiver(responder respond = {}, int port = 0) : respond_(std::move(respond)) {
    server_.set_keep_alive_timeout(1);
    server_.set_read_timeout(5, 0);
    server_.set_write_timeout(5, 0);
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    if (port == 0) {
      port_ = server_.bind_to_any_port("127.0.0.1");
    } else {
      port_ = server_.bind_to_port("127.0.0.1", port) ? port : -1;
    }
    if (port_ <= 0) return;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const auto start = steady::now();
    while (!server_.is_running() && since(start) < 5s) std::this_thread::sleep_for(1ms);
  }

  ~receiver() { stop(); }
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;

  bool ok() const { return port_ > 0 && server_.is_running(); }
  int port() const { return port_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string endpoint() const { return base() + "/v1/traces"; }

  std::vector<received> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::size_t count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_.size();
  }
  /// Waits until at least n requests arrived (answered or not).
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

  /// For a responder: blocks until release() or stop(), at most `limit`.
  void hold(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, limit, [&] { return released_; });
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      released_ = true;
    }
    changed_.notify_all();
  }

  void stop() {
    release();
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    std::size_t index;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      index = requests_.size();
      received r;
      r.method = req.method;
      r.path = req.path;
      r.body = req.body;
      r.headers = req.headers;
      r.remote_port = req.remote_port;
      requests_.push_back(std::move(r));
    }
    changed_.notify_all();
    res.status = 200;
    if (respond_) respond_(index, req, res);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_[index].status = res.status;
    }
    changed_.notify_all();
  }

  responder respond_;
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<received> requests_;
  bool released_ = false;
};

// Binds a TCP socket to a free port of 127.0.0.1; the port, or -1.
inline int bind_loopback(int fd) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return -1;
  return ntohs(addr.sin_port);
}

// A loopback port that refuses connections while this object lives: bound,
// so that no other process (a test running in parallel) can take it, but
// not listening. release() frees it for a receiver to listen on.
class refusing_port {
 public:
  refusing_port() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ >= 0) port_ = bind_loopback(fd_);
  }
  ~refusing_port() { release(); }
  /// Frees the port, for a receiver about to listen on it.
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  refusing_port(const refusing_port&) = delete;
  refusing_port& operator=(const refusing_port&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = -1;
};

// A receiver that answers the first `trickled` connections one byte every
// `gap` (a slow proxy, a collector under a load): each network step is
// quick, the whole answer is not. Later connections get a prompt 200. One
// request per connection (the answers say Connection: close).
class trickling_receiver {
 public:
  trickling_receiver(int trickled, std::chrono::milliseconds gap) : trickled_(trickled), gap_(gap) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    const int port = bind_loopback(fd_);
    if (port < 0 || ::listen(fd_, 8) != 0) return;
    port_ = port;
    thread_ = std::thread([this] { serve(); });
  }
  ~trickling_receiver() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  trickling_receiver(const trickling_receiver&) = delete;
  trickling_receiver& operator=(const trickling_receiver&) = delete;

  bool ok() const { return port_ > 0; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/traces"; }
  int connections() const { return connections_.load(); }
  /// Requests given the prompt answer.
  int answered() const { return answered_.load(); }

 private:
  // Waits at most 50 ms for fd to be readable (false: not yet, or stopping).
  bool readable(int fd) const {
    pollfd p{fd, POLLIN, 0};
    return !stop_.load() && ::poll(&p, 1, 50) > 0;
  }

  void serve() {
    while (!stop_.load()) {
      if (!readable(fd_)) continue;
      const int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) continue;
      const int index = connections_.fetch_add(1);
      if (read_request(conn)) answer(conn, index < trickled_);
      ::close(conn);
    }
  }

  // Reads one request (headers and Content-Length bytes of body); bounded by stop_.
  bool read_request(int conn) {
    std::string in;
    char buf[4096];
    std::size_t need = std::string::npos;
    while (need == std::string::npos || in.size() < need) {
      if (!readable(conn)) {
        if (stop_.load()) return false;
        continue;
      }
      const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) return false;
      in.append(buf, static_cast<std::size_t>(n));
      const std::size_t end = in.find("\r\n\r\n");
      if (need == std::string::npos && end != std::string::npos) {
        std::size_t length = 0;
        const std::size_t at = in.find("Content-Length: ");
        if (at != std::string::npos && at < end) length = std::stoul(in.substr(at + 16));
        need = end + 4 + length;
      }
    }
    return true;
  }

  void answer(int conn, bool trickle) {
    static const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    if (!trickle) {
      ++answered_;  // before the client can see the answer, so a test reading it after the export sees it
      ::send(conn, reply.data(), reply.size(), MSG_NOSIGNAL);
      return;
    }
    for (const char c : reply) {  // until the client hangs up (or the test ends)
      if (stop_.load() || ::send(conn, &c, 1, MSG_NOSIGNAL) != 1) return;
      const auto until = steady::now() + gap_;
      while (!stop_.load() && steady::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  int trickled_;
  std::chrono::milliseconds gap_;
  int fd_ = -1;
  int port_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> answered_{0};
  std::thread thread_;
};

// ============================================================ protobuf bytes

inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
inline void put_bytes(std::string& out, unsigned field, std::string_view bytes) {
  put_varint(out, (field << 3) | 2);
  put_varint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

/// ExportTraceServiceResponse { partial_success { rejected_spans, error_message } }
inline std::string partial_success_response(std::int64_t rejected, std::string_view message) {
  std::string inner;
  if (rejected != 0) {
    put_varint(inner, (1 << 3) | 0);
    put_varint(inner, static_cast<std::uint64_t>(rejected));
  }
  if (!message.empty()) put_bytes(inner, 2, message);
  std::string out;
  put_bytes(out, 1, inner);
  return out;
}

/// google.rpc.Status { code = 1; message = 2; }
inline std::string rpc_status(int code, std::string_view message) {
  std::string out;
  put_varint(out, (1 << 3) | 0);
  put_varint(out, static_cast<std::uint64_t>(code));
  put_bytes(out, 2, message);
  return out;
}

// ============================================================ decoding (nanopb)

struct decoded_span {
  std::string trace_id, span_id, name;  // ids as raw bytes
  std::size_t attributes = 0;
  std::size_t attribute_bytes = 0;  // encoded size of all KeyValue messages
};

namespace nanopb_detail {

inline bool read_string(pb_istream_t* stream, const pb_field_t*, void** arg) {
  auto* out = static_cast<std::string*>(*arg);
  out->resize(stream->bytes_left);
  return pb_read(stream, reinterpret_cast<pb_byte_t*>(out->data()), stream->bytes_left);
}

inline bool count_attribute(pb_istream_t* stream, const pb_field_t*, void** arg) {
  auto* span = static_cast<decoded_span*>(*arg);
  ++span->attributes;
  span->attribute_bytes += stream->bytes_left;
  return pb_read(stream, nullptr, stream->bytes_left);
}

inline bool decode_span(pb_istream_t* stream, const pb_field_t*, void** arg) {
  auto* out = static_cast<std::vector<decoded_span>*>(*arg);
  decoded_span s;
  opentelemetry_proto_trace_v1_Span m = opentelemetry_proto_trace_v1_Span_init_zero;
  m.trace_id.funcs.decode = read_string;
  m.trace_id.arg = &s.trace_id;
  m.span_id.funcs.decode = read_string;
  m.span_id.arg = &s.span_id;
  m.name.funcs.decode = read_string;
  m.name.arg = &s.name;
  m.attributes.funcs.decode = count_attribute;
  m.attributes.arg = &s;
  if (!pb_decode_ex(stream, opentelemetry_proto_trace_v1_Span_fields, &m, PB_DECODE_NOINIT)) return false;
  out->push_back(std::move(s));
  return true;
}

inline bool decode_scope_spans(pb_istream_t* stream, const pb_field_t*, void** arg) {
  opentelemetry_proto_trace_v1_ScopeSpans m = opentelemetry_proto_trace_v1_ScopeSpans_init_zero;
  m.spans.funcs.decode = decode_span;
  m.spans.arg = *arg;
  return pb_decode_ex(stream, opentelemetry_proto_trace_v1_ScopeSpans_fields, &m, PB_DECODE_NOINIT);
}

inline bool decode_resource_spans(pb_istream_t* stream, const pb_field_t*, void** arg) {
  opentelemetry_proto_trace_v1_ResourceSpans m = opentelemetry_proto_trace_v1_ResourceSpans_init_zero;
  m.scope_spans.funcs.decode = decode_scope_spans;
  m.scope_spans.arg = *arg;
  return pb_decode_ex(stream, opentelemetry_proto_trace_v1_ResourceSpans_fields, &m, PB_DECODE_NOINIT);
}

}  // namespace nanopb_detail

/// The spans of one binary ExportTraceServiceRequest; false if it is not one.
inline bool decode_request(const std::string& bytes, std::vector<decoded_span>& out) {
  opentelemetry_proto_collector_trace_v1_ExportTraceServiceRequest m =
      opentelemetry_proto_collector_trace_v1_ExportTraceServiceRequest_init_zero;
  m.resource_spans.funcs.decode = nanopb_detail::decode_resource_spans;
  m.resource_spans.arg = &out;
  pb_istream_t stream = pb_istream_from_buffer(reinterpret_cast<const pb_byte_t*>(bytes.data()), bytes.size());
  return pb_decode_ex(&stream, opentelemetry_proto_collector_trace_v1_ExportTraceServiceRequest_fields, &m,
                      PB_DECODE_NOINIT);
}

/// Every span of every request the receiver answered with 2xx, decoded.
inline std::vector<decoded_span> accepted_spans(const receiver& r) {
  std::vector<decoded_span> spans;
  for (const auto& req : r.requests()) {
    if (req.status < 200 || req.status >= 300) continue;
    std::vector<decoded_span> part;
    CHECK_MESSAGE(decode_request(req.body, part), "undecodable request body of " << req.body.size() << " bytes");
    CHECK_MESSAGE(!part.empty(), "a request without spans");
    spans.insert(spans.end(), part.begin(), part.end());
  }
  return spans;
}

// ============================================================ batches

/// Owns the spans that a span_batch points to.
struct batch_fixture {
  st::resource res;
  st::instrumentation_scope scope;
  std::vector<std::unique_ptr<st::span_data>> spans;
  std::vector<const st::span_data*> pointers;

  batch_fixture() {
    res.attributes.set("service.name", "http-test");
    scope.name = "http.test";
  }

  st::span_data& add(std::string name) {
    spans.push_back(std::make_unique<st::span_data>());
    st::span_data& s = *spans.back();
    const std::uint64_t n = spans.size();
    s.context = st::span_context(st::trace_id::from_u64(0x5eed5eed5eed5eedULL, n), st::span_id::from_u64(n),
                                 st::trace_flags(0x01), false, st::trace_state());
    s.name = std::move(name);
    s.start_time_unix_nano = 1700000000000000000ULL + n * 1000;
    s.end_time_unix_nano = s.start_time_unix_nano + 500;
    s.attributes.set("index", static_cast<std::int64_t>(n));
    pointers.push_back(&s);
    return s;
  }
  void add_many(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) add("span-" + std::to_string(spans.size() + 1));
  }
  st::span_batch batch() const { return st::span_batch(res, scope, pointers.data(), pointers.size()); }
  std::string span_id_bytes(std::size_t i) const {
    return std::string(reinterpret_cast<const char*>(spans[i]->context.span_id().data()), st::span_id::size);
  }
};

// ============================================================ diagnostics

/// Collects the exporter's diagnostics (thread-safe).
struct messages {
  mutable std::mutex mutex;
  std::vector<std::string> lines;

  std::function<void(std::string_view)> sink() {
    return [this](std::string_view m) {
      std::lock_guard<std::mutex> lock(mutex);
      lines.emplace_back(m);
    };
  }
  std::vector<std::string> all() const {
    std::lock_guard<std::mutex> lock(mutex);
    return lines;
  }
  bool any_contains(std::string_view needle) const {
    for (const auto& l : all())
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
  std::string joined() const {
    std::string out;
    for (const auto& l : all()) out += l + "\n";
    return out;
  }
};

/// Exporter options for a test: short timeouts and backoff, diagnostics collected.
inline st::otlp_http_options options_for(const std::string& endpoint, messages& diag,
                                         std::atomic<std::uint64_t>* retries = nullptr) {
  st::otlp_http_options o;
  o.otlp.endpoint = endpoint;
  o.otlp.timeout = 2s;
  o.export_timeout = 5s;
  o.initial_backoff = 50ms;
  o.max_backoff = 200ms;
  o.diagnostic = diag.sink();
  o.retries = retries;
  return o;
}

}  // namespace http_test
