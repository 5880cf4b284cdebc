// SPDX-License-Identifier: ISC
#pragma once
// postern --status: the queue's health for monitoring (SPEC "The spool":
// "a machine-readable status lets monitoring alert on a stuck queue").
//
// Counts, from list_queue(): messages (incoming/ + queue/, the mail still
// to be sent), the age of the oldest of them, failed (the failed/ area:
// kept, neither delivered nor bounced, needs a person) and deferred
// (queue/ entries with at least one attempt: waiting for a retry).
//
// The exit code follows the Nagios plugin convention:
//   0 OK, 1 WARNING (oldest >= --warn), 2 CRITICAL (oldest >= --crit, or
//   any failed message: nothing retries those), 3 UNKNOWN (the config or
//   the queue cannot be read; the line says why).
// Output is one line, "postern queue OK: 3 messages, oldest 2h, 0 failed,
// 1 deferred | perfdata", or with --json one JSON object.

#include "common/spool.h"

#include <ctime>
#include <string>
#include <vector>

namespace postern::submit {

enum class Health { Ok = 0, Warning = 1, Critical = 2, Unknown = 3 };

struct QueueStatus {
    long messages = 0; // incoming + queued
    long incoming = 0; // not yet picked up
    long queued = 0;   // in queue/
    long failed = 0;
    std::string failed_why; // "ID: reason" of the first failed entry
    long deferred = 0;
    long oldest = -1; // seconds; -1 when there is no message (or no readable time)
};

struct Thresholds {
    long warn = -1; // seconds; -1: no threshold
    long crit = -1;
};

struct Verdict {
    Health health = Health::Ok;
    std::vector<std::string> reasons; // "1 failed", "oldest 2h >= 1h"
};

const char* health_name(Health h);

// Counts entries as list_queue() returns them, ages relative to now.
QueueStatus summarize(const std::vector<QueueEntry>& entries, time_t now);

// OK, WARNING or CRITICAL for st (never UNKNOWN).
Verdict judge(const QueueStatus& st, const Thresholds& t);

// The one-line report (ends with a newline), or the JSON object.
std::string format_status(const QueueStatus& st, const Verdict& v, const Thresholds& t);
std::string format_status_json(const QueueStatus& st, const Verdict& v, const Thresholds& t);
// The UNKNOWN report for `why`.
std::string format_unknown(const std::string& why, bool json);

// Loads config_path, reads its queue, prints the report to stdout and
// returns the exit code (0-3). Never fails otherwise: every error is
// reported as UNKNOWN.
int run_status(const std::string& config_path, const Thresholds& t, bool json);

// Prints format_unknown(why, json) and returns 3.
int status_unknown(const std::string& why, bool json);

} // namespace postern::submit
