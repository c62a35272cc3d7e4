// The multi-service demo, in one command: one trace across four processes.
//
//   example_multi_service [OUTPUT_DIR] [--forward URL]
//
// This launcher starts three services as child processes (their binaries
// sit next to it), then plays two roles:
//
//   the client     sends two orders, each in a trace of its own: a valid
//                  one, which travels through every service, and an invalid
//                  one, which the gateway rejects;
//   the collector  receives the services' spans over OTLP/HTTP (JSON), as
//                  an OpenTelemetry Collector would.
//
//   demo-client --HTTP--> gateway --HTTP--> broker <--poll-- consumer
//   "place order"         POST /orders      POST /topics/{topic}   process orders
//     POST (client)         send orders       append orders          handle order
//                           (producer)                                 reserve inventory (retried)
//                                                                      charge payment
//
// The trace context crosses every hop in W3C traceparent/tracestate
// headers: client -> gateway (HTTP), gateway -> broker (HTTP, the
// PRODUCER span's context), broker -> consumer (stored with the message as
// its headers, like Kafka record headers).
//
// Then it stops the services (SIGTERM: each flushes its spans and exits),
// prints every trace as one tree across services, writes OUTPUT_DIR
// (default build/demo-output) with
//   jaeger-trace.json   Jaeger UI JSON: open it in Jaeger's "Search -> JSON File"
//   otlp-traces.jsonl   OTLP/JSON, one ExportTraceServiceRequest per service and line
//                       (the Collector's otlpjsonfile format)
//   trace-tree.txt      the tree printed on the console
// and, when --forward URL or OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT is set,
// sends all spans on to that collector (OTEL_EXPORTER_OTLP_* settings apply).
//
// It ends with one line per trace; exit status 0 only when the valid
// order's trace holds spans of all four services under one trace id, the
// invalid order was rejected, and every service stopped cleanly. Every wait
// is bounded; the whole demo takes about a second.
#include "collector.hpp"
#include "process.hpp"

#include <streambus/tracing/http.hpp>
#include <streambus/tracing/otlp_http_exporter.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

extern char** environ;

namespace {

namespace tracing = streambus::tracing;
namespace sth = streambus::tracing::http;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* client_service = "demo-client";
constexpr std::array<const char*, 3> child_services{"gateway", "broker", "consumer"};

struct order {
  order(std::string id_, std::string body_, int expected) : id(std::move(id_)), body(std::move(body_)), expected_status(expected) {}
  std::string id;
  std::string body;
  int expected_status;
  int status = -1;
  tracing::trace_id trace;
};

void say(const std::string& line) {
  std::printf("demo: %s\n", line.c_str());
  std::fflush(stdout);  // keep our lines in order with the children's stderr
}

/// This launcher's directory: the services' binaries are next to it.
fs::path own_directory(const char* argv0) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) self = fs::absolute(argv0, ec);
  return self.parent_path();
}

/// Our environment without any OTEL_* variable (the services must send to
/// our collector, whatever the caller's settings), plus the demo's.
std::vector<std::string> child_environment(const std::string& service, const std::string& collector_url) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.rfind("OTEL_", 0) != 0 && entry.rfind("DEMO_", 0) != 0) env.emplace_back(entry);
  }
  env.push_back("OTEL_SERVICE_NAME=" + service);
  env.push_back("OTEL_TRACES_EXPORTER=otlp");
  env.push_back("OTEL_EXPORTER_OTLP_ENDPOINT=" + collector_url);
  env.push_back("OTEL_EXPORTER_OTLP_PROTOCOL=http/json");
  env.push_back("OTEL_EXPORTER_OTLP_TIMEOUT=2000");
  env.push_back("OTEL_BSP_SCHEDULE_DELAY=100");  // spans reach the collector within 0.1 s
  env.push_back("OTEL_BSP_EXPORT_TIMEOUT=5000");
  env.push_back("DEMO_READY_FD=" + std::to_string(demo::ready_fd));
  env.push_back("DEMO_LAUNCHER_PID=" + std::to_string(getpid()));
  return env;
}

bool write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

/// Sends everything to the collector the user named; false if it failed.
bool forward(const std::vector<const demo::service_spans*>& services, const std::string& url) {
  tracing::otlp_http_options options;
  try {
    // A tracer that exports nothing, only to resolve the OTEL_EXPORTER_OTLP_*
    // variables (endpoint, protocol, headers, timeout, compression, TLS) as
    // every streambus program does.
    tracing::config cfg;
    cfg.exporter = "none";
    cfg.otlp_endpoint = url;  // empty: from the environment
    const tracing::tracer resolver = tracing::tracer::create(cfg);
    if (resolver.settings() == nullptr) {
      say("not forwarding: tracing is disabled (OTEL_SDK_DISABLED)");
      return true;
    }
    options.otlp = resolver.settings()->otlp;
  } catch (const tracing::config_error& e) {
    say(std::string("not forwarding: ") + e.what());
    return false;
  }
  options.export_timeout = 3s;  // per service; an unreachable collector must not hold the demo long
  options.initial_backoff = 200ms;
  options.diagnostic = [](std::string_view m) { say("forward: " + std::string(m)); };
  try {
    tracing::otlp_http_exporter exporter(options);
    bool ok = true;
    std::size_t spans = 0;
    std::vector<const tracing::span_data*> storage;
    for (const auto* svc : services) {
      ok = exporter.export_spans(svc->batch(storage)) == tracing::export_result::success;
      if (!ok) break;  // the rest would fail the same way
      spans += svc->spans.size();
    }
    exporter.shutdown(1s);
    say(ok ? "forwarded " + std::to_string(spans) + " spans to " + options.otlp.endpoint + " (" + options.otlp.protocol + ")"
           : "forwarding to " + options.otlp.endpoint + " FAILED (see above); the files are complete");
    return ok;
  } catch (const tracing::config_error& e) {
    say(std::string("not forwarding: ") + e.what());
    return false;
  }
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [OUTPUT_DIR] [--forward URL]\n"
               "  OUTPUT_DIR     where the trace files go (default build/demo-output)\n"
               "  --forward URL  also send every span to this OTLP/HTTP collector\n"
               "                 (default: OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT when set)\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const auto started = std::chrono::steady_clock::now();
  fs::path out_dir = "build/demo-output";
  std::string forward_url;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--forward" && i + 1 < argc)
      forward_url = argv[++i];
    else if (!arg.empty() && arg[0] != '-')
      out_dir = arg;
    else
      return usage(argv[0]);
  }
  const bool forwarding = !forward_url.empty() || std::getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != nullptr ||
                          std::getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != nullptr;

  // --- the collector, and our own tracer exporting to it -----------------------
  demo::otlp_receiver collector;
  const int collector_port = collector.start();
  if (collector_port <= 0) {
    say("cannot listen on 127.0.0.1 for the collector");
    return 1;
  }
  const std::string collector_url = "http://127.0.0.1:" + std::to_string(collector_port);
  say("collector listening on " + collector_url + "/v1/traces (OTLP/HTTP, JSON)");

  tracing::tracer tracer;
  {
    tracing::config cfg;
    cfg.read_environment = false;  // the caller's OTEL_* settings are for --forward only
    cfg.service_name = client_service;
    cfg.service_version = "1.0.0";
    cfg.environment = "demo";
    cfg.exporter = "otlp";
    cfg.otlp_endpoint = collector_url + "/v1/traces";
    cfg.otlp_protocol = "http/json";
    tracing::batch_options batch;
    batch.schedule_delay = 100ms;
    batch.export_timeout = 5s;
    cfg.batch = batch;
    tracer = tracing::tracer::create(cfg);
  }

  // --- the services ------------------------------------------------------------
  const fs::path bin_dir = own_directory(argv[0]);
  const std::string prefix = fs::path(argv[0]).filename().string() + "_";
  std::vector<std::unique_ptr<demo::child_process>> children;
  const auto start_service = [&](const char* name, std::vector<std::string> args) -> demo::child_process* {
    auto child = std::make_unique<demo::child_process>(name);
    std::string error;
    const fs::path binary = bin_dir / (prefix + name);
    if (!child->spawn(binary.string(), args, child_environment(name, collector_url), error)) {
      say(error);
      return nullptr;
    }
    children.push_back(std::move(child));
    return children.back().get();
  };
  const auto stop_all = [&] {
    for (auto& c : children) c->terminate();
    bool clean = true;
    for (auto& c : children) {
      c->stop(10s);
      if (!c->clean_exit()) {
        say(c->name() + " did not stop cleanly: " + c->describe_exit());
        clean = false;
      }
    }
    return clean;
  };
  const auto fail = [&](const std::string& why) {
    say(why);
    stop_all();
    return 1;
  };

  demo::child_process* broker = start_service("broker", {});
  if (broker == nullptr) return fail("the broker did not start");
  const int broker_port = broker->wait_ready(10s);
  if (broker_port <= 0) return fail("the broker did not report its port within 10 s");
  const std::string broker_url = "http://127.0.0.1:" + std::to_string(broker_port);
  demo::child_process* gateway = start_service("gateway", {"--broker", broker_url});
  demo::child_process* consumer = start_service("consumer", {"--broker", broker_url});
  if (gateway == nullptr || consumer == nullptr) return fail("a service did not start");
  const int gateway_port = gateway->wait_ready(10s);
  if (gateway_port <= 0 || consumer->wait_ready(10s) < 0) return fail("a service did not get ready within 10 s");
  say("started broker (pid " + std::to_string(broker->pid()) + ") on " + broker_url + ", gateway (pid " +
      std::to_string(gateway->pid()) + ") on http://127.0.0.1:" + std::to_string(gateway_port) +
      ", consumer (pid " + std::to_string(consumer->pid()) + ")");

  // --- the client ----------------------------------------------------------------
  std::vector<order> orders;
  orders.emplace_back("A-1001", R"({"id":"A-1001","item":"espresso beans","quantity":2})", 202);
  orders.emplace_back("A-1002", R"({"id":"A-1002","item":"moka pot","quantity":0})", 422);
  {
    httplib::Client client("127.0.0.1", gateway_port);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(10, 0);
    for (auto& o : orders) {
      auto root = tracer.start("place order");
      root.set_attribute("order.id", o.id);
      const auto result = sth::post(tracer, client, "/orders", o.body, "application/json");  // a CLIENT span
      o.status = result ? result->status : -1;
      if (o.status != o.expected_status)
        root.record_error("unexpected answer " + std::to_string(o.status) + " to order " + o.id);
      o.trace = root.context().trace_id();
      root.end();
      say("order " + o.id + ": POST /orders -> " + std::to_string(o.status) + ", trace " + o.trace.to_hex());
    }
  }

  // The consumer works asynchronously: wait until its span for each accepted order arrived.
  const bool consumed = collector.wait_until(
      [&](const demo::collected& got) {
        const auto it = got.find("consumer");
        for (const auto& o : orders) {
          if (o.expected_status != 202) continue;
          bool found = false;
          if (it != got.end())
            for (const auto& s : it->second.spans)
              found = found || (s.kind == tracing::span_kind::consumer && s.context.trace_id() == o.trace);
          if (!found) return false;
        }
        return true;
      },
      15s);
  if (!consumed) say("the consumer's spans did not arrive within 15 s");

  // --- stop everything; the services flush their spans on SIGTERM ---------------
  const auto stopping = std::chrono::steady_clock::now();
  const bool clean_stop = stop_all();
  char stopped[96];
  std::snprintf(stopped, sizeof stopped, "stopped the services in %.2f s (SIGTERM: each flushed its spans and exited)",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - stopping).count());
  say(stopped);
  // Flushes our spans, then drops the exporter, whose keep-alive connection
  // would otherwise hold the collector's stop() for its idle timeout.
  tracer = tracing::tracer();
  collector.stop();
  const std::vector<std::string> problems = collector.problems();
  for (const auto& p : problems) say("collector rejected a request: " + p);

  const demo::collected services = collector.take();
  std::vector<const demo::service_spans*> ordered;  // client first, then as they joined the trace
  const auto traces = demo::traces_of(services);
  for (const auto& [id, spans] : traces)
    for (const auto& name : demo::services_in_order(spans))
      if (const auto it = services.find(name); it != services.end())
        if (std::find(ordered.begin(), ordered.end(), &it->second) == ordered.end()) ordered.push_back(&it->second);

  std::string tree;
  for (const auto& [id, spans] : traces) tree += demo::render_tree(id, spans) + "\n";
  std::printf("\n%s", tree.c_str());

  // --- files, forwarding ---------------------------------------------------------
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  const bool written = !ec && write_file(out_dir / "jaeger-trace.json", demo::merged_jaeger_json(ordered)) &&
                       write_file(out_dir / "otlp-traces.jsonl", demo::otlp_json_lines(ordered)) &&
                       write_file(out_dir / "trace-tree.txt", tree);
  if (written)
    say("wrote " + (out_dir / "jaeger-trace.json").string() + " (Jaeger UI: Search -> JSON File), " +
        (out_dir / "otlp-traces.jsonl").string() + ", " + (out_dir / "trace-tree.txt").string());
  else
    say("cannot write the output files under " + out_dir.string());
  if (forwarding) forward(ordered, forward_url);

  // --- verdict -----------------------------------------------------------------
  bool ok = clean_stop && consumed && written && problems.empty();
  std::size_t spans_in_orders = 0, spans_total = 0;
  for (const auto& [name, svc] : services) spans_total += svc.spans.size();
  for (const auto& o : orders) {
    std::vector<demo::service_span> spans;
    for (const auto& [id, list] : traces)
      if (id == o.trace) spans = list;
    spans_in_orders += spans.size();
    const std::vector<std::string> names = demo::services_in_order(spans);
    std::string joined;
    for (const auto& n : names) joined += (joined.empty() ? "" : ",") + n;
    const auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
    bool complete = o.status == o.expected_status && has(client_service) && has("gateway");
    if (o.expected_status == 202) {
      for (const char* n : child_services) complete = complete && has(n);
      std::printf("demo: trace %s spans=%zu services=%s\n", o.trace.to_hex().c_str(), spans.size(), joined.c_str());
    } else {
      complete = complete && !has("broker") && !has("consumer");
      std::printf("demo: rejected order %s: trace %s spans=%zu services=%s (HTTP %d, as intended)\n", o.id.c_str(),
                  o.trace.to_hex().c_str(), spans.size(), joined.c_str(), o.status);
    }
    if (!complete) {
      say("order " + o.id + ": its trace does not cover the expected services (got " + joined + ")");
      ok = false;
    }
  }
  if (spans_in_orders != spans_total) {
    say(std::to_string(spans_total - spans_in_orders) + " spans landed outside the orders' traces: a hop lost the trace context");
    ok = false;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("demo: %s in %.2f s\n", ok ? "OK" : "FAILED", seconds);
  return ok ? 0 : 1;
}
