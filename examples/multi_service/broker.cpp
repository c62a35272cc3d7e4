// The demo's broker: a StreamBus-like topic log over HTTP.
//
//   POST /topics/{topic}            body = the message value, Message-Key header = its key;
//                                   the trace headers (traceparent, tracestate, baggage)
//                                   are kept with the message, as Kafka keeps record headers
//                                   -> 201 {"topic":..., "partition":0, "offset":N}
//   GET  /topics/{topic}?offset=N&wait_ms=M
//                                   the message at offset N, waiting up to M ms for it
//                                   -> 200 {"offset":N, "key":..., "value":..., "headers":{...}}
//                                   -> 204 when none arrived in time
//
// Publishing is traced (a SERVER span, child of the producer's span, and an
// "append" span inside it). Polling is deliberately not: a poll belongs to
// no message's trace. The consumer continues each message's trace from the
// headers stored here instead.
//
//   example_multi_service_broker [--port N]
#include "../common/mini_json.hpp"
#include "service_common.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace {

namespace tracing = streambus::tracing;
namespace sth = streambus::tracing::http;
using example_json::value;

struct message {
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Topics as append-only logs, one partition each.
class topic_log {
 public:
  std::int64_t append(const std::string& topic, message m) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& log = topics_[topic];
    m.offset = static_cast<std::int64_t>(log.size());
    log.push_back(std::move(m));
    arrived_.notify_all();
    return log.back().offset;
  }

  /// The message at `offset`, waiting up to `wait` for it; false if none came or we are stopping.
  bool read(const std::string& topic, std::int64_t offset, std::chrono::milliseconds wait, message& out) {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto ready = [&] {
      if (stopping_) return true;
      const auto it = topics_.find(topic);
      return it != topics_.end() && offset >= 0 && offset < static_cast<std::int64_t>(it->second.size());
    };
    arrived_.wait_for(lock, wait, ready);
    if (stopping_) return false;
    const auto it = topics_.find(topic);
    if (it == topics_.end() || offset < 0 || offset >= static_cast<std::int64_t>(it->second.size())) return false;
    out = it->second[static_cast<std::size_t>(offset)];
    return true;
  }

  /// Wakes every waiting poll: the server can then stop without waiting for them.
  void stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    arrived_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::map<std::string, std::vector<message>> topics_;
  bool stopping_ = false;
};

// The headers that carry trace context; repeated ones are joined as HTTP allows.
std::map<std::string, std::string> trace_headers(const httplib::Request& req) {
  std::map<std::string, std::string> out;
  for (const char* name : {"traceparent", "tracestate", "baggage"}) {
    const std::size_t n = req.get_header_value_count(name);
    if (n == 0) continue;
    std::string joined;
    for (std::size_t i = 0; i < n; ++i) {
      if (i != 0) joined += ',';
      joined += req.get_header_value(name, i);
    }
    out[name] = joined;
  }
  return out;
}

std::int64_t query_int(const httplib::Request& req, const char* name, std::int64_t fallback) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  return end != text.c_str() && *end == '\0' ? static_cast<std::int64_t>(v) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const sigset_t stop_signals = demo::block_stop_signals();
  if (!demo::follow_launcher()) return 1;
  demo::options opt;
  if (!demo::parse_options(argc, argv, opt, false)) {
    std::fprintf(stderr, "usage: %s [--port N]\n", argv[0]);
    return 2;
  }

  tracing::tracer tracer;
  try {
    tracer = demo::make_tracer("broker");
  } catch (const tracing::config_error& e) {
    std::fprintf(stderr, "broker: bad tracing configuration: %s\n", e.what());
    return 2;
  }

  topic_log log;
  httplib::Server server;
  server.Post(R"(/topics/([A-Za-z0-9._-]+))",
              sth::traced(tracer, "/topics/{topic}", [&](const httplib::Request& req, httplib::Response& res) {
                const std::string topic = req.matches[1];
                message m;
                m.key = req.get_header_value("Message-Key");
                m.value = req.body;
                m.headers = trace_headers(req);

                // A child of the SERVER span, which traced() made current.
                auto append = tracer.start("append " + topic);
                append.set_attribute("messaging.destination.name", topic);
                const std::int64_t offset = log.append(topic, std::move(m));
                append.set_attribute("messaging.streambus.message.offset", offset);
                append.end();

                value body = value::make_object();
                body.set("topic", value::make_string(topic));
                body.set("partition", value::make_number(0));
                body.set("offset", value::make_number(offset));
                res.status = 201;
                res.set_content(example_json::to_string(body), "application/json");
              }));

  server.Get(R"(/topics/([A-Za-z0-9._-]+))", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string topic = req.matches[1];
    const std::int64_t offset = query_int(req, "offset", 0);
    const std::int64_t wait_ms = std::clamp<std::int64_t>(query_int(req, "wait_ms", 0), 0, 5000);
    message m;
    if (!log.read(topic, offset, std::chrono::milliseconds(wait_ms), m)) {
      res.status = 204;
      return;
    }
    value body = value::make_object();
    body.set("offset", value::make_number(m.offset));
    body.set("key", value::make_string(m.key));
    body.set("value", value::make_string(m.value));
    value headers = value::make_object();
    for (const auto& [name, text] : m.headers) headers.set(name, value::make_string(text));
    body.set("headers", std::move(headers));
    res.set_content(example_json::to_string(body), "application/json");
  });

  demo::server_thread running(server);
  const int port = running.start(opt.port);
  if (port <= 0) {
    std::fprintf(stderr, "broker: cannot listen on 127.0.0.1:%d\n", opt.port);
    return 1;
  }
  demo::report_ready("broker", port);

  const int sig = demo::wait_for_stop(stop_signals);
  log.stop();
  running.stop();
  tracer.shutdown();
  demo::report_stopped("broker", tracer, sig);
  return 0;
}
