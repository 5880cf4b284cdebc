// SPDX-License-Identifier: ISC
#pragma once
// sendmail -bs: an SMTP dialogue on stdin/stdout (RFC 5321), for callers
// that speak SMTP to a local program instead of a socket.
//
// Commands: EHLO, HELO, MAIL FROM:<addr> [params: BODY= kept, others
// ignored], RCPT TO:<addr>, DATA, RSET, NOOP, VRFY (252), HELP, QUIT.
// HELO/EHLO is not required. Addresses are checked like argv ones (501
// naming the problem). Each accepted DATA becomes one drop file through
// the same pipeline as sendmail mode (message.h), and is answered
// "250 2.0.0 Ok: queued as ID"; a failure is answered 451 (temporary),
// 552 (max_size) or 554, and the transaction is reset. Command lines over
// 2048 octets get 500. At most 1000 recipients per transaction (452).
// The session ends at QUIT or end of input; queued ids are returned so
// the caller can kick the runner once.

#include "common/result.h"
#include "submit/message.h"

#include <string>
#include <vector>

namespace postern::submit {

// Runs the dialogue. `base` supplies the config, caller and defaults for
// each message. Errors: EX_IOERR when the reply cannot be written.
Result<std::vector<std::string>> run_smtp_session(int in_fd, int out_fd, const MessageJob& base);

} // namespace postern::submit
