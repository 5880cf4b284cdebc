// SPDX-License-Identifier: ISC
#pragma once
// postern-deliver: the local delivery agent (postern-deliver(8)).
//
//   postern-deliver [-C conf] [-f sender] [-d] [--] user...
//   postern-deliver [-C conf] [-f sender] --file /path
//   postern-deliver [-C conf] [-f sender] --command 'cmd'
//
// One message is read from stdin (message.h) and appended to each user's
// mailbox ([local] mailbox: mbox or Maildir), to a file, or piped to a
// command. Exit status: 0 delivered everywhere; 64 usage; 67 no such user
// or invalid name; 69 a command failed for good; 75 try again later (lock
// timeout, disk full, unsafe mailbox, command deferred); 77 -C given by
// a caller it is not allowed from; 78 bad configuration. With several
// users the worst result wins: 75 over any other failure.
//
// WARNING: installed set-user-ID root. Root power is used only to open or
// create a mailbox (mbox.h); the process then becomes the mailbox owner
// (user.h) before it writes. File and command targets switch to
// [local] command_user before anything is opened or run. A root run
// forks one child per user, so that each drop is final.

#include "common/result.h"

#include <string>
#include <vector>

namespace postern::deliver {

struct Options {
    std::string config; // -C; empty: the default path
    bool sender_given = false;
    std::string sender;  // -f; empty: the null sender
    std::string file;    // --file
    std::string command; // --command
    std::vector<std::string> users;
};

// Errors: EX_USAGE with the reason.
Result<Options> parse_args(int argc, char** argv);

// The whole program after sanitize_process(); returns the exit status.
Result<int> run(int argc, char** argv);

} // namespace postern::deliver
