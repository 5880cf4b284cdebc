// SPDX-License-Identifier: ISC
#pragma once
// Small text helpers shared by the programs. No failure modes.

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

// "Sun, 22 Nov 2026 01:01:17 +0000" (RFC 5322 date-time, local zone).
std::string rfc5322_date(time_t t);

// s with every control character (CR, LF, NUL, ...) replaced by a space:
// free text kept on one line of a spool file.
std::string one_line(std::string_view s);

// Splits at any of separators (spaces and tabs by default), dropping empty
// words. No quoting: callers use it for commands run without a shell and
// for simple config values.
std::vector<std::string> split_words(const std::string& s, std::string_view separators = " \t");

// True when s is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF). ASCII is well-formed.
bool valid_utf8(std::string_view s);

} // namespace postern
