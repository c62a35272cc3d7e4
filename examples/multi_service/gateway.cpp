// The demo's gateway: takes orders over HTTP and publishes them to the broker.
//
//   POST /orders  {"id": "A-1001", "item": "espresso beans", "quantity": 2}
//     -> 202 {"order": "A-1001", "offset": N}   published to topic "orders"
//     -> 422 {"error": ...}                      invalid order (not published)
//     -> 502 {"error": ...}                      the broker did not take it
//
// Spans: the SERVER span of the request (http::traced, continuing the
// caller's trace), "validate order" (an exception marks it ERROR), and the
// PRODUCER span "send orders", whose context travels to the broker in the
// publish request's headers, and with the message to the consumer.
//
//   example_multi_service_gateway --broker http://127.0.0.1:N [--port N]
#include "../common/mini_json.hpp"
#include "service_common.hpp"

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {

namespace tracing = streambus::tracing;
namespace sth = streambus::tracing::http;
using example_json::value;

struct order {
  std::string id;
  std::string item;
  long long quantity = 0;
};

// Throws std::invalid_argument saying what is wrong.
order parse_order(const std::string& body) {
  value doc;
  if (!example_json::parse(body, doc) || !doc.is_object()) throw std::invalid_argument("the body is not a JSON object");
  order o;
  o.id = std::string(doc["id"].str());
  o.item = std::string(doc["item"].str());
  if (o.id.empty()) throw std::invalid_argument("the order has no id");
  if (doc["quantity"].kind != value::number) throw std::invalid_argument("the order has no quantity");
  o.quantity = std::strtoll(doc["quantity"].text.c_str(), nullptr, 10);
  if (o.quantity <= 0) throw std::invalid_argument("quantity must be positive, got " + doc["quantity"].text);
  return o;
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  value body = value::make_object();
  body.set("error", value::make_string(message));
  res.status = status;
  res.set_content(example_json::to_string(body), "application/json");
}

void handle_order(tracing::tracer& tracer, const std::string& broker, const httplib::Request& req,
                  httplib::Response& res) {
  order o;
  try {
    // The exception is recorded on "validate order" (event + ERROR) and rethrown.
    tracer.instrumented_operation("validate order", [&](tracing::span& s) {
      o = parse_order(req.body);
      s.set_attribute("order.id", o.id);
      s.set_attribute("order.quantity", static_cast<std::int64_t>(o.quantity));
    });
  } catch (const std::invalid_argument& e) {
    reply_error(res, 422, e.what());  // the client's fault: the SERVER span stays unset
    return;
  }

  // The PRODUCER span's context goes into the publish request's headers.
  httplib::Headers headers{{"Message-Key", o.id}};
  auto send = tracer.trace_produce_message(demo::orders_topic, 0, o.id, req.body, headers);
  httplib::Client client(broker);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  client.set_write_timeout(5, 0);
  const auto result = client.Post(std::string("/topics/") + demo::orders_topic, headers, req.body, "application/json");
  if (!result || result->status != 201) {
    const std::string why = !result ? "broker unreachable: " + httplib::to_string(result.error())
                                    : "broker answered " + std::to_string(result->status);
    send.record_error(why);
    reply_error(res, 502, why);
    return;
  }
  value ack;
  long long offset = -1;
  if (example_json::parse(result->body, ack) && ack["offset"].kind == value::number)
    offset = std::strtoll(ack["offset"].text.c_str(), nullptr, 10);
  send.set_attribute("messaging.streambus.message.offset", static_cast<std::int64_t>(offset));
  send.end();

  value body = value::make_object();
  body.set("order", value::make_string(o.id));
  body.set("offset", value::make_number(offset));
  res.status = 202;
  res.set_content(example_json::to_string(body), "application/json");
}

}  // namespace

int main(int argc, char** argv) {
  const sigset_t stop_signals = demo::block_stop_signals();
  if (!demo::follow_launcher()) return 1;
  demo::options opt;
  if (!demo::parse_options(argc, argv, opt, true)) {
    std::fprintf(stderr, "usage: %s --broker http://HOST:PORT [--port N]\n", argv[0]);
    return 2;
  }

  tracing::tracer tracer;
  try {
    tracer = demo::make_tracer("gateway");
  } catch (const tracing::config_error& e) {
    std::fprintf(stderr, "gateway: bad tracing configuration: %s\n", e.what());
    return 2;
  }

  httplib::Server server;
  server.Post("/orders", sth::traced(tracer, "/orders", [&](const httplib::Request& req, httplib::Response& res) {
                handle_order(tracer, opt.broker, req, res);
              }));

  demo::server_thread running(server);
  const int port = running.start(opt.port);
  if (port <= 0) {
    std::fprintf(stderr, "gateway: cannot listen on 127.0.0.1:%d\n", opt.port);
    return 1;
  }
  demo::report_ready("gateway", port);

  const int sig = demo::wait_for_stop(stop_signals);
  running.stop();
  tracer.shutdown();
  demo::report_stopped("gateway", tracer, sig);
  return 0;
}
