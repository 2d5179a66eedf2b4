// Steps of the marketplace used by several whole-system tests, each asserting its own HTTP outcome.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "harness.hpp"

namespace crowd::test {

struct Party {
  std::string id;
  std::string token;
};

Party register_enterprise(Platform& p, const std::string& name, const std::string& credit_code);
Party register_worker(Platform& p, const std::string& real_name, const std::string& id_number, const std::string& phone,
                      const json& skills);
// The parties most tests need, with real-format identities that pass the real-name checks: an enterprise
// (深圳市示例科技有限公司) and two workers, 张三 and 李四, with the skills given.
Party example_enterprise(Platform& p);
Party worker_zhang(Platform& p, const json& skills);
Party worker_li(Platform& p, const json& skills);
std::string operator_token(Platform& p);
void deposit(Platform& p, const Party& ent, std::int64_t amount_fen, const std::string& key);
void go_online(Platform& p, const Party& worker);
// Posts a task and waits until settlement has funded it (status open). Returns the task id.
std::string post_open_task(Platform& p, const Party& ent, json task);
json task_body(const std::string& title, const std::string& mode, int units, std::int64_t pay_fen,
               const std::string& category = "rd_design");
// Waits for the worker's offer on the task and accepts it. Returns the assignment id.
std::string accept_offer(Platform& p, const Party& worker, const std::string& task_id);
// Submits a delivery (waiting until delivery knows the assignment). Returns the submission id.
std::string submit(Platform& p, const Party& worker, const std::string& assignment_id, const std::string& content);
json get_task(Platform& p, const Party& who, const std::string& task_id);
bool task_status_is(Platform& p, const Party& who, const std::string& task_id, const std::string& status);
json balances(Platform& p, const Party& who);
json ledger_check(Platform& p);
// How many invoices the enterprise has (-1 while invoicing does not answer 200).
int invoice_count(Platform& p, const Party& ent);

}  // namespace crowd::test
