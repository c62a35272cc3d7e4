// The demo's consumer: reads topic "orders" from the broker and fulfils each order.
//
// It long-polls the broker (GET /topics/orders?offset=N&wait_ms=250) and,
// for every message, starts a CONSUMER span that continues the producer's
// trace from the message headers (and links to it). Inside: "handle order",
// whose inventory reservation times out once and succeeds when retried
// (trace_with_retry: one child span per attempt, a `retry` event between),
// then "charge payment".
//
//   example_multi_service_consumer --broker http://127.0.0.1:N
#include "../common/mini_json.hpp"
#include "service_common.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <system_error>
#include <thread>

namespace {

namespace tracing = streambus::tracing;
using example_json::value;

void fulfil(tracing::tracer& tracer, std::int64_t offset, const value& message) {
  std::map<std::string, std::string> headers;
  const value& h = message["headers"];
  for (std::size_t i = 0; i < h.names.size(); ++i) headers[h.names[i]] = std::string(h.members[i].str());

  // Continues the trace the gateway's PRODUCER span started; current until it ends.
  auto span = tracer.trace_consume_message(demo::orders_topic, 0, offset, headers);

  tracer.instrumented_operation("handle order", [&](tracing::span& s) {
    value order;
    if (example_json::parse(message["value"].str(), order)) s.set_attribute("order.id", order["id"].str());

    // The warehouse answers the first call for every order with a timeout.
    tracer.trace_with_retry(
        "reserve inventory", 3,
        [](int attempt) -> std::error_code {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          return attempt == 1 ? std::make_error_code(std::errc::timed_out) : std::error_code();
        },
        tracing::retry_backoff{std::chrono::milliseconds(20)});

    tracer.instrumented_operation("charge payment", [] { std::this_thread::sleep_for(std::chrono::milliseconds(3)); });
    s.add_event("order fulfilled");
  });
}

void poll_loop(tracing::tracer& tracer, const std::string& broker, const std::atomic<bool>& stop) {
  httplib::Client client(broker);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(3, 0);  // longer than the broker's 250 ms wait
  std::int64_t next = 0;
  const std::string path = std::string("/topics/") + demo::orders_topic;
  while (!stop.load()) {
    const auto result = client.Get(path + "?offset=" + std::to_string(next) + "&wait_ms=250");
    if (!result || (result->status != 200 && result->status != 204)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // broker not up (or gone): try again
      continue;
    }
    if (result->status == 204) continue;
    value message;
    if (!example_json::parse(result->body, message) || message["offset"].kind != value::number) {
      std::fprintf(stderr, "consumer: unreadable message at offset %lld, skipped\n", static_cast<long long>(next));
      ++next;
      continue;
    }
    const std::int64_t offset = std::strtoll(message["offset"].text.c_str(), nullptr, 10);
    fulfil(tracer, offset, message);
    next = offset + 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const sigset_t stop_signals = demo::block_stop_signals();
  if (!demo::follow_launcher()) return 1;
  demo::options opt;
  if (!demo::parse_options(argc, argv, opt, true)) {
    std::fprintf(stderr, "usage: %s --broker http://HOST:PORT\n", argv[0]);
    return 2;
  }

  tracing::tracer tracer;
  try {
    tracer = demo::make_tracer("consumer");
  } catch (const tracing::config_error& e) {
    std::fprintf(stderr, "consumer: bad tracing configuration: %s\n", e.what());
    return 2;
  }

  std::atomic<bool> stop{false};
  std::thread worker([&] { poll_loop(tracer, opt.broker, stop); });
  demo::report_ready("consumer", 0);  // no port of its own: "ready" means polling

  const int sig = demo::wait_for_stop(stop_signals);
  stop.store(true);
  worker.join();
  tracer.shutdown();
  demo::report_stopped("consumer", tracer, sig);
  return 0;
}
