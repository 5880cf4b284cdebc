// SPDX-License-Identifier: ISC
#pragma once
// mailq / sendmail -bp: the queue listing (SPEC "The spool").
//
// Layout (stable; scripts may rely on the first line of each entry):
//
//   <queue id>  <size> bytes  <age>  from <sender>[  (waiting for pickup)]
//       warning: no queue runner has run since ...   (common/run_stamp.h)
//       attempts: <n>, next attempt: <now | in 4m>
//       last error: <text>                          (when there is one)
//       <state>  <kind>  <address>[  (<reply>)]     (one per recipient)
//   <empty line>
//
// Entries not yet picked up list their recipients as submitted, with the
// state "waiting". The failed area follows under its own heading,
// "Failed (kept, neither delivered nor bounced):". The last line is
// "-- <n> messages, <bytes> bytes in queue" (failed ones included), or
// "Mail queue is empty" when there is nothing at all. The sender is shown
// in angle brackets, "<>" for the null sender. Ages: 45s, 3m, 2h, 5d.

#include "common/config.h"
#include "common/result.h"
#include "common/spool.h"

#include <ctime>
#include <string>
#include <vector>

namespace postern::submit {

// "45s", "3m", "2h", "5d".
std::string format_age(long seconds);

// The listing for entries as list_queue() returns them; with last_run
// (run_stamp.h), drop files no runner has seen carry the warning.
std::string format_queue(const std::vector<QueueEntry>& entries, time_t now, time_t last_run = -1);

// Prints the queue of cfg to stdout. Errors: EX_NOPERM when the queue may
// not be read, EX_TEMPFAIL for other access problems.
Status print_queue(const Config& cfg);

} // namespace postern::submit
