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
// 1 deferred | perfdata", with --json one JSON object, with --prometheus
// the Prometheus text exposition format (node_exporter's textfile
// collector). Drop files that no runner has seen for pickup_grace
// (common/run_stamp.h) make it WARNING, with the reason.

#include "common/run_stamp.h"
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
    long oldest = -1;            // seconds; -1 when there is no message (or no readable time)
    long waiting_for_runner = 0; // incoming entries no runner has seen (run_stamp.h)
    time_t last_run = -1;        // the last run's start; -1: not known, 0: never
    long last_run_age = -1;      // seconds since then; -1 when not known or never
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

// Counts entries as list_queue() returns them, ages relative to now;
// with last_run (run_stamp.h: 0 for never), also the entries waiting for
// a runner.
QueueStatus summarize(const std::vector<QueueEntry>& entries, time_t now, time_t last_run = -1);

// OK, WARNING or CRITICAL for st (never UNKNOWN).
Verdict judge(const QueueStatus& st, const Thresholds& t);

// The one-line report (ends with a newline), or the JSON object.
std::string format_status(const QueueStatus& st, const Verdict& v, const Thresholds& t);
std::string format_status_json(const QueueStatus& st, const Verdict& v, const Thresholds& t);
std::string format_status_prometheus(const QueueStatus& st, const Verdict& v);

enum class StatusFormat { Line, Json, Prometheus };

// The UNKNOWN report for `why`.
std::string format_unknown(const std::string& why, bool json);
std::string format_unknown_prometheus(const std::string& why);

// Loads config_path, reads its queue, prints the report to stdout and
// returns the exit code (0-3). Never fails otherwise: every error is
// reported as UNKNOWN.
int run_status(const std::string& config_path, const Thresholds& t, StatusFormat f);

// Prints format_unknown(why, f) and returns 3.
int status_unknown(const std::string& why, StatusFormat f);

} // namespace postern::submit
