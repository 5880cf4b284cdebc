// SPDX-License-Identifier: ISC
#pragma once
// The postern front end's engine: argv -> mode -> result (SPEC
// "Submission"). main() only sanitises the process and calls run().
//
// Privilege policy (docs/DESIGN.md): when running set-id for a non-root
// caller, -C, -v, -q and --check are refused with EX_NOPERM before
// anything else happens, and the runner is never started (the systemd
// path unit does it). Exit status: 0 only once the message is committed
// to the spool; the runner's failure to start never changes that.

#include "common/result.h"

namespace postern::submit {

// Errors: EX_USAGE (bad flags, no recipients), EX_NOPERM, EX_CONFIG (the
// config file, with file:line), EX_DATAERR / EX_NOUSER (bad addresses or
// message content), EX_UNAVAILABLE (max_size), EX_TEMPFAIL (spool).
Result<int> run(int argc, char** argv);

} // namespace postern::submit
