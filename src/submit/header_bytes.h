// SPDX-License-Identifier: ISC
#pragma once
// Every header field made 7-bit before it is spooled: a message is never
// refused for its header bytes (SPEC "Submission"; a refused cron mail is
// lost). A field whose value is printable ASCII (TAB and folds included)
// is kept byte for byte. Otherwise, by the field's kind:
//
//   unstructured (Subject, Comments, Content-Description, X-*, and every
//   field RFC 5322 gives no structure): each run of words that holds
//   8-bit or control bytes becomes encoded-words (encoded_word.h); ASCII
//   words around it stay; the field is refolded.
//   address (From, Sender, Reply-To, To, Cc, Bcc, Resent-*, Return-Path,
//   Mail-Followup-To, ...): display names, group names and comments that
//   hold such bytes become encoded-words; a quoted display name is
//   unquoted first (no encoded-word in a quoted string, RFC 2047 5).
//   other structured fields (Date, Message-ID, References, Received,
//   MIME-Version, Content-Type, ...): RFC 2047 allows no encoded-word.
//
// An addr-spec cannot hold an encoded-word either. So an address field
// whose addr-spec holds 8-bit or control bytes, an address field with
// such bytes that does not parse, and a structured field with such bytes
// are renamed "X-Postern-Original-<Name>" and encoded as unstructured
// text: nothing is lost, and the fix-ups then add the From, Date or
// Message-ID the message no longer has. A CR or LF that is not part of
// a fold becomes a space. No failure modes.

#include "submit/headers.h"

#include <vector>

namespace postern::submit {

// The prefix a field gets when it cannot stay what it was (see above).
constexpr std::string_view renamed_prefix = "X-Postern-Original-";

// Makes every field 7-bit, in place.
void encode_header_bytes(std::vector<Header>& headers);

} // namespace postern::submit
