// SPDX-License-Identifier: ISC
#pragma once
// postern-send's command line and mode dispatch (postern(8)):
//   postern-send [-C conf] [-v] [--id ID | --flush | --check [--send ADDR]]
// no mode: one queue run (retry times honoured); --flush: every message
// now; --id: that message, right after submission; --check: config, relay
// connection, TLS and AUTH report, optional test message. A run that holds
// the busy-runner lock also picks up, before it exits, what was submitted
// meanwhile (Runner::run()).
// Exit status: 0 when the run completed (messages may stay deferred),
// 64 usage, 75 spool unusable, 78 configuration; --check: 0 all good,
// else 69/75/77/78.

#include "common/result.h"
#include "send/runner.h"

namespace postern::send {

// Parses argv. Errors: EX_USAGE with a usage line.
Result<Options> parse_options(int argc, char** argv);

// The whole program after sanitize_process(): curl_global_init, config,
// logging, then the mode. Returns the exit status.
Result<int> run(int argc, char** argv);

} // namespace postern::send
