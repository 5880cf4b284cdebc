// SPDX-License-Identifier: ISC
#pragma once
// One message from a source into the spool: the pipeline shared by the
// sendmail mode and -bs.
//
//   read the header section (held in memory, at most 1 MiB: EX_DATAERR
//   beyond) -> fix-ups and -t recipients (headers.h) -> validate every
//   address -> DropFile::create -> drop header -> headers -> body streamed
//   (body.h) -> [second pass: quoted-printable, into a new drop file] ->
//   commit. The queue id is returned only after the commit.
//
// The header section ends at the first empty line, or at the first line
// that is neither a field nor a continuation: that line starts the body
// (so "echo body | sendmail root" keeps its body whole and gets generated
// headers). A leading mbox "From " line is dropped. Empty input gives a
// message with generated headers and an empty body.
//
// 8-bit handling: a single-part message (no MIME-Version, or CTE 7bit,
// 8bit or none) whose body has NUL, lines over 998 octets, or 8-bit bytes
// it does not declare (MIME-Version + CTE 8bit declares them) is re-encoded
// quoted-printable, with MIME-Version and Content-Type (text/plain;
// charset=utf-8) added when absent. Multipart and encoded messages are
// kept as they are, except that lines over 998 octets are broken with
// CRLF SPACE; NUL in them is refused (EX_DATAERR).

#include "common/config.h"
#include "common/result.h"
#include "submit/body.h"

#include <sys/types.h>

#include <string>
#include <vector>

namespace postern::submit {

// Who is submitting: the real uid, never what the message says.
struct Caller {
    uid_t uid = 0;
    std::string user;   // login name, "uid<N>" without a passwd entry
    std::string gecos;  // full name from the passwd entry, may be empty
    bool known = false; // has a passwd entry
};
Caller current_caller();

struct MessageJob {
    const Config* cfg = nullptr;
    Caller caller;
    std::string sender;             // envelope sender, checked and qualified; empty: <>
    std::string local_sender;       // set when a local user submitted without -f
    std::string fullname;           // for a generated From
    std::string from_addr;          // address for a generated From
    bool extract = false;           // -t
    std::vector<std::string> rcpts; // already checked
    std::string notify, ret, envid, body;
};

// Max octets of the header section held in memory.
constexpr size_t max_header_section = 1 << 20;

// Spools one message. Header bytes never refuse it (headers.h). Errors:
// EX_USAGE "no recipients"; EX_DATAERR for two From fields or a header
// section over max_header_section; EX_DATAERR / EX_NOUSER for bad -t
// addresses; EX_UNAVAILABLE when
// the message exceeds [queue] max_size; EX_TEMPFAIL for spool problems
// (no partial file is left); EX_IOERR for a read error.
Result<std::string> submit_message(const MessageJob& job, MessageSource& src);

} // namespace postern::submit
