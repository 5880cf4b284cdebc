// SPDX-License-Identifier: ISC
// postern-send: the queue runner. See postern(8).
#include "common/process.h"
#include "send/send.h"

int main(int argc, char** argv)
{
    // First: the environment is rebuilt from an allow-list before libcurl
    // (initialised in run()) can read SSLKEYLOGFILE or *_proxy.
    postern::sanitize_process("postern-send");
    return postern::run_main_code([&] { return postern::send::run(argc, argv); });
}
