// Logging through spdlog: JSON lines on stdout. Never log personal data or secrets.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace crowd::log {

void init(const std::string& service, const std::string& level);
void info(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object());
void warn(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object());
void error(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object());
void debug(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object());

}  // namespace crowd::log
