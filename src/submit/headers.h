// SPDX-License-Identifier: ISC
#pragma once
// The message header section and the submission fix-ups (SPEC
// "Submission"): Date, Message-ID and From added when missing, bare local
// names in From/To/Cc qualified, From rewritten as [sender] rewrite_from
// says, Bcc removed, a Received line prepended, and -t recipients taken
// from To/Cc/Bcc (from the fields as written, before any encoding).
// Header bytes never refuse a message: a field with 8-bit or control
// bytes is made 7-bit (header_bytes.h: RFC 2047 encoded-words, or a
// rename to X-Postern-Original-<Name>). Every other field is kept byte
// for byte, folding included; the only change on output is that a
// physical line over 998 octets is folded (before white space when there
// is any, else with CRLF SPACE inserted, as Postfix does).
//
// Decisions: a message with two or more From fields is refused
// (EX_DATAERR): which one is "the" author is ambiguous, and strict
// relays refuse it anyway. Duplicate Date or Message-ID fields are kept.

#include "common/config.h"
#include "common/result.h"
#include "common/text.h"

#include <sys/types.h>

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace postern::submit {

struct Header {
    std::string name; // as written
    std::string raw;  // the whole field, folded lines joined by CRLF, no final CRLF
    std::string_view value() const { return std::string_view(raw).substr(name.size() + 1); }
};

// The longest field name: it and its colon must fit on one line.
constexpr size_t max_field_name = 996;

// True if line starts a header field: "Name:" with a name of printable
// ASCII, at most max_field_name octets. Any other line ends the header
// section and starts the body (message.h).
bool is_header_start(std::string_view line);

struct FixupContext {
    const Config* cfg = nullptr;
    std::string domain;   // mail_domain(cfg)
    std::string hostname; // for Received
    std::string queue_id;
    time_t now = 0;
    uid_t uid = 0;
    std::string user;      // the caller's login name
    std::string fullname;  // -F, else the GECOS name; may be empty
    std::string from_addr; // From for a message without one: -f or the user
    bool extract = false;  // -t
};

// Applies the fix-ups in place. With ctx.extract, appends the To/Cc/Bcc
// addresses (as written, bare names bare) to rcpts, without duplicates.
// Errors: EX_DATAERR for two From fields or an unparsable To/Cc/Bcc
// under -t (naming the field).
Status fix_headers(std::vector<Header>& headers, const FixupContext& ctx,
                   std::vector<std::string>& rcpts);

// How the body may be changed, decided from the MIME fields.
struct MimeInfo {
    bool reencodable = true;    // single part, 7bit/8bit/none: QP allowed
    bool declared_8bit = false; // MIME-Version and CTE 8bit: 8-bit text is fine
};
MimeInfo mime_info(const std::vector<Header>& headers);

// Rewrites the MIME fields for a quoted-printable body: MIME-Version
// added, Content-Type added (text/plain; charset=utf-8) when absent,
// Content-Transfer-Encoding replaced.
void set_quoted_printable(std::vector<Header>& headers);

// The header section in canonical form, CRLF after each field, long
// physical lines folded, and the empty line that ends it.
std::string format_headers(const std::vector<Header>& headers);

// A display name as an RFC 5322 phrase: atoms as they are, else a quoted
// string; 8-bit or control bytes as RFC 2047 encoded-words
// (encoded_word.h).
std::string make_phrase(std::string_view name);

} // namespace postern::submit
