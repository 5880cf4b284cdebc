// SPDX-License-Identifier: ISC
#pragma once
// RFC 5322 address lists (To, Cc, Bcc, From), parsed far enough to find
// each mailbox's addr-spec and where it sits in the header value, so that
// -t can collect recipients and bare names can be qualified without
// touching any other byte of the header.
//
// Handles display names, quoted strings, nested comments, angle
// addresses, groups ("undisclosed-recipients:;"), folded values (CRLF +
// white space is just white space here) and encoded words (left alone).
// The scan is linear and keeps no nesting stack beyond a comment depth
// counter, so a hostile value ("a:;;;;;...") cannot make it slow.

#include "common/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace postern::submit {

struct Mailbox {
    std::string addr;      // the addr-spec, comments and white space removed
    size_t begin = 0;      // the addr-spec's span in the value...
    size_t end = 0;        // ...(inside the angle brackets for name-addr)
    size_t unit_begin = 0; // the whole mailbox, white space trimmed
    size_t unit_end = 0;
    bool angle = false;  // name-addr form: "Name <addr>"
    std::string display; // name-addr: the text before '<', trimmed
    std::string comment; // addr-spec form: the first comment's text
};

// Skip a comment (v[i] == '(') or a quoted string (v[i] == '"'):
// the index after it, or npos when it is not closed. Comments nest
// (RFC 5322 3.2.2); a backslash quotes the next byte in both.
size_t skip_comment(std::string_view v, size_t i);
size_t skip_quoted(std::string_view v, size_t i);

// Parses a header value. Empty addresses (",,", "<>", an empty group)
// are skipped. Errors: EX_DATAERR for an unbalanced quote, comment or
// angle bracket (the text says which).
Result<std::vector<Mailbox>> parse_address_list(std::string_view value);

} // namespace postern::submit
