// SPDX-License-Identifier: ISC
#pragma once
// The envelope: sender, recipients and their delivery state, in the two
// plain "Key: value" line formats of the spool (docs/DESIGN.md, "Spool").
//
// Drop header (first part of incoming/<id>, written by the front end):
//   POSTERN-DROP 1
//   size: 000000001234          fixed width, patched when the message ends
//   time: 1732240000
//   uid: 1000                   informative; the runner trusts st_uid
//   user: alice
//   sender: alice@example.com   empty line value = null sender <>
//   local-sender: alice         set when a local user submitted without -f
//   notify: never   ret: hdrs   envid: x   body: 8bitmime   (when given)
//   rcpt: root                  one per recipient, as submitted
//   <empty line>
//   message, CRLF line ends, exactly `size` octets
//
// Queue envelope (queue/<id>.env, written by the runner, replaced
// atomically, never edited in place):
//   POSTERN-ENV 1
//   offset: 245                 where the message starts in <id>.msg
//   size, time, uid, user, sender, local-sender, notify, ret, envid, body
//   attempts: 2                 delivery attempts so far
//   next: 1732240900            earliest next attempt (unix time)
//   error: 451 4.3.0 ...        last message-level error
//   rcpt: <state> <kind> <address>
//   orig: root                  (optional, belongs to the rcpt above)
//   reply: 550 5.1.1 ...        (optional, last reply for the rcpt above)
//   end
// Values never contain CR, LF or NUL, so the parser stays trivial: the
// formatters refuse them in addresses and names (EX_SOFTWARE, a bug: they
// were checked at submission) and turn control bytes in free text (error,
// reply) into spaces.

#include "common/result.h"

#include <sys/types.h>

#include <ctime>
#include <string>
#include <vector>

namespace postern {

enum class RcptState { Pending, Sent, Bounced, Maybe };
enum class RcptKind { Relay, Local, File, Command };

const char* rcpt_state_name(RcptState s);
const char* rcpt_kind_name(RcptKind k);

struct Recipient {
    RcptState state = RcptState::Pending;
    RcptKind kind = RcptKind::Relay;
    std::string address; // relay address, local user, /file or |command
    std::string orig;    // as submitted, when expansion changed it
    std::string reply;   // last reply or error text
};

struct Envelope {
    std::string id;
    long long offset = 0; // message start in the .msg file
    long long size = 0;   // message size in octets
    time_t time = 0;      // submission time
    uid_t uid = 0;
    std::string user;
    std::string sender;       // empty: null sender
    std::string local_sender; // local user to bounce to, if any
    std::string notify, ret, envid, body;
    int attempts = 0;
    time_t next = 0;
    std::string error;
    // Drop header: recipients as submitted. Queue envelope: expanded.
    std::vector<Recipient> rcpts;
};

// Serialises the drop header with a fixed-width size field (see above).
// Returns EX_SOFTWARE if a value contains CR, LF or NUL.
Result<std::string> format_drop_header(const Envelope& e);
// Offset of the size digits inside a formatted drop header, and their width.
constexpr size_t drop_size_offset = sizeof("POSTERN-DROP 1\nsize: ") - 1;
constexpr size_t drop_size_width = 12;

// Parses the drop header at the start of `data`; sets e.offset to the
// message start. Errors: EX_DATAERR naming `what` and the line.
Result<Envelope> parse_drop_header(std::string_view data, const std::string& what);

Result<std::string> format_envelope(const Envelope& e);
// Errors: EX_DATAERR (unknown version, missing "end", bad line).
Result<Envelope> parse_envelope(std::string_view data, const std::string& what);

} // namespace postern
