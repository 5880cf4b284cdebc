// SPDX-License-Identifier: ISC
// postern: the sendmail-compatible submission front end (also run as
// sendmail, mailq, newaliases). See postern(8) and submit/submit.h.
#include "common/privilege.h"
#include "common/process.h"
#include "submit/submit.h"

int main(int argc, char** argv)
{
    // The drop group goes first: no code runs with it but the spool calls.
    postern::drop_group_init();
    postern::sanitize_process("postern");
    return postern::run_main_code([&] { return postern::submit::run(argc, argv); });
}
