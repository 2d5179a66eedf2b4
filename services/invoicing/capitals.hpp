// Chinese capital amounts (大写金额) after 中国人民银行《支付结算办法》附件一 (shared TAX.md §5).
//
// Canonical output, one form only:
//   - a required 零 (a run of zeros between digits, 角 zero before a 分) is always written;
//   - an optional 零 (the 万/亿 position zero before a 仟 digit, the 元 position zero before a 角 digit) is written
//     once at most, as the official examples do: at the 元 position when it has one, else at the lowest
//     万/亿 place: 107,000.53 → 壹拾万柒仟元零伍角叁分, 1,680.32 → 壹仟陆佰捌拾元零叁角贰分,
//     107,000.00 → 壹拾万零柒仟元整;
//   - 壹 is kept before 拾 everywhere: 壹拾万, 壹仟零壹拾元;
//   - 整 follows 元/圆 when there are no 角 and 分; no 整 after 角 (the rules make it optional: we leave it out,
//     as the official example 壹仟肆佰零玖元伍角 does); never after 分;
//   - less than one yuan has no 元 part: 0.50 → 伍角, 0.05 → 伍分; zero is 零元整;
//   - units: 拾佰仟 within a group of four digits, 万 and 亿 between groups, 万亿 for 10^12;
//     amounts from 10^16 yuan on are rejected (std::invalid_argument).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crowd::invoicing {

// invoice_style: 圆 instead of 元, and a negative amount (red invoice) is prefixed （负数）. Outside invoice style
// a negative amount throws std::invalid_argument.
std::string to_capitals(std::int64_t fen, bool invoice_style);

// Accepts the canonical form and every form that leaves out an optional 零; 元 or 圆; with or without 整 (or
// 正) after 元/圆 or 角; an optional 人民币 prefix; a （负数） prefix gives a negative amount; 零元 before 角/分.
// nullopt for anything else (misplaced or missing required 零, units out of order, 整 after 分, ...).
std::optional<std::int64_t> parse_capitals(std::string_view text);

}  // namespace crowd::invoicing
