// Console exporter: prints each trace as a readable tree once its local root
// span ends — service, span name, kind, duration, attributes, events, status.
//
//   trace 4bf92f3577b34da6a3ce929d0e0e4736 (service streambus-broker)
//   └─ handle-request [server] 2.310 ms  OK
//      │ http.request.method=GET
//      └─ db.query [client] 1.020 ms
#pragma once

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "exporter.hpp"
#include "span_data.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

// Appends text from spans to what goes to a terminal, control characters
// escaped: C0 and DEL as \n, \t, \xHH; C1 (U+0080..U+009F in UTF-8) as
// \u00HH. Raw, an escape sequence in a span name could retitle or clear the
// terminal, and a newline in a value could forge a line of the tree.
template <int = 0>
void append_printable(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool c1 = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    if (c >= 0x20 && c != 0x7F && !c1) {
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c1) {
      const auto u = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 0x0F];
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0x0F];
    }
  }
}

// Writes a value the way a person reads it: strings quoted, arrays bracketed.
struct value_printer {
  std::string& out;
  void operator()(bool b) const { out += b ? "true" : "false"; }
  void operator()(std::int64_t i) const { out += std::to_string(i); }
  void operator()(double d) const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    out += buf;
  }
  void operator()(const std::string& s) const {
    out += '"';
    append_printable(out, s);
    out += '"';
  }
  template <class T>
  void operator()(const std::vector<T>& items) const {
    out += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out += ", ";
      (*this)(static_cast<T>(items[i]));
    }
    out += ']';
  }
};

// Templates (never given other arguments) so that a translation unit that
// does not print compiles none of this: see console_exporter below.
template <int = 0>
void append_value(std::string& out, const attribute_value& v) { std::visit(value_printer{out}, v.storage()); }

template <int = 0>
std::string format_attributes(const attribute_list& attrs) {
  std::string out;
  for (const auto& a : attrs) {
    if (!out.empty()) out += ' ';
    append_printable(out, a.key);
    out += '=';
    append_value(out, a.value);
  }
  return out;
}

/// Renders spans (any order, one or more traces) as trees, roots first by start time.
template <int = 0>
std::string render_trace_tree(const resource& res, const std::vector<const span_data*>& spans) {
  std::string out;
  std::string service = "unknown_service";
  if (const auto* v = res.attributes.find("service.name"))
    if (const auto* s = v->get_if<std::string>()) service = *s;

  std::map<span_id, std::vector<const span_data*>> children;
  std::vector<const span_data*> roots;
  std::map<span_id, const span_data*> by_id;
  for (const auto* s : spans) by_id[s->context.span_id()] = s;
  for (const auto* s : spans) {
    const bool parent_here = s->parent_span_id.valid() && by_id.count(s->parent_span_id) != 0;
    (parent_here ? children[s->parent_span_id] : roots).push_back(s);
  }
  const auto by_start = [](const span_data* a, const span_data* b) {
    return a->start_time_unix_nano < b->start_time_unix_nano;
  };
  std::sort(roots.begin(), roots.end(), by_start);
  for (auto& kv : children) std::sort(kv.second.begin(), kv.second.end(), by_start);

  // Depth first with a stack of its own, not recursion: thousands of nested
  // spans overflowed a small thread stack. Indentation stops growing after
  // max_indent levels (lines deeper than that say their depth), so a deep
  // trace prints in time and space linear in its spans.
  constexpr std::size_t max_indent = 32;
  struct pending_line {
    const span_data* span;
    std::string prefix;
    bool last;
    std::size_t depth;
  };
  std::vector<pending_line> todo;
  // Each span is queued once: spans that share an id (a broken id generator,
  // a hand-made span_data) would otherwise be each other's children forever.
  std::set<const span_data*> queued;
  const auto print_one = [&](const pending_line& line) {
    const span_data& s = *line.span;
    char head[160];
    const double ms = static_cast<double>(s.duration_ns()) / 1e6;
    std::snprintf(head, sizeof head, " [%.*s] %.3f ms", static_cast<int>(to_string(s.kind).size()),
                  to_string(s.kind).data(), ms);
    out += line.prefix;
    out += line.last ? "└─ " : "├─ ";
    append_printable(out, s.name);
    out += head;
    if (s.status == status_code::ok) out += "  OK";
    if (s.status == status_code::error) {
      out += "  ERROR";
      if (!s.status_message.empty()) {
        out += ": ";
        append_printable(out, s.status_message);
      }
    }
    out += "  span=" + s.context.span_id().to_hex();
    if (s.parent_is_remote) out += " remote-parent=" + s.parent_span_id.to_hex();
    if (line.depth > max_indent) out += " depth=" + std::to_string(line.depth);
    out += '\n';
    const std::string inner = line.depth < max_indent ? line.prefix + (line.last ? "   " : "│  ") : line.prefix;
    const auto it = children.find(s.context.span_id());
    const bool has_children = it != children.end() && !it->second.empty();
    const std::string bar = inner + (has_children ? "│ " : "  ");
    if (!s.attributes.empty()) out += bar + format_attributes(s.attributes) + '\n';
    for (const auto& e : s.events) {
      out += bar + "event ";
      append_printable(out, e.name);
      if (!e.attributes.empty()) out += " " + format_attributes(e.attributes);
      out += '\n';
    }
    if (has_children)  // pushed last child first: printed in start order
      for (std::size_t i = it->second.size(); i-- > 0;)
        if (queued.insert(it->second[i]).second)
          todo.push_back(pending_line{it->second[i], inner, i + 1 == it->second.size(), line.depth + 1});
  };

  trace_id current;
  bool first = true;
  const auto print_tree = [&](const span_data& root) {
    if (first || root.context.trace_id() != current) {
      current = root.context.trace_id();
      out += "trace " + current.to_hex() + " (service ";
      append_printable(out, service);
      out += ")\n";
      first = false;
    }
    queued.insert(&root);
    todo.push_back(pending_line{&root, std::string(), true, 1});
    while (!todo.empty()) {
      const pending_line line = std::move(todo.back());
      todo.pop_back();
      print_one(line);
    }
  };
  for (const span_data* root : roots) print_tree(*root);
  // Spans whose parents form a cycle (no root above them): printed as roots.
  std::vector<const span_data*> left;
  for (const auto* s : spans)
    if (queued.count(s) == 0) left.push_back(s);
  std::sort(left.begin(), left.end(), by_start);
  for (const span_data* s : left)
    if (queued.count(s) == 0) print_tree(*s);
  return out;
}

}  // namespace detail

/// Prints traces as trees to a FILE* (stdout by default) when their local root ends.
/// A class template only so that its members are compiled where it is used
/// (console_exporter is basic_console_exporter<>).
template <class = void>
class basic_console_exporter final : public span_exporter {
 public:
  explicit basic_console_exporter(std::FILE* out = stdout) noexcept : out_(out) {}

  export_result export_spans(const span_batch& batch) noexcept override {
    try {
      std::lock_guard<std::mutex> lock(mutex_);
      resource_ = batch.resource();
      for (const span_data& s : batch) {
        auto& pending = pending_[s.context.trace_id()];
        pending.push_back(s);
        ++buffered_;
        // A local root (no parent, or a parent in another process) closes its
        // part of the trace as far as this process is concerned.
        if (!s.parent_span_id.valid() || s.parent_is_remote) print_local_root(s.context.trace_id(), s.context.span_id());
      }
      if (buffered_ > max_buffered) flush_all();
      return export_result::success;
    } catch (...) {
      return export_result::failure;
    }
  }

  bool force_flush(std::chrono::milliseconds) noexcept override {
    try {
      std::lock_guard<std::mutex> lock(mutex_);
      flush_all();
    } catch (...) {
      return false;
    }
    return true;
  }
  void shutdown(std::chrono::milliseconds timeout) noexcept override { force_flush(timeout); }
  std::string_view name() const noexcept override { return "console"; }
  bool synchronous() const noexcept override { return true; }

 private:
  static constexpr std::size_t max_buffered = 10000;

  void print_and_erase(const trace_id& id) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    std::vector<const span_data*> spans;
    for (const auto& s : it->second) spans.push_back(&s);
    print(spans);
    buffered_ -= it->second.size();
    pending_.erase(it);
  }

  // Prints a local root that just ended with the spans below it. The trace's
  // other spans stay buffered: they belong to another local root of the same
  // trace (two requests of one trace served at once), printed when it ends.
  void print_local_root(const trace_id& id, const span_id& root) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    std::vector<span_data>& buffered = it->second;
    // The root and everything below it, breadth first through a parent ->
    // children index (a fixpoint over the list took depth x spans steps).
    std::multimap<span_id, span_id> below;
    for (const span_data& s : buffered) below.emplace(s.parent_span_id, s.context.span_id());
    std::set<span_id> subtree{root};
    std::vector<span_id> frontier{root};
    while (!frontier.empty()) {
      const span_id parent = frontier.back();
      frontier.pop_back();
      const auto range = below.equal_range(parent);
      for (auto c = range.first; c != range.second; ++c)
        if (subtree.insert(c->second).second) frontier.push_back(c->second);
    }
    const auto others = std::stable_partition(buffered.begin(), buffered.end(), [&](const span_data& s) {
      return subtree.count(s.context.span_id()) != 0;
    });
    std::vector<const span_data*> spans;
    for (auto s = buffered.begin(); s != others; ++s) spans.push_back(&*s);
    print(spans);
    buffered_ -= spans.size();
    buffered.erase(buffered.begin(), others);
    if (buffered.empty()) pending_.erase(it);
  }

  void print(const std::vector<const span_data*>& spans) {
    const std::string text = detail::render_trace_tree(resource_, spans);
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fflush(out_);
  }

  void flush_all() {
    while (!pending_.empty()) print_and_erase(pending_.begin()->first);
  }

  std::mutex mutex_;
  std::FILE* out_;
  resource resource_;
  std::map<trace_id, std::vector<span_data>> pending_;
  std::size_t buffered_ = 0;
};
using console_exporter = basic_console_exporter<>;

STREAMBUS_TRACING_END_NAMESPACE
