// SPDX-License-Identifier: ISC
#include "submit/status.h"

#include "common/config.h"
#include "common/io.h"
#include "common/text.h"
#include "submit/mailq.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace postern::submit {
namespace {

std::string json_string(const std::string& s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string json_number(long n) { return n < 0 ? "null" : std::to_string(n); }

// Nagios performance data: label=value[unit];warn;crit;min.
std::string perfdata(const QueueStatus& st, const Thresholds& t)
{
    auto opt = [](long n) { return n < 0 ? std::string() : std::to_string(n); };
    return "messages=" + std::to_string(st.messages) +
           " oldest=" + std::to_string(st.oldest < 0 ? 0 : st.oldest) + "s;" + opt(t.warn) + ";" +
           opt(t.crit) + ";0 failed=" + std::to_string(st.failed) +
           ";;0;0 deferred=" + std::to_string(st.deferred);
}

void print(const std::string& text)
{
    // Monitoring reads stdout; if it is gone there is nobody to tell.
    (void)write_all(STDOUT_FILENO, text, "standard output");
}

} // namespace

const char* health_name(Health h)
{
    switch (h) {
    case Health::Ok:
        return "OK";
    case Health::Warning:
        return "WARNING";
    case Health::Critical:
        return "CRITICAL";
    default:
        return "UNKNOWN";
    }
}

QueueStatus summarize(const std::vector<QueueEntry>& entries, time_t now, time_t last_run)
{
    QueueStatus st;
    st.last_run = last_run;
    if (last_run > 0)
        st.last_run_age = now > last_run ? static_cast<long>(now - last_run) : 0;
    for (const auto& q : entries) {
        if (last_run >= 0 && waits_for_runner(q, last_run, now))
            ++st.waiting_for_runner;
        if (q.area == "failed") {
            if (++st.failed == 1)
                st.failed_why =
                    q.env.id + ": " + (q.reason.empty() ? "no reason recorded" : q.reason);
            continue;
        }
        ++st.messages;
        if (q.area == "incoming")
            ++st.incoming;
        else
            ++st.queued;
        if (q.area == "queue" && q.env.attempts > 0)
            ++st.deferred;
        // An entry whose envelope could not be read has no time; it is
        // counted but cannot say how old it is.
        if (q.env.time > 0) {
            long age = now > q.env.time ? static_cast<long>(now - q.env.time) : 0;
            if (age > st.oldest)
                st.oldest = age;
        }
    }
    return st;
}

Verdict judge(const QueueStatus& st, const Thresholds& t)
{
    Verdict v;
    auto raise = [&](Health h, std::string why) {
        if (static_cast<int>(h) > static_cast<int>(v.health))
            v.health = h;
        v.reasons.push_back(std::move(why));
    };
    if (st.failed > 0)
        raise(Health::Critical, std::to_string(st.failed) + " failed");
    if (!st.failed_why.empty())
        v.reasons.push_back("first failed " + st.failed_why);
    if (st.oldest >= 0 && t.crit >= 0 && st.oldest >= t.crit)
        raise(Health::Critical, "oldest " + format_age(st.oldest) + " >= " + format_age(t.crit));
    else if (st.oldest >= 0 && t.warn >= 0 && st.oldest >= t.warn)
        raise(Health::Warning, "oldest " + format_age(st.oldest) + " >= " + format_age(t.warn));
    if (st.waiting_for_runner > 0)
        raise(Health::Warning, std::to_string(st.waiting_for_runner) +
                                   " waiting for pickup: " + no_runner_text(st.last_run));
    return v;
}

std::string format_status(const QueueStatus& st, const Verdict& v, const Thresholds& t)
{
    std::string out = std::string("postern queue ") + health_name(v.health) + ": " +
                      std::to_string(st.messages) + (st.messages == 1 ? " message" : " messages");
    if (st.oldest >= 0)
        out += ", oldest " + format_age(st.oldest);
    out +=
        ", " + std::to_string(st.failed) + " failed, " + std::to_string(st.deferred) + " deferred";
    if (!v.reasons.empty()) {
        out += " (";
        for (size_t i = 0; i < v.reasons.size(); ++i)
            out += (i ? "; " : "") + v.reasons[i];
        out += ")";
    }
    return out + " | " + perfdata(st, t) + "\n";
}

std::string format_status_json(const QueueStatus& st, const Verdict& v, const Thresholds& t)
{
    std::string reasons = "[";
    for (size_t i = 0; i < v.reasons.size(); ++i)
        reasons += (i ? "," : "") + json_string(v.reasons[i]);
    reasons += "]";
    return "{\"status\":" + json_string(health_name(v.health)) +
           ",\"exit\":" + std::to_string(static_cast<int>(v.health)) +
           ",\"messages\":" + std::to_string(st.messages) +
           ",\"incoming\":" + std::to_string(st.incoming) +
           ",\"queued\":" + std::to_string(st.queued) +
           ",\"oldest_seconds\":" + json_number(st.oldest) +
           ",\"failed\":" + std::to_string(st.failed) +
           ",\"deferred\":" + std::to_string(st.deferred) +
           ",\"waiting_for_runner\":" + std::to_string(st.waiting_for_runner) +
           ",\"last_run_age_seconds\":" + json_number(st.last_run_age) +
           ",\"warn_seconds\":" + json_number(t.warn) + ",\"crit_seconds\":" + json_number(t.crit) +
           ",\"reasons\":" + reasons + "}\n";
}

// Prometheus text exposition format 0.0.4: HELP and TYPE before each
// sample; a metric that is not known (no run yet) is left out rather than
// given a made-up value.
std::string format_status_prometheus(const QueueStatus& st, const Verdict& v)
{
    std::string out;
    auto gauge = [&](const char* name, const char* help, long long value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name +
               " " + std::to_string(value) + "\n";
    };
    gauge("postern_status",
          "Nagios verdict of postern --status: 0 OK, 1 WARNING, 2 CRITICAL, "
          "3 UNKNOWN.",
          static_cast<int>(v.health));
    gauge("postern_queue_messages", "Messages still to be sent (incoming and queue).", st.messages);
    gauge("postern_queue_incoming_messages", "Messages not yet picked up by a queue runner.",
          st.incoming);
    gauge("postern_queue_deferred_messages", "Queued messages waiting for a retry.", st.deferred);
    gauge("postern_queue_failed_messages",
          "Messages in the failed area (neither delivered nor bounced).", st.failed);
    gauge("postern_queue_oldest_message_age_seconds",
          "Age of the oldest message still to be sent (0 when there is none).",
          st.oldest < 0 ? 0 : st.oldest);
    gauge("postern_queue_waiting_for_runner_messages",
          "Messages no queue runner has picked up for more than 5 minutes.", st.waiting_for_runner);
    if (st.last_run > 0) {
        gauge("postern_runner_last_run_timestamp_seconds",
              "Start of the last queue run (Unix time).", static_cast<long long>(st.last_run));
        gauge("postern_runner_last_run_age_seconds", "Seconds since the last queue run started.",
              st.last_run_age);
    }
    return out;
}

std::string format_unknown_prometheus(const std::string& why)
{
    // The reason goes into a comment line: labels would make a new series
    // for every error text.
    return "# postern --status: " + one_line(why) +
           "\n# HELP postern_status Nagios verdict of postern --status: 0 OK, 1 WARNING, "
           "2 CRITICAL, 3 UNKNOWN.\n# TYPE postern_status gauge\npostern_status 3\n";
}

std::string format_unknown(const std::string& why, bool json)
{
    if (json)
        return "{\"status\":\"UNKNOWN\",\"exit\":3,\"error\":" + json_string(why) + "}\n";
    return "postern queue UNKNOWN: " + why + "\n";
}

int status_unknown(const std::string& why, StatusFormat f)
{
    print(f == StatusFormat::Prometheus ? format_unknown_prometheus(why)
                                        : format_unknown(why, f == StatusFormat::Json));
    return static_cast<int>(Health::Unknown);
}

int run_status(const std::string& config_path, const Thresholds& t, StatusFormat f)
{
    auto cfg = load_config(config_path);
    if (!cfg)
        return status_unknown(cfg.error().text, f);
    // list_queue() takes a missing area for an empty one; a missing spool
    // means a broken install, which an empty queue must not hide.
    struct stat sb;
    if (::stat(cfg->queue.dir.c_str(), &sb) < 0)
        return status_unknown(fail_errno(EX_TEMPFAIL, "spool", cfg->queue.dir).text, f);
    auto entries = list_queue(cfg->queue.dir);
    if (!entries)
        return status_unknown(entries.error().text, f);
    QueueStatus st = summarize(*entries, ::time(nullptr), last_run(cfg->queue.dir));
    Verdict v = judge(st, t);
    print(f == StatusFormat::Json         ? format_status_json(st, v, t)
          : f == StatusFormat::Prometheus ? format_status_prometheus(st, v)
                                          : format_status(st, v, t));
    return static_cast<int>(v.health);
}

} // namespace postern::submit
