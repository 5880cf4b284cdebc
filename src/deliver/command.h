// SPDX-License-Identifier: ISC
#pragma once
// |command alias targets: the message on stdin of "/bin/sh -c COMMAND".
//
// The caller has already switched to [local] command_user (never root)
// and passes a clean environment. The command runs in its own process
// group with stdout on /dev/null; the whole group is killed when it runs
// longer than the timeout. Exit status 0 is success, EX_TEMPFAIL (75) and
// the other temporary codes, a signal, or the timeout defer (EX_TEMPFAIL),
// any other status is permanent (EX_UNAVAILABLE) and the error text
// carries the first line the command wrote on stderr.

#include "common/result.h"

#include <string>
#include <vector>

namespace postern::deliver {

// Runs command with input_fd (read from its start) as stdin. Errors: as
// above, EX_OSERR when fork or pipe fail.
Status run_command(const std::string& command, int input_fd, long timeout,
                   const std::vector<std::string>& env);

} // namespace postern::deliver
