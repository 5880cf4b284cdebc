// SPDX-License-Identifier: ISC
#pragma once
// Hands a local recipient to postern-deliver (found beside us in a build
// tree, else in libexecdir; never through PATH), with a clean environment
// and the queued message on stdin, and maps its exit status:
//   0 sent; 75 (EX_TEMPFAIL), 71 (EX_OSERR), 128+signal deferred;
//   67 (EX_NOUSER) bounced "no such user"; anything else bounced with the
//   last line postern-deliver wrote to stderr.
// Failure policy: never fails as a whole; fork/exec problems are deferred.

#include "send/classify.h"
#include "send/relay.h"

#include "common/envelope.h"

#include <string>

namespace postern::send {

struct LocalResult {
    Verdict verdict = Verdict::Deferred;
    std::string reply; // for the log and the envelope
};

// conf: the -C path to pass on ("" for the default). msg_path: queue/ID.msg,
// opened afresh so the child gets its own file offset.
LocalResult deliver_local(const Recipient& r, const std::string& sender, const std::string& conf,
                          const std::string& msg_path, long long offset);

// Maps an exit status and the child's last stderr line (pure).
LocalResult map_deliver_status(int status, const std::string& last_line);

} // namespace postern::send
