// SPDX-License-Identifier: ISC
// Placeholder main until this program lands.
#include "common/log.h"
#include "common/process.h"

#include <sysexits.h>

int main(int, char**)
{
    postern::sanitize_process("postern-send");
    postern::log_error("not built yet");
    return EX_UNAVAILABLE;
}
