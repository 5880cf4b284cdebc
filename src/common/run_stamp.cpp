// SPDX-License-Identifier: ISC
#include "common/run_stamp.h"

#include "common/log.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace postern {

void touch_run_stamp(int queue_fd)
{
    if (::futimens(queue_fd, nullptr) < 0)
        log_debug(std::string("cannot set the last-run stamp (queue/ mtime): ") +
                  std::strerror(errno));
}

time_t last_run(const std::string& spool)
{
    struct stat st;
    if (::stat(queue_dir(spool).c_str(), &st) < 0)
        return 0;
    return st.st_mtime;
}

bool waits_for_runner(const QueueEntry& q, time_t last, time_t now)
{
    // A run that started in the submission's second may have listed
    // incoming/ before the commit: it does not count.
    return q.area == "incoming" && q.env.time > 0 && now - q.env.time > pickup_grace &&
           last <= q.env.time;
}

std::string no_runner_text(time_t last)
{
    std::string when = "has ever run";
    struct tm tm;
    char buf[64];
    if (last > 0 && ::localtime_r(&last, &tm) &&
        std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z", &tm) > 0)
        when = std::string("has run since ") + buf;
    return "no queue runner " + when +
           ": enable postern-send.path, or the cron line in etc/postern.cron";
}

} // namespace postern
