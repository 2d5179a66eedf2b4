// Reading the next batch ahead while the current one is applied (read_ahead.hpp).
#include "common/events/read_ahead.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/events/batch.hpp"
#include "common/log.hpp"
#include "common/redis.hpp"

namespace crowd::events {

using namespace detail;

struct ReadAhead::Impl {
  redis::Endpoint endpoint;
  const Subscriptions& subs;
  ConsumerOptions opt;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_ptr<ReadBatch> ready;  // one batch read and parsed, not yet taken
  std::unique_ptr<ReadBatch> spent;  // the last batch applied: freed here, off the writer's path
  bool stopping = false;
  bool halted = false;  // a batch broke an invariant: nothing more is read or applied
  std::thread reader;

  Impl(redis::Endpoint e, const Subscriptions& s, ConsumerOptions o)
      : endpoint(std::move(e)), subs(s), opt(std::move(o)) {}

  void run() {
    std::unique_ptr<redis::Client> redis;
    bool groups_ready = false;
    while (true) {
      std::unique_ptr<ReadBatch> done;
      {
        // One batch ahead at most: wait until the last one was taken.
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !ready; });
        if (stopping) return;
        done = std::move(spent);
      }
      done.reset();
      try {
        if (!redis) redis = std::make_unique<redis::Client>(endpoint, std::chrono::milliseconds(opt.block_ms + 3000));
        if (!groups_ready) {
          ensure_groups(*redis, subs, opt);
          groups_ready = true;
        }
        std::unique_ptr<ReadBatch> b = read_batch(*redis, subs, opt);
        if (b->entries.empty()) {
          // XREADGROUP waited block_ms; without blocking (block_ms <= 0) pause rather than spin.
          if (opt.block_ms <= 0) {
            std::unique_lock lock(mu);
            cv.wait_for(lock, std::chrono::milliseconds(5), [&] { return stopping; });
          }
          continue;
        }
        std::lock_guard lock(mu);
        ready = std::move(b);
        cv.notify_all();
      } catch (const std::exception& e) {
        log::warn("event read-ahead failed", {{"error", first_line(e.what())}});
        redis.reset();
        groups_ready = false;
        std::unique_lock lock(mu);
        cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping; });
      }
    }
  }

  std::unique_ptr<ReadBatch> take(std::chrono::milliseconds wait) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, wait, [&] { return ready != nullptr; });
    std::unique_ptr<ReadBatch> b = std::move(ready);
    cv.notify_all();
    return b;
  }

  void stop() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    if (reader.joinable()) reader.join();
  }
};

ReadAhead::ReadAhead(const redis::Endpoint& endpoint, const Subscriptions& subs, const ConsumerOptions& opt)
    : impl_(std::make_unique<Impl>(endpoint, subs, opt)) {
  if (!subs.empty()) impl_->reader = std::thread([this] { impl_->run(); });
}

ReadAhead::~ReadAhead() {
  impl_->stop();
}

int ReadAhead::consume(db::Database& db, redis::Client& redis) {
  std::unique_ptr<ReadBatch> b = impl_->take(std::chrono::milliseconds(impl_->opt.block_ms));
  if (!b) return 0;
  struct GiveBack {  // also when apply_read throws
    Impl& im;
    std::unique_ptr<ReadBatch>& b;
    ~GiveBack() {
      std::lock_guard lock(im.mu);
      im.spent = std::move(b);
    }
  } give_back{*impl_, b};
  try {
    return apply_read(db, redis, impl_->opt, *b);
  } catch (const ConsumerHalted&) {
    impl_->halted = true;
    impl_->stop();  // stop reading: what was read ahead stays pending, unapplied
    throw;
  }
}

int ReadAhead::stop_and_drain(db::Database& db, redis::Client& redis) {
  impl_->stop();
  if (impl_->halted) return 0;
  std::unique_ptr<ReadBatch> b = impl_->take(std::chrono::milliseconds(0));
  return b ? apply_read(db, redis, impl_->opt, *b) : 0;
}

}  // namespace crowd::events
