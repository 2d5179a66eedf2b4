#include "common/metrics.hpp"

#include <sstream>

namespace crowd {
namespace {
std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

void Metrics::observe(const std::string& route, const std::string& method, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, method, status}];
  auto& h = latency_[route];
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

void Metrics::set_gauge(const std::string& name, const std::string& help, double value) {
  std::lock_guard lock(mu_);
  gauges_[name] = {help, value};
}

void Metrics::count(const std::string& name, const std::string& help, std::int64_t delta) {
  std::lock_guard lock(mu_);
  auto& c = counters_[name];
  c.first = help;
  c.second += delta;
}

std::string Metrics::render(const std::string& service) const {
  std::lock_guard lock(mu_);
  std::ostringstream o;
  o << "# HELP crowd_http_requests_total HTTP requests by route, method and status.\n"
    << "# TYPE crowd_http_requests_total counter\n";
  for (const auto& [k, v] : requests_)
    o << "crowd_http_requests_total{service=\"" << service << "\",route=\"" << escape(std::get<0>(k)) << "\",method=\""
      << std::get<1>(k) << "\",status=\"" << std::get<2>(k) << "\"} " << v << "\n";
  o << "# HELP crowd_http_request_duration_seconds HTTP request latency by route.\n"
    << "# TYPE crowd_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    std::string labels = "service=\"" + service + "\",route=\"" + escape(route) + "\"";
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
      o << "crowd_http_request_duration_seconds_bucket{" << labels << ",le=\"" << kBuckets[i] << "\"} " << h.buckets[i]
        << "\n";
    o << "crowd_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count << "\n";
    o << "crowd_http_request_duration_seconds_sum{" << labels << "} " << h.sum << "\n";
    o << "crowd_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
  }
  for (const auto& [name, g] : gauges_)
    o << "# HELP " << name << " " << g.first << "\n# TYPE " << name << " gauge\n"
      << name << "{service=\"" << service << "\"} " << g.second << "\n";
  for (const auto& [name, c] : counters_)
    o << "# HELP " << name << " " << c.first << "\n# TYPE " << name << " counter\n"
      << name << "{service=\"" << service << "\"} " << c.second << "\n";
  return o.str();
}

}  // namespace crowd
