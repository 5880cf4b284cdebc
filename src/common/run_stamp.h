// SPDX-License-Identifier: ISC
#pragma once
// The queue runner's last-run stamp, so that mailq and postern --status
// can say when no runner picks mail up (a path unit or cron line that is
// not enabled: SPEC "postern-send must not be needed by hand").
//
// The stamp is the modification time of <spool>/queue/: every run sets it
// (futimens) as it starts, and only runners change queue/ otherwise, so
// its mtime is the start of the last run or later. No file is added to
// the spool, and whoever may read the queue (root, postern) can stat it.
// A drop file older than pickup_grace with no run since its submission
// is "waiting for a runner". Failure policy: the runner's touch is best
// effort (a read-only spool must not stop a run); a stamp that cannot be
// read counts as "never".

#include "common/spool.h"

#include <ctime>
#include <string>

namespace postern {

// Longer than the cron line's interval (one minute) and the path unit's
// reaction (a second), with room for a long run.
constexpr long pickup_grace = 300;

// Sets queue/'s mtime to now. Logs (debug) and ignores failures.
void touch_run_stamp(int queue_fd);

// The last run's start, or 0 when queue/ cannot be stat'ed.
time_t last_run(const std::string& spool);

// True for an incoming/ entry older than pickup_grace that no run has seen.
bool waits_for_runner(const QueueEntry& q, time_t last_run, time_t now);

// "no queue runner has run since 2026-12-02 17:04:05 +0000: enable
// postern-send.path, or the cron line in etc/postern.cron"; last 0:
// "no queue runner has ever run: ..."
std::string no_runner_text(time_t last_run);

} // namespace postern
