// Prometheus text metrics of one service: requests by route, method and status, a latency histogram by
// route, and gauges (stream lag, outbox backlog) set by the background loops.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace crowd {

class Metrics {
 public:
  void observe(const std::string& route, const std::string& method, int status, double seconds);
  void set_gauge(const std::string& name, const std::string& help, double value);
  void count(const std::string& name, const std::string& help, std::int64_t delta = 1);
  std::string render(const std::string& service) const;

 private:
  static constexpr std::array<double, 11> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, std::pair<std::string, double>> gauges_;
  std::map<std::string, std::pair<std::string, std::int64_t>> counters_;
};

}  // namespace crowd
