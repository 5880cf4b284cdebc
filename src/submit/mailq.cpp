// SPDX-License-Identifier: ISC
#include "submit/mailq.h"

#include "common/io.h"
#include "common/run_stamp.h"

#include <sysexits.h>
#include <unistd.h>

namespace postern::submit {
namespace {

void format_entry(std::string& out, const QueueEntry& q, time_t now, time_t last_run = -1)
{
    const Envelope& e = q.env;
    out += e.id + "  " + std::to_string(e.size) + " bytes  " +
           format_age(static_cast<long>(now - e.time)) + "  from <" + e.sender + ">";
    bool incoming = q.area == "incoming" || q.area == "active";
    if (q.area == "incoming")
        out += "  (waiting for pickup)";
    else if (q.area == "active")
        out += "  (first delivery attempt)";
    out += "\n";
    if (!q.reason.empty())
        out += "    reason: " + q.reason + "\n";
    if (last_run >= 0 && waits_for_runner(q, last_run, now))
        out += "    warning: " + no_runner_text(last_run) + "\n";
    if (!incoming) {
        out += "    attempts: " + std::to_string(e.attempts) + ", next attempt: ";
        out += e.next <= now ? "now" : "in " + format_age(static_cast<long>(e.next - now));
        out += "\n";
    }
    if (!e.error.empty())
        out += "    last error: " + e.error + "\n";
    for (const auto& r : e.rcpts) {
        if (incoming) {
            out += "    waiting  " + r.address + "\n";
            continue;
        }
        out += std::string("    ") + rcpt_state_name(r.state) + "  " + rcpt_kind_name(r.kind) +
               "  " + r.address;
        if (!r.orig.empty() && r.orig != r.address)
            out += " (for " + r.orig + ")";
        if (!r.reply.empty())
            out += "  (" + r.reply + ")";
        out += "\n";
    }
    out += "\n";
}

} // namespace

std::string format_age(long s)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        return std::to_string(s) + "s";
    if (s < 3600)
        return std::to_string(s / 60) + "m";
    if (s < 86400)
        return std::to_string(s / 3600) + "h";
    return std::to_string(s / 86400) + "d";
}

std::string format_queue(const std::vector<QueueEntry>& entries, time_t now, time_t last_run)
{
    if (entries.empty())
        return "Mail queue is empty\n";
    std::string out;
    long long bytes = 0;
    for (const auto& q : entries) {
        if (q.area != "failed") {
            format_entry(out, q, now, last_run);
            bytes += q.env.size;
        }
    }
    bool heading = false;
    for (const auto& q : entries) {
        if (q.area == "failed") {
            if (!heading)
                out += "Failed (kept, neither delivered nor bounced):\n";
            heading = true;
            format_entry(out, q, now);
            bytes += q.env.size;
        }
    }
    out += "-- " + std::to_string(entries.size()) + " messages, " + std::to_string(bytes) +
           " bytes in queue\n";
    return out;
}

Status print_queue(const Config& cfg)
{
    auto entries = list_queue(cfg.queue.dir);
    if (!entries)
        return entries.error();
    return write_all(STDOUT_FILENO,
                     format_queue(*entries, ::time(nullptr), last_run(cfg.queue.dir)),
                     "standard output");
}

} // namespace postern::submit
