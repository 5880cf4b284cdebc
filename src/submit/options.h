// SPDX-License-Identifier: ISC
#pragma once
// The sendmail command line (SPEC "Submission"), parsed into SubmitOptions.
//
// Semantics follow sendmail/Postfix getopt with the option string
// "A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx" and a leading '+':
// options end at the first non-option word or at "--"; an option's
// argument may be attached ("-fuser") or the next word ("-f user").
// -q is the exception: only an attached argument is taken ("-q", "-q1h").
// The mode comes from argv[0]'s base name (mailq -> -bp, newaliases ->
// -bi). Long options (--check, --send, --version, --status, --json,
// --prometheus, --warn, --crit, --import, --format) are known only to the
// name "postern". parse_args() is pure: privilege checks (-C, -v, -q from
// non-root callers) happen in submit.cpp, which knows who is calling.

#include "common/result.h"

#include <string>
#include <vector>

namespace postern::submit {

enum class Mode { Send, Queue, Smtp, Aliases, Verify, Flush, Check, Version, Status, Import };
enum class Delivery { Background, Interactive, Queue }; // -odb, -odi, -odq

struct SubmitOptions {
    std::string program; // argv[0]'s base name
    Mode mode = Mode::Send;
    Delivery delivery = Delivery::Background;
    bool extract_recipients = false; // -t
    bool ignore_dots = false;        // -i, -oi
    bool verbose = false;            // -v
    bool have_sender = false;        // -f or -r given (value may be empty: <>)
    std::string sender;
    bool have_fullname = false; // -F given
    std::string fullname;
    std::string config_path;   // -C; empty: the default file
    std::string notify;        // -N
    std::string ret;           // -R
    std::string envid;         // -V
    std::string body;          // -B, lower case: "7bit" or "8bitmime"
    std::string check_send;    // --check --send ADDR
    bool status_json = false;  // --status --json
    bool prometheus = false;   // --status --prometheus
    long warn_age = -1;        // --status --warn AGE (seconds); -1: not given
    long crit_age = -1;        // --status --crit AGE
    std::string import_file;   // --import FILE
    std::string import_format; // --format ssmtp|msmtp|dma|nullmailer; empty: guess
    std::vector<std::string> recipients;
    std::vector<std::string> ignored_o; // unknown -o options, logged at debug
};

// Parses argv (argv[0] included). Errors: EX_USAGE naming the bad option,
// its missing argument or its bad value (usage text appended).
Result<SubmitOptions> parse_args(const std::vector<std::string>& argv);

// The usage text printed with EX_USAGE errors.
std::string usage_text(const std::string& program);

} // namespace postern::submit
