// SPDX-License-Identifier: ISC
#pragma once
// Non-delivery reports (RFC 3464): multipart/report with a human part, a
// message/delivery-status part (Reporting-MTA, Arrival-Date, and per
// recipient Final-Recipient / Original-Recipient / Action / Status /
// Diagnostic-Code) and the returned message: message/rfc822 when it is
// under 64 KiB and ret is not "hdrs", else text/rfc822-headers.
// The report is submitted like any message: a drop file in incoming/
// (DropFile, CRLF form) with the null sender, from MAILER-DAEMON@domain,
// picked up and sent in the same queue run.
// Failure policy: format_bounce is pure; inject_bounce returns EX_TEMPFAIL
// when the spool cannot take the report (the message then stays queued).

#include "common/config.h"
#include "common/envelope.h"
#include "common/result.h"
#include "common/text.h"

#include <ctime>
#include <string>
#include <vector>

namespace postern::send {

struct BounceInfo {
    std::string id;     // queue id of the failed message
    std::string mta;    // Reporting-MTA host name
    std::string domain; // for MAILER-DAEMON@domain and bare recipients
    std::string to;     // header To: of the report
    time_t now = 0;
    std::string boundary; // MIME boundary (tests pass a fixed one)
    bool double_bounce = false;
};

// The report for env's bounced recipients; original: the queued message
// (or as much of it as the caller read: headers at least), CRLF.
std::string format_bounce(const BounceInfo& info, const Envelope& env, const std::string& original,
                          bool original_complete);

// Writes report into incoming/ as a new drop file for rcpt (null sender).
// Returns the new queue id.
Result<std::string> inject_bounce(const Config& cfg, const std::string& report,
                                  const std::string& rcpt);

} // namespace postern::send
