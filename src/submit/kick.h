// SPDX-License-Identifier: ISC
#pragma once
// Starting the queue runner (docs/DESIGN.md, "Kicking the runner").
//
// Only when no privilege boundary is crossed (the caller is root, or the
// front end is not set-id) does the front end start postern-send, always
// by its absolute path (program_path()), with clean_environment(), stdin
// on /dev/null. A set-id front end run by another user starts nothing:
// the systemd path unit picks the drop file up as user postern.

#include "common/result.h"

#include <string>
#include <vector>

namespace postern::submit {

// True when this process may start postern-send itself.
bool may_start_runner();

// The runner's argv prefix: postern-send [-C config] [-v].
std::vector<std::string> runner_argv(const std::string& config_path, bool verbose);

// Background kick for one queue id: double fork, new session, stdio on
// /dev/null, not waited for. Failures are logged, never returned: the
// message is queued and the next queue run takes it.
void kick_background(const std::vector<std::string>& argv);

// Runs argv in the foreground (stdin /dev/null, stdout/stderr inherited)
// and returns its exit status. Errors: EX_OSERR (fork), and the child
// exits EX_OSERR itself when exec fails.
Result<int> run_foreground(const std::vector<std::string>& argv);

// Replaces this process with argv (for --check). Errors: EX_OSERR.
Status exec_program(const std::vector<std::string>& argv);

} // namespace postern::submit
