// The demo's collector: an OTLP/HTTP receiver (JSON encoding) that turns
// what the services export back into span_data, and what the launcher
// does with it afterwards: one tree across services on the console, one
// Jaeger UI JSON file with every service as a process of the same trace,
// and the OTLP JSON lines of the otlpjsonfile format.
//
// It speaks just enough OTLP for the demo: POST /v1/traces with
// Content-Type application/json, answered with an empty
// ExportTraceServiceResponse. A real deployment points the services at an
// OpenTelemetry Collector or Jaeger instead (see examples/deploy/).
#pragma once

#include "../common/mini_json.hpp"

#include <streambus/tracing/http.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace demo {

namespace tracing = streambus::tracing;
using example_json::value;

/// Everything one service sent: its resource, scope and spans.
struct service_spans {
  std::string name;
  tracing::resource resource;
  tracing::instrumentation_scope scope;
  std::vector<tracing::span_data> spans;
  std::set<std::pair<tracing::trace_id, tracing::span_id>> seen;  // a retried export may repeat spans

  tracing::span_batch batch(std::vector<const tracing::span_data*>& storage) const {
    storage.clear();
    for (const auto& s : spans) storage.push_back(&s);
    return tracing::span_batch(resource, scope, storage.data(), storage.size());
  }
};

using collected = std::map<std::string, service_spans>;

namespace otlp_json {

inline std::uint64_t to_u64(const value& v) {
  return v.kind == value::number || v.kind == value::string ? std::strtoull(v.text.c_str(), nullptr, 10) : 0;
}

inline double to_double(const value& v) {
  if (v.kind == value::string) {  // proto3 JSON writes non-finite doubles as strings
    if (v.text == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (v.text == "Infinity") return std::numeric_limits<double>::infinity();
    if (v.text == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return std::strtod(v.text.c_str(), nullptr);
}

// One AnyValue; false for kinds the library never sends (kvlist, bytes).
inline bool to_scalar(const value& any, tracing::attribute_value& out) {
  if (const value* v = any.find("stringValue")) {
    out = std::string(v->str());
  } else if (const value* v = any.find("boolValue")) {
    out = v->b;
  } else if (const value* v = any.find("intValue")) {
    out = static_cast<std::int64_t>(std::strtoll(v->text.c_str(), nullptr, 10));
  } else if (const value* v = any.find("doubleValue")) {
    out = to_double(*v);
  } else {
    return false;
  }
  return true;
}

inline bool to_attribute_value(const value& any, tracing::attribute_value& out) {
  const value* array = any.find("arrayValue");
  if (array == nullptr) return to_scalar(any, out);
  const value& items = (*array)["values"];
  // Arrays are homogeneous; the first element says which kind.
  if (items.items.empty() || items[0].find("stringValue") != nullptr) {
    std::vector<std::string> v;
    for (const auto& item : items.items) v.emplace_back(item["stringValue"].str());
    out = std::move(v);
  } else if (items[0].find("boolValue") != nullptr) {
    std::vector<bool> v;
    for (const auto& item : items.items) v.push_back(item["boolValue"].b);
    out = std::move(v);
  } else if (items[0].find("intValue") != nullptr) {
    std::vector<std::int64_t> v;
    for (const auto& item : items.items) v.push_back(std::strtoll(item["intValue"].text.c_str(), nullptr, 10));
    out = std::move(v);
  } else {
    std::vector<double> v;
    for (const auto& item : items.items) v.push_back(to_double(item["doubleValue"]));
    out = std::move(v);
  }
  return true;
}

inline void to_attributes(const value& owner, tracing::attribute_list& out) {
  const std::size_t no_limit = static_cast<std::size_t>(-1);
  for (const auto& kv : owner["attributes"].items) {
    tracing::attribute_value v;
    if (to_attribute_value(kv["value"], v)) out.set(kv["key"].str(), v, no_limit);
  }
  out.add_dropped(static_cast<std::uint32_t>(to_u64(owner["droppedAttributesCount"])));
}

// Span.flags / Link.flags: the W3C trace flags in bits 0-7; bit 8 says whether
// bit 9, "remote", is known (for a span it describes the parent).
inline bool remote_bit(std::uint32_t flags) noexcept { return (flags & 0x300u) == 0x300u; }

inline tracing::span_context to_context(const value& owner, std::uint32_t flags, bool remote) {
  return tracing::span_context(tracing::trace_id::from_hex(owner["traceId"].str()),
                               tracing::span_id::from_hex(owner["spanId"].str()),
                               tracing::trace_flags(static_cast<std::uint8_t>(flags & 0xFF)), remote,
                               tracing::trace_state::from_header(owner["traceState"].str()));
}

inline bool to_span(const value& s, tracing::span_data& out) {
  const auto flags = static_cast<std::uint32_t>(to_u64(s["flags"]));
  out.context = to_context(s, flags, false);
  if (!out.context.valid()) return false;
  out.parent_span_id = tracing::span_id::from_hex(s["parentSpanId"].str());
  out.parent_is_remote = out.parent_span_id.valid() && remote_bit(flags);
  out.name = std::string(s["name"].str());
  const std::uint64_t kind = to_u64(s["kind"]);
  out.kind = kind >= 1 && kind <= 5 ? static_cast<tracing::span_kind>(kind) : tracing::span_kind::internal;
  out.start_time_unix_nano = to_u64(s["startTimeUnixNano"]);
  out.end_time_unix_nano = to_u64(s["endTimeUnixNano"]);
  to_attributes(s, out.attributes);
  for (const auto& e : s["events"].items) {
    tracing::span_event& event = out.events.next_slot();
    event.name = std::string(e["name"].str());
    event.time_unix_nano = to_u64(e["timeUnixNano"]);
    event.attributes.clear();
    to_attributes(e, event.attributes);
  }
  out.dropped_events = static_cast<std::uint32_t>(to_u64(s["droppedEventsCount"]));
  for (const auto& l : s["links"].items) {
    tracing::span_link& link = out.links.next_slot();
    const auto link_flags = static_cast<std::uint32_t>(to_u64(l["flags"]));
    link.context = to_context(l, link_flags, remote_bit(link_flags));
    link.attributes.clear();
    to_attributes(l, link.attributes);
  }
  out.dropped_links = static_cast<std::uint32_t>(to_u64(s["droppedLinksCount"]));
  const std::uint64_t code = to_u64(s["status"]["code"]);
  out.status = code <= 2 ? static_cast<tracing::status_code>(code) : tracing::status_code::unset;
  out.status_message = std::string(s["status"]["message"].str());
  return true;
}

/// Adds one ExportTraceServiceRequest (OTLP/JSON) to `into`, per service.name.
inline bool add_request(const value& doc, collected& into, std::string& error) {
  if (!doc.is_object()) {
    error = "not a JSON object";
    return false;
  }
  for (const auto& rs : doc["resourceSpans"].items) {
    tracing::resource res;
    to_attributes(rs["resource"], res.attributes);
    std::string service = "unknown_service";
    if (const auto* v = res.attributes.find("service.name"))
      if (const auto* s = v->get_if<std::string>()) service = *s;
    service_spans& target = into[service];
    if (target.name.empty()) {
      target.name = service;
      target.resource = res;
    }
    for (const auto& ss : rs["scopeSpans"].items) {
      target.scope.name = std::string(ss["scope"]["name"].str());
      target.scope.version = std::string(ss["scope"]["version"].str());
      for (const auto& s : ss["spans"].items) {
        tracing::span_data span;
        if (!to_span(s, span)) {
          error = "a span without valid ids";
          return false;
        }
        if (target.seen.emplace(span.context.trace_id(), span.context.span_id()).second)
          target.spans.push_back(std::move(span));
      }
    }
  }
  return true;
}

}  // namespace otlp_json

/// POST /v1/traces (OTLP/HTTP, JSON) on 127.0.0.1, any free port.
class otlp_receiver {
 public:
  otlp_receiver() {
    server_.set_keep_alive_timeout(1);
    server_.Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res) { receive(req, res); });
  }
  otlp_receiver(const otlp_receiver&) = delete;
  otlp_receiver& operator=(const otlp_receiver&) = delete;
  ~otlp_receiver() { stop(); }

  /// The port, or -1.
  int start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
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

  /// Waits until `done` holds for what arrived so far; false on timeout.
  bool wait_until(const std::function<bool(const collected&)>& done, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] { return done(services_); });
  }

  collected take() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::move(services_);
  }
  std::vector<std::string> problems() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return problems_;
  }
  std::size_t requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void receive(const httplib::Request& req, httplib::Response& res) {
    // OTLP/HTTP: a bad request is a 400 carrying a google.rpc.Status; the exporter does not retry it.
    const auto reject = [&](int status, const std::string& why) {
      std::lock_guard<std::mutex> lock(mutex_);
      problems_.push_back(why);
      value body = value::make_object();
      body.set("message", value::make_string(why));
      res.status = status;
      res.set_content(example_json::to_string(body), "application/json");
    };
    if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
      reject(415, "only OTLP/JSON is accepted here (OTEL_EXPORTER_OTLP_PROTOCOL=http/json), got Content-Type '" +
                      req.get_header_value("Content-Type") + "'");
      return;
    }
    value doc;
    if (!example_json::parse(req.body, doc)) {
      reject(400, "the body is not valid JSON");
      return;
    }
    std::string error;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++requests_;
      if (otlp_json::add_request(doc, services_, error)) {
        arrived_.notify_all();
        error.clear();
      }
    }
    if (!error.empty()) {
      reject(400, "unreadable ExportTraceServiceRequest: " + error);
      return;
    }
    res.set_content("{}", "application/json");  // full success: an empty ExportTraceServiceResponse
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  collected services_;
  std::vector<std::string> problems_;
  std::size_t requests_ = 0;
};

// ------------------------------------------------------------------ views

/// One span and the service that recorded it.
struct service_span {
  const std::string* service = nullptr;
  const tracing::span_data* span = nullptr;
};

/// Every trace id, with its spans across services, earliest trace first.
inline std::vector<std::pair<tracing::trace_id, std::vector<service_span>>> traces_of(const collected& services) {
  std::map<tracing::trace_id, std::vector<service_span>> by_trace;
  for (const auto& [name, svc] : services)
    for (const auto& s : svc.spans) by_trace[s.context.trace_id()].push_back({&svc.name, &s});
  std::vector<std::pair<tracing::trace_id, std::vector<service_span>>> out(by_trace.begin(), by_trace.end());
  const auto earliest = [](const std::vector<service_span>& spans) {
    std::uint64_t t = UINT64_MAX;
    for (const auto& s : spans) t = std::min(t, s.span->start_time_unix_nano);
    return t;
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const auto& a, const auto& b) { return earliest(a.second) < earliest(b.second); });
  return out;
}

/// A trace's spans as a tree: roots (no parent among them) and children,
/// each list by start time.
struct trace_tree {
  std::vector<const service_span*> roots;
  std::map<tracing::span_id, std::vector<const service_span*>> children;

  explicit trace_tree(const std::vector<service_span>& spans) {
    std::set<tracing::span_id> present;
    for (const auto& s : spans) present.insert(s.span->context.span_id());
    for (const auto& s : spans) {
      const bool has_parent = s.span->parent_span_id.valid() && present.count(s.span->parent_span_id) != 0;
      (has_parent ? children[s.span->parent_span_id] : roots).push_back(&s);
    }
    const auto by_start = [](const service_span* a, const service_span* b) {
      return a->span->start_time_unix_nano < b->span->start_time_unix_nano;
    };
    std::stable_sort(roots.begin(), roots.end(), by_start);
    for (auto& kv : children) std::stable_sort(kv.second.begin(), kv.second.end(), by_start);
  }

  const std::vector<const service_span*>& children_of(const service_span& s) const {
    static const std::vector<const service_span*> none;
    const auto it = children.find(s.span->context.span_id());
    return it != children.end() ? it->second : none;
  }

  /// Depth first, parents before children: the order in which the work
  /// happened, whatever the clocks of the processes say.
  void walk(const std::function<void(const service_span&, std::size_t depth, bool last)>& visit) const {
    const std::function<void(const service_span&, std::size_t, bool)> rec = [&](const service_span& s,
                                                                                std::size_t depth, bool last) {
      visit(s, depth, last);
      const auto& kids = children_of(s);
      for (std::size_t i = 0; i < kids.size(); ++i) rec(*kids[i], depth + 1, i + 1 == kids.size());
    };
    for (std::size_t i = 0; i < roots.size(); ++i) rec(*roots[i], 0, i + 1 == roots.size());
  }
};

/// The services of a trace, in the order they joined it (parents first).
inline std::vector<std::string> services_in_order(const std::vector<service_span>& spans) {
  std::vector<std::string> out;
  trace_tree(spans).walk([&](const service_span& s, std::size_t, bool) {
    if (std::find(out.begin(), out.end(), *s.service) == out.end()) out.push_back(*s.service);
  });
  return out;
}

// ------------------------------------------------------------------ console tree

namespace detail {

// The few attributes worth a glance; the files have them all.
inline std::string highlights(const tracing::span_data& s) {
  static constexpr std::pair<std::string_view, std::string_view> keys[] = {
      {"http.response.status_code", "status"},
      {"order.id", "order"},
      {"messaging.streambus.message.offset", "offset"},
      {"retry.attempt", "attempt"},
      {"retry.attempt_count", "attempts"},
      {"error.type", "error.type"},
  };
  std::string out;
  for (const auto& [key, label] : keys) {
    const tracing::attribute_value* v = s.attributes.find(key);
    if (v == nullptr) continue;
    if (!out.empty()) out += ' ';
    out += label;
    out += '=';
    if (const auto* i = v->get_if<std::int64_t>())
      out += std::to_string(*i);
    else if (const auto* str = v->get_if<std::string>())
      out += *str;
  }
  for (const auto& e : s.events) {
    if (!out.empty()) out += ' ';
    out += "event:" + e.name;
  }
  if (s.status == tracing::status_code::error) {
    out += out.empty() ? "ERROR" : "  ERROR";
    if (!s.status_message.empty()) out += ": " + s.status_message;
  }
  return out;
}

inline std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;  // count UTF-8 characters, not bytes
  return n;
}

}  // namespace detail

/// One trace as a tree across services, with a timeline bar per span:
///
///   service      span                       kind      duration  timeline
///   demo-client  place order                internal   31.2 ms  [██████████████████]
///   gateway      └─ POST /orders            server     12.0 ms  [ ███████          ]
inline std::string render_tree(const tracing::trace_id& id, const std::vector<service_span>& spans) {
  std::uint64_t begin = UINT64_MAX, end = 0;
  for (const auto& s : spans) {
    begin = std::min(begin, s.span->start_time_unix_nano);
    end = std::max(end, s.span->end_time_unix_nano);
  }

  struct row {
    std::string service, tree, kind, details;
    double ms;
    std::uint64_t start, end;
  };
  std::vector<row> rows;
  std::vector<bool> open;  // per depth: does a sibling still follow (draw "│")?
  trace_tree(spans).walk([&](const service_span& s, std::size_t depth, bool last) {
    std::string tree;
    for (std::size_t d = 1; d < depth; ++d) tree += open[d] ? "│  " : "   ";
    if (depth > 0) tree += last ? "└─ " : "├─ ";
    tree += s.span->name;
    open.resize(depth + 1);
    open[depth] = !last;
    row r;
    r.service = *s.service;
    r.tree = std::move(tree);
    r.kind = std::string(tracing::to_string(s.span->kind));
    r.details = detail::highlights(*s.span);
    r.ms = static_cast<double>(s.span->duration_ns()) / 1e6;
    r.start = s.span->start_time_unix_nano;
    r.end = s.span->end_time_unix_nano;
    rows.push_back(std::move(r));
  });

  std::size_t service_w = 7, tree_w = 4;
  for (const auto& r : rows) {
    service_w = std::max(service_w, detail::display_width(r.service));
    tree_w = std::max(tree_w, detail::display_width(r.tree));
  }
  constexpr std::size_t bar_w = 24;
  const double span_ns = end > begin ? static_cast<double>(end - begin) : 1.0;
  const auto pad = [](std::string s, std::size_t w) {
    const std::size_t n = detail::display_width(s);
    if (n < w) s.append(w - n, ' ');
    return s;
  };

  std::string out = "trace " + id.to_hex() + "\n";
  out += "  " + pad("service", service_w) + "  " + pad("span", tree_w) + "  kind       duration  timeline\n";
  for (const auto& r : rows) {
    // The bar: where the span ran within the whole trace (at least one cell).
    std::size_t from = static_cast<std::size_t>(static_cast<double>(r.start - begin) / span_ns * bar_w);
    std::size_t to = static_cast<std::size_t>(static_cast<double>(r.end > begin ? r.end - begin : 0) / span_ns * bar_w);
    from = std::min(from, bar_w - 1);
    to = std::max(std::min(to, bar_w), from + 1);
    std::string bar = "[";
    for (std::size_t i = 0; i < bar_w; ++i) bar += i >= from && i < to ? "█" : " ";
    bar += "]";
    char duration[32];
    std::snprintf(duration, sizeof duration, "%8.2f ms", r.ms);
    out += "  " + pad(r.service, service_w) + "  " + pad(r.tree, tree_w) + "  " + pad(r.kind, 9) + duration + "  " +
           bar;
    if (!r.details.empty()) out += "  " + r.details;
    out += '\n';
  }
  return out;
}

// ------------------------------------------------------------------ files

/// The otlpjsonfile format: one ExportTraceServiceRequest per line, one line per service.
inline std::string otlp_json_lines(const std::vector<const service_spans*>& services) {
  std::string out, line;
  std::vector<const tracing::span_data*> storage;
  for (const auto* svc : services) {
    tracing::otlp::encode_json(svc->batch(storage), line);
    out += line;
    out += '\n';
  }
  return out;
}

/// One Jaeger UI JSON document: each trace once, with the spans of every
/// service and one process per service (p1, p2, ... in `services` order).
inline std::string merged_jaeger_json(const std::vector<const service_spans*>& services) {
  struct trace_entry {
    value spans = value::make_array();
    value processes = value::make_object();
  };
  std::vector<std::string> order;  // trace ids as first seen
  std::map<std::string, trace_entry> traces;
  std::string text;
  std::vector<const tracing::span_data*> storage;
  for (std::size_t k = 0; k < services.size(); ++k) {
    tracing::jaeger::encode_ui_json(services[k]->batch(storage), text);
    value doc;
    if (!example_json::parse(text, doc)) continue;  // cannot happen: the encoder writes valid JSON
    const std::string pid = "p" + std::to_string(k + 1);
    for (const auto& t : doc["data"].items) {
      const std::string tid(t["traceID"].str());
      if (traces.count(tid) == 0) order.push_back(tid);
      trace_entry& entry = traces[tid];
      for (value span : t["spans"].items) {
        span.set("processID", value::make_string(pid));
        entry.spans.items.push_back(std::move(span));
      }
      entry.processes.set(pid, t["processes"]["p1"]);
    }
  }
  value data = value::make_array();
  for (const auto& tid : order) {
    value t = value::make_object();
    t.set("traceID", value::make_string(tid));
    t.set("spans", std::move(traces[tid].spans));
    t.set("processes", std::move(traces[tid].processes));
    t.set("warnings", value());
    data.items.push_back(std::move(t));
  }
  value doc = value::make_object();
  doc.set("data", std::move(data));
  doc.set("total", value::make_number(0));
  doc.set("limit", value::make_number(0));
  doc.set("offset", value::make_number(0));
  doc.set("errors", value());
  return example_json::to_string(doc);
}

}  // namespace demo
