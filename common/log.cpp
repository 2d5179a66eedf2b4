#include "common/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "common/clock.hpp"

namespace crowd::log {
namespace {
std::string g_service = "crowd";

void emit(spdlog::level::level_enum lvl, const char* name, std::string_view msg, const nlohmann::json& fields) {
  if (!spdlog::default_logger_raw()->should_log(lvl)) return;
  nlohmann::json line = fields.is_object() ? fields : nlohmann::json::object();
  line["ts"] = clock::rfc3339(clock::now_ms());
  line["level"] = name;
  line["service"] = g_service;
  line["msg"] = msg;
  spdlog::default_logger_raw()->log(lvl, "{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}
}  // namespace

void init(const std::string& service, const std::string& level) {
  g_service = service;
  auto logger = spdlog::stdout_logger_mt("crowd");
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void info(std::string_view msg, const nlohmann::json& f) {
  emit(spdlog::level::info, "info", msg, f);
}
void warn(std::string_view msg, const nlohmann::json& f) {
  emit(spdlog::level::warn, "warn", msg, f);
}
void error(std::string_view msg, const nlohmann::json& f) {
  emit(spdlog::level::err, "error", msg, f);
}
void debug(std::string_view msg, const nlohmann::json& f) {
  emit(spdlog::level::debug, "debug", msg, f);
}

}  // namespace crowd::log
