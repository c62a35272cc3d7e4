// An instrumented source file that includes only the light header: it
// compiles in ~60 ms instead of ~2.7 s. Its spans go to the tracer that
// main.cpp creates, through the calls main.cpp compiles.
#include <streambus/tracing_light.hpp>

#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "orders.hpp"

namespace light = streambus::tracing::light;
using streambus::tracing::status_code;

void pack_order(streambus::tracing::tracer& tracer, int order_id, int items) {
  auto span = light::start(tracer, "orders.pack");
  span.set_attribute("order.id", order_id).set_attribute("order.items", items);
  // A context is a value: each worker thread gets a copy and starts its span under it.
  const light::span_context pack = span.context();
  std::vector<std::thread> workers;
  for (int item = 0; item < items; ++item)
    workers.emplace_back([&tracer, pack, item] {
      light::start_options options;
      options.parent = &pack;
      auto part = light::start(tracer, "orders.pack.item", options);
      part.set_attribute("order.item", item);
    });
  for (auto& w : workers) w.join();
}

void ship_order(streambus::tracing::tracer& tracer, int order_id, std::map<std::string, std::string>& headers) {
  // A PRODUCER span "send orders" with the messaging attributes; its context
  // is written into the message's headers and travels with the message.
  const std::string key = "order-" + std::to_string(order_id);
  auto span = light::trace_produce_message(tracer, "orders", 0, key, "{\"items\": 2}", headers);
  span.set_attribute("order.id", order_id).set_attribute("order.carrier", "dhl").set_attribute("order.weight_kg", 2.5);
  // The label printer is flaky: up to 3 attempts, 1 ms then 2 ms apart, each
  // its own span under "orders.label" (this one succeeds on the second).
  light::retry_backoff_ms backoff;
  backoff.initial_ms = 1;
  const bool printed = light::trace_with_retry(tracer, "orders.label", 3, [](int attempt) { return attempt == 2; }, backoff);
  span.add_event("label.printed", {{"pages", 2}, {"printed", printed}});
}

std::string receive_order(streambus::tracing::tracer& tracer, const std::map<std::string, std::string>& headers) {
  // A CONSUMER span "process orders", the child of the producer's span.
  auto span = light::trace_consume_message(tracer, "orders", 0, /*offset=*/17, headers);
  try {
    // A span around the check; its exception is recorded there and rethrown.
    light::instrumented_operation(tracer, "orders.check", [&] {
      if (headers.count("order.fragile") != 0) throw std::runtime_error("fragile orders need a second check");
    });
    span.set_status(status_code::ok);
  } catch (const std::exception& e) {
    span.record_error(e);
  }
  return span.ids().trace_id;  // lowercase hex, e.g. for a log line
}
