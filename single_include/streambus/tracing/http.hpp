// streambus tracing: copied by tools/amalgamate.py from include/streambus/tracing/http.hpp
// -- do not edit; edit the original and rerun the script.
// cpp-httplib instrumentation (opt-in: include this header and link
// cpp-httplib; it is not part of <streambus/tracing.hpp>).
//
// Server, one handler at a time (a SERVER span "GET /users/{id}"):
//
//   namespace sth = streambus::tracing::http;
//   server.Get(R"(/users/(\d+))", sth::traced(tracer, "/users/{id}", handler));
//
// Server, every request (pre-/post-routing hooks; span "GET" unless a
// traced() handler names the route):
//
//   sth::instrument(tracer, server);
//
// Client (a CLIENT span "GET", traceparent/tracestate injected):
//
//   httplib::Client client("http://127.0.0.1:8080");
//   auto result = sth::get(tracer, client, "/users/7");
//
// Attributes follow the stable HTTP semantic conventions: http.request.method
// (_OTHER plus http.request.method_original for unknown methods), url.path,
// url.query, url.scheme, http.route (traced() only), server.address and
// server.port (from the Host header), client.address, network.peer.address,
// network.peer.port, user_agent.original, network.protocol.version,
// http.response.status_code; on errors error.type (the status code as a
// string, the exception type, or httplib's error name on the client).
// Status: ERROR for 5xx on server spans (4xx is the client's fault, not the
// server's) and for 4xx and 5xx on client spans; otherwise left unset.
//
// Span names never contain the URL path: it has unbounded cardinality, and
// the conventions forbid using it as the name's target. Without a route the
// name is the bare method.
//
// With STREAMBUS_TRACING_DISABLED, traced() returns the handler itself,
// instrument() installs only the handlers you pass it, and the client
// helpers just send the request.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../tracing.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace http {

namespace detail {

// The methods reported as they are: the tracer's http_known_methods
// (OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS; the conventions say the list MUST
// be replaceable), by default RFC 9110's and PATCH. Null for a tracer without
// settings (disabled): its spans record nothing, so every method passes.
using known_methods = const std::vector<std::string>*;

inline known_methods known_methods_of(const tracer& t) noexcept {
  const resolved_config* settings = t.settings();
  return settings != nullptr ? &settings->http_known_methods : nullptr;
}

inline bool is_known_method(std::string_view m, known_methods known) noexcept {
  if (known == nullptr) return true;
  for (const std::string& k : *known)
    if (m == k) return true;
  return false;
}

// "{method}" or "{method} {target}"; an unknown method is named "HTTP".
inline tracing::detail::joined_name span_name(std::string_view method, std::string_view route, known_methods known) {
  return tracing::detail::joined_name(is_known_method(method, known) ? method : std::string_view("HTTP"), route);
}

// "HTTP/1.1" -> "1.1"; empty when it is not an HTTP version.
inline std::string_view protocol_version(std::string_view version) noexcept {
  constexpr std::string_view prefix = "HTTP/";
  return version.substr(0, prefix.size()) == prefix ? version.substr(prefix.size()) : std::string_view();
}

// Splits "host", "host:port", "[v6]" or "[v6]:port". port stays 0 when absent or invalid.
inline void split_host_port(std::string_view authority, std::string_view& host, int& port) noexcept {
  host = authority;
  port = 0;
  std::string_view rest;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return;
    host = authority.substr(1, close - 1);
    rest = authority.substr(close + 1);
  } else {
    const std::size_t colon = authority.find(':');
    if (colon == std::string_view::npos || authority.find(':', colon + 1) != std::string_view::npos) return;
    host = authority.substr(0, colon);
    rest = authority.substr(colon);
  }
  if (rest.size() < 2 || rest.front() != ':' || rest.size() > 6) return;
  int value = 0;
  for (char c : rest.substr(1)) {
    if (c < '0' || c > '9') return;
    value = value * 10 + (c - '0');
  }
  if (value > 0 && value <= 65535) port = value;
}

// The semantic conventions: query string values for these keys "SHOULD be
// redacted by default and replaced by the value REDACTED" in url.query and
// url.full (signed URLs carry credentials there).
inline bool is_sensitive_query_key(std::string_view key) noexcept {
  return key == "AWSAccessKeyId" || key == "Signature" || key == "sig" || key == "X-Goog-Signature";
}

// Calls fn(parameter, key) for each '&'-separated parameter of a query.
template <class F>
void for_each_query_parameter(std::string_view query, F&& fn) {
  while (true) {
    const std::size_t amp = query.find('&');
    const std::string_view parameter = query.substr(0, amp);
    fn(parameter, parameter.substr(0, parameter.find('=')));
    if (amp == std::string_view::npos) return;
    query.remove_prefix(amp + 1);
  }
}

inline bool has_sensitive_query_value(std::string_view query) {
  bool found = false;
  for_each_query_parameter(query, [&](std::string_view parameter, std::string_view key) {
    found = found || (key.size() < parameter.size() && is_sensitive_query_key(key));
  });
  return found;
}

// The query (without '?') with the sensitive values replaced.
inline std::string redacted_query(std::string_view query) {
  std::string out;
  out.reserve(query.size());
  for_each_query_parameter(query, [&](std::string_view parameter, std::string_view key) {
    if (parameter.data() != query.data()) out += '&';  // not the first
    if (key.size() < parameter.size() && is_sensitive_query_key(key)) {
      out.append(key.data(), key.size());
      out += "=REDACTED";
    } else {
      out.append(parameter.data(), parameter.size());
    }
  });
  return out;
}

// A path with its query redacted ("/p?sig=x#f" -> "/p?sig=REDACTED#f").
inline std::string path_with_redacted_query(std::string_view path) {
  const std::size_t q = path.find('?');
  if (q == std::string_view::npos) return std::string(path);
  const std::size_t hash = path.find('#', q);
  const std::string_view query = path.substr(q + 1, hash == std::string_view::npos ? hash : hash - q - 1);
  std::string out(path.substr(0, q + 1));
  out += redacted_query(query);
  if (hash != std::string_view::npos) out.append(path.substr(hash));
  return out;
}

// Schemes are case-insensitive (RFC 3986): "HTTPS" is https.
inline int default_port(std::string_view scheme) noexcept {
  return tracing::detail::config_parse::iequals(scheme, "https") ? 443 : 80;
}

inline std::string_view request_scheme(const httplib::Request& req) noexcept {
#if defined(CPPHTTPLIB_OPENSSL_SUPPORT)
  if (req.ssl != nullptr) return "https";
#else
  (void)req;
#endif
  return "http";
}

inline void set_method(span& s, std::string_view method, known_methods known) {
  if (is_known_method(method, known)) {
    s.set_attribute("http.request.method", method);
  } else {
    s.set_attribute("http.request.method", "_OTHER");
    s.set_attribute("http.request.method_original", method);
  }
}

// A request target's parts as sent: origin-form ("/a%20b?q") or absolute-form
// ("http://host:8080/a?q", which proxies receive). url.path is a URI
// component, percent-encoded as on the wire (httplib's req.path is decoded).
struct request_target {
  std::string_view scheme;     // absolute-form only: "http"
  std::string_view authority;  // absolute-form only: "host:8080"
  std::string_view path;       // empty when the target has none (e.g. "*")
};

// RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
inline bool is_uri_scheme(std::string_view s) noexcept {
  bool ok = !s.empty() && ((s.front() >= 'a' && s.front() <= 'z') || (s.front() >= 'A' && s.front() <= 'Z'));
  for (char c : s)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
                c == '.');
  return ok;
}

inline request_target split_request_target(std::string_view target) noexcept {
  request_target t;
  target = target.substr(0, target.find_first_of("?#"));
  const std::size_t scheme_end = target.find("://");
  if (scheme_end != std::string_view::npos && is_uri_scheme(target.substr(0, scheme_end))) {
    t.scheme = target.substr(0, scheme_end);
    const std::string_view rest = target.substr(scheme_end + 3);
    const std::size_t slash = rest.find('/');
    t.authority = rest.substr(0, slash);
    const std::size_t at = t.authority.rfind('@');  // never report credentials
    if (at != std::string_view::npos) t.authority.remove_prefix(at + 1);
    t.path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  } else if (!target.empty() && target.front() == '/') {
    t.path = target;
  }
  return t;
}

// What is known when a request arrives.
inline void set_request_attributes(span& s, const httplib::Request& req, std::string_view route,
                                   known_methods known) {
  set_method(s, req.method, known);
  const std::string_view scheme = request_scheme(req);
  s.set_attribute("url.scheme", scheme);
  const request_target target = split_request_target(req.target);
  if (!target.path.empty())
    s.set_attribute("url.path", target.path);
  else if (!req.path.empty())
    s.set_attribute("url.path", req.path);
  const std::size_t q = req.target.find('?');
  if (q != std::string::npos && q + 1 < req.target.size()) {
    const std::string_view query = std::string_view(req.target).substr(q + 1);
    if (has_sensitive_query_value(query))
      s.set_attribute("url.query", redacted_query(query));
    else
      s.set_attribute("url.query", query);
  }
  if (!route.empty()) s.set_attribute("http.route", route);

  // server.*: an absolute-form target's host (RFC 9112: it wins over Host);
  // else the Host header as the client wrote it; else the local socket.
  const auto host_header = req.headers.find("Host");
  if (!target.authority.empty() || (host_header != req.headers.end() && !host_header->second.empty())) {
    std::string_view host;
    int port = 0;
    split_host_port(!target.authority.empty() ? target.authority : std::string_view(host_header->second), host, port);
    s.set_attribute("server.address", host);
    s.set_attribute("server.port", port != 0 ? port : default_port(target.authority.empty() ? scheme : target.scheme));
  } else if (!req.local_addr.empty()) {
    s.set_attribute("server.address", req.local_addr);
    if (req.local_port > 0) s.set_attribute("server.port", req.local_port);
  }
  if (!req.remote_addr.empty()) {
    s.set_attribute("client.address", req.remote_addr);
    s.set_attribute("network.peer.address", req.remote_addr);
    if (req.remote_port > 0) s.set_attribute("network.peer.port", req.remote_port);
  }
  const auto agent = req.headers.find("User-Agent");
  if (agent != req.headers.end()) s.set_attribute("user_agent.original", agent->second);
  const std::string_view version = protocol_version(req.version);
  if (!version.empty()) s.set_attribute("network.protocol.version", version);
}

// A server span's outcome. After a recorded exception, error.type and the
// status (with the exception's message) are already set and stay.
inline void set_server_status(span& s, int status, bool exception_recorded) {
  if (status <= 0) return;
  s.set_attribute("http.response.status_code", status);
  if (status >= 500 && !exception_recorded) {
    s.set_attribute("error.type", std::to_string(status));
    s.set_status(status_code::error);  // the code says it all: no description
  }
}

inline span start_server_span(tracer& t, const httplib::Request& req, std::string_view route) {
  // Without a valid remote context, a new trace: a server thread's current
  // span is never the caller.
  const known_methods known = known_methods_of(t);
  span s = t.start(span_name(req.method, route, known).view(), t.extract(req.headers), span_kind::server);
  if (s.is_recording()) set_request_attributes(s, req, route, known);
  return s;
}

// The status httplib will send for a handler that returned without setting one.
inline int implied_status(const httplib::Request& req, const httplib::Response& res) noexcept {
  if (res.status != -1) return res.status;
  return req.ranges.empty() ? 200 : 206;
}

// Spans that instrument() opened in pre-routing and closes in post-routing.
// httplib runs both hooks and the handler for one request on one thread, one
// request at a time, with the same Request object, so a short per-thread
// list keyed by its address is enough: no locks, nothing shared.
struct active_request {
  const httplib::Request* request = nullptr;
  span server_span;
  bool exception_recorded = false;
};

STREAMBUS_TRACING_PROCESS_WIDE inline std::vector<active_request>& active_requests() {
  thread_local std::vector<active_request> list;
  return list;
}

inline active_request* find_active(const httplib::Request& req) noexcept {
  for (auto& a : active_requests())
    if (a.request == &req) return &a;
  return nullptr;
}

}  // namespace detail

/// Wraps one handler in a SERVER span named "{METHOD} {route}". `route` is
/// the low-cardinality template you want to see (e.g. "/users/{id}"), not
/// necessarily httplib's regex; it becomes http.route. The incoming
/// traceparent/tracestate become the parent (otherwise a new trace starts),
/// and the span is current while the handler runs, so tracer.start() inside
/// nests under it.
///
/// After the handler: http.response.status_code (200, or 206 for a range
/// request, when the handler left it unset), and for 5xx status ERROR and
/// error.type. A handler exception is recorded (exception event, error.type
/// = its type, status ERROR, http.response.status_code = 500, which is what
/// httplib answers unless you installed an exception handler) and rethrown
/// for httplib to handle.
///
/// Under instrument() the server's span for the request already exists:
/// traced() then names it after the route and adds http.route instead of
/// opening a second span.
///
/// The tracer must outlive the server.
inline httplib::Server::Handler traced(tracer& t, std::string route, httplib::Server::Handler handler) {
#if defined(STREAMBUS_TRACING_DISABLED)
  (void)t;
  (void)route;
  return handler;
#else
  tracer* tp = &t;
  return [tp, route = std::move(route), handler = std::move(handler)](const httplib::Request& req,
                                                                      httplib::Response& res) {
    if (detail::active_request* whole = detail::find_active(req)) {
      span& s = whole->server_span;
      if (s.is_recording()) {
        s.set_name(detail::span_name(req.method, route, detail::known_methods_of(*tp)).view());
        s.set_attribute("http.route", route);
      }
      try {
        handler(req, res);
      } catch (...) {
        streambus::tracing::detail::rethrow_if_foreign();  // pthread_cancel's forced unwind: not ours to describe
        streambus::tracing::detail::op_record_current_exception(s);  // as instrumented operations do
        whole->exception_recorded = true;
        throw;
      }
      return;
    }
    span s = detail::start_server_span(*tp, req, route);
    try {
      handler(req, res);
    } catch (...) {
      streambus::tracing::detail::rethrow_if_foreign();
      streambus::tracing::detail::op_record_current_exception(s);
      if (s.is_recording()) detail::set_server_status(s, 500, true);
      throw;
    }
    if (s.is_recording()) detail::set_server_status(s, detail::implied_status(req, res), false);
  };
#endif
}

/// Traces every request of `server` with httplib's pre-routing and
/// post-routing hooks: the SERVER span starts before routing (named by the
/// method alone, or after the route when the matched handler is wrapped in
/// traced()), is current while the handler runs, and ends in post-routing,
/// once the final status is known (404 for unmatched paths, 500 after an
/// exception, whatever an error handler chose).
///
/// Limits, from what cpp-httplib 0.11 offers:
/// - The hooks are single slots: this replaces any pre-/post-routing handler
///   set before, and calling set_pre_routing_handler/set_post_routing_handler
///   afterwards removes the tracing. Pass your own as `pre_routing` and
///   `post_routing`: yours run inside the span (pre after it starts, post
///   before it ends).
/// - The span ends before the response is written, so write time and
///   network errors while writing are not in it.
/// - Requests rejected before routing (malformed request line, URI too long,
///   bad Range, refused Expect: 100-continue) only reach post-routing: they
///   get a span of (almost) zero duration.
/// - An exception caught by httplib itself (no traced() wrapper to see it)
///   shows as the 500 status; its message is recorded when httplib passes it
///   on in the EXCEPTION_WHAT header (its behaviour without an exception
///   handler).
///
/// The tracer must outlive the server.
inline void instrument(tracer& t, httplib::Server& server,
                       httplib::Server::HandlerWithResponse pre_routing = nullptr,
                       httplib::Server::Handler post_routing = nullptr) {
#if defined(STREAMBUS_TRACING_DISABLED)
  (void)t;
  if (pre_routing) server.set_pre_routing_handler(std::move(pre_routing));
  if (post_routing) server.set_post_routing_handler(std::move(post_routing));
#else
  tracer* tp = &t;
  server.set_pre_routing_handler([tp, pre = std::move(pre_routing)](const httplib::Request& req,
                                                                     httplib::Response& res) {
    auto& active = detail::active_requests();
    // One request at a time per thread: anything left is from a request
    // whose post-routing never ran. End those spans rather than leak them.
    active.clear();
    active.push_back(detail::active_request{&req, detail::start_server_span(*tp, req, {}), false});
    return pre ? pre(req, res) : httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_post_routing_handler([tp, post = std::move(post_routing)](const httplib::Request& req,
                                                                       httplib::Response& res) {
    auto finish = [&] {
      auto& active = detail::active_requests();
      detail::active_request entry;
      for (auto it = active.begin(); it != active.end(); ++it) {
        if (it->request == &req) {
          entry = std::move(*it);
          active.erase(it);
          break;
        }
      }
      if (entry.request == nullptr) {
        // Rejected before routing: pre-routing never ran.
        entry.server_span = detail::start_server_span(*tp, req, {});
      }
      span& s = entry.server_span;
      if (!s.is_recording()) return;
      if (!entry.exception_recorded && res.status >= 500) {
        const auto what = res.headers.find("EXCEPTION_WHAT");
        if (what != res.headers.end()) {
          // The exception's type is gone by now: error.type stays the status code.
          s.record_error(what->second);
          s.set_attribute("error.type", std::to_string(res.status));
          entry.exception_recorded = true;
        }
      }
      detail::set_server_status(s, res.status, entry.exception_recorded);
    };
    if (post) {
      try {
        post(req, res);
      } catch (...) {
        finish();
        throw;
      }
    }
    finish();
  });
#endif
}

// --- client --------------------------------------------------------------------

/// Where an outgoing request goes: what url.full, server.address and
/// server.port say. httplib::Client does not expose its host, so either say
/// it here or let client_span read it back from the Host header httplib sent.
struct endpoint {
  std::string scheme = "http";
  std::string host;
  int port = 0;  // 0: the scheme's default

  /// Parses what httplib::Client's constructor takes: "[scheme://]host[:port]"
  /// (http or https, in any case). Credentials ("user:password@") and a path, query or fragment are left
  /// out: telemetry must not carry credentials (the URL conventions), and the
  /// path is the request's. Throws std::invalid_argument for an empty host
  /// or a port that is not a number from 1 to 65535.
  static endpoint parse(std::string_view scheme_host_port) {
    endpoint e;
    std::string_view rest = scheme_host_port;
    const std::size_t sep = rest.find("://");
    if (sep != std::string_view::npos) {
      e.scheme = std::string(rest.substr(0, sep));
      for (char& c : e.scheme)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');  // URL schemes are case-insensitive
      if (e.scheme != "http" && e.scheme != "https")
        throw std::invalid_argument("http::endpoint: scheme \"" + std::string(rest.substr(0, sep)) + "\" in \"" +
                                    std::string(scheme_host_port) + "\" is neither http nor https");
      rest.remove_prefix(sep + 3);
    }
    rest = rest.substr(0, rest.find_first_of("/?#"));  // the authority
    const std::size_t at = rest.rfind('@');
    if (at != std::string_view::npos) rest.remove_prefix(at + 1);  // userinfo
    std::string_view host;
    detail::split_host_port(rest, host, e.port);
    const bool bracketed = !rest.empty() && rest.front() == '[';  // an IPv6 address
    const bool port_given = host.size() + (bracketed ? 2 : 0) < rest.size();
    const bool bad_host = host.empty() || host.find_first_of("[]") != std::string_view::npos ||
                          (!bracketed && host.find(':') != std::string_view::npos);
    if (bad_host || (port_given && e.port == 0))
      throw std::invalid_argument("http::endpoint: cannot read \"" + std::string(scheme_host_port) +
                                  "\" as [scheme://]host[:port] with a port from 1 to 65535");
    e.host = std::string(host);
    return e;
  }
};

/// The CLIENT span of one outgoing request. The constructor starts it (a
/// child of the current span, named by the method; not made current, so it
/// may end on any thread) and injects traceparent/tracestate into `headers`,
/// which must then be sent with the request; finish() records the outcome
/// and ends it. A client_span destroyed without finish() ends with no status.
/// Without `to`, the host and port come from the Host header httplib sent and
/// the scheme is taken to be http: for an HTTPS client pass
/// `endpoint::parse("https://...")` (http::get and http::post ask the client).
class client_span {
 public:
  client_span(tracer& t, std::string_view method, std::string_view path, httplib::Headers& headers,
              endpoint to = {})
      : to_(std::move(to)) {
    span_options options;
    options.kind = span_kind::client;
    options.make_current = false;
    // The current span, named explicitly: the same parent as leaving it unset,
    // and g++ 12 -O2 then sees the optional's payload initialised (it warned
    // -Wmaybe-uninitialized about the unset optional's destructor).
    options.parent = t.current_context();
    const detail::known_methods known = detail::known_methods_of(t);
    span_ = t.start(detail::span_name(method, {}, known).view(), options);
    t.inject(span_.context(), headers);
    if (span_.is_recording()) {
      detail::set_method(span_, method, known);
      path_.assign(path.data(), path.size());
      if (!to_.host.empty()) set_endpoint();
    }
  }

  client_span(const client_span&) = delete;
  client_span& operator=(const client_span&) = delete;
  client_span(client_span&&) noexcept = default;
  client_span& operator=(client_span&&) noexcept = default;
  ~client_span() = default;

  /// Records the response (http.response.status_code; 4xx and 5xx -> ERROR
  /// with error.type = the code) or the failure (ERROR, described by
  /// httplib::to_string(error), which is also error.type), then ends the span.
  void finish(const httplib::Result& result) noexcept {
    if (span_.is_recording()) {
      try {
        if (to_.host.empty()) {
          // httplib always sends Host; read back where the request went.
          const std::string host = result.get_request_header_value("Host");
          if (!host.empty()) {
            std::string_view h;
            detail::split_host_port(host, h, to_.port);
            to_.host = std::string(h);
            set_endpoint();
          }
        }
        if (result) {
          const int status = result->status;
          span_.set_attribute("http.response.status_code", status);
          const std::string_view version = detail::protocol_version(result->version);
          if (!version.empty()) span_.set_attribute("network.protocol.version", version);
          if (status >= 400) {
            span_.set_attribute("error.type", std::to_string(status));
            span_.set_status(status_code::error);
          }
        } else {
          const std::string error = httplib::to_string(result.error());
          span_.set_attribute("error.type", error);
          span_.set_status(status_code::error, error);
        }
      } catch (...) {  // out of memory: the span still ends
      }
    }
    span_.end();
  }

  /// The span itself, e.g. for more attributes (http.request.resend_count).
  span& get_span() noexcept { return span_; }
  span_context context() const { return span_.context(); }

 private:
  void set_endpoint() {
    const int port = to_.port != 0 ? to_.port : detail::default_port(to_.scheme);
    span_.set_attribute("server.address", to_.host);
    span_.set_attribute("server.port", port);
    std::string url = to_.scheme;
    url += "://";
    const bool v6 = to_.host.find(':') != std::string::npos;
    if (v6) url += '[';
    url += to_.host;
    if (v6) url += ']';
    if (port != detail::default_port(to_.scheme)) {
      url += ':';
      url += std::to_string(port);
    }
    url += detail::path_with_redacted_query(path_);
    span_.set_attribute("url.full", url);
  }

  span span_;
  endpoint to_;
  std::string path_;
};

namespace detail {
// An endpoint left out: the host comes back from the Host header (client_span),
// the scheme from the client, which the Host header does not tell.
inline endpoint endpoint_of(const httplib::Client& client, endpoint to) {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  // cpp-httplib 0.11's Client has no is_ssl(); only an HTTPS one has a context.
  if (to.host.empty() && client.ssl_context() != nullptr) to.scheme = "https";
#else
  static_cast<void>(client);  // built without TLS: every client is plain HTTP
#endif
  return to;
}
}  // namespace detail

/// GET `path` through `client` in a CLIENT span, with the trace context in
/// the request headers.
inline httplib::Result get(tracer& t, httplib::Client& client, const std::string& path,
                           httplib::Headers headers = {}, endpoint to = {}) {
  client_span cs(t, "GET", path, headers, detail::endpoint_of(client, std::move(to)));
  httplib::Result result = client.Get(path, headers);
  cs.finish(result);
  return result;
}

/// POST `body` as `content_type` to `path` through `client` in a CLIENT span.
inline httplib::Result post(tracer& t, httplib::Client& client, const std::string& path, const std::string& body,
                            const std::string& content_type, httplib::Headers headers = {}, endpoint to = {}) {
  client_span cs(t, "POST", path, headers, detail::endpoint_of(client, std::move(to)));
  httplib::Result result = client.Post(path, headers, body, content_type);
  cs.finish(result);
  return result;
}

}  // namespace http
STREAMBUS_TRACING_END_NAMESPACE
