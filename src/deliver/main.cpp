// SPDX-License-Identifier: ISC
// postern-deliver: local delivery agent. See postern-deliver(8).
#include "common/process.h"
#include "deliver/deliver.h"

int main(int argc, char** argv)
{
    postern::sanitize_process("postern-deliver"); // fds 0-2, umask, env, syslog ident
    return postern::run_main_code([&] { return postern::deliver::run(argc, argv); });
}
